//! The request each benchmark repeats, encoded once before the clock starts, and the objects it needs
//! (the key to Get, the key pair to sign with, the AES key to encrypt under), created over one connection.

use kmip::attributes::{
    Attribute, Attributes, CryptographicDomainParameters, CryptographicParameters,
    CryptographicUsageMask,
};
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, DigitalSignatureAlgorithm, ObjectType,
    RecommendedCurve,
};
use kmip::payloads::{
    CreateKeyPairRequest, CreateRequest, DecapsulateRequest, EncapsulateRequest, EncryptRequest,
    GetRequest, RequestPayload, RngRetrieveRequest, SignRequest,
};
use kmip::{ProtocolVersion, RequestBatchItem, RequestMessage};
use ttlv::tags;

use super::check::{payload_bytes, payload_text, Expect};
use super::connect::Connector;
use super::{BenchArgs, BenchError, BenchOp, KeyKind};

/// One encoded request and what its every response must show.
#[derive(Debug)]
pub struct Prepared {
    pub request: Vec<u8>,
    pub expect: Expect,
}

fn setup_error(message: impl Into<String>) -> BenchError {
    BenchError::Setup(message.into())
}

/// Encodes one single-item request message.
pub fn encode(version: ProtocolVersion, payload: RequestPayload) -> Result<Vec<u8>, BenchError> {
    let message = RequestMessage::new(version, vec![RequestBatchItem::new(payload)]);
    ttlv::binary::encode(&message.to_ttlv()).map_err(|e| setup_error(format!("encode: {e}")))
}

fn usage(masks: &[CryptographicUsageMask]) -> Attribute {
    Attribute::CryptographicUsageMask(CryptographicUsageMask(
        masks.iter().fold(0, |all, m| all | m.bits()),
    ))
}

/// Create of an AES-256 key for Encrypt and Decrypt; `active` adds an Activation Date in the past.
pub fn create_aes_256(active: bool) -> RequestPayload {
    let mut attributes = Attributes::new();
    attributes.push(Attribute::CryptographicAlgorithm(
        CryptographicAlgorithm::Aes,
    ));
    attributes.push(Attribute::CryptographicLength(256));
    attributes.push(usage(&[
        CryptographicUsageMask::ENCRYPT,
        CryptographicUsageMask::DECRYPT,
    ]));
    if active {
        attributes.push(Attribute::ActivationDate(0));
    }
    RequestPayload::Create(CreateRequest {
        object_type: ObjectType::SymmetricKey,
        attributes,
        protection_storage_masks: None,
    })
}

/// Create Key Pair for signing: the private key may Sign, the public key Verify (for ML-KEM: Decrypt, i.e.
/// Decapsulate, and Encrypt, i.e. Encapsulate); `active` activates both.
pub fn create_key_pair(kind: KeyKind, active: bool) -> RequestPayload {
    use CryptographicUsageMask as M;
    // An EC pair names its curve (Recommended Curve), as every server expects: with only the algorithm and the
    // length, Cosmian KMS made X25519 keys and every ECDSA Sign failed (issue #14).
    let (algorithm, length, curve) = match kind {
        KeyKind::P256 => (
            CryptographicAlgorithm::Ec,
            256,
            Some(RecommendedCurve::P256),
        ),
        KeyKind::P384 => (
            CryptographicAlgorithm::Ec,
            384,
            Some(RecommendedCurve::P384),
        ),
        KeyKind::Rsa2048 => (CryptographicAlgorithm::Rsa, 2048, None),
        KeyKind::Rsa3072 => (CryptographicAlgorithm::Rsa, 3072, None),
        KeyKind::MlDsa65 => {
            return post_quantum_pair(CryptographicAlgorithm::MlDsa65, M::SIGN, M::VERIFY, active)
        }
        KeyKind::MlKem768 => {
            return post_quantum_pair(
                CryptographicAlgorithm::MlKem768,
                M::DECRYPT,
                M::ENCRYPT,
                active,
            )
        }
    };
    let mut common = vec![
        Attribute::CryptographicAlgorithm(algorithm),
        Attribute::CryptographicLength(length),
    ];
    if let Some(curve) = curve {
        common.push(Attribute::CryptographicDomainParameters(
            CryptographicDomainParameters {
                qlength: None,
                recommended_curve: Some(curve),
            },
        ));
    }
    if active {
        common.push(Attribute::ActivationDate(0));
    }
    RequestPayload::CreateKeyPair(CreateKeyPairRequest {
        common_attributes: Some(common.into()),
        private_key_attributes: Some(vec![usage(&[CryptographicUsageMask::SIGN])].into()),
        public_key_attributes: Some(vec![usage(&[CryptographicUsageMask::VERIFY])].into()),
        ..CreateKeyPairRequest::default()
    })
}

