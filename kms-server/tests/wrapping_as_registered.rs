//! Key wrapping as real clients meet it (issue #14): Get with Encoding Option No Encoding answers a Key Value
//! structure whose Key Material is the wrapped bytes (what PyKMIP's client reads), and a key registered wrapped
//! under a key the server does not hold is stored and returned as registered, never used for cryptography.

mod operations_harness;
mod wrapping_support;

use kmip::attributes::{CryptographicParameters, CryptographicUsageMask};
use kmip::enums::{BlockCipherMode, EncodingOption, WrappingMethod};
use kmip::objects::{KeyMaterial, KeyWrappingData, WrappingKeyInformation};
use kmip::payloads::*;
use kmip::ResultReason;
use operations_harness::*;
use wrapping_support::*;

#[test]
fn no_encoding_answers_a_key_value_structure_holding_the_wrapped_key_material() {
    // KMIP 1.4 §2.1.5 / 2.1: with No Encoding the Key Value stays a structure (no attributes) whose Key
    // Material is the wrapped bytes; PyKMIP's client reads exactly that.
    let h = Harness::new();
    let kek = [0x21u8; 16];
    let kek_uid = register_kek(&h, &kek);
    let secret = [0x5eu8; 16];
    let uid = register_key(&h, &secret, CryptographicUsageMask::ENCRYPT, None).unwrap();
    for version in [
        kmip::ProtocolVersion::V1_2,
        V1_4,
        kmip::ProtocolVersion::V2_0,
        V2_1,
    ] {
        let request = GetRequest {
            key_wrapping_specification: Some(spec(&kek_uid, BlockCipherMode::NistKeyWrap)),
            ..get(&uid)
        };
        let payload = h.ok(&h.alice, version, request);
        let encoded = payload.to_ttlv(version).unwrap();
        let key_value = encoded
            .children_with(ttlv::tags::SYMMETRIC_KEY)
            .flat_map(|k| k.children_with(ttlv::tags::KEY_BLOCK))
            .flat_map(|b| b.children_with(ttlv::tags::KEY_VALUE))
            .next()
            .expect("a Key Value");
        let material: Vec<_> = key_value.children_with(ttlv::tags::KEY_MATERIAL).collect();
        assert_eq!(
            key_value.children().len(),
            1,
            "{version}: Key Material only"
        );
        let ttlv::Value::ByteString(wrapped) = &material[0].value else {
            panic!("{version}: {material:?}")
        };
        assert_eq!(python_unwrap("aes_key_unwrap", &kek, wrapped), secret);
    }
}

#[test]
fn a_key_wrapped_under_a_key_the_server_does_not_hold_is_stored_and_returned_as_registered() {
    let h = Harness::new();
    let wrapped: Vec<u8> = (1u8..=40).collect();
    let data = KeyWrappingData {
        wrapping_method: WrappingMethod::Encrypt,
        encryption_key_information: Some(WrappingKeyInformation {
            unique_identifier: "kek-held-by-another-key-manager".into(),
            cryptographic_parameters: Some(CryptographicParameters {
                block_cipher_mode: Some(BlockCipherMode::NistKeyWrap),
                ..Default::default()
            }),
        }),
        mac_signature_key_information: None,
        mac_signature: None,
        iv_counter_nonce: None,
        encoding_option: Some(EncodingOption::NoEncoding),
    };
    let uid = register_key(
        &h,
        &wrapped,
        CryptographicUsageMask::ENCRYPT,
        Some(data.clone()),
    )
    .unwrap();
    let ResponsePayload::Get(got) = h.ok(&h.alice, V2_1, get(&uid)) else {
        panic!("a Get response")
    };
    let block = got.object.0.unwrap().key_block().cloned().unwrap();
    assert_eq!(block.key_wrapping_data, Some(data.clone()));
    assert!(matches!(
        block.key_value.unwrap().material,
        KeyMaterial::Wrapped(bytes) if bytes.as_slice() == wrapped.as_slice()
    ));
    // It cannot serve cryptography here, be re-wrapped, or be handed out unwrapped.
    let encrypt = EncryptRequest {
        unique_identifier: Some(uid.clone()),
        data: Some(SecretBytes::new(vec![0; 16])),
        ..EncryptRequest::default()
    };
    let item = h.one(&h.alice, V2_1, encrypt);
    assert!(item.payload.is_none(), "{item:?}");
    let not_wrapped = GetRequest {
        key_wrap_type: Some(EnumValue(1)),
        ..get(&uid)
    };
    assert_failed(
        &h.one(&h.alice, V2_1, not_wrapped),
        ResultReason::KeyWrapTypeNotSupported,
    );
    // A key wrapped under a key the server holds but with no Key Wrapping Data key named is refused clearly.
    let mut nameless = data;
    nameless.encryption_key_information = None;
    assert_eq!(
        register_key(
            &h,
            &wrapped,
            CryptographicUsageMask::ENCRYPT,
            Some(nameless)
        ),
        Err(ResultReason::MissingData)
    );
}
