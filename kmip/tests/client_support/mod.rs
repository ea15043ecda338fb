//! A local mutual-TLS KMIP test server answering canned responses, and the certificates for it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use kmip::client::{certificates_from_pem, private_key_from_pem, ClientConfig};
use kmip::payloads::*;
use kmip::transport::{read_message, write_message, TransportError};
use kmip::{ProtocolVersion, RequestMessage, ResponseBatchItem, ResponseMessage, ResultReason};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use ttlv::Limits;

pub struct Pki {
    pub ca_pem: String,
    pub server_cert: CertificateDer<'static>,
    pub server_key: Vec<u8>,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    (params.self_signed(&key).unwrap(), key)
}

fn leaf(
    names: &[&str],
    issuer: &rcgen::Certificate,
    issuer_key: &KeyPair,
) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    (params.signed_by(&key, issuer, issuer_key).unwrap(), key)
}

impl Pki {
    pub fn new() -> Self {
        let (ca_cert, ca_key) = ca("qkms test CA");
        let (server_cert, server_key) = leaf(&["localhost"], &ca_cert, &ca_key);
        let (client_cert, client_key) = leaf(&["client"], &ca_cert, &ca_key);
        Self {
            ca_pem: ca_cert.pem(),
            server_cert: server_cert.der().clone(),
            server_key: server_key.serialize_der(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    }

    /// A client certificate from another CA, which the server must refuse.
    pub fn foreign_client() -> (String, String) {
        let (ca_cert, ca_key) = ca("someone else's CA");
        let (cert, key) = leaf(&["intruder"], &ca_cert, &ca_key);
        (cert.pem(), key.serialize_pem())
    }

    pub fn client_config(&self, address: &str) -> ClientConfig {
        ClientConfig::new(
            address,
            "localhost",
            certificates_from_pem(self.ca_pem.as_bytes()).unwrap(),
            certificates_from_pem(self.client_cert_pem.as_bytes()).unwrap(),
            private_key_from_pem(self.client_key_pem.as_bytes()).unwrap(),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .unwrap()
    }

    fn acceptor(&self) -> TlsAcceptor {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in certificates_from_pem(self.ca_pem.as_bytes()).unwrap() {
            roots.add(cert).unwrap();
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![self.server_cert.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone())),
            )
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }
}

/// What the canned server saw.
#[derive(Default)]
pub struct Stats {
    pub connections: AtomicUsize,
    pub handshake_failures: AtomicUsize,
    pub requests: AtomicUsize,
}

/// Starts the server on a loopback port; returns its address.
pub async fn start_server(pki: &Pki, stats: Arc<Stats>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let acceptor = pki.acceptor();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let stats = stats.clone();
            tokio::spawn(async move {
                let mut tls = match acceptor.accept(tcp).await {
                    Ok(tls) => tls,
                    Err(_) => {
                        stats.handshake_failures.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                };
                stats.connections.fetch_add(1, Ordering::SeqCst);
                loop {
                    let bytes = match read_message(&mut tls, &Limits::default()).await {
                        Ok(bytes) => bytes,
                        Err(TransportError::Closed) => return,
                        Err(_) => return,
                    };
                    stats.requests.fetch_add(1, Ordering::SeqCst);
                    let answer = answer(&bytes);
                    if write_message(&mut tls, &answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    address
}

fn answer(bytes: &[u8]) -> Vec<u8> {
    let tree = ttlv::binary::decode(bytes).unwrap();
    let request = RequestMessage::from_ttlv(&tree).unwrap();
    let version = request.protocol_version();
    let mut items: Vec<ResponseBatchItem> = request
        .items
        .iter()
        .map(|item| canned(&item.payload, version).with_id(item.unique_batch_item_id.clone()))
        .collect();
    // Answer batches in reverse order: the client must match items by Unique Batch Item ID.
    if items.len() > 1 {
        items.reverse();
    }
    let response = ResponseMessage::new(version, 1_700_000_000, items);
    ttlv::binary::encode(&response.to_ttlv()).unwrap()
}

fn uid(request: &Option<String>) -> String {
    request.clone().unwrap_or_else(|| "placeholder".into())
}

fn canned(payload: &RequestPayload, version: ProtocolVersion) -> ResponseBatchItem {
    use kmip::attributes::{Attribute, Attributes};
    use kmip::enums::{CryptographicAlgorithm, ObjectType};
    use kmip::Operation;
    match payload {
        RequestPayload::DiscoverVersions(_) => {
            ResponseBatchItem::success(DiscoverVersionsResponse {
                protocol_versions: vec![ProtocolVersion::V2_1, ProtocolVersion::V1_4],
            })
        }
        RequestPayload::Query(_) => ResponseBatchItem::success(QueryResponse {
            operations: vec![Operation::Create.into(), Operation::Get.into()],
            vendor_identification: Some("qkms-test".into()),
            ..QueryResponse::default()
        }),
        RequestPayload::Create(c) => ResponseBatchItem::success(CreateResponse {
            object_type: c.object_type,
            unique_identifier: "sym-1".into(),
            attributes: None,
        }),
        RequestPayload::CreateKeyPair(_) => ResponseBatchItem::success(CreateKeyPairResponse {
            private_key_unique_identifier: "priv-1".into(),
            public_key_unique_identifier: "pub-1".into(),
            ..CreateKeyPairResponse::default()
        }),
        RequestPayload::Register(r) => match &r.object.0 {
            Some(kmip::objects::ManagedObject::SymmetricKey(_)) => {
                ResponseBatchItem::success(RegisterResponse {
                    unique_identifier: "reg-1".into(),
                    attributes: None,
                })
            }
            _ => ResponseBatchItem::failure(
                payload.operation(),
                ResultReason::InvalidField,
                "no symmetric key",
            ),
        },
        RequestPayload::Get(g) => {
            use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
            let key = KeyBlock::new(
                kmip::enums::KeyFormatType::Raw,
                KeyMaterial::Bytes(zeroize::Zeroizing::new(vec![0x11; 16])),
                Some(CryptographicAlgorithm::Aes),
                Some(128),
            );
            ResponseBatchItem::success(GetResponse {
                object_type: ObjectType::SymmetricKey,
                unique_identifier: uid(&g.unique_identifier),
                object: ObjectField(Some(ManagedObject::SymmetricKey(key))),
            })
        }
        RequestPayload::GetAttributes(g) => ResponseBatchItem::success(GetAttributesResponse {
            unique_identifier: uid(&g.unique_identifier),
            attributes: PayloadAttributes(Attributes::from(vec![
                Attribute::ObjectType(ObjectType::SymmetricKey),
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
                Attribute::CryptographicLength(256),
            ])),
        }),
        RequestPayload::Locate(_) => ResponseBatchItem::success(LocateResponse {
            located_items: Some(2),
            unique_identifiers: vec!["sym-1".into(), "sym-2".into()],
        }),
        RequestPayload::Activate(a) => ResponseBatchItem::success(ActivateResponse {
            unique_identifier: uid(&a.unique_identifier),
        }),
        RequestPayload::Revoke(r) => ResponseBatchItem::success(RevokeResponse {
            unique_identifier: uid(&r.unique_identifier),
        }),
        RequestPayload::Destroy(d) if d.unique_identifier.as_deref() == Some("missing") => {
            ResponseBatchItem::failure(
                payload.operation(),
                ResultReason::ItemNotFound,
                "no object missing",
            )
        }
        RequestPayload::Destroy(d) => ResponseBatchItem::success(DestroyResponse {
            unique_identifier: uid(&d.unique_identifier),
        }),
        // "Encryption" reverses the bytes so the test can check the data went through.
        RequestPayload::Encrypt(e) => ResponseBatchItem::success(EncryptResponse {
            unique_identifier: uid(&e.unique_identifier),
            data: e
                .data
                .as_ref()
                .map(|d| d.expose().iter().rev().copied().collect()),
            iv_counter_nonce: Some(vec![7; 12]),
            ..EncryptResponse::default()
        }),
        RequestPayload::Decrypt(d) => ResponseBatchItem::success(DecryptResponse {
            unique_identifier: uid(&d.unique_identifier),
            data: d
                .data
                .as_ref()
                .map(|d| SecretBytes::new(d.iter().rev().copied().collect())),
            correlation_value: None,
        }),
        RequestPayload::Sign(s) => ResponseBatchItem::success(SignResponse {
            unique_identifier: uid(&s.unique_identifier),
            signature_data: Some(vec![0x5A; 64]),
            correlation_value: None,
        }),
        RequestPayload::SignatureVerify(s) => ResponseBatchItem::success(SignatureVerifyResponse {
            unique_identifier: uid(&s.unique_identifier),
            validity_indicator: Some(EnumValue(if s.signature_data == Some(vec![0x5A; 64]) {
                validity::VALID
            } else {
                validity::INVALID
            })),
            ..SignatureVerifyResponse::default()
        }),
        RequestPayload::Mac(m) => ResponseBatchItem::success(MacResponse {
            unique_identifier: uid(&m.unique_identifier),
            mac_data: Some(vec![0xAC; 32]),
            correlation_value: None,
        }),
        RequestPayload::Hash(h) => ResponseBatchItem::success(HashResponse {
            data: Some(vec![h.data.as_ref().map_or(0, |d| d.len() as u8); 32]),
            correlation_value: None,
        }),
        RequestPayload::RngRetrieve(r) => ResponseBatchItem::success(RngRetrieveResponse {
            data: SecretBytes::new((0..r.data_length).map(|i| i as u8).collect()),
        }),
        RequestPayload::Undecoded(u) => {
            ResponseBatchItem::failure(u.operation, u.error.reason, u.error.message.clone())
        }
        other => ResponseBatchItem::failure(
            other.operation(),
            ResultReason::OperationNotSupported,
            format!("the canned server does not answer this in {version}"),
        ),
    }
}
