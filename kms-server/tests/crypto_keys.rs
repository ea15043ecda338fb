//! Key generation and key formats, checked against OpenSSL: keys we generate parse in OpenSSL and yield the
//! same public key; keys OpenSSL generates parse here; transparent components agree with OpenSSL's.

mod crypto_support;

use crypto_support::{openssl, openssl_status, path_str, pool, Scratch};
use kms_server::crypto::key_formats::*;
use kms_server::crypto::keygen::*;
use kms_server::crypto::CryptoError;

fn openssl_spki_of(scratch: &Scratch, private_der: &[u8]) -> Vec<u8> {
    let file = scratch.write("private.der", private_der);
    openssl(&[
        "pkey",
        "-inform",
        "DER",
        "-in",
        path_str(&file),
        "-pubout",
        "-outform",
        "DER",
    ])
}

#[test]
fn generated_keys_in_pkcs8_give_openssl_the_same_public_key() {
    let pool = pool();
    let scratch = Scratch::new();
    for spec in [
        KeyPairSpec::Rsa { bits: 2048 },
        KeyPairSpec::Rsa { bits: 3072 },
        KeyPairSpec::Ec(EcCurve::P256),
        KeyPairSpec::Ec(EcCurve::P384),
        KeyPairSpec::Ed25519,
    ] {
        let key = generate_key_pair(&pool, spec).unwrap();
        assert_eq!(key.spec(), spec);
        let spki = key.public_key().to_spki_der().unwrap();
        assert_eq!(
            openssl_spki_of(&scratch, &key.to_pkcs8_der().unwrap()),
            spki,
            "{spec:?}"
        );
        // And back: PKCS#8 and SPKI parse into the same keys.
        let reparsed = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(reparsed.public_key(), key.public_key());
        assert_eq!(PublicKey::from_spki_der(&spki).unwrap(), key.public_key());
    }
}

#[test]
fn rsa_4096_generation_works_once() {
    let key = generate_key_pair(&pool(), KeyPairSpec::Rsa { bits: 4096 }).unwrap();
    assert_eq!(key.spec(), KeyPairSpec::Rsa { bits: 4096 });
    assert_eq!(key.to_transparent_rsa().unwrap().modulus.len(), 512);
}

