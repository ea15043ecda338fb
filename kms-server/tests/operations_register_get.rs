//! Register and Get through `dispatch`: object kinds, stored formats and conversions, Sensitive / Fresh, key
//! sizes from Create, and the refusals (wrapping without a key, unknown formats, contradictory templates).

mod operations_harness;

use kmip::attributes::{Attribute, KnownAttribute};
use kmip::enums::{
    CryptographicAlgorithm, KeyFormatType, ObjectType, OpaqueDataType, SecretDataType, State,
};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject, OpaqueObject, SecretData};
use kmip::payloads::*;
use kmip::ResultReason;
use operations_harness::*;
use zeroize::Zeroizing;

fn aes_key(format: KeyFormatType, bytes: &[u8]) -> ManagedObject {
    let material = match format {
        KeyFormatType::TransparentSymmetricKey => KeyMaterial::TransparentSymmetricKey {
            key: Zeroizing::new(bytes.to_vec()),
        },
        _ => KeyMaterial::Bytes(Zeroizing::new(bytes.to_vec())),
    };
    ManagedObject::SymmetricKey(KeyBlock::new(
        format,
        material,
        Some(CryptographicAlgorithm::Aes),
        Some(bytes.len() as i32 * 8),
    ))
}

fn register(object: ManagedObject, attributes: Vec<Attribute>) -> RegisterRequest {
    RegisterRequest {
        object_type: object.object_type(),
        attributes: attributes.into(),
        object: ObjectField(Some(object)),
        protection_storage_masks: None,
    }
}

