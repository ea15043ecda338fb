//! A server that goes away mid-session: calls that need it fail with CKR_DEVICE_ERROR (no hang, no crash, the
//! operation ended), and once it is back the next call reconnects by itself, with the token's objects intact.

mod common;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

fn rv<T: std::fmt::Debug>(result: Result<T, Error>) -> RvError {
    match result {
        Err(Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

#[test]
fn calls_fail_with_device_error_while_the_server_is_gone_and_reconnect_when_it_is_back() {
    let mut server = common::TestServer::start();
    std::env::set_var("QKMS_PKCS11_CONFIG", server.config_path());
    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = pkcs11.get_slots_with_token().unwrap()[0];
    let session = pkcs11.open_rw_session(slot).unwrap();
    session
        .login(UserType::User, Some(&AuthPin::new(server.pin().into())))
        .unwrap();
    let key = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::ValueLen(32.into()),
                Attribute::Token(true),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Label(b"survives".to_vec()),
            ],
        )
        .unwrap();
    let iv = [1u8; 16];
    let cbc = Mechanism::AesCbcPad(iv);
    let before = session.encrypt(&cbc, key, b"before the loss").unwrap();

    server.stop();
    // Reading (Encrypt) and changing (Create) both need the server; neither may hang or crash.
    assert_eq!(
        rv(session.encrypt(&cbc, key, b"while it is gone")),
        RvError::DeviceError
    );
    assert_eq!(
        rv(session.generate_key(
            &Mechanism::AesKeyGen,
            &[Attribute::ValueLen(32.into()), Attribute::Token(true)]
        )),
        RvError::DeviceError
    );
    // The failed call ended its operation: a new one can start (and is finished once the server is back).
    session.encrypt_init(&cbc, key).unwrap();

    server.restart();
    let mut after = session.encrypt_update(b"before the loss").unwrap();
    after.extend(session.encrypt_final().unwrap());
    assert_eq!(after, before, "the same key, found again after the restart");
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(b"survives".to_vec()),
        ])
        .unwrap();
    assert_eq!(found, vec![key]);
}
