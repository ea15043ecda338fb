//! RSA encryption cross-checked with `openssl pkeyutl` both ways: OAEP (SHA-1, SHA-256, and SHA-256 with
//! MGF1-SHA-1) and PKCS#1 v1.5; PKCS#1 v1.5 implicit rejection cross-checked with OpenSSL ≥ 3.2 (through
//! Python `cryptography`, whose wheels bundle it: Debian's `openssl` 3.0 predates implicit rejection).

mod crypto_support;

use crypto_support::{openssl, path_str, pool, python, Scratch};
use kms_server::crypto::asymmetric::*;
use kms_server::crypto::hash::HashAlgorithm;
use kms_server::crypto::keygen::*;
use kms_server::crypto::CryptoError;

#[test]
fn rsa_encryption_interoperates_with_openssl_pkeyutl() {
    use HashAlgorithm::*;
    let pool = pool();
    let scratch = Scratch::new();
    let key = generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 2048 }).unwrap();
    let private = scratch.write("private.der", &key.to_pkcs8_der().unwrap());
    let public = scratch.write("public.der", &key.public_key().to_spki_der().unwrap());
    let plaintext = b"a 32-byte AES key would go here!";
    let plain_file = scratch.write("plain", plaintext);
    let cases: [(RsaEncryptionPadding, Vec<&str>); 4] = [
        (
            RsaEncryptionPadding::oaep(Sha1),
            vec!["-pkeyopt", "rsa_padding_mode:oaep"],
        ),
        (
            RsaEncryptionPadding::oaep(Sha256),
            vec![
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                "rsa_oaep_md:sha256",
            ],
        ),
        (
            RsaEncryptionPadding::Oaep {
                hash: Sha256,
                mgf1_hash: Sha1,
            },
            vec![
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                "rsa_oaep_md:sha256",
                "-pkeyopt",
                "rsa_mgf1_md:sha1",
            ],
        ),
        (
            RsaEncryptionPadding::Pkcs1v15,
            vec!["-pkeyopt", "rsa_padding_mode:pkcs1"],
        ),
    ];
    for (padding, options) in cases {
        let mut encrypt = vec![
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            path_str(&public),
            "-keyform",
            "DER",
            "-in",
            path_str(&plain_file),
        ];
        encrypt.extend(&options);
        let theirs = openssl(&encrypt);
        assert_eq!(
            &rsa_decrypt(&pool, &key, padding, &theirs).unwrap()[..],
            plaintext,
            "{padding:?}"
        );

        let ours = rsa_encrypt(&pool, &key.public_key(), padding, plaintext).unwrap();
        assert_eq!(ours.len(), 256);
        let cipher_file = scratch.write("cipher", &ours);
        let mut decrypt = vec![
            "pkeyutl",
            "-decrypt",
            "-inkey",
            path_str(&private),
            "-keyform",
            "DER",
            "-in",
            path_str(&cipher_file),
        ];
        decrypt.extend(&options);
        assert_eq!(openssl(&decrypt), plaintext, "{padding:?}");
    }
}

#[test]
fn decryption_failures_and_oversized_plaintexts_are_typed_errors() {
    let pool = pool();
    let key = generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 2048 }).unwrap();
    let padding = RsaEncryptionPadding::oaep(HashAlgorithm::Sha256);
    let mut ciphertext = rsa_encrypt(&pool, &key.public_key(), padding, b"hello").unwrap();
    ciphertext[100] ^= 1;
    assert_eq!(
        rsa_decrypt(&pool, &key, padding, &ciphertext),
        Err(CryptoError::DecryptionFailed)
    );
    assert_eq!(
        rsa_decrypt(&pool, &key, padding, &ciphertext[..10]),
        Err(CryptoError::DecryptionFailed)
    );
    let max = max_plaintext_len(&key.public_key(), padding).unwrap();
    assert_eq!(max, 256 - 66);
    assert!(rsa_encrypt(&pool, &key.public_key(), padding, &vec![0; max]).is_ok());
    assert!(matches!(
        rsa_encrypt(&pool, &key.public_key(), padding, &vec![0; max + 1]),
        Err(CryptoError::InvalidInput(_))
    ));
    let ec = generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256)).unwrap();
    assert!(matches!(
        rsa_encrypt(&pool, &ec.public_key(), padding, b"x"),
        Err(CryptoError::InvalidKey(_))
    ));
}

/// A PKCS#1 v1.5 ciphertext whose padding is wrong decrypts, without an error, to the message
/// draft-irtf-cfrg-rsa-guidance §7.2 derives from the private key and the ciphertext: the same one OpenSSL 3.2+
/// returns, the same one every time, another one for another ciphertext. Only a wrong length is refused.
#[test]
fn pkcs1v15_bad_padding_decrypts_to_the_implicit_rejection_message_openssl_computes() {
    let pool = pool();
    let scratch = Scratch::new();
    let key = generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 2048 }).unwrap();
    let private = scratch.write("private.der", &key.to_pkcs8_der().unwrap());
    let padding = RsaEncryptionPadding::Pkcs1v15;
    let valid = rsa_encrypt(&pool, &key.public_key(), padding, b"the real message").unwrap();
    let mut bad = Vec::new();
    for position in [50usize, 100, 200, 255] {
        // Any change of the ciphertext gives an unrelated m, whose padding is wrong (but for ~2^-16 of them).
        let mut altered = valid.clone();
        altered[position] ^= 0x41;
        bad.push(altered);
    }
    let script = "import sys\n\
        from cryptography.hazmat.primitives.serialization import load_der_private_key\n\
        from cryptography.hazmat.primitives.asymmetric import padding\n\
        from cryptography.hazmat.backends.openssl import backend\n\
        key = load_der_private_key(open(sys.argv[1], 'rb').read(), None)\n\
        try:\n    print(key.decrypt(bytes.fromhex(sys.argv[2]), padding.PKCS1v15()).hex())\n\
        except ValueError:\n    print('explicit rejection by ' + backend.openssl_version_text())";
    let mut messages = Vec::new();
    for ciphertext in &bad {
        let ours = rsa_decrypt(&pool, &key, padding, ciphertext).unwrap();
        assert!(ours.len() <= 256 - 11, "{} bytes", ours.len());
        assert_eq!(ours, rsa_decrypt(&pool, &key, padding, ciphertext).unwrap());
        let theirs = python(script, &[path_str(&private), &hex::encode(ciphertext)]);
        assert_eq!(
            hex::encode(&ours[..]),
            theirs,
            "ciphertext {}",
            hex::encode(ciphertext)
        );
        messages.push(ours.to_vec());
    }
    messages.sort();
    messages.dedup();
    assert_eq!(
        messages.len(),
        bad.len(),
        "each bad ciphertext has its own message"
    );
    assert_eq!(
        &rsa_decrypt(&pool, &key, padding, &valid).unwrap()[..],
        b"the real message"
    );
    assert_eq!(
        rsa_decrypt(&pool, &key, padding, &valid[1..]),
        Err(CryptoError::DecryptionFailed)
    );
}
