//! TLS handshakes whose secrets come from the pool, against independent implementations on loopback:
//! rustls with its aws-lc-rs provider (its own X25519MLKEM768) as the client of our server and as the server of
//! our client; OpenSSL 3.0 `s_client` with classical X25519 and P-256 (TLS 1.3 and 1.2, the latter signed by
//! our hedged ECDSA signer in ServerKeyExchange) against the TTLV listener; curl against the HTTPS listener.
//! `/metrics` counts each handshake by group, version and listener.

mod common;
mod https_client;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use common::{connect_tls, TestServer};
use https_client::HttpsConnection;
use kmip::client::{certificates_from_file, private_key_from_file, Client, ClientConfig};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::{NamedGroup, ProtocolVersion};

async fn server() -> TestServer {
    TestServer::start_with(|config| {
        config.https.enabled = true;
        config.https.listen = "127.0.0.1:0".into();
        // The default client reads /metrics.
        config.auth.operators = vec!["default".into()];
    })
    .await
}

fn https_addr(server: &TestServer) -> SocketAddr {
    server
        .running()
        .https_local_addr()
        .expect("[https] is enabled")
}

/// rustls' aws-lc-rs provider offering only `groups`.
fn aws_lc_rs(groups: Vec<&'static dyn SupportedKxGroup>) -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = groups;
    Arc::new(provider)
}

/// The default client's configuration with `provider`.
fn client_config(server: &TestServer, provider: Arc<CryptoProvider>) -> ClientConfig {
    ClientConfig::new(
        server.addr.to_string(),
        "localhost",
        certificates_from_file(&server.client.ca).unwrap(),
        certificates_from_file(&server.client.certificate).unwrap(),
        private_key_from_file(&server.client.key).unwrap(),
        provider,
    )
    .unwrap()
}

/// Our client: the entropy pool's provider, as `qkms` and the `kmip` client use it.
fn pool_provider() -> Arc<CryptoProvider> {
    entropy::EntropyPool::new(entropy::EntropyConfig::default())
        .unwrap()
        .rustls_provider()
}

async fn metrics(server: &TestServer) -> String {
    let config = client_config(server, pool_provider())
        .rustls_config()
        .unwrap();
    let mut connection = HttpsConnection::connect(https_addr(server), Arc::new(config))
        .await
        .unwrap();
    let response = connection
        .request("GET", "/metrics", None, b"", false)
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    response.text()
}

/// The value of `qkms_tls_handshakes_total` for these labels (0 when absent).
fn handshakes(metrics: &str, group: &str, version: &str, listener: &str) -> u64 {
    let prefix = format!(
        "qkms_tls_handshakes_total{{group=\"{group}\",version=\"{version}\",listener=\"{listener}\"}} "
    );
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |value| value.parse().unwrap())
}

#[tokio::test]
async fn aws_lc_rs_client_negotiates_x25519mlkem768_with_our_server() {
    let server = server().await;
    let provider = aws_lc_rs(vec![rustls::crypto::aws_lc_rs::kx_group::X25519MLKEM768]);
    let config = client_config(&server, Arc::clone(&provider));
    let stream = connect_tls(server.addr, Arc::new(config.rustls_config().unwrap()))
        .await
        .unwrap();
    let session = stream.get_ref().1;
    assert_eq!(session.protocol_version(), Some(ProtocolVersion::TLSv1_3));
    assert_eq!(
        session.negotiated_key_exchange_group().map(|g| g.name()),
        Some(NamedGroup::X25519MLKEM768)
    );
    // A KMIP exchange over the hybrid channel.
    let mut client = Client::connect(&config).await.unwrap();
    let versions = client.discover_versions(vec![]).await.unwrap();
    assert!(!versions.is_empty());

    let metrics = metrics(&server).await;
    assert_eq!(
        handshakes(&metrics, "X25519MLKEM768", "TLSv1.3", "ttlv"),
        2,
        "{metrics}"
    );
    // Our own client (the pool's provider) also negotiates the hybrid, here on the HTTPS listener.
    assert_eq!(
        handshakes(&metrics, "X25519MLKEM768", "TLSv1.3", "https"),
        1,
        "{metrics}"
    );
    assert!(
        metrics.contains("qkms_tls_os_fallback_draws_total 0"),
        "{metrics}"
    );
}

