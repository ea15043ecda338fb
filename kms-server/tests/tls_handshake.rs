//! Mutual TLS at the door: client certificates required and verified, TLS 1.2 and 1.3 both offered.

mod common;

use std::sync::Arc;

use common::{connect_tls, TestServer};
use kmip::client::{certificates_from_file, private_key_from_file};
use kmip::ProtocolVersion;
use kms_server::pki::CertificateAuthority;

fn roots(server: &TestServer) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for ca in certificates_from_file(&server.client.ca).unwrap() {
        roots.add(ca).unwrap();
    }
    roots
}

fn client_config(
    server: &TestServer,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots(server))
        .with_client_auth_cert(
            certificates_from_file(&server.client.certificate).unwrap(),
            private_key_from_file(&server.client.key).unwrap(),
        )
        .unwrap()
}

#[tokio::test]
async fn tls13_negotiates_with_an_aes_gcm_suite() {
    let server = TestServer::start().await;
    let config = client_config(&server, &[&rustls::version::TLS13]);
    let stream = connect_tls(server.addr, Arc::new(config)).await.unwrap();
    let session = stream.get_ref().1;
    assert_eq!(
        session.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    assert_eq!(
        session.negotiated_cipher_suite().unwrap().suite(),
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
    );
}

#[tokio::test]
async fn tls13_aes128_suite_is_offered_too() {
    let server = TestServer::start().await;
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256];
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots(&server))
        .with_client_auth_cert(
            certificates_from_file(&server.client.certificate).unwrap(),
            private_key_from_file(&server.client.key).unwrap(),
        )
        .unwrap();
    let stream = connect_tls(server.addr, Arc::new(config)).await.unwrap();
    assert_eq!(
        stream
            .get_ref()
            .1
            .negotiated_cipher_suite()
            .unwrap()
            .suite(),
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
    );
}

#[tokio::test]
async fn tls12_negotiates_ecdhe_ecdsa_aes_gcm() {
    let server = TestServer::start().await;
    let config = client_config(&server, &[&rustls::version::TLS12]);
    let stream = connect_tls(server.addr, Arc::new(config)).await.unwrap();
    let session = stream.get_ref().1;
    assert_eq!(
        session.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(
        session.negotiated_cipher_suite().unwrap().suite(),
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    );
}

#[tokio::test]
async fn client_without_certificate_is_refused_at_the_handshake() {
    let server = TestServer::start().await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots(&server))
        .with_no_client_auth();
        let mut stream = match connect_tls(server.addr, Arc::new(config)).await {
            Err(_) => continue, // refused during the handshake (TLS 1.2)
            Ok(stream) => stream,
        };
        // TLS 1.3: the client finishes first; the server's refusal arrives as an alert on the first read.
        assert!(
            common::is_closed(&mut stream).await,
            "{version:?}: a client without a certificate must not get a session"
        );
    }
}

#[tokio::test]
async fn client_certificate_from_a_foreign_ca_is_refused() {
    let server = TestServer::start().await;
    let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
    let foreign_ca = CertificateAuthority::generate(&pool).unwrap();
    // Same CN as the legitimate client: only the chain differs.
    let impostor = foreign_ca.issue_client(&pool, "default").unwrap();
    let impostor_key =
        rustls::pki_types::PrivateKeyDer::try_from(impostor.key.pkcs8_der().unwrap().to_vec())
            .unwrap();
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots(&server))
        .with_client_auth_cert(
            vec![impostor.certificate_der.clone()],
            impostor_key.clone_key(),
        )
        .unwrap();
        let mut stream = match connect_tls(server.addr, Arc::new(config)).await {
            Err(_) => continue,
            Ok(stream) => stream,
        };
        assert!(
            common::is_closed(&mut stream).await,
            "{version:?}: a certificate from another CA must not get a session"
        );
    }
    // The legitimate client still gets in afterwards.
    let mut stream = server.connect_raw().await;
    let request = kmip::RequestMessage::new(
        ProtocolVersion::V2_1,
        vec![kmip::RequestBatchItem::new(
            kmip::payloads::discover::DiscoverVersionsRequest::default(),
        )],
    );
    let bytes = ttlv::binary::encode(&request.to_ttlv()).unwrap();
    kmip::transport::write_message(&mut stream, &bytes)
        .await
        .unwrap();
    assert!(common::read_response(&mut stream).await.is_some());
}

#[tokio::test]
async fn plain_tcp_without_tls_is_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"\x42\x00\x78\x01\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read_to_end(&mut buf)).await;
    // The server answers a non-TLS hello with (at most) a TLS alert and closes; it never speaks KMIP.
    assert!(
        matches!(read, Ok(Ok(_)) | Ok(Err(_))),
        "connection must be closed"
    );
    assert!(buf.len() < 16, "at most an alert, got {} bytes", buf.len());
}
