//! Signatures cross-checked with OpenSSL both ways: `openssl dgst -verify` accepts ours (PKCS#1 v1.5, PSS,
//! ECDSA P-256/P-384, Ed25519), and we accept OpenSSL's; signing a digest equals signing the data.

mod crypto_support;

use crypto_support::{openssl, openssl_status, path_str, pool, Scratch};
use kms_server::crypto::hash::{digest, HashAlgorithm};
use kms_server::crypto::keygen::*;
use kms_server::crypto::signature::*;
use kms_server::crypto::CryptoError;

const MESSAGE: &[u8] = b"qkms signs this message for OpenSSL";

fn cases() -> Vec<(KeyPairSpec, SignatureAlgorithm, Vec<&'static str>)> {
    use HashAlgorithm::*;
    use SignatureAlgorithm::*;
    vec![
        (
            KeyPairSpec::Rsa { bits: 2048 },
            RsaPkcs1v15(Sha256),
            vec!["-sha256"],
        ),
        (
            KeyPairSpec::Rsa { bits: 2048 },
            RsaPkcs1v15(Sha384),
            vec!["-sha384"],
        ),
        (
            KeyPairSpec::Rsa { bits: 2048 },
            RsaPkcs1v15(Sha512),
            vec!["-sha512"],
        ),
        (
            KeyPairSpec::Rsa { bits: 2048 },
            RsaPss(Sha256),
            vec![
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ],
        ),
        (
            KeyPairSpec::Rsa { bits: 3072 },
            RsaPss(Sha384),
            vec![
                "-sha384",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ],
        ),
        (
            KeyPairSpec::Rsa { bits: 2048 },
            RsaPss(Sha512),
            vec![
                "-sha512",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:max",
            ],
        ),
        (
            KeyPairSpec::Ec(EcCurve::P256),
            Ecdsa(Sha256),
            vec!["-sha256"],
        ),
        (
            KeyPairSpec::Ec(EcCurve::P384),
            Ecdsa(Sha384),
            vec!["-sha384"],
        ),
        (KeyPairSpec::Ed25519, Ed25519, vec![]),
    ]
}

/// Verifies with OpenSSL: `dgst` for hash-then-sign schemes, `pkeyutl -rawin` for Ed25519.
fn openssl_verifies(
    options: &[&str],
    public: &str,
    signature: &str,
    message: &str,
) -> Result<Vec<u8>, String> {
    if options.is_empty() {
        return openssl_status(&[
            "pkeyutl", "-verify", "-pubin", "-inkey", public, "-keyform", "DER", "-rawin", "-in",
            message, "-sigfile", signature,
        ]);
    }
    // Our PSS salt is the digest length; let OpenSSL detect it whatever salt its own signing used.
    let mut command = vec!["dgst"];
    command.extend(options.iter().map(|o| {
        if o.starts_with("rsa_pss_saltlen") {
            "rsa_pss_saltlen:auto"
        } else {
            o
        }
    }));
    command.extend([
        "-verify",
        public,
        "-keyform",
        "DER",
        "-signature",
        signature,
        message,
    ]);
    openssl_status(&command)
}

fn openssl_signs(options: &[&str], private: &str, message: &str) -> Vec<u8> {
    if options.is_empty() {
        return openssl(&[
            "pkeyutl", "-sign", "-inkey", private, "-keyform", "DER", "-rawin", "-in", message,
        ]);
    }
    let mut command = vec!["dgst"];
    command.extend(options);
    command.extend(["-sign", private, "-keyform", "DER", "-binary", message]);
    openssl(&command)
}