/// An aws-lc-rs rustls server with the test server's certificate and client CA, offering `groups`; returns
/// its address and the (group, version) of the first handshake it completes.
async fn aws_lc_rs_server(
    server: &TestServer,
    groups: Vec<&'static dyn SupportedKxGroup>,
) -> (
    SocketAddr,
    tokio::task::JoinHandle<(Option<NamedGroup>, Option<ProtocolVersion>)>,
) {
    let provider = aws_lc_rs(groups);
    let mut roots = rustls::RootCertStore::empty();
    for ca in certificates_from_file(&server.config.tls.ca_files[0]).unwrap() {
        roots.add(ca).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            certificates_from_file(&server.config.tls.certificate).unwrap(),
            private_key_from_file(&server.config.tls.key).unwrap(),
        )
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let stream = tokio_rustls::TlsAcceptor::from(Arc::new(config))
            .accept(tcp)
            .await
            .unwrap();
        let session = stream.get_ref().1;
        (
            session.negotiated_key_exchange_group().map(|g| g.name()),
            session.protocol_version(),
        )
    });
    (addr, task)
}

#[tokio::test]
async fn our_client_negotiates_x25519mlkem768_with_an_aws_lc_rs_server() {
    let server = server().await;
    let (addr, seen) = aws_lc_rs_server(
        &server,
        vec![rustls::crypto::aws_lc_rs::kx_group::X25519MLKEM768],
    )
    .await;
    let mut config = client_config(&server, pool_provider());
    config.address = addr.to_string();
    let _client = Client::connect(&config).await.unwrap();
    assert_eq!(
        seen.await.unwrap(),
        (
            Some(NamedGroup::X25519MLKEM768),
            Some(ProtocolVersion::TLSv1_3)
        )
    );
}

#[tokio::test]
async fn our_client_completes_x25519_with_a_server_without_the_hybrid() {
    let server = server().await;
    let (addr, seen) =
        aws_lc_rs_server(&server, vec![rustls::crypto::aws_lc_rs::kx_group::X25519]).await;
    let mut config = client_config(&server, pool_provider());
    config.address = addr.to_string();
    let _client = Client::connect(&config).await.unwrap();
    assert_eq!(
        seen.await.unwrap(),
        (Some(NamedGroup::X25519), Some(ProtocolVersion::TLSv1_3))
    );
}

/// `openssl s_client` against the TTLV listener with `args`; returns its output (stdout and stderr).
async fn s_client(server: &TestServer, args: &[&str]) -> String {
    let mut command = Command::new("openssl");
    command
        .arg("s_client")
        .arg("-connect")
        .arg(server.addr.to_string())
        .args(["-servername", "localhost", "-verify_return_error", "-brief"])
        .arg("-CAfile")
        .arg(&server.client.ca)
        .arg("-cert")
        .arg(&server.client.certificate)
        .arg("-key")
        .arg(&server.client.key)
        .args(args)
        .stdin(std::process::Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("openssl is installed (.ci/run)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("Verification: OK"), "{text}");
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn openssl_s_client_negotiates_x25519_and_p256() {
    let server = server().await;
    let x25519 = s_client(&server, &["-groups", "X25519"]).await;
    assert!(x25519.contains("Protocol version: TLSv1.3"), "{x25519}");
    assert!(x25519.contains("Server Temp Key: X25519"), "{x25519}");
    let p256 = s_client(&server, &["-groups", "P-256"]).await;
    assert!(p256.contains("Server Temp Key: ECDH, prime256v1"), "{p256}");
    // TLS 1.2: the hedged signer signs ServerKeyExchange, and OpenSSL verifies it.
    let tls12 = s_client(&server, &["-groups", "P-256", "-tls1_2"]).await;
    assert!(tls12.contains("Protocol version: TLSv1.2"), "{tls12}");
    assert!(
        tls12.contains("Server Temp Key: ECDH, prime256v1"),
        "{tls12}"
    );
    assert!(tls12.contains("Signature type: ECDSA"), "{tls12}");

    let metrics = metrics(&server).await;
    assert_eq!(
        handshakes(&metrics, "X25519", "TLSv1.3", "ttlv"),
        1,
        "{metrics}"
    );
    assert_eq!(
        handshakes(&metrics, "secp256r1", "TLSv1.3", "ttlv"),
        1,
        "{metrics}"
    );
    assert_eq!(
        handshakes(&metrics, "secp256r1", "TLSv1.2", "ttlv"),
        1,
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_reads_metrics_over_the_https_listener() {
    let server = server().await;
    let port = https_addr(&server).port();
    let mut command = Command::new("curl");
    command
        .args(["--silent", "--show-error", "--fail"])
        .arg("--resolve")
        .arg(format!("localhost:{port}:127.0.0.1"))
        .arg("--cacert")
        .arg(&server.client.ca)
        .arg("--cert")
        .arg(&server.client.certificate)
        .arg("--key")
        .arg(&server.client.key)
        .arg(format!("https://localhost:{port}/metrics"));
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("curl is installed (.ci/run)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // curl's own handshake (OpenSSL 3.0: X25519 first) is counted before its request is answered.
    assert_eq!(handshakes(&text, "X25519", "TLSv1.3", "https"), 1, "{text}");
}
