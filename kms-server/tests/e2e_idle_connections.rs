//! Measuring tool (ignored by default; run it on purpose):
//!
//! ```text
//! cargo test -p kms-server --test e2e_idle_connections -- --ignored --nocapture
//! ```
//!
//! Starts the `qkms-server` binary, opens 1,000 mutual-TLS connections that each complete one request (so
//! the server holds them as established, authenticated, idle sessions), and reports the server's resident set
//! size from /proc/PID/status. The target is at most 100 MB.

mod e2e_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e_support::*;
use kmip::client::Client;

const CONNECTIONS: usize = 1_000;
/// Handshakes in flight at once while opening.
const OPENING_AT_ONCE: usize = 50;
const TARGET_MIB: u64 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: run with --ignored --nocapture"]
async fn server_rss_with_1000_idle_mutual_tls_connections() {
    let setup = SetUp::init();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    // Warm up: one connection and a few operations, so lazily built state is counted in the baseline.
    let mut warm = server.connect(&setup.client).await;
    warm.discover_versions(vec![]).await.unwrap();
    warm.rng_retrieve(32).await.unwrap();
    drop(warm);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let baseline = server.rss_kib();

    let config = Arc::new(server.client_config(&setup.client, kmip::ProtocolVersion::V2_1));
    let started = Instant::now();
    let mut clients: Vec<Client> = Vec::with_capacity(CONNECTIONS);
    while clients.len() < CONNECTIONS {
        let wave = OPENING_AT_ONCE.min(CONNECTIONS - clients.len());
        let mut opening = Vec::with_capacity(wave);
        for _ in 0..wave {
            let config = Arc::clone(&config);
            opening.push(tokio::spawn(async move {
                let mut client = Client::connect(&config).await.expect("connect");
                // One exchange: the server has verified the certificate and parked the session as idle.
                client.discover_versions(vec![]).await.expect("discover");
                client
            }));
        }
        for task in opening {
            clients.push(task.await.expect("opening task"));
        }
    }
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let loaded = server.rss_kib();
    // Every connection is still alive and answering.
    for client in clients.iter_mut().step_by(100) {
        client
            .discover_versions(vec![])
            .await
            .expect("still connected");
    }
    let per_connection = (loaded.saturating_sub(baseline)) as f64 / CONNECTIONS as f64;
    println!(
        "qkms-server RSS: {:.1} MiB at rest, {:.1} MiB with {CONNECTIONS} idle mutual-TLS connections \
         ({per_connection:.1} KiB per connection; opened in {opened_in:.1?})",
        baseline as f64 / 1024.0,
        loaded as f64 / 1024.0,
    );
    assert!(
        loaded <= TARGET_MIB * 1024,
        "RSS {loaded} KiB exceeds the {TARGET_MIB} MiB target"
    );
}
