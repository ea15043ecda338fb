//! The recipient key of `--op eaas --hpke`: an X25519 public key registered over KMIP before the clock starts.
//!
//! The bench connects to the HTTPS listener, so the Register goes as TTLV to `POST /kmip` on the same
//! listener. The private key is drawn from this host's entropy pool and dropped: the bench only measures the
//! server's encryption, it never opens the envelopes.

use kmip::attributes::{Attribute, CryptographicUsageMask};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::{ObjectField, RegisterRequest};
use kmip::ProtocolVersion;
use ttlv::tags;
use zeroize::Zeroizing;

use super::check::payload_text;
use super::connect::Connector;
use super::requests::encode;
use super::BenchError;

/// Registers a fresh, active X25519 public key (Raw, 32 bytes, ECDH) and returns its Unique Identifier.
pub async fn register_recipient(
    version: ProtocolVersion,
    connector: &Connector,
) -> Result<String, BenchError> {
    let failed =
        |message: String| BenchError::Setup(format!("registering the HPKE key: {message}"));
    let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default())
        .map_err(|e| failed(format!("entropy pool: {e}")))?;
    let mut secret = Zeroizing::new([0u8; 32]);
    pool.fill(&mut secret[..])
        .map_err(|e| failed(format!("entropy pool: {e}")))?;
    let public = eaas::hpke::X25519SecretKey::from_bytes(*secret).public_key();
    let register = RegisterRequest {
        object_type: ObjectType::PublicKey,
        attributes: vec![
            Attribute::CryptographicUsageMask(CryptographicUsageMask::ENCRYPT),
            // Active from the start: an Activation Date in the past.
            Attribute::ActivationDate(0),
        ]
        .into(),
        object: ObjectField(Some(ManagedObject::PublicKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(public.to_vec())),
            Some(CryptographicAlgorithm::Ecdh),
            Some(255),
        )))),
        protection_storage_masks: None,
    };
    let body = encode(version, register.into())?;
    let mut request = format!(
        "POST /kmip HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let mut connection = connector.connect().await.map_err(failed)?;
    let response = connection.exchange_http(&request).await.map_err(failed)?;
    payload_text(response, tags::UNIQUE_IDENTIFIER).map_err(failed)
}