fn registered(h: &Harness, version: kmip::ProtocolVersion, request: RegisterRequest) -> String {
    match h.ok(&h.alice, version, request) {
        ResponsePayload::Register(r) => r.unique_identifier,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_registered_key_comes_back_as_registered_and_converts_between_raw_and_transparent() {
    let h = Harness::new();
    let bytes = [
        0x01u8, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
        0xef,
    ];
    let uid = registered(
        &h,
        V2_1,
        register(
            aes_key(KeyFormatType::TransparentSymmetricKey, &bytes),
            vec![Attribute::ActivationDate(949_327_200)],
        ),
    );
    let ResponsePayload::Get(got) = h.ok(&h.alice, V2_1, get(&uid)) else {
        panic!()
    };
    assert_eq!(
        got.object
            .0
            .as_ref()
            .unwrap()
            .key_block()
            .unwrap()
            .key_format_type,
        KeyFormatType::TransparentSymmetricKey
    );
    let raw = GetRequest {
        key_format_type: Some(KeyFormatType::Raw),
        ..get(&uid)
    };
    let payload = h.ok(&h.alice, V1_4, raw);
    assert_eq!(key_bytes(&payload), bytes);
    assert_eq!(
        h.state_of(&h.alice, &uid),
        State::Active,
        "an Activation Date in the past activates"
    );
    let pkcs8 = GetRequest {
        key_format_type: Some(KeyFormatType::Pkcs8),
        ..get(&uid)
    };
    assert_failed(
        &h.one(&h.alice, V2_1, pkcs8),
        ResultReason::KeyFormatTypeNotSupported,
    );
}

#[test]
fn secret_data_and_opaque_objects_register() {
    let h = Harness::new();
    let secret = ManagedObject::SecretData(SecretData {
        secret_data_type: SecretDataType::Password,
        key_block: KeyBlock::new(
            KeyFormatType::Opaque,
            KeyMaterial::Bytes(Zeroizing::new(b"hunter2".to_vec())),
            None,
            None,
        ),
    });
    let uid = registered(&h, V1_4, register(secret.clone(), vec![]));
    let ResponsePayload::Get(got) = h.ok(&h.alice, V1_4, get(&uid)) else {
        panic!()
    };
    assert_eq!(got.object.0, Some(secret));
    assert_eq!(got.object_type, ObjectType::SecretData);
    let opaque = ManagedObject::OpaqueObject(OpaqueObject {
        opaque_data_type: OpaqueDataType(0x8012_3456),
        opaque_data_value: Zeroizing::new(vec![9u8; 16]),
    });
    let uid = registered(&h, V2_1, register(opaque, vec![]));
    assert!(h
        .attributes(&h.alice, V2_1, &uid)
        .contains(KnownAttribute::Digest));
}

#[test]
fn sensitive_objects_are_not_returned_and_get_clears_fresh() {
    let h = Harness::new();
    let sensitive = registered(
        &h,
        V2_1,
        register(
            aes_key(KeyFormatType::Raw, &[1u8; 16]),
            vec![Attribute::Sensitive(true)],
        ),
    );
    assert_failed(
        &h.one(&h.alice, V2_1, get(&sensitive)),
        ResultReason::Sensitive,
    );
    assert!(h
        .attributes(&h.alice, V2_1, &sensitive)
        .iter()
        .any(|a| *a == Attribute::AlwaysSensitive(true)));
    let fresh = registered(
        &h,
        V2_1,
        register(
            aes_key(KeyFormatType::Raw, &[2u8; 16]),
            vec![Attribute::Fresh(true)],
        ),
    );
    assert!(h
        .attributes(&h.alice, V2_1, &fresh)
        .iter()
        .any(|a| *a == Attribute::Fresh(true)));
    h.ok(&h.alice, V2_1, get(&fresh));
    assert!(h
        .attributes(&h.alice, V2_1, &fresh)
        .iter()
        .any(|a| *a == Attribute::Fresh(false)));
}

#[test]
fn contradictory_or_unsupported_registrations_are_refused() {
    let h = Harness::new();
    let wrong_length = register(
        aes_key(KeyFormatType::Raw, &[1u8; 16]),
        vec![Attribute::CryptographicLength(256)],
    );
    assert_failed(
        &h.one(&h.alice, V2_1, wrong_length),
        ResultReason::InvalidField,
    );
    let mut mismatch = register(aes_key(KeyFormatType::Raw, &[1u8; 16]), vec![]);
    mismatch.object_type = ObjectType::SecretData;
    assert_failed(&h.one(&h.alice, V2_1, mismatch), ResultReason::InvalidField);
    let mut missing = register(aes_key(KeyFormatType::Raw, &[1u8; 16]), vec![]);
    missing.object = ObjectField(None);
    assert_failed(&h.one(&h.alice, V1_4, missing), ResultReason::InvalidField);
    let state = register(
        aes_key(KeyFormatType::Raw, &[1u8; 16]),
        vec![Attribute::State(State::Active)],
    );
    assert_failed(
        &h.one(&h.alice, V2_1, state),
        ResultReason::AttributeReadOnly,
    );
}

#[test]
fn create_makes_every_supported_key_with_the_right_size() {
    let h = Harness::new();
    for (algorithm, length, bytes) in [
        (CryptographicAlgorithm::Aes, Some(128), 16),
        (CryptographicAlgorithm::Aes, Some(192), 24),
        (CryptographicAlgorithm::Aes, Some(256), 32),
        (CryptographicAlgorithm::TripleDes, Some(168), 24),
        (CryptographicAlgorithm::HmacSha1, None, 20),
        (CryptographicAlgorithm::HmacSha256, None, 32),
        (CryptographicAlgorithm::HmacSha384, Some(384), 48),
        (CryptographicAlgorithm::HmacSha512, None, 64),
    ] {
        let mut attributes = vec![Attribute::CryptographicAlgorithm(algorithm)];
        attributes.extend(length.map(Attribute::CryptographicLength));
        let request = CreateRequest {
            object_type: ObjectType::SymmetricKey,
            attributes: attributes.into(),
            protection_storage_masks: None,
        };
        let ResponsePayload::Create(created) = h.ok(&h.alice, V1_4, request) else {
            panic!()
        };
        let key = key_bytes(&h.ok(&h.alice, V1_4, get(&created.unique_identifier)));
        assert_eq!(key.len(), bytes, "{algorithm:?}");
        if algorithm == CryptographicAlgorithm::TripleDes {
            assert!(key.iter().all(|b| b.count_ones() % 2 == 1), "3DES parity");
        }
    }
    let secret = CreateRequest {
        object_type: ObjectType::SecretData,
        attributes: vec![].into(),
        protection_storage_masks: None,
    };
    assert_failed(
        &h.one(&h.alice, V2_1, secret),
        ResultReason::InvalidObjectType,
    );
    // The eight keys above, then one more; the refused Secret Data made none.
    assert_eq!(h.state.usage.tenant(&h.alice.tenant).keys_created, 8);
    h.create_aes(&h.alice, V2_1, "counted");
    assert_eq!(h.state.usage.tenant(&h.alice.tenant).keys_created, 9);
    assert_eq!(h.state.usage.tenant(&h.bob.tenant).keys_created, 0);
}

#[test]
fn wrapping_on_get_without_a_wrapping_key_is_missing_data() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    let request = GetRequest {
        key_wrapping_specification: Some(KeyWrappingSpecification {
            wrapping_method: kmip::enums::WrappingMethod::Encrypt,
            encryption_key_information: None,
            mac_signature_key_information: None,
            attribute_names: vec![],
            encoding_option: None,
        }),
        ..get(&uid)
    };
    let item = h.one(&h.alice, V2_1, request);
    assert_failed(&item, ResultReason::MissingData);
    assert!(item.result_message.unwrap().contains("wrapping key"));
}
