//! Derive Key (PBKDF2, HKDF, NIST SP 800-108 counter mode, HASH, HMAC, ENCRYPT) through `dispatch`: derived
//! values checked against RFC 6070 / RFC 5869 vectors, Python `cryptography` and the RustCrypto primitives,
//! links between base and derived objects, and the typed refusals of malformed requests.

mod key_objects_support;
mod operations_harness;

use key_objects_support::*;
use kmip::attributes::{Attribute, CryptographicParameters, CryptographicUsageMask, Link};
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, DerivationMethod, HashingAlgorithm, LinkType,
    ObjectType,
};
use kmip::payloads::*;
use kmip::{ProtocolVersion, ResultReason};
use operations_harness::*;

const V2_0: ProtocolVersion = ProtocolVersion::V2_0;

fn derive(
    base: &str,
    object_type: ObjectType,
    method: DerivationMethod,
    parameters: DerivationParameters,
    bits: i32,
) -> DeriveKeyRequest {
    let mut attributes = vec![Attribute::CryptographicLength(bits)];
    if object_type == ObjectType::SymmetricKey {
        attributes.push(Attribute::CryptographicAlgorithm(
            CryptographicAlgorithm::Aes,
        ));
    }
    DeriveKeyRequest {
        object_type,
        unique_identifiers: vec![base.into()],
        derivation_method: method,
        derivation_parameters: parameters,
        attributes: Some(attributes.into()),
    }
}

fn hashing(algorithm: HashingAlgorithm) -> Option<CryptographicParameters> {
    Some(CryptographicParameters {
        hashing_algorithm: Some(algorithm),
        ..CryptographicParameters::default()
    })
}

fn derived(h: &Harness, version: ProtocolVersion, request: DeriveKeyRequest) -> (String, Vec<u8>) {
    let uid = match h.ok(&h.alice, version, request) {
        ResponsePayload::DeriveKey(r) => r.unique_identifier,
        other => panic!("{other:?}"),
    };
    let bytes = key_bytes(&h.ok(&h.alice, version, get(&uid)));
    (uid, bytes)
}

#[test]
fn pbkdf2_from_a_password_matches_rfc_6070_and_links_both_ways() {
    let h = Harness::new();
    let password = secret_data(&h, b"password", CryptographicUsageMask::DERIVE_KEY);
    for version in [ProtocolVersion::V1_2, V2_0] {
        let parameters = DerivationParameters {
            cryptographic_parameters: hashing(HashingAlgorithm::Sha1),
            salt: Some(b"salt".to_vec()),
            iteration_count: Some(4096),
            ..DerivationParameters::default()
        };
        let (uid, bytes) = derived(
            &h,
            version,
            derive(
                &password,
                ObjectType::SecretData,
                DerivationMethod::Pbkdf2,
                parameters,
                160,
            ),
        );
        assert_eq!(
            hex::encode(bytes),
            "4b007901b765489abead49d926f721d065a429c1"
        );
        assert!(links(&h, &uid).contains(&Link {
            link_type: LinkType::DerivationBaseObjectLink,
            linked_object_identifier: password.clone(),
        }));
        assert!(links(&h, &password).contains(&Link {
            link_type: LinkType::DerivedKeyLink,
            linked_object_identifier: uid,
        }));
    }
    // An AES-256 key by PBKDF2-HMAC-SHA-256 (value from Python `cryptography`'s PBKDF2HMAC).
    let parameters = DerivationParameters {
        cryptographic_parameters: hashing(HashingAlgorithm::Sha256),
        salt: Some(b"salt".to_vec()),
        iteration_count: Some(4096),
        ..DerivationParameters::default()
    };
    let (_, bytes) = derived(
        &h,
        V2_1,
        derive(
            &password,
            ObjectType::SymmetricKey,
            DerivationMethod::Pbkdf2,
            parameters,
            256,
        ),
    );
    assert_eq!(
        hex::encode(bytes),
        "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
    );
}