#[test]
fn openssl_verifies_our_signatures_and_we_verify_openssls() {
    let pool = pool();
    let scratch = Scratch::new();
    let message = scratch.write("message", MESSAGE);
    for (spec, algorithm, options) in cases() {
        let key = generate_key_pair(&pool, spec).unwrap();
        let private = scratch.write("private.der", &key.to_pkcs8_der().unwrap());
        let public = scratch.write("public.der", &key.public_key().to_spki_der().unwrap());
        let ours = sign(&pool, &key, algorithm, SignInput::Data(MESSAGE)).unwrap();
        let signature = scratch.write("ours.sig", &ours);
        let verdict = openssl_verifies(
            &options,
            path_str(&public),
            path_str(&signature),
            path_str(&message),
        );
        assert!(
            verdict.is_ok(),
            "{spec:?} {algorithm:?}: OpenSSL rejects our signature: {verdict:?}"
        );

        let theirs = openssl_signs(&options, path_str(&private), path_str(&message));
        assert!(
            verify(
                &key.public_key(),
                algorithm,
                SignInput::Data(MESSAGE),
                &theirs
            )
            .unwrap(),
            "{spec:?} {algorithm:?}: we reject OpenSSL's signature"
        );
        let mut tampered = theirs.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(!verify(
            &key.public_key(),
            algorithm,
            SignInput::Data(MESSAGE),
            &tampered
        )
        .unwrap());
        assert!(!verify(
            &key.public_key(),
            algorithm,
            SignInput::Data(b"another message"),
            &ours
        )
        .unwrap());
    }
}

#[test]
fn signing_a_digest_verifies_as_a_signature_over_the_data() {
    let pool = pool();
    for (spec, algorithm, _) in cases() {
        let (SignatureAlgorithm::RsaPkcs1v15(hash)
        | SignatureAlgorithm::RsaPss(hash)
        | SignatureAlgorithm::Ecdsa(hash)) = algorithm
        else {
            continue;
        };
        let key = generate_key_pair(&pool, spec).unwrap();
        let prehashed = digest(hash, MESSAGE);
        let signature = sign(&pool, &key, algorithm, SignInput::Digest(&prehashed)).unwrap();
        assert!(verify(
            &key.public_key(),
            algorithm,
            SignInput::Data(MESSAGE),
            &signature
        )
        .unwrap());
        assert!(verify(
            &key.public_key(),
            algorithm,
            SignInput::Digest(&prehashed),
            &signature
        )
        .unwrap());
        assert!(matches!(
            sign(&pool, &key, algorithm, SignInput::Digest(&prehashed[1..])),
            Err(CryptoError::InvalidInput(_))
        ));
    }
}

#[test]
fn pkcs1v15_signatures_are_deterministic_and_ecdsa_ones_are_hedged() {
    let pool = pool();
    let rsa = generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 2048 }).unwrap();
    let algorithm = SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256);
    assert_eq!(
        sign(&pool, &rsa, algorithm, SignInput::Data(MESSAGE)).unwrap(),
        sign(&pool, &rsa, algorithm, SignInput::Data(MESSAGE)).unwrap()
    );
    let ec = generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256)).unwrap();
    let algorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
    assert_ne!(
        sign(&pool, &ec, algorithm, SignInput::Data(MESSAGE)).unwrap(),
        sign(&pool, &ec, algorithm, SignInput::Data(MESSAGE)).unwrap(),
        "pool entropy enters the nonce"
    );
}

#[test]
fn ecdsa_signatures_convert_between_der_and_fixed_form() {
    let pool = pool();
    for curve in [EcCurve::P256, EcCurve::P384] {
        let key = generate_key_pair(&pool, KeyPairSpec::Ec(curve)).unwrap();
        let algorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
        let der = sign(&pool, &key, algorithm, SignInput::Data(MESSAGE)).unwrap();
        let fixed = ecdsa_der_to_fixed(curve, &der).unwrap();
        assert_eq!(fixed.len(), 2 * curve.field_len());
        assert_eq!(ecdsa_fixed_to_der(curve, &fixed).unwrap(), der);
        assert!(
            verify(
                &key.public_key(),
                algorithm,
                SignInput::Data(MESSAGE),
                &fixed
            )
            .unwrap(),
            "the fixed form verifies too"
        );
        assert!(matches!(
            ecdsa_der_to_fixed(curve, b"junk"),
            Err(CryptoError::Malformed { .. })
        ));
    }
}

