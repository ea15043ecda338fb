//! A server whose root key is in SoftHSM2, seen from outside: `/metrics` counts the pool bytes seeded into the HSM
//! (`qkms_hsm_seeded_bytes_total{hsm="LABEL"}`), `/health` shows the last success; when the token disappears the
//! periodic seeding fails and says so while KMIP Create and Get keep working over TLS; when the token returns,
//! seeding resumes by itself.

mod common;
mod e2e_support;
mod https_client;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestServer;
use e2e_support::{create_aes, get};
use hsm_bridge::softhsm::{SoftHsmToken, SOFTHSM2_MODULE};
use https_client::HttpsConnection;
use kms_server::config::RootKeyKind;

const LABEL: &str = "https-hsm";

async fn operator(server: &TestServer) -> HttpsConnection {
    let ops = server.issue_client("ops");
    let config = server
        .client_config_for(&ops, kmip::ProtocolVersion::V2_1)
        .rustls_config()
        .unwrap();
    let addr = server.running().https_local_addr().unwrap();
    HttpsConnection::connect(addr, Arc::new(config))
        .await
        .unwrap()
}

async fn health(connection: &mut HttpsConnection) -> serde_json::Value {
    let response = connection
        .request("GET", "/health", None, b"", false)
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    serde_json::from_slice(&response.body).unwrap()
}

/// Polls `/health` until `done` holds for the HSM entry (the seeder runs every second).
async fn wait_for(
    connection: &mut HttpsConnection,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let document = health(connection).await;
        if done(&document["hsm"][0]) {
            return document;
        }
        assert!(Instant::now() < deadline, "{what}: {document}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_show_hsm_seeding_and_a_lost_token_does_not_stop_kmip() {
    let hsm_dir = tempfile::tempdir().unwrap();
    let token = SoftHsmToken::create(hsm_dir.path(), LABEL, "pin-8642").unwrap();
    token.activate();
    let server = TestServer::start_with(|config| {
        config.https.enabled = true;
        config.https.listen = "127.0.0.1:0".into();
        config.auth.operators = vec!["ops".into()];
        config.root_key.kind = RootKeyKind::Pkcs11;
        config.root_key.module = SOFTHSM2_MODULE.into();
        config.root_key.token_label = LABEL.into();
        config.root_key.pin_file = token.pin_file.clone();
        config.hsm.seed.interval_secs = 1;
        config.hsm.seed.bytes = 32;
    })
    .await;
    assert!(!server.dir.path().join("root.pass").exists());
    let mut ops = operator(&server).await;

    let seeded = wait_for(&mut ops, "first seeding", |hsm| {
        hsm["seedings"].as_u64() >= Some(2)
    })
    .await;
    assert_eq!(seeded["hsm"][0]["hsm"], LABEL, "{seeded}");
    assert!(
        seeded["hsm"][0]["last_seed_success_unix"].is_i64(),
        "{seeded}"
    );
    assert_eq!(seeded["status"], "ok");
    let response = ops
        .request("GET", "/metrics", None, b"", false)
        .await
        .unwrap();
    let metrics = response.text();
    let bytes_line = metrics
        .lines()
        .find(|l| l.starts_with("qkms_hsm_seeded_bytes_total{hsm=\"https-hsm\"} "))
        .unwrap_or_else(|| panic!("{metrics}"));
    let bytes: u64 = bytes_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(bytes >= 64 && bytes.is_multiple_of(32), "{bytes_line}");
    assert!(metrics.contains("# TYPE qkms_hsm_seeded_bytes_total counter"));
    assert!(metrics.contains("qkms_hsm_seed_not_supported_total{hsm=\"https-hsm\"} 0"));

    // The token disappears: seeding fails and says why; KMIP keeps working on the unwrapped data key.
    let aside = token.remove().unwrap();
    let lost = wait_for(&mut ops, "seeding failure", |hsm| {
        hsm["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("unavailable"))
    })
    .await;
    assert!(
        lost["hsm"][0]["seed_failures"].as_u64() >= Some(1),
        "{lost}"
    );
    assert_eq!(lost["status"], "ok", "the pool still makes keys: {lost}");
    let mut client = server.connect().await;
    let uid = client
        .create(create_aes(256, "while-the-hsm-is-away", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    client.get(get(&uid)).await.unwrap();

    // It comes back: the bridge reconnects by itself and seeding resumes.
    token.restore(&aside).unwrap();
    let failures = lost["hsm"][0]["seed_failures"].as_u64().unwrap();
    let back = wait_for(&mut ops, "seeding after the token returned", |hsm| {
        hsm["last_error"].is_null() && hsm["seed_failures"].as_u64() >= Some(failures)
    })
    .await;
    assert!(back["hsm"][0]["seedings"].as_u64() > seeded["hsm"][0]["seedings"].as_u64());
    client.get(get(&uid)).await.unwrap();
}