#[test]
fn hkdf_matches_rfc_5869_and_sp_800_108_hash_hmac_encrypt_match_the_primitives() {
    use hmac::Mac;
    use sha2::Digest;
    let h = Harness::new();
    let ikm = secret_data(&h, &[0x0b; 22], CryptographicUsageMask::DERIVE_KEY);
    let parameters = DerivationParameters {
        cryptographic_parameters: hashing(HashingAlgorithm::Sha256),
        salt: Some(hex::decode("000102030405060708090a0b0c").unwrap()),
        derivation_data: Some(SecretBytes::new(
            hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap(),
        )),
        ..DerivationParameters::default()
    };
    let (_, okm) = derived(
        &h,
        V2_1,
        derive(
            &ikm,
            ObjectType::SecretData,
            DerivationMethod::Hkdf,
            parameters,
            42 * 8,
        ),
    );
    assert_eq!(
        hex::encode(okm),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    );

    let key: Vec<u8> = (0u8..32).collect();
    let base = aes_key(&h, &key, CryptographicUsageMask::DERIVE_KEY);
    let data = b"qkms label\x00context bytes".to_vec();
    let with = |algorithm, data: &[u8]| DerivationParameters {
        cryptographic_parameters: hashing(algorithm),
        derivation_data: Some(SecretBytes::new(data.to_vec())),
        ..DerivationParameters::default()
    };
    // SP 800-108 counter mode (value from Python `cryptography`'s KBKDFHMAC with fixed input data).
    let (_, kbkdf) = derived(
        &h,
        V2_1,
        derive(
            &base,
            ObjectType::SecretData,
            DerivationMethod::Nist800_108C,
            with(HashingAlgorithm::Sha256, &data),
            384,
        ),
    );
    assert_eq!(hex::encode(kbkdf), "1782b1f9c63ab7c81824f532fd276b80f5436938d9f2120301fa783d26442d9dbcfd4a751dfa4f717b003d74b9a5b3c1");
    // HASH: SHA-256(key || data).
    let (_, hashed) = derived(
        &h,
        ProtocolVersion::V1_4,
        derive(
            &base,
            ObjectType::SymmetricKey,
            DerivationMethod::Hash,
            with(HashingAlgorithm::Sha256, &data),
            128,
        ),
    );
    let mut sha = sha2::Sha256::new();
    sha.update(&key);
    sha.update(&data);
    assert_eq!(hashed, sha.finalize()[..16]);
    // HMAC: HMAC-SHA-512(key, data), truncated.
    let (_, maced) = derived(
        &h,
        V2_1,
        derive(
            &base,
            ObjectType::SymmetricKey,
            DerivationMethod::Hmac,
            with(HashingAlgorithm::Sha512, &data),
            256,
        ),
    );
    let mut mac = <hmac::Hmac<sha2::Sha512> as hmac::KeyInit>::new_from_slice(&key).unwrap();
    mac.update(&data);
    assert_eq!(maced, mac.finalize().into_bytes()[..32]);
    // ENCRYPT: AES-256-ECB of 32 bytes of data under the base key.
    let block = vec![0x42u8; 32];
    let encrypt = DerivationParameters {
        cryptographic_parameters: Some(CryptographicParameters {
            block_cipher_mode: Some(BlockCipherMode::Ecb),
            ..CryptographicParameters::default()
        }),
        derivation_data: Some(SecretBytes::new(block.clone())),
        ..DerivationParameters::default()
    };
    let (_, encrypted) = derived(
        &h,
        V2_1,
        derive(
            &base,
            ObjectType::SymmetricKey,
            DerivationMethod::Encrypt,
            encrypt,
            256,
        ),
    );
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    let cipher = aes::Aes256::new_from_slice(&key).unwrap();
    let mut expected = aes::Block::try_from(&block[..16]).unwrap();
    cipher.encrypt_block(&mut expected);
    assert_eq!(encrypted[..16], expected[..]);
}

#[test]
fn derive_key_refusals_are_typed() {
    let h = Harness::new();
    let no_derive = secret_data(&h, b"password", CryptographicUsageMask::ENCRYPT);
    let password = secret_data(&h, b"password", CryptographicUsageMask::DERIVE_KEY);
    let pbkdf2 = |salt: Option<&[u8]>, iterations| DerivationParameters {
        salt: salt.map(<[u8]>::to_vec),
        iteration_count: iterations,
        ..DerivationParameters::default()
    };
    let request = |base: &str, p, method| derive(base, ObjectType::SymmetricKey, method, p, 256);
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            request(
                &no_derive,
                pbkdf2(Some(b"s"), Some(1)),
                DerivationMethod::Pbkdf2,
            ),
        ),
        ResultReason::IncompatibleCryptographicUsageMask,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            request(&password, pbkdf2(None, Some(1)), DerivationMethod::Pbkdf2),
        ),
        ResultReason::InvalidField,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            request(
                &password,
                pbkdf2(Some(b"s"), Some(-1)),
                DerivationMethod::Pbkdf2,
            ),
        ),
        ResultReason::InvalidField,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            request(
                &password,
                pbkdf2(Some(b"s"), Some(1)),
                DerivationMethod::AsymmetricKey,
            ),
        ),
        ResultReason::UnsupportedCryptographicParameters,
    );
    // HASH needs a hash; an AES key of 200 bits does not exist; Bob cannot derive from Alice's secret.
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            request(&password, pbkdf2(None, None), DerivationMethod::Hash),
        ),
        ResultReason::InvalidField,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            derive(
                &password,
                ObjectType::SymmetricKey,
                DerivationMethod::Pbkdf2,
                pbkdf2(Some(b"s"), Some(1)),
                200,
            ),
        ),
        ResultReason::UnsupportedCryptographicParameters,
    );
    assert_failed(
        &h.one(
            &h.bob,
            V2_1,
            request(
                &password,
                pbkdf2(Some(b"s"), Some(1)),
                DerivationMethod::Pbkdf2,
            ),
        ),
        ResultReason::ObjectNotFound,
    );
}
