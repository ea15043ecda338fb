//! Helpers of the post-quantum end-to-end tests (`tests/e2e_post_quantum*.rs`): a server on a fresh set-up with a
//! connected client, ML-KEM / ML-DSA pair and Register requests, Get in a chosen format, and the Result Reason of
//! a failure.

use kmip::attributes::{Attribute, CryptographicUsageMask as Mask, Name};
use kmip::client::{Client, ClientError};
use kmip::enums::{CryptographicAlgorithm as A, KeyFormatType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::*;
use kmip::ResultReason;
use zeroize::Zeroizing;

use super::process::{ServerProcess, SetUp};
use super::requests::material;

pub fn mask(bits: &[Mask]) -> Attribute {
    Attribute::CryptographicUsageMask(Mask(bits.iter().fold(0, |a, m| a | m.bits())))
}

pub fn pair_request(
    algorithm: A,
    name: &str,
    private: &[Mask],
    public: &[Mask],
) -> CreateKeyPairRequest {
    CreateKeyPairRequest {
        common_attributes: Some(
            vec![
                Attribute::CryptographicAlgorithm(algorithm),
                Attribute::ActivationDate(0),
            ]
            .into(),
        ),
        private_key_attributes: Some(
            vec![
                Attribute::Name(Name::text(format!("{name}-private"))),
                mask(private),
            ]
            .into(),
        ),
        public_key_attributes: Some(
            vec![
                Attribute::Name(Name::text(format!("{name}-public"))),
                mask(public),
            ]
            .into(),
        ),
        ..CreateKeyPairRequest::default()
    }
}

pub async fn get_as(client: &mut Client, uid: &str, format: Option<KeyFormatType>) -> Vec<u8> {
    let response = client
        .get(GetRequest {
            unique_identifier: Some(uid.into()),
            key_format_type: format,
            ..GetRequest::default()
        })
        .await
        .expect("Get");
    material(&response)
}

pub fn reason(result: Result<impl std::fmt::Debug, ClientError>) -> ResultReason {
    match result {
        Err(ClientError::Operation {
            reason, message, ..
        }) => {
            assert!(message.len() > 5, "a failure says why: {message:?}");
            reason
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

pub fn raw_block(algorithm: A, bytes: &[u8]) -> KeyBlock {
    KeyBlock::new(
        KeyFormatType::Raw,
        KeyMaterial::Bytes(Zeroizing::new(bytes.to_vec())),
        Some(algorithm),
        None,
    )
}

pub fn register(object: ManagedObject, attributes: Vec<Attribute>) -> RegisterRequest {
    RegisterRequest {
        object_type: object.object_type(),
        attributes: attributes.into(),
        object: ObjectField(Some(object)),
        protection_storage_masks: None,
    }
}

pub async fn secret_of(client: &mut Client, uid: &str) -> Vec<u8> {
    get_as(client, uid, None).await
}

pub struct Running {
    _setup: SetUp,
    _server: ServerProcess,
    pub client: Client,
}

pub async fn start() -> Running {
    let setup = SetUp::init();
    let server = ServerProcess::start(&setup).expect("the server starts");
    let client = server.connect(&setup.client).await;
    Running {
        _setup: setup,
        _server: server,
        client,
    }
}
