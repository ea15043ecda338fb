//! Key wrapping: RFC 3394 §4 and RFC 5649 §6 known answers, byte-for-byte agreement with
//! `openssl enc -id-aes*-wrap[-pad]` and Python `cryptography`'s `aes_key_wrap[_with_padding]`, and RSA-OAEP
//! wrapping unwrapped by `openssl pkeyutl`.

mod crypto_support;

use crypto_support::{openssl, path_str, pool, python, Scratch};
use kms_server::crypto::hash::HashAlgorithm;
use kms_server::crypto::keygen::{generate_key_pair, KeyPairSpec};
use kms_server::crypto::wrap::*;
use kms_server::crypto::CryptoError;

fn h(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

#[test]
fn rfc_3394_section_4_vectors() {
    let cases = [
        (
            "000102030405060708090A0B0C0D0E0F",
            "00112233445566778899AABBCCDDEEFF",
            "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
        ),
        (
            "000102030405060708090A0B0C0D0E0F1011121314151617",
            "00112233445566778899AABBCCDDEEFF",
            "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D",
        ),
        (
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "00112233445566778899AABBCCDDEEFF",
            "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7",
        ),
        (
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
            "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
        ),
    ];
    for (kek, key, wrapped) in cases {
        assert_eq!(aes_key_wrap(&h(kek), &h(key)).unwrap(), h(wrapped));
        assert_eq!(
            &aes_key_unwrap(&h(kek), &h(wrapped)).unwrap()[..],
            &h(key)[..]
        );
    }
}

#[test]
fn rfc_5649_section_6_vectors() {
    let kek = h("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
    for (key, wrapped) in [
        (
            "c37b7e6492584340bed12207808941155068f738",
            "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
        ),
        ("466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"),
    ] {
        assert_eq!(
            aes_key_wrap_with_padding(&kek, &h(key)).unwrap(),
            h(wrapped)
        );
        assert_eq!(
            &aes_key_unwrap_with_padding(&kek, &h(wrapped)).unwrap()[..],
            &h(key)[..]
        );
    }
}

#[test]
fn wraps_equal_openssl_enc_id_aes_wrap_output() {
    let scratch = Scratch::new();
    for kek_len in [16usize, 24, 32] {
        let kek: Vec<u8> = (0..kek_len as u8).map(|b| b.wrapping_mul(7)).collect();
        let bits = kek_len * 8;
        for key_len in [16usize, 24, 32, 40] {
            let key: Vec<u8> = (0..key_len as u8).map(|b| b ^ 0x5c).collect();
            let input = scratch.write("key", &key);
            let theirs = openssl(&[
                "enc",
                &format!("-id-aes{bits}-wrap"),
                "-K",
                &hex::encode(&kek),
                "-iv",
                "A6A6A6A6A6A6A6A6",
                "-in",
                path_str(&input),
            ]);
            assert_eq!(
                aes_key_wrap(&kek, &key).unwrap(),
                theirs,
                "KW kek {bits} key {key_len}"
            );
        }
        for key_len in [1usize, 7, 8, 9, 20, 32, 33] {
            let key: Vec<u8> = (0..key_len as u8).map(|b| b ^ 0xa3).collect();
            let input = scratch.write("key", &key);
            let theirs = openssl(&[
                "enc",
                &format!("-id-aes{bits}-wrap-pad"),
                "-K",
                &hex::encode(&kek),
                "-iv",
                "A65959A6",
                "-in",
                path_str(&input),
            ]);
            assert_eq!(
                aes_key_wrap_with_padding(&kek, &key).unwrap(),
                theirs,
                "KWP kek {bits} key {key_len}"
            );
            assert_eq!(
                &aes_key_unwrap_with_padding(&kek, &theirs).unwrap()[..],
                &key[..]
            );
        }
    }
}

#[test]
fn wraps_equal_python_cryptography_aes_key_wrap() {
    let script = r#"
import sys
from cryptography.hazmat.primitives import keywrap
kek, key = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
print((keywrap.aes_key_wrap if sys.argv[1] == "kw" else keywrap.aes_key_wrap_with_padding)(kek, key).hex())
"#;
    let kek = [0x0fu8; 32];
    let key: Vec<u8> = (0..32u8).collect();
    assert_eq!(
        hex::encode(aes_key_wrap(&kek, &key).unwrap()),
        python(script, &["kw", &hex::encode(kek), &hex::encode(&key)])
    );
    assert_eq!(
        hex::encode(aes_key_wrap_with_padding(&kek, &key[..13]).unwrap()),
        python(
            script,
            &["kwp", &hex::encode(kek), &hex::encode(&key[..13])]
        )
    );
}

#[test]
fn tampered_or_misshapen_wraps_are_refused() {
    let kek = [1u8; 32];
    let mut wrapped = aes_key_wrap(&kek, &[2u8; 32]).unwrap();
    wrapped[5] ^= 1;
    assert_eq!(
        aes_key_unwrap(&kek, &wrapped),
        Err(CryptoError::UnwrapFailed)
    );
    assert_eq!(
        aes_key_unwrap(&[9u8; 32], &aes_key_wrap(&kek, &[2u8; 32]).unwrap()),
        Err(CryptoError::UnwrapFailed)
    );
    let padded = aes_key_wrap_with_padding(&kek, &[3u8; 5]).unwrap();
    assert_eq!(
        aes_key_unwrap(&kek, &padded).map(|_| ()),
        Err(CryptoError::InvalidInput(
            "an RFC 3394 wrapped key is a multiple of 8 bytes, at least 24; got 16".into()
        ))
    );
    assert!(matches!(
        aes_key_wrap(&kek, &[0u8; 12]),
        Err(CryptoError::InvalidInput(_))
    ));
    assert!(matches!(
        aes_key_wrap(&[0u8; 20], &[0u8; 16]),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        aes_key_wrap_with_padding(&kek, &[]),
        Err(CryptoError::InvalidInput(_))
    ));
}

#[test]
fn rsa_oaep_wrapped_keys_unwrap_in_openssl_and_back() {
    let pool = pool();
    let scratch = Scratch::new();
    let key = generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 2048 }).unwrap();
    let private = scratch.write("private.der", &key.to_pkcs8_der().unwrap());
    let secret = [0x77u8; 32];
    let wrapped = rsa_oaep_wrap(
        &pool,
        &key.public_key(),
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha256,
        &secret,
    )
    .unwrap();
    let file = scratch.write("wrapped", &wrapped);
    let unwrapped = openssl(&[
        "pkeyutl",
        "-decrypt",
        "-inkey",
        path_str(&private),
        "-keyform",
        "DER",
        "-in",
        path_str(&file),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
    ]);
    assert_eq!(unwrapped, secret);
    assert_eq!(
        &rsa_oaep_unwrap(
            &pool,
            &key,
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha256,
            &wrapped
        )
        .unwrap()[..],
        &secret
    );
    assert_eq!(
        rsa_oaep_unwrap(
            &pool,
            &key,
            HashAlgorithm::Sha1,
            HashAlgorithm::Sha1,
            &wrapped
        ),
        Err(CryptoError::UnwrapFailed)
    );
}