#[test]
fn mismatched_key_and_algorithm_is_an_invalid_key_error() {
    let pool = pool();
    let ec = generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256)).unwrap();
    assert!(matches!(
        sign(
            &pool,
            &ec,
            SignatureAlgorithm::RsaPss(HashAlgorithm::Sha256),
            SignInput::Data(MESSAGE)
        ),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        verify(
            &ec.public_key(),
            SignatureAlgorithm::Ed25519,
            SignInput::Data(MESSAGE),
            &[0; 64]
        ),
        Err(CryptoError::InvalidKey(_))
    ));
}

#[test]
fn unprefixed_pkcs1v15_signs_the_callers_encoded_value_as_openssl_pkeyutl_does() {
    let pool = pool();
    let scratch = Scratch::new();
    let key = generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 2048 }).unwrap();
    let private = scratch.write("private.der", &key.to_pkcs8_der().unwrap());
    let public = scratch.write("public.der", &key.public_key().to_spki_der().unwrap());
    let unprefixed = SignatureAlgorithm::RsaPkcs1v15Unprefixed;
    // TLS 1.1's MD5 || SHA-1 is 36 bytes and no DigestInfo.
    let encoded: Vec<u8> = (0u8..36).collect();
    let ours = sign(&pool, &key, unprefixed, SignInput::Digest(&encoded)).unwrap();
    let input = scratch.write("encoded", &encoded);
    let signature = scratch.write("ours.sig", &ours);
    // pkeyutl takes -pkeyopt only after the key; with no digest it works on the bare PKCS#1 v1.5 block.
    let padding = [
        "-pkeyopt",
        "rsa_padding_mode:pkcs1",
        "-in",
        path_str(&input),
    ];
    let mut verify_args = vec!["pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey"];
    verify_args.push(path_str(&public));
    verify_args.extend(padding);
    verify_args.extend(["-sigfile", path_str(&signature)]);
    openssl_status(&verify_args).expect("OpenSSL verifies the bare PKCS#1 v1.5 block");
    let mut sign_args = vec!["pkeyutl", "-sign", "-keyform", "DER", "-inkey"];
    sign_args.push(path_str(&private));
    sign_args.extend(padding);
    let theirs = openssl(&sign_args);
    assert_eq!(theirs, ours, "PKCS#1 v1.5 signing is deterministic");
    assert!(verify(
        &key.public_key(),
        unprefixed,
        SignInput::Digest(&encoded),
        &ours
    )
    .unwrap());
    assert!(!verify(
        &key.public_key(),
        unprefixed,
        SignInput::Digest(&encoded[1..]),
        &ours
    )
    .unwrap());

    // Over a DigestInfo it is the hash-naming scheme over the digest.
    let sha256 = digest(HashAlgorithm::Sha256, MESSAGE);
    let mut digest_info = vec![
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    digest_info.extend_from_slice(&sha256);
    assert_eq!(
        sign(&pool, &key, unprefixed, SignInput::Digest(&digest_info)).unwrap(),
        sign(
            &pool,
            &key,
            SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256),
            SignInput::Digest(&sha256)
        )
        .unwrap()
    );

    // k - 11 = 245 bytes is the most a 2048-bit key takes; data (no hash to encode) and nothing are refused.
    assert!(sign(&pool, &key, unprefixed, SignInput::Digest(&[7; 245])).is_ok());
    for refused in [
        SignInput::Digest(&[7; 246]),
        SignInput::Digest(&[]),
        SignInput::Data(MESSAGE),
    ] {
        assert!(
            matches!(
                sign(&pool, &key, unprefixed, refused),
                Err(CryptoError::InvalidInput(_))
            ),
            "{refused:?}"
        );
    }
}