/// An ML-DSA or ML-KEM pair: the algorithm names the parameter set (no length, no curve).
fn post_quantum_pair(
    algorithm: CryptographicAlgorithm,
    private: CryptographicUsageMask,
    public: CryptographicUsageMask,
    active: bool,
) -> RequestPayload {
    let mut common = vec![Attribute::CryptographicAlgorithm(algorithm)];
    if active {
        common.push(Attribute::ActivationDate(0));
    }
    RequestPayload::CreateKeyPair(CreateKeyPairRequest {
        common_attributes: Some(common.into()),
        private_key_attributes: Some(vec![usage(&[private])].into()),
        public_key_attributes: Some(vec![usage(&[public])].into()),
        ..CreateKeyPairRequest::default()
    })
}

/// `payload` (a Create or Create Key Pair) with the custom attribute `x-qkms-hsm` = `label` when one is given:
/// the key is then made inside that HSM.
fn in_hsm(payload: RequestPayload, label: Option<&str>) -> RequestPayload {
    let Some(label) = label else {
        return payload;
    };
    let hsm = Attribute::Custom(kmip::attributes::CustomAttribute {
        vendor_identification: "x".into(),
        attribute_name: "qkms-hsm".into(),
        value: ttlv::Value::TextString(label.to_owned()),
    });
    match payload {
        RequestPayload::Create(mut create) => {
            create.attributes.push(hsm);
            RequestPayload::Create(create)
        }
        RequestPayload::CreateKeyPair(mut pair) => {
            pair.common_attributes
                .get_or_insert_with(Attributes::new)
                .push(hsm);
            RequestPayload::CreateKeyPair(pair)
        }
        other => other,
    }
}

/// Creates one object over a fresh connection and returns the Unique Identifier the response names under
/// `tag`.
async fn create_object(
    args: &BenchArgs,
    connector: &Connector,
    payload: RequestPayload,
    tag: ttlv::Tag,
    what: &str,
) -> Result<String, BenchError> {
    let mut connection = connector.connect().await.map_err(setup_error)?;
    let request = encode(args.protocol, payload)?;
    let response = connection
        .exchange(&request)
        .await
        .map_err(|e| setup_error(format!("creating {what}: {e}")))?;
    payload_text(response, tag).map_err(|e| setup_error(format!("creating {what}: {e}")))
}

