// Shared by the key wrapping test binaries, each using a part.
#![allow(dead_code)]

//! Registering keys and KEKs, Key Wrapping Specifications, reading wrapped answers, and unwrapping with Python
//! `cryptography` (an independent implementation).

use std::process::Command;

use kmip::attributes::{Attribute, CryptographicParameters, CryptographicUsageMask};
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, EncodingOption, KeyFormatType, ObjectType,
    WrappingMethod,
};
use kmip::objects::{
    KeyBlock, KeyMaterial, KeyWrappingData, KeyWrappingSpecification, ManagedObject,
    WrappingKeyInformation,
};
use kmip::payloads::*;
use kmip::ResultReason;
use zeroize::Zeroizing;

use crate::operations_harness::{Harness, V2_1};

pub fn register_key(
    h: &Harness,
    key: &[u8],
    usage: CryptographicUsageMask,
    wrapped: Option<KeyWrappingData>,
) -> ResponseBatchItemResult {
    let mut block = KeyBlock::new(
        KeyFormatType::Raw,
        KeyMaterial::Bytes(Zeroizing::new(key.to_vec())),
        Some(CryptographicAlgorithm::Aes),
        if wrapped.is_some() {
            None
        } else {
            Some(key.len() as i32 * 8)
        },
    );
    if let Some(data) = wrapped {
        block.key_value.as_mut().unwrap().material =
            KeyMaterial::Wrapped(Zeroizing::new(key.to_vec()));
        block.key_wrapping_data = Some(data);
    }
    let request = RegisterRequest {
        object_type: ObjectType::SymmetricKey,
        attributes: vec![
            Attribute::CryptographicUsageMask(usage),
            Attribute::ActivationDate(0),
        ]
        .into(),
        object: ObjectField(Some(ManagedObject::SymmetricKey(block))),
        protection_storage_masks: None,
    };
    let item = h.one(&h.alice, V2_1, request);
    match item.payload {
        Some(ResponsePayload::Register(r)) => Ok(r.unique_identifier),
        _ => Err(item.result_reason.unwrap()),
    }
}

pub type ResponseBatchItemResult = Result<String, ResultReason>;

/// An AES key that may wrap and unwrap (a KEK), registered for alice.
pub fn register_kek(h: &Harness, kek: &[u8]) -> String {
    let usage = CryptographicUsageMask(
        CryptographicUsageMask::WRAP_KEY.bits() | CryptographicUsageMask::UNWRAP_KEY.bits(),
    );
    register_key(h, kek, usage, None).unwrap()
}

pub fn spec(kek: &str, mode: BlockCipherMode) -> KeyWrappingSpecification {
    KeyWrappingSpecification {
        wrapping_method: WrappingMethod::Encrypt,
        encryption_key_information: Some(WrappingKeyInformation {
            unique_identifier: kek.into(),
            cryptographic_parameters: Some(CryptographicParameters {
                block_cipher_mode: Some(mode),
                ..Default::default()
            }),
        }),
        mac_signature_key_information: None,
        attribute_names: Vec::new(),
        encoding_option: Some(EncodingOption::NoEncoding),
    }
}

/// The Key Wrapping Data and the wrapped bytes of a Get answer's key block.
pub fn wrapped_block(payload: ResponsePayload) -> (KeyWrappingData, Vec<u8>) {
    let ResponsePayload::Get(r) = payload else {
        panic!("{payload:?}")
    };
    let block = r.object.0.unwrap().key_block().cloned().unwrap();
    let data = block.key_wrapping_data.expect("Key Wrapping Data");
    // No Encoding: a Key Value structure whose Key Material is the wrapped bytes; TTLV Encoding: a Byte String
    // Key Value.
    match (data.encoding_option, block.key_value.unwrap().material) {
        (Some(EncodingOption::NoEncoding), KeyMaterial::Bytes(bytes)) => (data, bytes.to_vec()),
        (None | Some(EncodingOption::TtlvEncoding), KeyMaterial::Wrapped(bytes)) => {
            (data, bytes.to_vec())
        }
        (option, other) => panic!("{option:?}: {other:?}"),
    }
}

pub fn wrapped_bytes(payload: ResponsePayload) -> Vec<u8> {
    wrapped_block(payload).1
}

pub fn python_unwrap(function: &str, kek: &[u8], wrapped: &[u8]) -> Vec<u8> {
    let script = format!(
        "from cryptography.hazmat.primitives.keywrap import {function}\nimport sys\nprint({function}(bytes.fromhex('{}'), bytes.fromhex('{}')).hex())",
        hex::encode(kek),
        hex::encode(wrapped)
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    hex::decode(String::from_utf8(out.stdout).unwrap().trim()).unwrap()
}
