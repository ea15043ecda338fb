//! Encrypt / Decrypt / MAC / MAC Verify / Hash through `dispatch`: pool-drawn IVs, streams with Correlation
//! Values, the OASIS Result Reasons (missing IV, bad tag, tag length), usage limits and lifecycle rules.

mod operations_harness;

use kmip::attributes::{Attribute, CryptographicParameters, CryptographicUsageMask, UsageLimits};
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, HashingAlgorithm, KeyFormatType, ObjectType,
    PaddingMethod, RevocationReasonCode, UsageLimitsUnit,
};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::*;
use kmip::{ProtocolVersion, ResultReason};
use operations_harness::*;
use zeroize::Zeroizing;

fn register_aes(
    h: &Harness,
    version: ProtocolVersion,
    key: &[u8],
    extra: Vec<Attribute>,
) -> String {
    let mut attributes = vec![
        Attribute::CryptographicUsageMask(CryptographicUsageMask(
            CryptographicUsageMask::ENCRYPT.bits()
                | CryptographicUsageMask::DECRYPT.bits()
                | CryptographicUsageMask::MAC_GENERATE.bits()
                | CryptographicUsageMask::MAC_VERIFY.bits(),
        )),
        Attribute::ActivationDate(0),
    ];
    attributes.extend(extra);
    let request = RegisterRequest {
        object_type: ObjectType::SymmetricKey,
        attributes: attributes.into(),
        object: ObjectField(Some(ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(key.to_vec())),
            Some(CryptographicAlgorithm::Aes),
            Some(key.len() as i32 * 8),
        )))),
        protection_storage_masks: None,
    };
    match h.ok(&h.alice, version, request) {
        ResponsePayload::Register(r) => r.unique_identifier,
        other => panic!("{other:?}"),
    }
}

fn params(mode: BlockCipherMode) -> CryptographicParameters {
    CryptographicParameters {
        block_cipher_mode: Some(mode),
        ..Default::default()
    }
}

fn encrypt(uid: &str, p: CryptographicParameters, data: &[u8]) -> EncryptRequest {
    EncryptRequest {
        unique_identifier: Some(uid.into()),
        cryptographic_parameters: Some(p),
        data: Some(data.to_vec().into()),
        ..Default::default()
    }
}

fn encrypted(payload: ResponsePayload) -> EncryptResponse {
    match payload {
        ResponsePayload::Encrypt(r) => r,
        other => panic!("{other:?}"),
    }
}

