//! Several threads using the module at once (CKF_OS_LOCKING_OK), each with its own session, and the operation
//! state rules: one active operation per kind and session, none before its Init, and an operation ended by
//! its final call.

mod common;

use std::sync::Arc;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

fn rv<T: std::fmt::Debug>(result: Result<T, Error>) -> RvError {
    match result {
        Err(Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

#[test]
fn threads_sign_and_verify_at_once_and_operation_states_follow_the_standard() {
    let server = common::TestServer::start();
    std::env::set_var("QKMS_PKCS11_CONFIG", server.config_path());
    let pkcs11 = Arc::new(Pkcs11::new(common::module_path()).unwrap());
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = pkcs11.get_slots_with_token().unwrap()[0];
    let session = pkcs11.open_rw_session(slot).unwrap();
    let pin = AuthPin::new(server.pin().into());
    session.login(UserType::User, Some(&pin)).unwrap();
    let p256 = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let (public, private) = session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[Attribute::EcParams(p256), Attribute::Verify(true)],
            &[Attribute::Sign(true)],
        )
        .unwrap();

    // Four threads, a session each (login is per token, so they share it), 25 signatures each.
    let threads: Vec<_> = (0u8..4)
        .map(|thread| {
            let pkcs11 = Arc::clone(&pkcs11);
            std::thread::spawn(move || {
                let session = pkcs11.open_ro_session(slot).unwrap();
                for round in 0u8..25 {
                    let digest = [thread.wrapping_mul(31).wrapping_add(round); 32];
                    let signature = session.sign(&Mechanism::Ecdsa, private, &digest).unwrap();
                    session
                        .verify(&Mechanism::Ecdsa, public, &digest, &signature)
                        .unwrap();
                    let mut other = digest;
                    other[0] ^= 1;
                    assert_eq!(
                        rv(session.verify(&Mechanism::Ecdsa, public, &other, &signature)),
                        RvError::SignatureInvalid
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no thread failed");
    }

    // One operation of a kind at a time; none before its Init; the final call ends it.
    assert_eq!(
        rv(session.sign_update(b"no operation")),
        RvError::OperationNotInitialized
    );
    session.sign_init(&Mechanism::EcdsaSha256, private).unwrap();
    assert_eq!(
        rv(session.sign_init(&Mechanism::EcdsaSha256, private)),
        RvError::OperationActive
    );
    session.sign_update(b"one part").unwrap();
    let signature = session.sign_final().unwrap();
    session
        .verify(&Mechanism::EcdsaSha256, public, b"one part", &signature)
        .unwrap();
    assert_eq!(rv(session.sign_final()), RvError::OperationNotInitialized);
    // A failed call ends its operation too: after a public key is refused for signing, a new Init is accepted.
    assert_eq!(
        rv(session.sign(&Mechanism::Ecdsa, public, &[0u8; 32])),
        RvError::KeyTypeInconsistent
    );
    session.sign_init(&Mechanism::Ecdsa, private).unwrap();
}
