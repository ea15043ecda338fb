//! Through the `cryptoki` crate against a real server: RSA 3072 and 4096 key pairs (the top of the advertised
//! range) sign what Python `cryptography` verifies, sizes outside the range are refused; CKM_AES_CBC without
//! padding agrees with Python and refuses partial blocks; closing a token's last session logs it out; two
//! tenants configured as two tokens each see only their own objects.

mod common;

use common::{hex, python};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
use cryptoki::session::{SessionState, UserType};
use cryptoki::types::AuthPin;

/// The module is one library per process: these tests take turns with it (each finalizes it when done).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rv<T: std::fmt::Debug>(result: Result<T, Error>) -> RvError {
    match result {
        Err(Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

#[test]
fn large_rsa_keys_unpadded_cbc_and_logout_when_the_last_session_closes() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
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
            RvError::KeySizeRange,
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
    // Logged out again: random numbers still work (the machine identity), private objects need C_Login.
    assert_eq!(fresh.generate_random_vec(8).unwrap().len(), 8);
    fresh.login(UserType::User, Some(&pin)).unwrap();
    assert_eq!(fresh.generate_random_vec(8).unwrap().len(), 8);
}

#[test]
fn two_tenants_configured_as_two_tokens_see_only_their_own_objects() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = common::TestServer::start();
    // A second tenant, onboarded as an operator would: `issue-client` with the server's CA.
    let bob_dir = server.path().join("bob");
    let issued = std::process::Command::new(common::target_dir().join("qkms-server"))
        .arg("issue-client")
        .arg("bob")
        .arg("--out")
        .arg(&bob_dir)
        .arg("--config")
        .arg(server.path().join("qkms.toml"))
        .output()
        .unwrap();
    assert!(
        issued.status.success(),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let config = server.config_path();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[[token]]\nlabel = \"bob\"\ncertificate = \"bob/client.pem\"\nkey = \"bob/client.key\"\n",
    );
    std::fs::write(&config, text).unwrap();
    std::env::set_var("QKMS_PKCS11_CONFIG", &config);

    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slots = pkcs11.get_slots_with_token().unwrap();
    assert_eq!(slots.len(), 2);
    let label = |slot| pkcs11.get_token_info(slot).unwrap().label().to_owned();
    assert_eq!(label(slots[1]), "bob");

    let alice = pkcs11.open_rw_session(slots[0]).unwrap();
    alice
        .login(UserType::User, Some(&AuthPin::new(server.pin().into())))
        .unwrap();
    let bob = pkcs11.open_rw_session(slots[1]).unwrap();
    let aes = [
        Attribute::ValueLen(32.into()),
        Attribute::Label(b"tenant-key".to_vec()),
        Attribute::Encrypt(true),
    ];
    let alices = alice.generate_key(&Mechanism::AesKeyGen, &aes).unwrap();
    let find = [Attribute::Label(b"tenant-key".to_vec())];
    assert_eq!(alice.find_objects(&find).unwrap(), vec![alices]);
    assert!(
        bob.find_objects(&find).unwrap().is_empty(),
        "bob's token must not see alice's key"
    );
    // Handles are per token: alice's handle means nothing in bob's session.
    assert_eq!(
        rv(bob.get_attributes(alices, &[AttributeType::Label])),
        RvError::ObjectHandleInvalid
    );
    let bobs = bob.generate_key(&Mechanism::AesKeyGen, &aes).unwrap();
    assert_eq!(bob.find_objects(&find).unwrap(), vec![bobs]);
    assert_eq!(alice.find_objects(&find).unwrap(), vec![alices]);
}
