//! The async client against a local mutual-TLS server with canned answers: mTLS is enforced, one connection
//! carries many requests, batches are matched by id, and each operation method returns its typed result.

mod client_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use client_support::{start_server, Pki, Stats};
use kmip::attributes::{Attribute, AttributeName, Attributes, KnownAttribute};
use kmip::client::{
    certificates_from_pem, private_key_from_pem, Client, ClientConfig, ClientError,
};
use kmip::enums::{CryptographicAlgorithm, HashingAlgorithm, ObjectType};
use kmip::payloads::*;
use kmip::transport::TransportError;
use kmip::{ProtocolVersion, RequestPayload, ResultReason};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn setup() -> (Pki, Arc<Stats>, String) {
    let pki = Pki::new();
    let stats = Arc::new(Stats::default());
    let address = start_server(&pki, stats.clone()).await;
    (pki, stats, address)
}

#[tokio::test]
async fn client_without_certificate_is_refused() {
    let (pki, stats, address) = setup().await;
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates_from_pem(pki.ca_pem.as_bytes()).unwrap() {
        roots.add(cert).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
    let server_name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    // TLS 1.3: the client may finish its side first; the refusal then arrives on the first exchange.
    let refused = match connector.connect(server_name, tcp).await {
        Err(_) => true,
        Ok(mut tls) => {
            let _ = tls.write_all(&[0x42, 0, 0x78, 1, 0, 0, 0, 0]).await;
            let mut buf = [0u8; 8];
            !matches!(tls.read(&mut buf).await, Ok(n) if n > 0)
        }
    };
    assert!(
        refused,
        "a client without a certificate must not get an answer"
    );
    // The server records the failed handshake asynchronously: wait for it (bounded).
    for _ in 0..200 {
        if stats.handshake_failures.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stats.connections.load(Ordering::SeqCst), 0);
    assert_eq!(stats.handshake_failures.load(Ordering::SeqCst), 1);
    assert_eq!(stats.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn client_certificate_from_another_ca_is_refused() {
    let (pki, stats, address) = setup().await;
    let (cert, key) = Pki::foreign_client();
    let config = ClientConfig::new(
        &address,
        "localhost",
        certificates_from_pem(pki.ca_pem.as_bytes()).unwrap(),
        certificates_from_pem(cert.as_bytes()).unwrap(),
        private_key_from_pem(key.as_bytes()).unwrap(),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .unwrap()
    .with_timeout(Duration::from_secs(5));
    let outcome = match Client::connect(&config).await {
        Err(e) => Err(e),
        Ok(mut client) => client.discover_versions(vec![]).await.map(|_| ()),
    };
    assert!(
        outcome.is_err(),
        "a foreign client certificate must be refused"
    );
    assert_eq!(stats.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn client_config_requires_a_client_certificate() {
    let pki = Pki::new();
    let result = ClientConfig::new(
        "127.0.0.1:1",
        "localhost",
        certificates_from_pem(pki.ca_pem.as_bytes()).unwrap(),
        Vec::new(),
        private_key_from_pem(pki.client_key_pem.as_bytes()).unwrap(),
        Arc::new(rustls::crypto::ring::default_provider()),
    );
    assert!(matches!(result, Err(ClientError::Config(_))));
    assert!(matches!(
        certificates_from_pem(b"not pem"),
        Err(ClientError::Config(_))
    ));
    assert!(matches!(
        private_key_from_pem(b"not pem"),
        Err(ClientError::Config(_))
    ));
}

#[tokio::test]
async fn operation_methods_return_typed_results_over_one_connection() {
    let (pki, stats, address) = setup().await;
    let mut client = Client::connect(&pki.client_config(&address)).await.unwrap();

    assert_eq!(
        client.negotiate_version().await.unwrap(),
        ProtocolVersion::V2_1
    );

    let query = client
        .query(QueryRequest {
            query_functions: vec![QueryFunction::QueryOperations],
        })
        .await
        .unwrap();
    assert_eq!(query.vendor_identification.as_deref(), Some("qkms-test"));
    assert_eq!(query.operations.len(), 2);

    let created = client
        .create(CreateRequest {
            object_type: ObjectType::SymmetricKey,
            attributes: Attributes::from(vec![
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
                Attribute::CryptographicLength(256),
            ]),
            protection_storage_masks: None,
        })
        .await
        .unwrap();
    assert_eq!(created.unique_identifier, "sym-1");
    assert_eq!(created.object_type, ObjectType::SymmetricKey);

    let pair = client
        .create_key_pair(CreateKeyPairRequest::default())
        .await
        .unwrap();
    assert_eq!(
        (
            pair.private_key_unique_identifier.as_str(),
            pair.public_key_unique_identifier.as_str()
        ),
        ("priv-1", "pub-1")
    );

    let attributes = client
        .get_attributes(GetAttributesRequest {
            unique_identifier: Some("sym-1".into()),
            attribute_names: AttributeNames(vec![AttributeName::Known(
                KnownAttribute::CryptographicLength,
            )]),
        })
        .await
        .unwrap();
    assert_eq!(attributes.attributes.0.cryptographic_length(), Some(256));

    let got = client
        .get(GetRequest {
            unique_identifier: Some("sym-1".into()),
            ..GetRequest::default()
        })
        .await
        .unwrap();
    let object = got.object.0.expect("Get returns the object");
    assert_eq!(object.object_type(), ObjectType::SymmetricKey);
    assert_eq!(
        object.key_block().and_then(|b| b.cryptographic_length),
        Some(128)
    );

    let registered = client
        .register(RegisterRequest {
            object_type: ObjectType::SymmetricKey,
            attributes: Attributes::new(),
            object: ObjectField(Some(object)),
            protection_storage_masks: None,
        })
        .await
        .unwrap();
    assert_eq!(registered.unique_identifier, "reg-1");

    let located = client.locate(LocateRequest::default()).await.unwrap();
    assert_eq!(located.unique_identifiers, vec!["sym-1", "sym-2"]);
    assert_eq!(located.located_items, Some(2));

    assert_eq!(client.activate("sym-1").await.unwrap(), "sym-1");

    let encrypted = client
        .encrypt(EncryptRequest {
            unique_identifier: Some("sym-1".into()),
            data: Some(SecretBytes::from(&b"abc"[..])),
            ..EncryptRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(encrypted.data.as_deref(), Some(&b"cba"[..]));
    assert_eq!(encrypted.iv_counter_nonce, Some(vec![7; 12]));
    let decrypted = client
        .decrypt(DecryptRequest {
            unique_identifier: Some("sym-1".into()),
            data: encrypted.data,
            ..DecryptRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(decrypted.data.unwrap().expose(), b"abc");

    let signed = client
        .sign(SignRequest {
            data: Some(b"m".to_vec()),
            ..SignRequest::default()
        })
        .await
        .unwrap();
    let verified = client
        .signature_verify(SignatureVerifyRequest {
            data: Some(b"m".to_vec()),
            signature_data: signed.signature_data,
            ..SignatureVerifyRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        verified.validity_indicator,
        Some(EnumValue(validity::VALID))
    );

    let mac = client
        .mac(MacRequest {
            data: Some(b"m".to_vec()),
            ..MacRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(mac.mac_data, Some(vec![0xAC; 32]));

    let digest = client
        .hash(HashRequest {
            cryptographic_parameters: kmip::attributes::CryptographicParameters {
                hashing_algorithm: Some(HashingAlgorithm::Sha256),
                ..Default::default()
            },
            data: Some(vec![1, 2, 3]),
            ..HashRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(digest.data, Some(vec![3; 32]));

    let random = client.rng_retrieve(100_000).await.unwrap();
    assert_eq!(random.len(), 100_000);
    assert_eq!(random.expose()[1000], (1000 % 256) as u8);

    let revoked = client
        .revoke(RevokeRequest {
            unique_identifier: Some("sym-1".into()),
            revocation_reason: RevocationReason {
                code: RevocationReasonCode::CessationOfOperation,
                message: None,
            },
            compromise_occurrence_date: None,
        })
        .await
        .unwrap();
    assert_eq!(revoked.unique_identifier, "sym-1");
    assert_eq!(client.destroy("sym-1").await.unwrap(), "sym-1");

    assert_eq!(
        stats.connections.load(Ordering::SeqCst),
        1,
        "every request must reuse one connection"
    );
    assert_eq!(stats.requests.load(Ordering::SeqCst), 18);
}

#[tokio::test]
async fn failed_item_is_an_operation_error_with_reason_and_message() {
    let (pki, _stats, address) = setup().await;
    let mut client = Client::connect(&pki.client_config(&address)).await.unwrap();
    match client.destroy("missing").await {
        Err(ClientError::Operation {
            reason, message, ..
        }) => {
            assert_eq!(reason, ResultReason::ItemNotFound);
            assert_eq!(message, "no object missing");
        }
        other => panic!("expected an operation error, got {other:?}"),
    }
    // The connection is still usable afterwards.
    assert_eq!(client.activate("k").await.unwrap(), "k");
}

#[tokio::test]
async fn batch_results_come_back_in_request_order_with_failures_in_place() {
    let (pki, stats, address) = setup().await;
    let mut client = Client::connect(&pki.client_config(&address)).await.unwrap();
    let results = client
        .batch(vec![
            RequestPayload::from(ActivateRequest {
                unique_identifier: Some("a".into()),
            }),
            RequestPayload::from(DestroyRequest {
                unique_identifier: Some("missing".into()),
            }),
            RequestPayload::from(RngRetrieveRequest { data_length: 4 }),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    assert!(matches!(&results[0], Ok(ResponsePayload::Activate(a)) if a.unique_identifier == "a"));
    assert!(matches!(
        &results[1],
        Err(ClientError::Operation {
            reason: ResultReason::ItemNotFound,
            ..
        })
    ));
    assert!(
        matches!(&results[2], Ok(ResponsePayload::RngRetrieve(r)) if r.data.expose() == [0, 1, 2, 3])
    );
    assert_eq!(
        stats.requests.load(Ordering::SeqCst),
        1,
        "one message for the whole batch"
    );
}

#[tokio::test]
async fn requests_in_kmip_1_4_use_the_1_x_forms() {
    let (pki, _stats, address) = setup().await;
    let config = pki
        .client_config(&address)
        .with_protocol_version(ProtocolVersion::V1_4);
    let mut client = Client::connect(&config).await.unwrap();
    let attributes = client
        .get_attributes(GetAttributesRequest {
            unique_identifier: Some("k".into()),
            attribute_names: AttributeNames(vec![AttributeName::Known(
                KnownAttribute::CryptographicAlgorithm,
            )]),
        })
        .await
        .unwrap();
    assert_eq!(
        attributes.attributes.0.cryptographic_algorithm(),
        Some(CryptographicAlgorithm::Aes)
    );
    // Set Attribute does not exist in 1.4: the server answers Operation Not Supported.
    let set = client
        .set_attribute(SetAttributeRequest {
            unique_identifier: Some("k".into()),
            new_attribute: Attribute::CryptographicLength(128).into(),
        })
        .await;
    assert!(matches!(
        set,
        Err(ClientError::Operation {
            reason: ResultReason::OperationNotSupported,
            ..
        })
    ));
}

#[tokio::test]
async fn response_larger_than_the_client_limit_is_refused_before_reading_it() {
    let (pki, _stats, address) = setup().await;
    let mut config = pki.client_config(&address);
    config.limits.max_message_size = 1024;
    let mut client = Client::connect(&config).await.unwrap();
    match client.rng_retrieve(4096).await {
        Err(ClientError::Transport(TransportError::TooLarge { max: 1024, .. })) => {}
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // The unread body is still in the stream: the client must not read it as the next answer.
    assert!(matches!(
        client.activate("k").await,
        Err(ClientError::ConnectionBroken)
    ));
}
