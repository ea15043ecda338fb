//! Typed request builders and response readers for the end-to-end tests.

use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask, CustomAttribute, Name};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType, SecretDataType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject, SecretData};
use kmip::payloads::*;
use kmip::{ResponseBatchItem, ResultReason, ResultStatus};
use zeroize::Zeroizing;

/// A vendor (custom) attribute under vendor "x": `x-NAME` in 1.x, a Vendor Attribute in 2.x.
pub fn vendor(name: &str, value: &str) -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: "x".into(),
        attribute_name: name.into(),
        value: ttlv::Value::TextString(value.into()),
    })
}

/// Create an AES key of `bits` named `name`, usable for encrypt/decrypt, with `extra` attributes.
pub fn create_aes(bits: i32, name: &str, extra: Vec<Attribute>) -> CreateRequest {
    let mut attributes = vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
        Attribute::CryptographicLength(bits),
        Attribute::CryptographicUsageMask(CryptographicUsageMask(
            CryptographicUsageMask::ENCRYPT.bits() | CryptographicUsageMask::DECRYPT.bits(),
        )),
        Attribute::Name(Name::text(name)),
    ];
    attributes.extend(extra);
    CreateRequest {
        object_type: ObjectType::SymmetricKey,
        attributes: attributes.into(),
        protection_storage_masks: None,
    }
}

/// Register the raw AES key `bytes` named `name`, with `extra` attributes.
pub fn register_aes(bytes: &[u8], name: &str, extra: Vec<Attribute>) -> RegisterRequest {
    let object = ManagedObject::SymmetricKey(KeyBlock::new(
        KeyFormatType::Raw,
        KeyMaterial::Bytes(Zeroizing::new(bytes.to_vec())),
        Some(CryptographicAlgorithm::Aes),
        Some(i32::try_from(bytes.len() * 8).expect("test keys are small")),
    ));
    register(object, name, extra)
}

/// Register `bytes` as Secret Data (a password) named `name`.
pub fn register_secret(bytes: &[u8], name: &str, extra: Vec<Attribute>) -> RegisterRequest {
    let object = ManagedObject::SecretData(SecretData {
        secret_data_type: SecretDataType::Password,
        key_block: KeyBlock::new(
            KeyFormatType::Opaque,
            KeyMaterial::Bytes(Zeroizing::new(bytes.to_vec())),
            None,
            None,
        ),
    });
    register(object, name, extra)
}

fn register(object: ManagedObject, name: &str, extra: Vec<Attribute>) -> RegisterRequest {
    let mut attributes = vec![
        Attribute::Name(Name::text(name)),
        Attribute::CryptographicUsageMask(CryptographicUsageMask(
            CryptographicUsageMask::ENCRYPT.bits() | CryptographicUsageMask::DECRYPT.bits(),
        )),
    ];
    attributes.extend(extra);
    RegisterRequest {
        object_type: object.object_type(),
        attributes: attributes.into(),
        object: ObjectField(Some(object)),
        protection_storage_masks: None,
    }
}

pub fn get(uid: &str) -> GetRequest {
    GetRequest {
        unique_identifier: Some(uid.into()),
        ..GetRequest::default()
    }
}

pub fn get_attributes(uid: &str) -> GetAttributesRequest {
    GetAttributesRequest {
        unique_identifier: Some(uid.into()),
        attribute_names: AttributeNames(Vec::new()),
    }
}

/// Locate by every attribute of `attributes` (no limits).
pub fn locate(attributes: Vec<Attribute>) -> LocateRequest {
    LocateRequest {
        attributes: PayloadAttributes(attributes.into()),
        ..LocateRequest::default()
    }
}

/// Locate by Name.
pub fn locate_name(name: &str) -> LocateRequest {
    locate(vec![Attribute::Name(Name::text(name))])
}

/// The key material in a Get response (Raw, Opaque or Transparent Symmetric Key).
pub fn material(response: &GetResponse) -> Vec<u8> {
    let block = response
        .object
        .0
        .as_ref()
        .expect("a Get response carries the object")
        .key_block()
        .expect("the object has a key block");
    match &block
        .key_value
        .as_ref()
        .expect("the key block has a value")
        .material
    {
        KeyMaterial::Bytes(bytes) => bytes.to_vec(),
        KeyMaterial::TransparentSymmetricKey { key } => key.to_vec(),
        other => panic!("unexpected key material {other:?}"),
    }
}

/// The attributes of a Get Attributes response.
pub fn attributes_of(response: GetAttributesResponse) -> Attributes {
    response.attributes.0
}

/// Asserts `item` failed with `reason` and a message a human can read.
pub fn assert_failed(item: &ResponseBatchItem, reason: ResultReason) {
    assert_eq!(
        item.result_status,
        ResultStatus::OperationFailed,
        "{item:?}"
    );
    assert_eq!(
        item.result_reason,
        Some(reason),
        "{:?}",
        item.result_message
    );
    assert!(
        item.result_message.as_deref().is_some_and(|m| m.len() > 5),
        "a failure carries a message: {item:?}"
    );
}

/// The Unique Identifiers of every object of the client's tenant (a Locate with no filter).
pub async fn all_objects(client: &mut kmip::client::Client) -> std::collections::BTreeSet<String> {
    client
        .locate(locate(vec![]))
        .await
        .expect("Locate works")
        .unique_identifiers
        .into_iter()
        .collect()
}
