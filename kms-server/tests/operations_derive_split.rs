//! Derive Key (PBKDF2, HKDF, NIST SP 800-108 counter mode, HASH, HMAC, ENCRYPT) and Create / Join Split Key
//! through `dispatch`: derived values checked against RFC 6070 / RFC 5869 vectors and the RustCrypto primitives,
//! links between base and derived objects, split / join round trips, and the refusals of malformed requests.

mod operations_harness;

use kmip::attributes::{Attribute, CryptographicParameters, CryptographicUsageMask, Link};
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, DerivationMethod, HashingAlgorithm, KeyFormatType,
    LinkType, ObjectType, SecretDataType, SplitKeyMethod,
};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject, SecretData};
use kmip::payloads::*;
use kmip::{ProtocolVersion, ResultReason};
use operations_harness::*;
use zeroize::Zeroizing;

const V2_0: ProtocolVersion = ProtocolVersion::V2_0;

fn usage(mask: CryptographicUsageMask) -> Vec<Attribute> {
    vec![
        Attribute::CryptographicUsageMask(mask),
        Attribute::ActivationDate(0),
    ]
}

fn register(h: &Harness, object: ManagedObject, attributes: Vec<Attribute>) -> String {
    let request = RegisterRequest {
        object_type: object.object_type(),
        attributes: attributes.into(),
        object: ObjectField(Some(object)),
        protection_storage_masks: None,
    };
    match h.ok(&h.alice, V2_1, request) {
        ResponsePayload::Register(r) => r.unique_identifier,
        other => panic!("{other:?}"),
    }
}

fn secret_data(h: &Harness, bytes: &[u8], mask: CryptographicUsageMask) -> String {
    register(
        h,
        ManagedObject::SecretData(SecretData {
            secret_data_type: SecretDataType::Password,
            key_block: KeyBlock::new(
                KeyFormatType::Opaque,
                KeyMaterial::Bytes(Zeroizing::new(bytes.to_vec())),
                None,
                None,
            ),
        }),
        usage(mask),
    )
}

fn aes_key(h: &Harness, bytes: &[u8], mask: CryptographicUsageMask) -> String {
    register(
        h,
        ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(bytes.to_vec())),
            Some(CryptographicAlgorithm::Aes),
            Some(bytes.len() as i32 * 8),
        )),
        usage(mask),
    )
}

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

