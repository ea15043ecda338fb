//! RSA encryption cross-checked with `openssl pkeyutl` both ways: OAEP (SHA-1, SHA-256, and SHA-256 with
//! MGF1-SHA-1) and PKCS#1 v1.5.

mod crypto_support;

use crypto_support::{openssl, path_str, pool, Scratch};
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
