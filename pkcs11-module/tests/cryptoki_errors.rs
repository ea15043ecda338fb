//! Error paths through the `cryptoki` crate against a real server: bad handles, bad lengths, wrong state,
//! and calls after C_Finalize.

mod common;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

fn rv<T: std::fmt::Debug>(result: Result<T, Error>) -> RvError {
    match result {
        Err(Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn error_paths_return_the_standard_codes() {
    let server = common::TestServer::start();
    std::env::set_var("QKMS_PKCS11_CONFIG", server.config_path());
    let threads_before = thread_count();
    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    // The module starts no thread, so it works for a caller that forbids them.
    pkcs11
        .initialize(CInitializeArgs::new(
            CInitializeFlags::OS_LOCKING_OK | CInitializeFlags::LIBRARY_CANT_CREATE_OS_THREADS,
        ))
        .unwrap();
    let slot = pkcs11.get_slots_with_token().unwrap()[0];
    assert_eq!(
        rv(pkcs11.get_token_info(Slot::try_from(7u64).unwrap())),
        RvError::SlotIdInvalid
    );

    // Before login the machine identity reaches the server: random numbers work, and only public objects
    // are visible (none yet).
    let session = pkcs11.open_rw_session(slot).unwrap();
    assert_eq!(session.generate_random_vec(16).unwrap().len(), 16);
    assert!(session.find_objects(&[]).unwrap().is_empty());
    assert_eq!(rv(session.logout()), RvError::UserNotLoggedIn);
    let wrong = AuthPin::new("not-the-pin".into());
    assert_eq!(
        rv(session.login(UserType::User, Some(&wrong))),
        RvError::PinIncorrect
    );
    assert_eq!(
        rv(session.login(UserType::So, Some(&wrong))),
        RvError::UserTypeInvalid
    );
    let pin = AuthPin::new(server.pin().into());
    session.login(UserType::User, Some(&pin)).unwrap();
    assert_eq!(
        rv(session.login(UserType::User, Some(&pin))),
        RvError::UserAlreadyLoggedIn
    );

    // Bad lengths and templates.
    let bad_length = [Attribute::ValueLen(20.into()), Attribute::Token(true)];
    assert_eq!(
        rv(session.generate_key(&Mechanism::AesKeyGen, &bad_length)),
        RvError::AttributeValueInvalid
    );
    assert_eq!(
        rv(session.generate_key(&Mechanism::AesKeyGen, &[])),
        RvError::TemplateIncomplete
    );
    assert_eq!(
        rv(session.generate_key(&Mechanism::Sha256, &[])),
        RvError::MechanismInvalid
    );
    // A session object (CKA_TOKEN false) is made, and reads CKA_TOKEN false.
    let session_object = [Attribute::ValueLen(32.into()), Attribute::Token(false)];
    let made = session
        .generate_key(&Mechanism::AesKeyGen, &session_object)
        .unwrap();
    assert_eq!(
        session
            .get_attributes(made, &[cryptoki::object::AttributeType::Token])
            .unwrap(),
        vec![Attribute::Token(false)]
    );
    session.destroy_object(made).unwrap();

    // A real key: readable metadata, sensitive value, unknown attribute, read-only attribute.
    let template = [
        Attribute::ValueLen(32.into()),
        Attribute::Label(b"errors-aes".to_vec()),
    ];
    let key = session
        .generate_key(&Mechanism::AesKeyGen, &template)
        .unwrap();
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(b"errors-aes".to_vec()),
        ])
        .unwrap();
    assert_eq!(found, vec![key]);
    let attributes = session
        .get_attributes(key, &[cryptoki::object::AttributeType::ValueLen])
        .unwrap();
    assert_eq!(attributes, vec![Attribute::ValueLen(32.into())]);
    // cryptoki drops attributes the module marks unavailable; the sensitive value is not returned.
    let value = session
        .get_attributes(key, &[cryptoki::object::AttributeType::Value])
        .unwrap();
    assert!(value.is_empty(), "{value:?}");
    assert_eq!(
        rv(session.update_attributes(key, &[Attribute::ValueLen(16.into())])),
        RvError::AttributeReadOnly
    );
    session
        .update_attributes(key, &[Attribute::Label(b"renamed".to_vec())])
        .unwrap();
    let label = session
        .get_attributes(key, &[cryptoki::object::AttributeType::Label])
        .unwrap();
    assert_eq!(label, vec![Attribute::Label(b"renamed".to_vec())]);

    // A read-only session cannot create token objects (session objects it may); a destroyed object's handle is
    // invalid.
    let read_only = pkcs11.open_ro_session(slot).unwrap();
    let mut token_template = template.to_vec();
    token_template.push(Attribute::Token(true));
    assert_eq!(
        rv(read_only.generate_key(&Mechanism::AesKeyGen, &token_template)),
        RvError::SessionReadOnly
    );
    session.destroy_object(key).unwrap();
    assert_eq!(
        rv(session.destroy_object(key)),
        RvError::ObjectHandleInvalid
    );
    assert_eq!(
        rv(session.get_attributes(key, &[cryptoki::object::AttributeType::Label])),
        RvError::ObjectHandleInvalid
    );

    // Random bytes from the server, small and large.
    assert_ne!(
        session.generate_random_vec(32).unwrap(),
        session.generate_random_vec(32).unwrap()
    );
    assert_eq!(session.generate_random_vec(200_000).unwrap().len(), 200_000);
    session.seed_random(b"extra uncredited input").unwrap();
    assert_eq!(
        thread_count(),
        threads_before,
        "the module must not start threads"
    );

    drop(read_only);
    drop(session);
    pkcs11.finalize().unwrap();
    // After C_Finalize every call is refused (a second handle on the same loaded library).
    let after = Pkcs11::new(common::module_path()).unwrap();
    assert_eq!(rv(after.get_all_slots()), RvError::CryptokiNotInitialized);
}