fn decrypted(payload: ResponsePayload) -> Vec<u8> {
    match payload {
        ResponsePayload::Decrypt(r) => r.data.unwrap().expose().to_vec(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn gcm_without_an_iv_draws_one_returns_it_and_decrypts() {
    for version in [V1_4, V2_1] {
        let h = Harness::new();
        let uid = register_aes(&h, version, &[7u8; 32], vec![]);
        let first = encrypted(h.ok(
            &h.alice,
            version,
            encrypt(&uid, params(BlockCipherMode::Gcm), b"attack at dawn"),
        ));
        let second = encrypted(h.ok(
            &h.alice,
            version,
            encrypt(&uid, params(BlockCipherMode::Gcm), b"attack at dawn"),
        ));
        let iv = first
            .iv_counter_nonce
            .clone()
            .expect("the drawn IV is returned");
        assert_eq!(iv.len(), 12);
        assert_ne!(
            Some(iv.clone()),
            second.iv_counter_nonce,
            "each IV is fresh"
        );
        let request = DecryptRequest {
            unique_identifier: Some(uid.clone()),
            cryptographic_parameters: Some(params(BlockCipherMode::Gcm)),
            data: first.data.clone(),
            iv_counter_nonce: Some(iv.clone()),
            authenticated_encryption_tag: first.authenticated_encryption_tag.clone(),
            ..Default::default()
        };
        assert_eq!(
            decrypted(h.ok(&h.alice, version, request.clone())),
            b"attack at dawn"
        );
        let mut bad_tag = first.authenticated_encryption_tag.unwrap();
        bad_tag[0] ^= 1;
        let tampered = DecryptRequest {
            authenticated_encryption_tag: Some(bad_tag),
            ..request
        };
        assert_failed(
            &h.one(&h.alice, version, tampered),
            ResultReason::CryptographicFailure,
        );
    }
}

#[test]
fn gcm_streams_match_the_one_shot_result_of_the_mcgrew_viega_vector() {
    let h = Harness::new();
    let uid = register_aes(
        &h,
        V2_1,
        &hex::decode("feffe9928665731c6d6a8f9467308308").unwrap(),
        vec![],
    );
    let iv = hex::decode("cafebabefacedbad").unwrap();
    let aad = hex::decode("feedfacedeadbeeffeedfacedeadbeefabaddad2").unwrap();
    let part1 =
        hex::decode("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72").unwrap();
    let part2 = hex::decode("1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39").unwrap();
    let first = EncryptRequest {
        iv_counter_nonce: Some(iv),
        init_indicator: Some(true),
        authenticated_encryption_additional_data: Some(aad),
        ..encrypt(&uid, params(BlockCipherMode::Gcm), &part1)
    };
    let r1 = encrypted(h.ok(&h.alice, V2_1, first));
    assert_eq!(
        hex::encode(r1.data.unwrap()),
        "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
    );
    let correlation = r1
        .correlation_value
        .expect("a stream has a Correlation Value");
    let last = EncryptRequest {
        correlation_value: Some(correlation.clone()),
        final_indicator: Some(true),
        ..encrypt(&uid, params(BlockCipherMode::Gcm), &part2)
    };
    let r2 = encrypted(h.ok(&h.alice, V2_1, last.clone()));
    assert_eq!(
        hex::encode(r2.data.unwrap()),
        "73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598"
    );
    assert_eq!(
        hex::encode(r2.authenticated_encryption_tag.unwrap()),
        "3612d2e79e3b0785561be14aaca2fccb"
    );
    // The stream is closed, and another tenant could never have used it.
    assert_failed(
        &h.one(&h.alice, V2_1, last),
        ResultReason::InvalidCorrelationValue,
    );
}

#[test]
fn the_oasis_result_reasons_for_iv_and_tag_problems() {
    for version in [V1_4, V2_1] {
        let h = Harness::new();
        let uid = register_aes(&h, version, &[1u8; 16], vec![]);
        let cbc = CryptographicParameters {
            padding_method: Some(PaddingMethod::Pkcs5),
            ..params(BlockCipherMode::Cbc)
        };
        let sealed = encrypted(h.ok(
            &h.alice,
            version,
            encrypt(&uid, cbc.clone(), b"0123456789abcdef0"),
        ));
        assert_eq!(sealed.data.as_ref().unwrap().len(), 32);
        let no_iv = DecryptRequest {
            unique_identifier: Some(uid.clone()),
            cryptographic_parameters: Some(cbc.clone()),
            data: sealed.data.clone(),
            ..Default::default()
        };
        assert_failed(
            &h.one(&h.alice, version, no_iv.clone()),
            ResultReason::InvalidMessage,
        );
        let with_iv = DecryptRequest {
            iv_counter_nonce: sealed.iv_counter_nonce,
            ..no_iv
        };
        assert_eq!(
            decrypted(h.ok(&h.alice, version, with_iv)),
            b"0123456789abcdef0"
        );
        let long_tag = CryptographicParameters {
            tag_length: Some(32),
            ..params(BlockCipherMode::Gcm)
        };
        assert_failed(
            &h.one(&h.alice, version, encrypt(&uid, long_tag, b"x")),
            ResultReason::GeneralFailure,
        );
        let no_mode = encrypt(&uid, CryptographicParameters::default(), b"x");
        assert_failed(
            &h.one(&h.alice, version, no_mode),
            ResultReason::InvalidField,
        );
    }
}

#[test]
fn usage_limits_count_down_and_then_refuse() {
    let h = Harness::new();
    let limits = Attribute::UsageLimits(UsageLimits {
        total: 16,
        count: None,
        unit: UsageLimitsUnit::Byte,
    });
    let uid = register_aes(&h, V2_1, &[2u8; 16], vec![limits]);
    h.ok(
        &h.alice,
        V2_1,
        encrypt(&uid, params(BlockCipherMode::Ecb), &[0u8; 16]),
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            encrypt(&uid, params(BlockCipherMode::Ecb), &[0u8; 16]),
        ),
        ResultReason::PermissionDenied,
    );
}

#[test]
fn a_deactivated_key_decrypts_but_does_not_encrypt_and_a_compromised_one_likewise() {
    for code in [
        RevocationReasonCode::CessationOfOperation,
        RevocationReasonCode::KeyCompromise,
    ] {
        let h = Harness::new();
        let uid = register_aes(&h, V2_1, &[3u8; 16], vec![]);
        let sealed = encrypted(h.ok(
            &h.alice,
            V2_1,
            encrypt(&uid, params(BlockCipherMode::Ecb), &[9u8; 16]),
        ));
        h.ok(&h.alice, V2_1, revoke(&uid, code, Some(1)));
        assert_failed(
            &h.one(
                &h.alice,
                V2_1,
                encrypt(&uid, params(BlockCipherMode::Ecb), &[9u8; 16]),
            ),
            ResultReason::WrongKeyLifecycleState,
        );
        let request = DecryptRequest {
            unique_identifier: Some(uid.clone()),
            cryptographic_parameters: Some(params(BlockCipherMode::Ecb)),
            data: sealed.data,
            ..Default::default()
        };
        assert_eq!(decrypted(h.ok(&h.alice, V2_1, request)), [9u8; 16]);
    }
}

#[test]
fn mac_and_hash_match_the_oasis_values() {
    for version in [V1_4, V2_1] {
        let h = Harness::new();
        let hmac = Attribute::CryptographicParameters(CryptographicParameters {
            cryptographic_algorithm: Some(CryptographicAlgorithm::HmacSha256),
            ..Default::default()
        });
        let uid = register_aes(
            &h,
            version,
            &hex::decode("0123456789abcdef0123456789abcdef").unwrap(),
            vec![hmac],
        );
        let data = hex::decode("01020304050607080910111213141516").unwrap();
        let request = MacRequest {
            unique_identifier: Some(uid.clone()),
            data: Some(data.clone()),
            ..Default::default()
        };
        let ResponsePayload::Mac(r) = h.ok(&h.alice, version, request) else {
            panic!()
        };
        let tag = r.mac_data.unwrap();
        assert_eq!(
            hex::encode(&tag),
            "c911e78196d64c30f631bb079ea37b97a95936d4da764d6a171df030c895ecf9"
        );
        let check = |tag: Vec<u8>| MacVerifyRequest {
            unique_identifier: Some(uid.clone()),
            data: Some(data.clone()),
            mac_data: Some(tag),
            ..Default::default()
        };
        let ResponsePayload::MacVerify(ok) = h.ok(&h.alice, version, check(tag.clone())) else {
            panic!()
        };
        assert_eq!(ok.validity_indicator.unwrap().0, validity::VALID);
        let mut wrong = tag;
        wrong[31] ^= 1;
        let ResponsePayload::MacVerify(bad) = h.ok(&h.alice, version, check(wrong)) else {
            panic!()
        };
        assert_eq!(bad.validity_indicator.unwrap().0, validity::INVALID);
        let hash = HashRequest {
            cryptographic_parameters: CryptographicParameters {
                hashing_algorithm: Some(HashingAlgorithm::Sha256),
                ..Default::default()
            },
            data: Some(data.clone()),
            ..Default::default()
        };
        let ResponsePayload::Hash(digest) = h.ok(&h.alice, version, hash) else {
            panic!()
        };
        assert_eq!(
            hex::encode(digest.data.unwrap()),
            "ad41233d22cf9322e3a7ff49a13da434797abed3bab80950a1a0d4e582b7ea72"
        );
    }
}

#[test]
fn a_quantum_safe_request_for_aes_128_is_refused() {
    let h = Harness::new();
    let mut request = create_aes(128, "qs");
    request.attributes.push(Attribute::QuantumSafe(true));
    assert_failed(
        &h.one(&h.alice, V2_1, request),
        ResultReason::GeneralFailure,
    );
    let mut ok = create_aes(256, "qs-256");
    ok.attributes.push(Attribute::QuantumSafe(true));
    h.ok(&h.alice, V2_1, ok);
}