fn links(h: &Harness, uid: &str) -> Vec<Link> {
    h.attributes(&h.alice, V2_1, uid)
        .iter()
        .filter_map(|a| match a {
            Attribute::Link(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
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
    let mut mac = <hmac::Hmac<sha2::Sha512> as Mac>::new_from_slice(&key).unwrap();
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
    use aes::cipher::{BlockEncrypt, KeyInit};
    let cipher = aes::Aes256::new_from_slice(&key).unwrap();
    let mut expected = aes::Block::clone_from_slice(&block[..16]);
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

fn split(h: &Harness, request: CreateSplitKeyRequest) -> Vec<String> {
    match h.ok(&h.alice, V2_1, request) {
        ResponsePayload::CreateSplitKey(r) => r.unique_identifiers,
        other => panic!("{other:?}"),
    }
}

fn split_request(
    uid: Option<&str>,
    parts: i32,
    threshold: i32,
    method: SplitKeyMethod,
) -> CreateSplitKeyRequest {
    CreateSplitKeyRequest {
        object_type: ObjectType::SymmetricKey,
        unique_identifier: uid.map(str::to_owned),
        split_key_parts: parts,
        split_key_threshold: threshold,
        split_key_method: method,
        prime_field_size: None,
        attributes: None,
    }
}

fn join(uids: &[String]) -> JoinSplitKeyRequest {
    JoinSplitKeyRequest {
        object_type: ObjectType::SymmetricKey,
        unique_identifiers: uids.to_vec(),
        secret_data_type: None,
        attributes: None,
    }
}

fn joined(h: &Harness, uids: &[String]) -> Vec<u8> {
    let uid = match h.ok(&h.alice, V2_1, join(uids)) {
        ResponsePayload::JoinSplitKey(r) => r.unique_identifier,
        other => panic!("{other:?}"),
    };
    key_bytes(&h.ok(&h.alice, V2_1, get(&uid)))
}

#[test]
fn a_split_key_joins_from_any_threshold_of_its_parts() {
    let h = Harness::new();
    let key: Vec<u8> = (200u8..232).collect();
    let base = aes_key(&h, &key, CryptographicUsageMask::ENCRYPT);
    let parts = split(
        &h,
        split_request(Some(&base), 5, 3, SplitKeyMethod::PolynomialSharingGf2_8),
    );
    assert_eq!(parts.len(), 5);
    // Each part is a Split Key object saying which part it is, linked to the key it came from.
    for (i, uid) in parts.iter().enumerate() {
        let ResponsePayload::Get(got) = h.ok(&h.alice, V2_1, get(uid)) else {
            panic!()
        };
        let Some(ManagedObject::SplitKey(part)) = got.object.0 else {
            panic!("a Split Key")
        };
        assert_eq!(
            (
                part.key_part_identifier,
                part.split_key_parts,
                part.split_key_threshold
            ),
            (i as i32 + 1, 5, 3)
        );
        assert_ne!(key_bytes(&h.ok(&h.alice, V2_1, get(uid))), key);
        assert!(links(&h, uid)
            .iter()
            .any(|l| l.link_type == LinkType::ParentLink && l.linked_object_identifier == base));
    }
    for subset in [[0, 1, 2], [4, 2, 0], [1, 3, 4]] {
        let chosen: Vec<String> = subset.iter().map(|&i| parts[i].clone()).collect();
        assert_eq!(joined(&h, &chosen), key);
    }
    assert_eq!(joined(&h, &parts), key);
    // Too few parts, a repeated part, or a part of another split are refused.
    assert_failed(
        &h.one(&h.alice, V2_1, join(&parts[..2])),
        ResultReason::InvalidField,
    );
    let repeated = vec![parts[0].clone(), parts[0].clone(), parts[1].clone()];
    assert_failed(
        &h.one(&h.alice, V2_1, join(&repeated)),
        ResultReason::InvalidField,
    );
    let other = split(
        &h,
        split_request(Some(&base), 5, 3, SplitKeyMethod::PolynomialSharingGf2_8),
    );
    let mixed = vec![
        parts[0].clone(),
        parts[1].clone(),
        parts[2].clone(),
        other[3].clone(),
    ];
    assert_failed(
        &h.one(&h.alice, V2_1, join(&mixed)),
        ResultReason::InvalidField,
    );
    // Not a Split Key.
    assert_failed(
        &h.one(&h.alice, V2_1, join(std::slice::from_ref(&base))),
        ResultReason::InvalidObjectType,
    );
}

#[test]
fn xor_and_new_key_splits_and_their_refusals() {
    let h = Harness::new();
    // Without an identifier, a new AES key from the pool is split; XOR needs every part.
    let mut request = split_request(None, 3, 3, SplitKeyMethod::Xor);
    request.attributes = Some(
        vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
            Attribute::CryptographicLength(128),
        ]
        .into(),
    );
    let parts = split(&h, request);
    let key = joined(&h, &parts);
    assert_eq!(key.len(), 16);
    assert_failed(
        &h.one(&h.alice, V2_1, join(&parts[..2])),
        ResultReason::InvalidField,
    );
    let base = aes_key(&h, &[7u8; 16], CryptographicUsageMask::ENCRYPT);
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            split_request(Some(&base), 3, 2, SplitKeyMethod::Xor),
        ),
        ResultReason::InvalidField,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            split_request(Some(&base), 3, 4, SplitKeyMethod::PolynomialSharingGf2_8),
        ),
        ResultReason::InvalidField,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            split_request(Some(&base), 3, 2, SplitKeyMethod::PolynomialSharingGf2_16),
        ),
        ResultReason::UnsupportedCryptographicParameters,
    );
    // A Sensitive key is not split.
    let sensitive = register(
        &h,
        ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![9u8; 16])),
            Some(CryptographicAlgorithm::Aes),
            Some(128),
        )),
        vec![Attribute::Sensitive(true)],
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            split_request(
                Some(&sensitive),
                3,
                2,
                SplitKeyMethod::PolynomialSharingGf2_8,
            ),
        ),
        ResultReason::PermissionDenied,
    );
}
