//! The cipher, wrapping, HMAC and PSS mechanisms through the `cryptoki` crate against a real server, each
//! result cross-checked with Python `cryptography` (an independent implementation), plus their error paths.

mod common;

use common::{hex, python};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

fn rv<T: std::fmt::Debug>(result: Result<T, Error>) -> RvError {
    match result {
        Err(Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

fn aes_key(session: &Session, value: &[u8], extra: &[Attribute]) -> ObjectHandle {
    let mut template = vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Value(value.to_vec()),
        Attribute::Token(true),
    ];
    template.extend_from_slice(extra);
    session.create_object(&template).unwrap()
}

fn value_of(session: &Session, key: ObjectHandle) -> Vec<u8> {
    match &session
        .get_attributes(key, &[AttributeType::Value])
        .unwrap()[..]
    {
        [Attribute::Value(v)] => v.clone(),
        other => panic!("no CKA_VALUE: {other:?}"),
    }
}

#[test]
fn ciphers_wrapping_hmac_and_pss_agree_with_an_independent_implementation() {
    let server = common::TestServer::start();
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

    // --- AES-GCM (IV from the caller, AAD, 128-bit tag) against Python's AESGCM.
    let key_bytes: Vec<u8> = (0u8..32).collect();
    let aes = aes_key(&session, &key_bytes, &[]);
    let mut iv = [7u8; 12];
    let aad = b"header";
    let plaintext = b"quantum-seeded secrets, sealed by GCM".to_vec();
    let gcm = Mechanism::AesGcm(GcmParams::new(&mut iv, aad, 128.into()).unwrap());
    let sealed = session.encrypt(&gcm, aes, &plaintext).unwrap();
    let expected = python(&format!(
        "print(AESGCM(h('{}')).encrypt(h('{}'), h('{}'), h('{}')).hex())",
        hex(&key_bytes),
        hex(&[7u8; 12]),
        hex(&plaintext),
        hex(aad)
    ));
    assert_eq!(sealed, expected);
    assert_eq!(session.decrypt(&gcm, aes, &sealed).unwrap(), plaintext);
    let mut tampered = sealed.clone();
    tampered[0] ^= 1;
    assert_eq!(
        rv(session.decrypt(&gcm, aes, &tampered)),
        RvError::EncryptedDataInvalid
    );
    let mut iv2 = [7u8; 12];
    let short_tag = Mechanism::AesGcm(GcmParams::new(&mut iv2, aad, 64.into()).unwrap());
    assert_eq!(
        rv(session.encrypt_init(&short_tag, aes)),
        RvError::MechanismParamInvalid
    );

    // --- AES-CBC-PAD single-part, and multi-part in odd-sized pieces, against Python.
    let cbc = Mechanism::AesCbcPad([9u8; 16]);
    let message: Vec<u8> = (0..100u8).collect();
    let single = session.encrypt(&cbc, aes, &message).unwrap();
    let expected = python(&format!(
        "p = padding.PKCS7(128).padder(); d = p.update(h('{}')) + p.finalize()\n\
         e = Cipher(algorithms.AES(h('{}')), modes.CBC(h('{}'))).encryptor()\n\
         print((e.update(d) + e.finalize()).hex())",
        hex(&message),
        hex(&key_bytes),
        hex(&[9u8; 16])
    ));
    assert_eq!(single, expected);
    session.encrypt_init(&cbc, aes).unwrap();
    let mut parts = Vec::new();
    for chunk in message.chunks(23) {
        parts.extend(session.encrypt_update(chunk).unwrap());
    }
    parts.extend(session.encrypt_final().unwrap());
    assert_eq!(parts, single);
    session.decrypt_init(&cbc, aes).unwrap();
    let mut back = Vec::new();
    for chunk in single.chunks(16) {
        back.extend(session.decrypt_update(chunk).unwrap());
    }
    back.extend(session.decrypt_final().unwrap());
    assert_eq!(back, message);
    assert_eq!(session.decrypt(&cbc, aes, &single).unwrap(), message);
    assert_eq!(
        rv(session.decrypt(&cbc, aes, &single[..40])),
        RvError::EncryptedDataLenRange
    );

    // --- AES-ECB: whole blocks only.
    let ecb = session
        .encrypt(&Mechanism::AesEcb, aes, &[0u8; 32])
        .unwrap();
    assert_eq!(&ecb[..16], &ecb[16..]);
    assert_eq!(
        rv(session.encrypt(&Mechanism::AesEcb, aes, &[0u8; 15])),
        RvError::DataLenRange
    );

    // --- RSA-OAEP (SHA-1 and SHA-256): Python encrypts to the token's public key, the token decrypts.
    let (public, private) = session
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[
                Attribute::ModulusBits(2048.into()),
                Attribute::Encrypt(true),
                Attribute::Verify(true),
            ],
            &[Attribute::Decrypt(true), Attribute::Sign(true)],
        )
        .unwrap();
    let modulus = match &session
        .get_attributes(public, &[AttributeType::Modulus])
        .unwrap()[..]
    {
        [Attribute::Modulus(m)] => m.clone(),
        other => panic!("{other:?}"),
    };
    for (hash, mgf, py_hash) in [
        (MechanismType::SHA1, PkcsMgfType::MGF1_SHA1, "SHA1"),
        (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, "SHA256"),
    ] {
        let oaep = Mechanism::RsaPkcsOaep(PkcsOaepParams::new(hash, mgf, PkcsOaepSource::empty()));
        let secret = b"a key to transport".to_vec();
        let by_python = python(&format!(
            "k = rsa.RSAPublicNumbers(65537, int('{}', 16)).public_key()\n\
             print(k.encrypt(h('{}'), apad.OAEP(apad.MGF1(hashes.{py_hash}()), hashes.{py_hash}(), None)).hex())",
            hex(&modulus),
            hex(&secret)
        ));
        assert_eq!(session.decrypt(&oaep, private, &by_python).unwrap(), secret);
        let by_token = session.encrypt(&oaep, public, &secret).unwrap();
        assert_eq!(by_token.len(), 256);
        assert_eq!(session.decrypt(&oaep, private, &by_token).unwrap(), secret);
        assert_eq!(
            rv(session.encrypt(&oaep, public, &[0u8; 240])),
            RvError::DataLenRange
        );
    }
    let oaep = Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
        MechanismType::SHA256,
        PkcsMgfType::MGF1_SHA256,
        PkcsOaepSource::empty(),
    ));
    assert_eq!(
        rv(session.encrypt_init(&oaep, aes)),
        RvError::KeyTypeInconsistent
    );
    assert_eq!(
        rv(session.decrypt_init(&Mechanism::AesEcb, private)),
        RvError::KeyTypeInconsistent
    );

    // --- AES key wrap with padding: unwrap what Python wrapped; wrap an extractable key as Python does.
    let kek_bytes = [0x42u8; 32];
    let kek = aes_key(
        &session,
        &kek_bytes,
        &[Attribute::Wrap(true), Attribute::Unwrap(true)],
    );
    let inner = [0x5au8; 24];
    let wrapped_by_python = python(&format!(
        "print(keywrap.aes_key_wrap_with_padding(h('{}'), h('{}')).hex())",
        hex(&kek_bytes),
        hex(&inner)
    ));
    let unwrapped = session
        .unwrap_key(
            &Mechanism::AesKeyWrapPad,
            kek,
            &wrapped_by_python,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::Token(true),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ],
        )
        .unwrap();
    assert_eq!(value_of(&session, unwrapped), inner);
    for (mechanism, function) in [
        (Mechanism::AesKeyWrapPad, "aes_key_wrap_with_padding"),
        (Mechanism::AesKeyWrap, "aes_key_wrap"),
    ] {
        let wrapped = session.wrap_key(&mechanism, kek, unwrapped).unwrap();
        let expected = python(&format!(
            "print(keywrap.{function}(h('{}'), h('{}')).hex())",
            hex(&kek_bytes),
            hex(&inner)
        ));
        assert_eq!(wrapped, expected);
    }
    // A key that is not extractable does not leave; a KEK without CKA_WRAP does not wrap.
    assert_eq!(
        rv(session.wrap_key(&Mechanism::AesKeyWrap, kek, aes)),
        RvError::KeyUnextractable
    );
    let no_wrap = aes_key(&session, &[1u8; 16], &[Attribute::Encrypt(true)]);
    assert_eq!(
        rv(session.wrap_key(&Mechanism::AesKeyWrap, no_wrap, unwrapped)),
        RvError::KeyFunctionNotPermitted
    );
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
    ];
    assert_eq!(
        rv(session.unwrap_key(&Mechanism::AesKeyWrap, kek, &[0u8; 20], &template)),
        RvError::WrappedKeyLenRange
    );
    assert_eq!(
        rv(session.unwrap_key(&Mechanism::AesKeyWrap, kek, &[0u8; 40], &template)),
        RvError::WrappedKeyInvalid
    );

    // --- HMAC-SHA256 with a generated generic secret, checked against Python's HMAC.
    let hmac_key = session
        .generate_key(
            &Mechanism::GenericSecretKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::GENERIC_SECRET),
                Attribute::ValueLen(32.into()),
                Attribute::Token(true),
                Attribute::Sign(true),
                Attribute::Verify(true),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ],
        )
        .unwrap();
    let data = b"authenticate me";
    let tag = session
        .sign(&Mechanism::Sha256Hmac, hmac_key, data)
        .unwrap();
    let expected = python(&format!(
        "m = hmac.HMAC(h('{}'), hashes.SHA256()); m.update(h('{}')); print(m.finalize().hex())",
        hex(&value_of(&session, hmac_key)),
        hex(data)
    ));
    assert_eq!(tag, expected);
    session
        .verify(&Mechanism::Sha256Hmac, hmac_key, data, &tag)
        .unwrap();
    let mut bad = tag.clone();
    bad[5] ^= 0x80;
    assert_eq!(
        rv(session.verify(&Mechanism::Sha256Hmac, hmac_key, data, &bad)),
        RvError::SignatureInvalid
    );
    assert_eq!(
        rv(session.verify(&Mechanism::Sha256Hmac, hmac_key, data, &tag[..31])),
        RvError::SignatureLenRange
    );
    assert_eq!(
        rv(session.sign_init(&Mechanism::Sha256Hmac, private)),
        RvError::KeyTypeInconsistent
    );
    // Multi-part: cryptoki's C_SignFinal asks for the length first (a NULL buffer), then signs; the probe must
    // not change what is signed, so the parts' tag is the one-shot tag of the whole message.
    session.sign_init(&Mechanism::Sha256Hmac, hmac_key).unwrap();
    session.sign_update(&data[..7]).unwrap();
    session.sign_update(&data[7..]).unwrap();
    assert_eq!(session.sign_final().unwrap(), tag);
    // The same for a deterministic signature (PKCS#1 v1.5), checked by the one-shot verify too.
    let one_shot = session
        .sign(&Mechanism::Sha256RsaPkcs, private, data)
        .unwrap();
    session
        .sign_init(&Mechanism::Sha256RsaPkcs, private)
        .unwrap();
    session.sign_update(&data[..3]).unwrap();
    session.sign_update(&data[3..]).unwrap();
    let in_parts = session.sign_final().unwrap();
    assert_eq!(in_parts, one_shot);
    session
        .verify(&Mechanism::Sha256RsaPkcs, public, data, &in_parts)
        .unwrap();

    // --- C_CreateObject of public keys: the token's RSA public key, imported again from its modulus and
    // exponent, verifies the token's signature; an EC public key likewise from CKA_EC_PARAMS / CKA_EC_POINT.
    let parts = session
        .get_attributes(
            public,
            &[AttributeType::Modulus, AttributeType::PublicExponent],
        )
        .unwrap();
    let (Attribute::Modulus(n), Attribute::PublicExponent(e)) = (&parts[0], &parts[1]) else {
        panic!("{parts:?}")
    };
    let imported_rsa = session
        .create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Modulus(n.clone()),
            Attribute::PublicExponent(e.clone()),
            Attribute::Verify(true),
            Attribute::Token(true),
            Attribute::Label(b"imported-rsa".to_vec()),
        ])
        .unwrap();
    session
        .verify(&Mechanism::Sha256RsaPkcs, imported_rsa, data, &in_parts)
        .unwrap();
    let p256_params = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let (ec_public, ec_private) = session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::EcParams(p256_params.clone()),
                Attribute::Verify(true),
            ],
            &[Attribute::Sign(true)],
        )
        .unwrap();
    let point = match &session
        .get_attributes(ec_public, &[AttributeType::EcPoint])
        .unwrap()[..]
    {
        [Attribute::EcPoint(point)] => point.clone(),
        other => panic!("{other:?}"),
    };
    let imported_ec = session
        .create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::EcParams(p256_params.clone()),
            Attribute::EcPoint(point),
            Attribute::Verify(true),
            Attribute::Token(true),
        ])
        .unwrap();
    let digest = [7u8; 32];
    let ec_signature = session
        .sign(&Mechanism::Ecdsa, ec_private, &digest)
        .unwrap();
    session
        .verify(&Mechanism::Ecdsa, imported_ec, &digest, &ec_signature)
        .unwrap();
    assert_eq!(
        rv(session.create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::EcParams(p256_params),
            Attribute::EcPoint(vec![0x04; 10]),
            Attribute::Token(true),
        ])),
        RvError::AttributeValueInvalid
    );
    assert_eq!(
        rv(session.create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::PublicExponent(vec![1, 0, 1]),
            Attribute::Token(true),
        ])),
        RvError::TemplateIncomplete
    );

    // --- RSA-PSS: round trip, and CK_RSA_PKCS_PSS_PARAMS checked.
    let pss = Mechanism::Sha384RsaPkcsPss(PkcsPssParams {
        hash_alg: MechanismType::SHA384,
        mgf: PkcsMgfType::MGF1_SHA384,
        s_len: 48.into(),
    });
    let signature = session.sign(&pss, private, data).unwrap();
    session.verify(&pss, public, data, &signature).unwrap();
    let mismatched = Mechanism::Sha384RsaPkcsPss(PkcsPssParams {
        hash_alg: MechanismType::SHA256,
        mgf: PkcsMgfType::MGF1_SHA256,
        s_len: 32.into(),
    });
    assert_eq!(
        rv(session.sign_init(&mismatched, private)),
        RvError::MechanismParamInvalid
    );
    let raw_pss = Mechanism::RsaPkcsPss(PkcsPssParams {
        hash_alg: MechanismType::SHA256,
        mgf: PkcsMgfType::MGF1_SHA256,
        s_len: 32.into(),
    });
    assert_eq!(
        rv(session.sign(&raw_pss, private, &[0u8; 31])),
        RvError::DataLenRange
    );
    let digest_signature = session.sign(&raw_pss, private, &[3u8; 32]).unwrap();
    session
        .verify(&raw_pss, public, &[3u8; 32], &digest_signature)
        .unwrap();

    // --- The advertised table.
    // (`cryptoki` leaves out the types it cannot name, such as CKM_SHA3_*: tests/digest.rs counts all 32.)
    let list = pkcs11.get_mechanism_list(slot).unwrap();
    assert!(
        list.contains(&MechanismType::SHA256) && list.contains(&MechanismType::AES_KEY_WRAP_PAD)
    );
    let info = pkcs11
        .get_mechanism_info(slot, MechanismType::AES_KEY_WRAP_PAD)
        .unwrap();
    assert!(info.wrap() && info.unwrap() && !info.encrypt());
    let info = pkcs11
        .get_mechanism_info(slot, MechanismType::ECC_KEY_PAIR_GEN)
        .unwrap();
    assert_eq!((info.min_key_size(), info.max_key_size()), (256, 384));
}
