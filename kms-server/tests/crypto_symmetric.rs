//! AES modes: GCM known answers (McGrew–Viega, the GCM specification's test cases 2–6 incl. 8- and 60-byte IVs),
//! agreement with the `aes-gcm` crate, and cross-checks against OpenSSL (`openssl enc`) and Python
//! `cryptography` in both directions.

mod crypto_support;

use aes_gcm::aead::{AeadInOut, KeyInit};
use crypto_support::{openssl, path_str, pool, python, Scratch};
use kms_server::crypto::symmetric::*;
use kms_server::crypto::CryptoError;

const MV_KEY: &str = "feffe9928665731c6d6a8f9467308308";
const MV_PLAINTEXT: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const MV_AAD: &str = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

fn h(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

#[test]
fn gcm_matches_the_gcm_specification_test_cases() {
    let pool = pool();
    let p60 = &h(MV_PLAINTEXT)[..60];
    // (iv, aad, plaintext, ciphertext, tag)
    let cases: [(&str, &str, &[u8], &str, &str); 5] = [
        ("000000000000000000000000", "", &[0u8; 16], "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"),
        ("cafebabefacedbaddecaf888", "", &h(MV_PLAINTEXT), "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985", "4d5c2af327cd64a62cf35abd2ba6fab4"),
        ("cafebabefacedbaddecaf888", MV_AAD, p60, "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091", "5bc94fbc3221a5db94fae95ae7121a47"),
        ("cafebabefacedbad", MV_AAD, p60, "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c742373806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598", "3612d2e79e3b0785561be14aaca2fccb"),
        ("9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b", MV_AAD, p60, "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca701e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5", "619cc5aefffe0bfa462af43c1699d050"),
    ];
    for (index, (iv, aad, plaintext, ciphertext, tag)) in cases.iter().enumerate() {
        let key = if index == 0 { vec![0u8; 16] } else { h(MV_KEY) };
        let sealed = aes_gcm_encrypt(&pool, &key, Some(&h(iv)), &h(aad), plaintext, 16).unwrap();
        assert_eq!(
            hex::encode(&sealed.ciphertext),
            *ciphertext,
            "case {}",
            index + 2
        );
        assert_eq!(hex::encode(&sealed.tag), *tag, "case {}", index + 2);
        let opened = aes_gcm_decrypt(&key, &h(iv), &h(aad), &h(ciphertext), &h(tag)).unwrap();
        assert_eq!(&opened[..], *plaintext);
        // A truncated tag is the prefix of the full tag and verifies as such.
        let short = aes_gcm_encrypt(&pool, &key, Some(&h(iv)), &h(aad), plaintext, 12).unwrap();
        assert_eq!(short.tag, h(tag)[..12]);
        assert!(aes_gcm_decrypt(&key, &h(iv), &h(aad), &h(ciphertext), &h(tag)[..13]).is_ok());
    }
}

#[test]
fn gcm_agrees_with_the_aes_gcm_crate_for_96_bit_ivs_and_all_key_sizes() {
    let pool = pool();
    for key_len in [16usize, 24, 32] {
        let key: Vec<u8> = (0..key_len as u8).collect();
        let iv = [9u8; 12];
        for len in [0usize, 1, 15, 16, 17, 4096] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let ours = aes_gcm_encrypt(&pool, &key, Some(&iv), b"header", &plaintext, 16).unwrap();
            let mut buffer = plaintext.clone();
            let tag = match key_len {
                16 => aes_gcm::Aes128Gcm::new_from_slice(&key)
                    .unwrap()
                    .encrypt_inout_detached(&iv.into(), b"header", buffer.as_mut_slice().into()),
                24 => {
                    aes_gcm::AesGcm::<aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(&key)
                        .unwrap()
                        .encrypt_inout_detached(&iv.into(), b"header", buffer.as_mut_slice().into())
                }
                _ => aes_gcm::Aes256Gcm::new_from_slice(&key)
                    .unwrap()
                    .encrypt_inout_detached(&iv.into(), b"header", buffer.as_mut_slice().into()),
            }
            .unwrap();
            assert_eq!(ours.ciphertext, buffer, "key {key_len} len {len}");
            assert_eq!(ours.tag, tag.to_vec(), "key {key_len} len {len}");
        }
    }
}

#[test]
fn gcm_rejects_a_modified_tag_ciphertext_or_aad_without_releasing_plaintext() {
    let pool = pool();
    let key = [3u8; 32];
    let sealed = aes_gcm_encrypt(&pool, &key, None, b"aad", b"secret message", 16).unwrap();
    assert_eq!(
        sealed.iv.len(),
        GCM_DEFAULT_IV_LEN,
        "an IV is drawn when none is given"
    );
    let mut tag = sealed.tag.clone();
    tag[0] ^= 1;
    assert_eq!(
        aes_gcm_decrypt(&key, &sealed.iv, b"aad", &sealed.ciphertext, &tag),
        Err(CryptoError::DecryptionFailed)
    );
    let mut ciphertext = sealed.ciphertext.clone();
    ciphertext[3] ^= 0x80;
    assert_eq!(
        aes_gcm_decrypt(&key, &sealed.iv, b"aad", &ciphertext, &sealed.tag),
        Err(CryptoError::DecryptionFailed)
    );
    assert_eq!(
        aes_gcm_decrypt(&key, &sealed.iv, b"aaD", &sealed.ciphertext, &sealed.tag),
        Err(CryptoError::DecryptionFailed)
    );
    let again = aes_gcm_encrypt(&pool, &key, None, b"aad", b"secret message", 16).unwrap();
    assert_ne!(again.iv, sealed.iv, "drawn IVs differ");
}

