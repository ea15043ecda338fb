//! Durable before acknowledged, against the real binary: several clients create and register keys, the server
//! is SIGKILLed mid-load, restarted on the same directory, and every object whose Create/Register was answered
//! is there with its key material. Three kills in a row on the same store.

mod e2e_support;

use std::time::{Duration, Instant};

use e2e_support::*;
use kmip::client::Client;
use kmip::ProtocolVersion;

/// Concurrent writer connections.
const WRITERS: usize = 4;
/// Each writer stops by itself after this long (the kill comes well before).
const LOAD_LIMIT: Duration = Duration::from_secs(2);
/// Kills in a row on the same store.
const KILLS: usize = 3;

/// An acknowledged object and what Get must return: the exact bytes of a registered key, or a 256-bit key.
#[derive(Clone, Debug)]
struct Acked {
    uid: String,
    registered: Option<Vec<u8>>,
}

/// Distinct, reproducible key bytes for writer `writer`'s `n`-th Register in round `round`.
fn key_bytes(round: usize, writer: usize, n: usize) -> Vec<u8> {
    let mut state =
        ((round as u64) << 48) ^ ((writer as u64) << 32) ^ (n as u64) ^ 0x9e37_79b9_7f4a_7c15;
    (0..32)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

/// Creates (three in four) and registers (one in four) until the connection fails or `LOAD_LIMIT` passes;
/// returns what was acknowledged and whether the loop ended on a failure (the kill).
async fn write_until_killed(mut client: Client, round: usize, writer: usize) -> (Vec<Acked>, bool) {
    let started = Instant::now();
    let mut acked = Vec::new();
    let mut n = 0;
    while started.elapsed() < LOAD_LIMIT {
        n += 1;
        let result = if n % 4 == 0 {
            let bytes = key_bytes(round, writer, n);
            let name = format!("sigkill-r{round}-w{writer}-{n}");
            client
                .register(register_aes(&bytes, &name, vec![]))
                .await
                .map(|r| Acked {
                    uid: r.unique_identifier,
                    registered: Some(bytes),
                })
        } else {
            let name = format!("sigkill-r{round}-w{writer}-{n}");
            client
                .create(create_aes(256, &name, vec![]))
                .await
                .map(|r| Acked {
                    uid: r.unique_identifier,
                    registered: None,
                })
        };
        match result {
            Ok(object) => acked.push(object),
            Err(_) => return (acked, true),
        }
    }
    (acked, false)
}

/// Gets every acknowledged object over `WRITERS` connections and checks its material.
async fn assert_all_present(server: &ServerProcess, setup: &SetUp, acked: &[Acked]) {
    let chunks: Vec<Vec<Acked>> = acked
        .chunks(acked.len().div_ceil(WRITERS).max(1))
        .map(<[Acked]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let config = server.client_config(&setup.client, ProtocolVersion::V2_1);
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(&config).await.expect("connect");
            for object in chunk {
                let response = client
                    .get(get(&object.uid))
                    .await
                    .unwrap_or_else(|e| panic!("acknowledged object {} lost: {e}", object.uid));
                let bytes = material(&response);
                match &object.registered {
                    Some(expected) => assert_eq!(&bytes, expected, "material of {}", object.uid),
                    None => assert_eq!(bytes.len(), 32, "material of {}", object.uid),
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("verifier task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_object_survives_repeated_sigkill_under_write_load() {
    let setup = SetUp::init();
    let mut acked: Vec<Acked> = Vec::new();
    for round in 0..KILLS {
        let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
        assert_all_present(&server, &setup, &acked).await;

        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let client = server.connect(&setup.client).await;
            writers.push(tokio::spawn(write_until_killed(client, round, writer)));
        }
        // Kill at a different point of the load each round, always well inside LOAD_LIMIT.
        tokio::time::sleep(Duration::from_millis(400 + 250 * round as u64)).await;
        let killed_at = acked.len();
        tokio::task::spawn_blocking(move || server.sigkill())
            .await
            .expect("kill task");

        let mut interrupted = 0;
        for writer in writers {
            let (objects, failed) = writer.await.expect("writer task");
            interrupted += usize::from(failed);
            acked.extend(objects);
        }
        let this_round = acked.len() - killed_at;
        assert!(
            this_round >= WRITERS,
            "round {round}: the load made only {this_round} objects before the kill"
        );
        assert_eq!(
            interrupted, WRITERS,
            "round {round}: every writer must have been cut off by the kill, mid-load"
        );
    }
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    assert_all_present(&server, &setup, &acked).await;
    // The server is usable after the kills: a new key can be made and read back.
    let mut client = server.connect(&setup.client).await;
    let uid = client
        .create(create_aes(128, "after-the-kills", vec![]))
        .await
        .expect("Create after recovery")
        .unique_identifier;
    assert_eq!(material(&client.get(get(&uid)).await.unwrap()).len(), 16);
    eprintln!(
        "{} acknowledged objects over {KILLS} SIGKILLs, all present",
        acked.len()
    );
}
