//! One tenant's batches cannot starve the others (issue #11, part 2). Found: 4 connections sending 160,000 Hash
//! items each stalled every other client for 16 s, because decoding and the inline operations ran on the async
//! workers. Now large messages are decoded and run on the blocking pool (within the server's offload slots),
//! and a message holds at most `[limits] max_batch_items` items.
//!
//! This test runs the `qkms-server` binary with four attacking connections (each alternating a 150,000-item
//! Hash message, refused whole, and 1,000-item Hash batches of 4 KiB items, encoded once) and measures another
//! client's Discover Versions round trips meanwhile, from its own thread and runtime so that the attackers'
//! client-side work cannot delay it: p99 must stay under 100 ms. It prints the figures
//! (`cargo test -p kms-server --test e2e_fairness_under_load -- --nocapture`; recorded in BENCHMARKS.md).

mod e2e_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e_support::*;
use kmip::attributes::CryptographicParameters;
use kmip::enums::HashingAlgorithm;
use kmip::payloads::HashRequest;
use kmip::{ProtocolVersion, RequestBatchItem, RequestMessage, ResultReason, ResultStatus};

const ATTACKERS: usize = 4;
const SAMPLES: usize = 300;
const P99_LIMIT: Duration = Duration::from_millis(100);

fn hash_batch(items: usize, bytes: usize) -> Vec<u8> {
    let item = RequestBatchItem::new(HashRequest {
        cryptographic_parameters: CryptographicParameters {
            hashing_algorithm: Some(HashingAlgorithm::Sha256),
            ..CryptographicParameters::default()
        },
        data: Some(vec![0xa5; bytes]),
        correlation_value: None,
        init_indicator: None,
        final_indicator: None,
    });
    let message = RequestMessage::new(ProtocolVersion::V2_1, vec![item; items]);
    ttlv::binary::encode(&message.to_ttlv()).expect("encodable")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn discover_versions_stays_fast_while_four_connections_flood_hash_batches() {
    let setup = SetUp::init();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let config = Arc::new(server.client_config(&setup.client, ProtocolVersion::V2_1));
    let stop = Arc::new(AtomicBool::new(false));
    let hashed = Arc::new(AtomicU64::new(0));
    let huge = Arc::new(hash_batch(150_000, 16));
    let full = Arc::new(hash_batch(1_000, 4096));

    let mut attackers = Vec::new();
    for _ in 0..ATTACKERS {
        let (config, stop, hashed) = (Arc::clone(&config), Arc::clone(&stop), Arc::clone(&hashed));
        let (huge, full) = (Arc::clone(&huge), Arc::clone(&full));
        attackers.push(tokio::spawn(async move {
            let mut client = kmip::client::Client::connect(&config)
                .await
                .expect("attacker connects");
            while !stop.load(Ordering::Relaxed) {
                let refused = client
                    .send_encoded(&huge)
                    .await
                    .expect("the huge batch is answered");
                assert_eq!(refused.items.len(), 1);
                assert_failed(&refused.items[0], ResultReason::InvalidMessage);
                for _ in 0..3 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let done = client
                        .send_encoded(&full)
                        .await
                        .expect("a full batch is answered");
                    assert!(done
                        .items
                        .iter()
                        .all(|i| i.result_status == ResultStatus::Success));
                    hashed.fetch_add(done.items.len() as u64, Ordering::Relaxed);
                }
            }
        }));
    }
    // Let the flood build up before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let victim_config = Arc::clone(&config);
    let victim = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the victim's runtime");
        runtime.block_on(async move {
            let mut victim = kmip::client::Client::connect(&victim_config)
                .await
                .expect("victim connects");
            let mut latencies = Vec::with_capacity(SAMPLES);
            let started = Instant::now();
            for _ in 0..SAMPLES {
                let sent = Instant::now();
                victim
                    .discover_versions(vec![])
                    .await
                    .expect("discover versions");
                latencies.push(sent.elapsed());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (latencies, started.elapsed())
        })
    });
    let (mut latencies, measured_for) = tokio::task::spawn_blocking(move || victim.join())
        .await
        .expect("join")
        .expect("the victim thread");
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        attacker.await.expect("attacker task");
    }
    latencies.sort();
    let p50 = latencies[SAMPLES / 2];
    let p99 = latencies[SAMPLES * 99 / 100];
    let max = latencies[SAMPLES - 1];
    println!(
        "Discover Versions under a {ATTACKERS}-connection Hash flood ({} items hashed in {measured_for:.1?}): \
         p50 {p50:.2?}, p99 {p99:.2?}, max {max:.2?}",
        hashed.load(Ordering::Relaxed)
    );
    assert!(
        hashed.load(Ordering::Relaxed) > 0,
        "the flood really ran alongside the measurement"
    );
    assert!(
        p99 < P99_LIMIT,
        "Discover Versions p99 {p99:?} under the flood"
    );
}
