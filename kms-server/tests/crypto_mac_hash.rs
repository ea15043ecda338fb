//! HMAC known answers (RFC 4231) and agreement with Python's `hmac`/`hashlib` (an independent implementation);
//! SHA-2 digests against `openssl dgst`.

mod crypto_support;

use crypto_support::{openssl, path_str, python, Scratch};
use kms_server::crypto::hash::{digest, HashAlgorithm};
use kms_server::crypto::mac::{hmac, hmac_verify};

#[test]
fn hmac_matches_rfc_4231_test_cases_1_2_and_6() {
    use HashAlgorithm::*;
    let long_key = [0xaau8; 131];
    let cases: [(&[u8], &[u8], HashAlgorithm, &str); 7] = [
        (&[0x0b; 20], b"Hi There", Sha256, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (&[0x0b; 20], b"Hi There", Sha384, "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"),
        (&[0x0b; 20], b"Hi There", Sha512, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"),
        (b"Jefe", b"what do ya want for nothing?", Sha256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (b"Jefe", b"what do ya want for nothing?", Sha384, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"),
        (b"Jefe", b"what do ya want for nothing?", Sha512, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
        (&long_key, b"Test Using Larger Than Block-Size Key - Hash Key First", Sha256, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ];
    for (key, data, algorithm, expected) in cases {
        let tag = hmac(algorithm, key, data).unwrap();
        assert_eq!(hex::encode(&tag), expected, "{algorithm:?}");
        assert!(hmac_verify(algorithm, key, data, &tag).unwrap());
        let mut wrong = tag.clone();
        wrong[0] ^= 1;
        assert!(!hmac_verify(algorithm, key, data, &wrong).unwrap());
        assert!(
            !hmac_verify(algorithm, key, data, &tag[..tag.len() - 1]).unwrap(),
            "a truncated tag does not verify"
        );
    }
}

#[test]
fn hmac_agrees_with_python_hmac() {
    let script = "import sys, hmac; print(hmac.new(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), sys.argv[3]).hexdigest())";
    let key: Vec<u8> = (0..77u8).collect();
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
    for (algorithm, name) in [
        (HashAlgorithm::Sha1, "sha1"),
        (HashAlgorithm::Sha256, "sha256"),
        (HashAlgorithm::Sha384, "sha384"),
        (HashAlgorithm::Sha512, "sha512"),
    ] {
        let theirs = python(script, &[&hex::encode(&key), &hex::encode(&data), name]);
        assert_eq!(
            hex::encode(hmac(algorithm, &key, &data).unwrap()),
            theirs,
            "{name}"
        );
    }
}

#[test]
fn digests_agree_with_openssl_dgst() {
    let scratch = Scratch::new();
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 256) as u8).collect();
    let file = scratch.write("data", &data);
    for (algorithm, flag) in [
        (HashAlgorithm::Sha1, "-sha1"),
        (HashAlgorithm::Sha224, "-sha224"),
        (HashAlgorithm::Sha256, "-sha256"),
        (HashAlgorithm::Sha384, "-sha384"),
        (HashAlgorithm::Sha512, "-sha512"),
    ] {
        let theirs = openssl(&["dgst", flag, "-binary", path_str(&file)]);
        assert_eq!(digest(algorithm, &data), theirs, "{flag}");
    }
}
