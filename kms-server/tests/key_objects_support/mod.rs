// Shared by the Derive Key and split key test binaries, each using a part.
#![allow(dead_code)]

//! Registering the keys and secrets Derive Key and the split key operations start from, and reading links.

use kmip::attributes::{Attribute, CryptographicUsageMask, Link};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, SecretDataType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject, SecretData};
use kmip::payloads::*;
use zeroize::Zeroizing;

use crate::operations_harness::{Harness, V2_1};

pub fn usage(mask: CryptographicUsageMask) -> Vec<Attribute> {
    vec![
        Attribute::CryptographicUsageMask(mask),
        Attribute::ActivationDate(0),
    ]
}

pub fn register(h: &Harness, object: ManagedObject, attributes: Vec<Attribute>) -> String {
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

pub fn secret_data(h: &Harness, bytes: &[u8], mask: CryptographicUsageMask) -> String {
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

pub fn aes_key(h: &Harness, bytes: &[u8], mask: CryptographicUsageMask) -> String {
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

pub fn links(h: &Harness, uid: &str) -> Vec<Link> {
    h.attributes(&h.alice, V2_1, uid)
        .iter()
        .filter_map(|a| match a {
            Attribute::Link(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
}