#[test]
fn openssl_generated_keys_parse_in_every_format() {
    let scratch = Scratch::new();
    for (name, args) in [
        (
            "rsa",
            vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        ),
        (
            "p256",
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        (
            "p384",
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        ),
        ("ed25519", vec!["-algorithm", "ED25519"]),
    ] {
        let pem = scratch.path(&format!("{name}.pem"));
        let pkcs8 = scratch.path(&format!("{name}.p8"));
        let mut command = vec!["genpkey"];
        command.extend(args);
        command.extend(["-out", path_str(&pem)]);
        openssl(&command);
        openssl(&[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            path_str(&pem),
            "-outform",
            "DER",
            "-out",
            path_str(&pkcs8),
        ]);
        let pkcs8_der = std::fs::read(&pkcs8).unwrap();
        let key = PrivateKey::from_pkcs8_der(&pkcs8_der).unwrap();
        let their_spki = openssl_spki_of(&scratch, &pkcs8_der);
        assert_eq!(
            key.public_key().to_spki_der().unwrap(),
            their_spki,
            "{name}"
        );
        assert_eq!(
            PublicKey::from_spki_der(&their_spki).unwrap(),
            key.public_key()
        );

        // "Traditional" form: PKCS#1 for RSA, SEC1 for EC.
        let traditional = openssl(&[
            "pkey",
            "-inform",
            "DER",
            "-in",
            path_str(&pkcs8),
            "-traditional",
            "-outform",
            "DER",
        ]);
        match name {
            "rsa" => {
                assert_eq!(
                    PrivateKey::from_pkcs1_der(&traditional)
                        .unwrap()
                        .public_key(),
                    key.public_key()
                );
                assert_eq!(
                    &key.to_pkcs1_der().unwrap()[..],
                    &traditional[..],
                    "PKCS#1 DER is canonical"
                );
                let their_public = openssl(&[
                    "rsa",
                    "-inform",
                    "DER",
                    "-in",
                    path_str(&pkcs8),
                    "-RSAPublicKey_out",
                    "-outform",
                    "DER",
                ]);
                assert_eq!(key.public_key().to_pkcs1_der().unwrap(), their_public);
                assert_eq!(
                    PublicKey::from_pkcs1_der(&their_public).unwrap(),
                    key.public_key()
                );
            }
            "p256" | "p384" => {
                let curve = if name == "p256" {
                    EcCurve::P256
                } else {
                    EcCurve::P384
                };
                assert_eq!(
                    PrivateKey::from_sec1_der(curve, &traditional)
                        .unwrap()
                        .public_key(),
                    key.public_key()
                );
                let ours = scratch.write("sec1.der", &key.to_sec1_der().unwrap());
                let spki = openssl(&[
                    "ec",
                    "-inform",
                    "DER",
                    "-in",
                    path_str(&ours),
                    "-pubout",
                    "-outform",
                    "DER",
                ]);
                assert_eq!(spki, their_spki, "OpenSSL reads our SEC1 key");
            }
            _ => {}
        }
    }
}

#[test]
fn transparent_rsa_components_match_openssl_and_round_trip() {
    let scratch = Scratch::new();
    let key = generate_key_pair(&pool(), KeyPairSpec::Rsa { bits: 2048 }).unwrap();
    let parts = key.to_transparent_rsa().unwrap();
    let file = scratch.write("k.der", &key.to_pkcs8_der().unwrap());
    let modulus = String::from_utf8(openssl(&[
        "rsa",
        "-inform",
        "DER",
        "-in",
        path_str(&file),
        "-modulus",
        "-noout",
    ]))
    .unwrap();
    assert_eq!(
        modulus.trim(),
        format!("Modulus={}", hex::encode_upper(&parts.modulus))
    );
    assert_eq!(parts.public_exponent, vec![1, 0, 1]);

    assert_eq!(
        PrivateKey::from_transparent_rsa(&parts)
            .unwrap()
            .to_transparent_rsa()
            .unwrap(),
        parts
    );
    // Without p and q the primes are recovered from n, e, d.
    let without_primes = TransparentRsaPrivateKey {
        p: None,
        q: None,
        ..parts.clone()
    };
    assert_eq!(
        PrivateKey::from_transparent_rsa(&without_primes)
            .unwrap()
            .public_key(),
        key.public_key()
    );
    // An inconsistent d is refused.
    let mut broken = parts.clone();
    broken.private_exponent[10] ^= 1;
    assert!(matches!(
        PrivateKey::from_transparent_rsa(&broken),
        Err(CryptoError::InvalidKey(_))
    ));

    let public = key.public_key().to_transparent_rsa().unwrap();
    assert_eq!(
        PublicKey::from_transparent_rsa(&public).unwrap(),
        key.public_key()
    );
}

#[test]
fn transparent_ec_components_round_trip_and_are_checked() {
    let pool = pool();
    for curve in [EcCurve::P256, EcCurve::P384] {
        let key = generate_key_pair(&pool, KeyPairSpec::Ec(curve)).unwrap();
        let private = key.to_transparent_ec().unwrap();
        assert_eq!(private.d.len(), curve.field_len());
        assert_eq!(
            PrivateKey::from_transparent_ec(&private)
                .unwrap()
                .public_key(),
            key.public_key()
        );
        let public = key.public_key().to_transparent_ec().unwrap();
        assert_eq!(public.q.len(), 1 + 2 * curve.field_len());
        assert_eq!(public.q[0], 4, "uncompressed point");
        assert_eq!(
            PublicKey::from_transparent_ec(&public).unwrap(),
            key.public_key()
        );

        let off_curve = TransparentEcPublicKey {
            curve,
            q: {
                let mut q = public.q.clone();
                q[5] ^= 1;
                q
            },
        };
        assert!(matches!(
            PublicKey::from_transparent_ec(&off_curve),
            Err(CryptoError::Malformed { .. })
        ));
        let zero = TransparentEcPrivateKey {
            curve,
            d: vec![0u8; curve.field_len()].into(),
        };
        assert!(matches!(
            PrivateKey::from_transparent_ec(&zero),
            Err(CryptoError::InvalidKey(_))
        ));
    }
}

#[test]
fn every_parser_turns_garbage_into_a_typed_error() {
    let garbage: &[&[u8]] = &[
        b"",
        b"\x30\x03\x02\x01",
        b"not DER at all",
        &[0x30, 0x82, 0xff, 0xff, 0x00],
    ];
    for bytes in garbage {
        assert!(matches!(
            PrivateKey::from_pkcs8_der(bytes),
            Err(CryptoError::Malformed { .. })
        ));
        assert!(matches!(
            PrivateKey::from_pkcs1_der(bytes),
            Err(CryptoError::Malformed { .. })
        ));
        assert!(matches!(
            PrivateKey::from_sec1_der(EcCurve::P256, bytes),
            Err(CryptoError::Malformed { .. })
        ));
        assert!(matches!(
            PublicKey::from_spki_der(bytes),
            Err(CryptoError::Malformed { .. })
        ));
        assert!(matches!(
            PublicKey::from_pkcs1_der(bytes),
            Err(CryptoError::Malformed { .. })
        ));
    }
    // A well-formed key on a curve we do not serve is "unsupported", not "malformed".
    let scratch = Scratch::new();
    let pem = scratch.path("k1.pem");
    let file = scratch.path("k1.der");
    if openssl_status(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:secp256k1",
        "-out",
        path_str(&pem),
    ])
    .is_ok()
    {
        openssl(&[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            path_str(&pem),
            "-outform",
            "DER",
            "-out",
            path_str(&file),
        ]);
        let der = std::fs::read(&file).unwrap();
        assert!(matches!(
            PrivateKey::from_pkcs8_der(&der),
            Err(CryptoError::Unsupported(_))
        ));
    }
    // Wrong key type for the format.
    let ec = generate_key_pair(&pool(), KeyPairSpec::Ec(EcCurve::P256)).unwrap();
    assert!(matches!(ec.to_pkcs1_der(), Err(CryptoError::InvalidKey(_))));
    assert!(matches!(
        ec.to_transparent_rsa(),
        Err(CryptoError::InvalidKey(_))
    ));
}

