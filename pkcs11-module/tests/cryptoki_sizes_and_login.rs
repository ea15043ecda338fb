//! Through the `cryptoki` crate against a real server: RSA 3072 and 4096 key pairs (the top of the advertised
//! range) sign what Python `cryptography` verifies, sizes outside the range are refused; CKM_AES_CBC without
//! padding agrees with Python and refuses partial blocks; closing a token's last session logs it out.

mod common;

use common::{hex, python};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
use cryptoki::session::{SessionState, UserType};
use cryptoki::types::AuthPin;

fn rv<T: std::fmt::Debug>(result: Result<T, Error>) -> RvError {
    match result {
        Err(Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

#[test]
fn large_rsa_keys_unpadded_cbc_and_logout_when_the_last_session_closes() {
    let server = common::TestServer::start();
    std::env::set_var("QKMS_PKCS11_CONFIG", server.config_path());
    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = pkcs11.get_slots_with_token().unwrap()[0];
    let pin = AuthPin::new(server.pin().into());
    let session = pkcs11.open_rw_session(slot).unwrap();
    session.login(UserType::User, Some(&pin)).unwrap();

    // --- RSA 3072 and 4096: the modulus has the asked size and Python verifies SHA-256 PKCS#1 v1.5.
    let message = b"signed by a large quantum-seeded key";
    for bits in [3072u64, 4096] {
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::RsaPkcsKeyPairGen,
                &[Attribute::ModulusBits(bits.into()), Attribute::Verify(true)],
                &[Attribute::Sign(true)],
            )
            .unwrap();
        let modulus = match &session
            .get_attributes(public, &[AttributeType::Modulus])
            .unwrap()[..]
        {
            [Attribute::Modulus(m)] => m.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(modulus.len() as u64 * 8, bits);
        let signature = session
            .sign(&Mechanism::Sha256RsaPkcs, private, message)
            .unwrap();
        assert_eq!(signature.len(), modulus.len());
        let verdict = python(&format!(
            "k = rsa.RSAPublicNumbers(65537, int('{}', 16)).public_key()\n\
             k.verify(h('{}'), h('{}'), apad.PKCS1v15(), hashes.SHA256())\nprint('01')",
            hex(&modulus),
            hex(&signature),
            hex(message)
        ));
        assert_eq!(verdict, [1], "{bits}-bit signature verifies in Python");
    }
    for bits in [1024u64, 4104, 3071] {
        assert_eq!(
            rv(session.generate_key_pair(
                &Mechanism::RsaPkcsKeyPairGen,
                &[Attribute::ModulusBits(bits.into())],
                &[Attribute::Sign(true)],
            )),
            RvError::AttributeValueInvalid,
            "{bits} bits"
        );
    }

    // --- CKM_AES_CBC: whole blocks, no padding, single and multi-part, as Python computes it.
    let key_bytes: Vec<u8> = (100u8..132).collect();
    let aes = session
        .create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Value(key_bytes.clone()),
            Attribute::Token(true),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
        ])
        .unwrap();
    let iv = [3u8; 16];
    let cbc = Mechanism::AesCbc(iv);
    let message: Vec<u8> = (0..48u8).collect();
    let sealed = session.encrypt(&cbc, aes, &message).unwrap();
    let expected = python(&format!(
        "e = Cipher(algorithms.AES(h('{}')), modes.CBC(h('{}'))).encryptor()\n\
         print((e.update(h('{}')) + e.finalize()).hex())",
        hex(&key_bytes),
        hex(&iv),
        hex(&message)
    ));
    assert_eq!(sealed, expected);
    assert_eq!(sealed.len(), 48, "no padding block");
    session.encrypt_init(&cbc, aes).unwrap();
    let mut parts = session.encrypt_update(&message[..20]).unwrap();
    parts.extend(session.encrypt_update(&message[20..]).unwrap());
    parts.extend(session.encrypt_final().unwrap());
    assert_eq!(parts, sealed);
    assert_eq!(session.decrypt(&cbc, aes, &sealed).unwrap(), message);
    assert_eq!(
        rv(session.encrypt(&cbc, aes, &message[..47])),
        RvError::DataLenRange
    );
    assert_eq!(
        rv(session.decrypt(&cbc, aes, &sealed[..40])),
        RvError::EncryptedDataLenRange
    );
    // A multi-part encryption that ends off a block boundary fails at the final call.
    session.encrypt_init(&cbc, aes).unwrap();
    session.encrypt_update(&message[..20]).unwrap();
    assert_eq!(rv(session.encrypt_final()), RvError::DataLenRange);

    // --- Login state is per token: a second session shares it; closing one keeps it; closing the last
    // logs the token out, so a new session starts public and must log in again.
    let second = pkcs11.open_ro_session(slot).unwrap();
    assert_eq!(
        second.get_session_info().unwrap().session_state(),
        SessionState::RoUser
    );
    drop(session);
    assert_eq!(
        second.get_session_info().unwrap().session_state(),
        SessionState::RoUser
    );
    assert_eq!(second.generate_random_vec(8).unwrap().len(), 8);
    drop(second);
    let fresh = pkcs11.open_rw_session(slot).unwrap();
    assert_eq!(
        fresh.get_session_info().unwrap().session_state(),
        SessionState::RwPublic
    );
    // The PKCS#12 identity is locked again: nothing reaches the server before C_Login.
    assert_eq!(rv(fresh.generate_random_vec(8)), RvError::UserNotLoggedIn);
    fresh.login(UserType::User, Some(&pin)).unwrap();
    assert_eq!(fresh.generate_random_vec(8).unwrap().len(), 8);
}