const PY_GCM: &str = r#"
import sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
op, key, iv, aad, data = sys.argv[1], *[bytes.fromhex(a) for a in sys.argv[2:6]]
if op == "encrypt":
    print(AESGCM(key).encrypt(iv, data, aad).hex())
else:
    d = Cipher(algorithms.AES(key), modes.GCM(iv, data[-16:])).decryptor()
    d.authenticate_additional_data(aad)
    print((d.update(data[:-16]) + d.finalize()).hex())
"#;

#[test]
fn gcm_interoperates_with_python_cryptography_both_ways() {
    let pool = pool();
    let key = [0x42u8; 32];
    let plaintext = b"KMIP says hello to Python".repeat(9);
    for iv in [vec![7u8; 12], vec![8u8; 16]] {
        // Python's AESGCM takes IVs of 8..=128 bytes; its output is ciphertext || tag.
        let theirs = h(&python(
            PY_GCM,
            &[
                "encrypt",
                &hex::encode(key),
                &hex::encode(&iv),
                "6161",
                &hex::encode(&plaintext),
            ],
        ));
        let (ciphertext, tag) = theirs.split_at(theirs.len() - 16);
        assert_eq!(
            &aes_gcm_decrypt(&key, &iv, b"aa", ciphertext, tag).unwrap()[..],
            &plaintext[..]
        );
        let ours = aes_gcm_encrypt(&pool, &key, Some(&iv), b"aa", &plaintext, 16).unwrap();
        let joined = [ours.ciphertext.clone(), ours.tag.clone()].concat();
        let decrypted = python(
            PY_GCM,
            &[
                "decrypt",
                &hex::encode(key),
                &hex::encode(&iv),
                "6161",
                &hex::encode(&joined),
            ],
        );
        assert_eq!(h(&decrypted), plaintext);
    }
}

#[test]
fn cbc_and_ctr_interoperate_with_openssl_enc_both_ways() {
    let pool = pool();
    let scratch = Scratch::new();
    let plaintext = b"twenty-one bytes long plus a second line of text".to_vec();
    let input = scratch.write("plain", &plaintext);
    for key_len in [16usize, 24, 32] {
        let key: Vec<u8> = (100..100 + key_len as u8).collect();
        let bits = key_len * 8;
        for (mode, cipher) in [
            ("CBC", format!("-aes-{bits}-cbc")),
            ("CTR", format!("-aes-{bits}-ctr")),
        ] {
            let ours = if mode == "CBC" {
                aes_cbc_encrypt(&pool, &key, None, Padding::Pkcs5, &plaintext).unwrap()
            } else {
                aes_ctr_encrypt(&pool, &key, None, &plaintext).unwrap()
            };
            let ours_file = scratch.write("ours", &ours.ciphertext);
            let decrypted = openssl(&[
                "enc",
                "-d",
                &cipher,
                "-K",
                &hex::encode(&key),
                "-iv",
                &hex::encode(&ours.iv),
                "-in",
                path_str(&ours_file),
            ]);
            assert_eq!(decrypted, plaintext, "openssl decrypts our {mode} ({bits})");

            let iv = [0x5au8; 16];
            let theirs = openssl(&[
                "enc",
                "-e",
                &cipher,
                "-K",
                &hex::encode(&key),
                "-iv",
                &hex::encode(iv),
                "-in",
                path_str(&input),
            ]);
            let decrypted = if mode == "CBC" {
                aes_cbc_decrypt(&key, &iv, Padding::Pkcs5, &theirs).unwrap()
            } else {
                aes_ctr_decrypt(&key, &iv, &theirs).unwrap()
            };
            assert_eq!(
                &decrypted[..],
                &plaintext[..],
                "we decrypt openssl's {mode} ({bits})"
            );
        }
    }
}

#[test]
fn unpadded_cbc_and_ecb_match_openssl_nopad() {
    let pool = pool();
    let scratch = Scratch::new();
    let key = [0x11u8; 32];
    let iv = [0x22u8; 16];
    let plaintext = [0x33u8; 48];
    let input = scratch.write("plain", &plaintext);
    let cbc = aes_cbc_encrypt(&pool, &key, Some(&iv), Padding::None, &plaintext).unwrap();
    let theirs = openssl(&[
        "enc",
        "-e",
        "-aes-256-cbc",
        "-nopad",
        "-K",
        &hex::encode(key),
        "-iv",
        &hex::encode(iv),
        "-in",
        path_str(&input),
    ]);
    assert_eq!(cbc.ciphertext, theirs);
    let ecb = aes_ecb_encrypt(&key, Padding::Pkcs5, &plaintext).unwrap();
    let theirs = openssl(&[
        "enc",
        "-e",
        "-aes-256-ecb",
        "-K",
        &hex::encode(key),
        "-in",
        path_str(&input),
    ]);
    assert_eq!(ecb, theirs, "ECB with PKCS#5 padding adds a full block");
    assert_eq!(
        &aes_ecb_decrypt(&key, Padding::Pkcs5, &theirs).unwrap()[..],
        &plaintext[..]
    );
}

#[test]
fn ecb_matches_fips_197_appendix_c_known_answer() {
    let key = h("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    let ciphertext =
        aes_ecb_encrypt(&key, Padding::None, &h("00112233445566778899aabbccddeeff")).unwrap();
    assert_eq!(hex::encode(ciphertext), "8ea2b7ca516745bfeafc49904b496089");
}