/// The embedded public key of an EC private key must be the one its scalar gives, in either SEC1 point form;
/// the check uses the fixed-base table, so it is compared here with the curve crate's own derivation.
#[test]
fn ec_private_keys_embedding_a_foreign_public_key_are_refused() {
    use p256::elliptic_curve::sec1::ToSec1Point;
    use sec1::der::Encode;

    let pool = pool();
    let PrivateKey::EcP256(own) = generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256)).unwrap()
    else {
        panic!("a P-256 key was asked for")
    };
    let PrivateKey::EcP256(other) =
        generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256)).unwrap()
    else {
        panic!("a P-256 key was asked for")
    };
    let scalar = own.to_bytes();
    let sec1_with = |public: Option<&[u8]>| {
        sec1::EcPrivateKey {
            private_key: &scalar,
            parameters: None,
            public_key: public,
        }
        .to_der()
        .unwrap()
    };
    for compress in [false, true] {
        let own_point = own.public_key().to_sec1_point(compress);
        let parsed =
            PrivateKey::from_sec1_der(EcCurve::P256, &sec1_with(Some(own_point.as_bytes())))
                .unwrap();
        assert_eq!(
            parsed.public_key().to_spki_der().unwrap(),
            PublicKey::EcP256(own.public_key()).to_spki_der().unwrap(),
            "compressed: {compress}"
        );
        let foreign = other.public_key().to_sec1_point(compress);
        let refused =
            PrivateKey::from_sec1_der(EcCurve::P256, &sec1_with(Some(foreign.as_bytes())));
        assert!(
            matches!(refused, Err(CryptoError::Malformed { .. })),
            "compressed: {compress}: {refused:?}"
        );
    }
    // No embedded public key: nothing to check, the key parses.
    PrivateKey::from_sec1_der(EcCurve::P256, &sec1_with(None)).unwrap();
}