/// The request every connection repeats for `args.op`, with any object it needs created first.
pub async fn prepare(args: &BenchArgs, connector: &Connector) -> Result<Prepared, BenchError> {
    let v = args.protocol;
    let success = |request| Prepared {
        request,
        expect: Expect::Success,
    };
    Ok(match args.op {
        BenchOp::Eaas => {
            let encrypt = if args.hpke {
                let uid = super::hpke_key::register_recipient(v, connector).await?;
                format!("&encrypt={uid}")
            } else {
                String::new()
            };
            let accept = if args.octet_stream {
                "application/octet-stream"
            } else {
                "application/json"
            };
            Prepared {
                request: format!(
                    "GET /v1/random?bytes={}&nonce=000102030405060708090a0b0c0d0e0f{encrypt} HTTP/1.1\r\n\
                     Host: localhost\r\nAccept: {accept}\r\n\r\n",
                    args.rng_bytes
                )
                .into_bytes(),
                expect: Expect::HttpOk,
            }
        }
        BenchOp::Create => success(encode(v, create_aes_256(false))?),
        BenchOp::CreateKeyPair => success(encode(v, create_key_pair(args.key_type, false))?),
        BenchOp::Idle => Prepared {
            request: encode(v, RngRetrieveRequest { data_length: 16 }.into())?,
            expect: Expect::DataBytes(16),
        },
        BenchOp::Rng => {
            let length = i32::try_from(args.rng_bytes)
                .map_err(|_| setup_error(format!("--rng-bytes {} is too large", args.rng_bytes)))?;
            Prepared {
                request: encode(
                    v,
                    RngRetrieveRequest {
                        data_length: length,
                    }
                    .into(),
                )?,
                expect: Expect::DataBytes(args.rng_bytes),
            }
        }
        BenchOp::Get => {
            let uid = create_object(
                args,
                connector,
                create_aes_256(false),
                tags::UNIQUE_IDENTIFIER,
                "the key to Get",
            )
            .await?;
            let get = GetRequest {
                unique_identifier: Some(uid),
                ..GetRequest::default()
            };
            success(encode(v, get.into())?)
        }
        BenchOp::Sign => {
            let uid = create_object(
                args,
                connector,
                in_hsm(create_key_pair(args.key_type, true), args.hsm.as_deref()),
                tags::PRIVATE_KEY_UNIQUE_IDENTIFIER,
                "the key pair to sign with",
            )
            .await?;
            let algorithm = match args.key_type {
                KeyKind::P256 => Some(DigitalSignatureAlgorithm::EcdsaWithSha256),
                KeyKind::P384 => Some(DigitalSignatureAlgorithm::EcdsaWithSha384),
                KeyKind::Rsa2048 | KeyKind::Rsa3072 => {
                    Some(DigitalSignatureAlgorithm::Sha256WithRsaEncryption)
                }
                // Pure ML-DSA: no parameters.
                KeyKind::MlDsa65 => None,
                KeyKind::MlKem768 => {
                    return Err(setup_error("an ML-KEM key does not sign: use --key-type ml-dsa65"))
                }
            };
            let sign = SignRequest {
                unique_identifier: Some(uid),
                cryptographic_parameters: algorithm.map(|algorithm| CryptographicParameters {
                    digital_signature_algorithm: Some(algorithm),
                    ..CryptographicParameters::default()
                }),
                data: Some(vec![0x5a; 32]),
                ..SignRequest::default()
            };
            success(encode(v, sign.into())?)
        }
        BenchOp::Encapsulate | BenchOp::Decapsulate => {
            let mut connection = connector.connect().await.map_err(setup_error)?;
            let pair = encode(v, create_key_pair(KeyKind::MlKem768, true))?;
            let response = connection
                .exchange(&pair)
                .await
                .map_err(|e| setup_error(format!("creating the ML-KEM-768 pair: {e}")))?;
            let uid = |tag| {
                payload_text(response, tag)
                    .map_err(|e| setup_error(format!("creating the ML-KEM-768 pair: {e}")))
            };
            let (private, public) = (
                uid(tags::PRIVATE_KEY_UNIQUE_IDENTIFIER)?,
                uid(tags::PUBLIC_KEY_UNIQUE_IDENTIFIER)?,
            );
            let encapsulate = encode(
                v,
                EncapsulateRequest {
                    unique_identifier: Some(public),
                    ..EncapsulateRequest::default()
                }
                .into(),
            )?;
            if args.op == BenchOp::Encapsulate {
                return Ok(success(encapsulate));
            }
            let response = connection
                .exchange(&encapsulate)
                .await
                .map_err(|e| setup_error(format!("encapsulating: {e}")))?;
            let ciphertext = payload_bytes(response, tags::DATA)
                .map_err(|e| setup_error(format!("encapsulating: {e}")))?;
            success(encode(
                v,
                DecapsulateRequest {
                    unique_identifier: Some(private),
                    data: Some(ciphertext),
                    ..DecapsulateRequest::default()
                }
                .into(),
            )?)
        }
        BenchOp::Encrypt => {
            let uid = create_object(
                args,
                connector,
                in_hsm(create_aes_256(true), args.hsm.as_deref()),
                tags::UNIQUE_IDENTIFIER,
                "the AES key to encrypt under",
            )
            .await?;
            let encrypt = EncryptRequest {
                unique_identifier: Some(uid),
                cryptographic_parameters: Some(CryptographicParameters {
                    block_cipher_mode: Some(BlockCipherMode::Gcm),
                    ..CryptographicParameters::default()
                }),
                data: Some(vec![0xa5; args.data_bytes].into()),
                ..EncryptRequest::default()
            };
            Prepared {
                request: encode(v, encrypt.into())?,
                // GCM: the ciphertext is as long as the plaintext (the tag travels apart).
                expect: Expect::DataBytes(args.data_bytes),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_encode_in_both_protocol_families() {
        for version in [ProtocolVersion::new(1, 2), ProtocolVersion::new(2, 1)] {
            for payload in [
                create_aes_256(true),
                create_key_pair(KeyKind::P256, true),
                create_key_pair(KeyKind::P384, true),
                create_key_pair(KeyKind::Rsa2048, false),
                create_key_pair(KeyKind::Rsa3072, false),
                create_key_pair(KeyKind::MlDsa65, true),
                create_key_pair(KeyKind::MlKem768, true),
            ] {
                let bytes = encode(version, payload).unwrap();
                let item = ttlv::binary::decode(&bytes).unwrap();
                assert_eq!(item.tag, tags::REQUEST_MESSAGE);
            }
        }
    }
}
