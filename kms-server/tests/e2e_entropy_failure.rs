//! Entropy failure end to end, against the real binary: a key is made under a healthy configuration; the
//! server is restarted with its only entropy source stuck (a recording of one repeated byte, which the SP
//! 800-90B health tests reject).
//!
//! The server starts and names the failing source; Create and RNG Retrieve fail closed with a message naming it,
//! while Get and Locate of existing objects keep working: TLS randomness, handshake secrets included, falls back to
//! the (labelled, counted) OS generator under the default `[tls] on_entropy_failure = "os-fallback"`
//! (`entropy::tls`), and attribute-only updates (a Get clearing Fresh) reuse the sealed blob instead of drawing a
//! fresh nonce (`store::sled_store`). Under `on_entropy_failure = "refuse"` handshakes are refused instead.

mod e2e_support;

use e2e_support::*;
use entropy::config::SourceConfig;
use entropy::source::SourceKind;
use kmip::client::ClientError;
use kmip::payloads::RngRetrieveRequest;
use kmip::{ProtocolVersion, ResultReason};

const STUCK_SOURCE: &str = "stuck-qrng";

/// Points `[entropy]` at a file of one repeated byte, credited as a quantum source (a recording is credited only
/// under the test-only `allow_replay_credit`).
fn stuck_entropy(setup: &mut SetUp) {
    let recording = setup.path().join("stuck.bin");
    std::fs::write(&recording, vec![0x42u8; 1 << 20]).expect("write the recording");
    setup.rewrite_config(|config| {
        let mut source = SourceConfig::new(SourceKind::Replay, STUCK_SOURCE);
        source.path = Some(recording);
        source.min_entropy_per_sample = Some(8.0);
        source.quantum = true;
        config.entropy.sources = vec![source];
        config.entropy.allow_replay_credit = true;
        // Fail in a fraction of a second rather than the default 5 s seeding wait.
        config.entropy.drbg.seed_timeout_ms = 300;
    });
}

/// Asserts `result` is a failure with a Result Reason and a message naming the stuck source.
fn assert_fails_naming_the_source<T: std::fmt::Debug>(what: &str, result: Result<T, ClientError>) {
    match result {
        Err(ClientError::Operation {
            reason, message, ..
        }) => {
            assert_eq!(
                reason,
                ResultReason::CryptographicFailure,
                "{what}: {message}"
            );
            assert!(
                message.contains(STUCK_SOURCE),
                "{what}: the message must name the failing source: {message}"
            );
        }
        other => panic!("{what}: expected a failure naming {STUCK_SOURCE}, got {other:?}"),
    }
}

/// A set-up holding one AES key and one secret made while healthy, now configured with the stuck source.
struct Prepared {
    setup: SetUp,
    uid: String,
    key: Vec<u8>,
    secret_uid: String,
    secret: Vec<u8>,
}

async fn prepare() -> Prepared {
    let mut setup = SetUp::init();
    let healthy = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = healthy.connect(&setup.client).await;
    let uid = client
        .create(create_aes(256, "made-while-healthy", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    let key = material(&client.get(get(&uid)).await.unwrap());
    let secret = b"registered while healthy".to_vec();
    let secret_uid = client
        .register(register_secret(&secret, "secret-while-healthy", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    assert_eq!(client.rng_retrieve(32).await.unwrap().len(), 32);
    drop(client);
    assert!(
        healthy.stop(),
        "the healthy server stops cleanly on SIGTERM"
    );
    stuck_entropy(&mut setup);
    Prepared {
        setup,
        uid,
        key,
        secret_uid,
        secret,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_source_is_named_at_start_up_and_the_server_still_starts() {
    let prepared = prepare().await;
    let failing = ServerProcess::start_with_log(&prepared.setup, "stuck")
        .unwrap_or_else(|log| panic!("the server must start with a failing source: {log}"));
    let log = failing.log();
    assert!(
        log.contains("entropy pool cannot seed") && log.contains(STUCK_SOURCE),
        "the start-up log says the pool cannot seed and names the source:\n{log}"
    );
    // The failing start harmed nothing: back on a healthy source, the objects made before are all there.
    drop(failing);
    let mut setup = prepared.setup;
    setup.rewrite_config(|config| config.entropy = Default::default());
    let healthy = ServerProcess::start_with_log(&setup, "healthy-again")
        .unwrap_or_else(|log| panic!("{log}"));
    let mut client = healthy.connect(&setup.client).await;
    assert_eq!(
        material(&client.get(get(&prepared.uid)).await.unwrap()),
        prepared.key
    );
    assert_eq!(
        material(&client.get(get(&prepared.secret_uid)).await.unwrap()),
        prepared.secret
    );
    assert_eq!(client.rng_retrieve(16).await.unwrap().len(), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_keeps_working_while_create_and_rng_retrieve_fail_closed() {
    let prepared = prepare().await;
    let failing = ServerProcess::start_with_log(&prepared.setup, "stuck")
        .unwrap_or_else(|log| panic!("the server must start with a failing source: {log}"));
    for version in [ProtocolVersion::V2_1, ProtocolVersion::V1_4] {
        let mut client = match failing
            .connect_as_version(&prepared.setup.client, version)
            .await
        {
            Ok(client) => client,
            Err(error) => panic!(
                "no client can connect while the pool fails closed ({error}); server log:\n{}",
                failing.log()
            ),
        };
        assert_fails_naming_the_source(
            "Create",
            client.create(create_aes(256, "never", vec![])).await,
        );
        assert_fails_naming_the_source(
            "RNG Retrieve",
            client
                .rng_retrieve_with(RngRetrieveRequest { data_length: 16 })
                .await,
        );
        // Reading what exists needs no randomness.
        assert_eq!(
            material(&client.get(get(&prepared.uid)).await.unwrap()),
            prepared.key
        );
        assert_eq!(
            material(&client.get(get(&prepared.secret_uid)).await.unwrap()),
            prepared.secret
        );
        let found = client
            .locate(locate_name("made-while-healthy"))
            .await
            .unwrap()
            .unique_identifiers;
        assert_eq!(found, std::slice::from_ref(&prepared.uid));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_on_entropy_failure_refuse_refuses_handshakes_while_the_pool_fails() {
    let mut prepared = prepare().await;
    prepared.setup.rewrite_config(|config| {
        config.tls.on_entropy_failure = entropy::tls::OnEntropyFailure::Refuse;
    });
    let refusing = ServerProcess::start_with_log(&prepared.setup, "refuse")
        .unwrap_or_else(|log| panic!("the server must start with a failing source: {log}"));
    let refused = refusing
        .connect_as_version(&prepared.setup.client, ProtocolVersion::V2_1)
        .await;
    let refused = match refused {
        Err(error) => error.to_string(),
        // TLS 1.3 can finish the client's side before the server's refusal arrives: the first exchange fails.
        Ok(mut client) => match client.get(get(&prepared.uid)).await {
            Err(error) => error.to_string(),
            Ok(_) => panic!("a handshake completed under refuse while the pool fails closed"),
        },
    };
    assert!(!refused.is_empty());
    // The server logs the refusal (the client may see the alert before the line is written).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !refusing.log().contains("on_entropy_failure = \"refuse\"")
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let log = refusing.log();
    assert!(
        log.contains("on_entropy_failure = \"refuse\"") && log.contains("TLS handshake refused"),
        "the server logs the refused handshake:\n{log}"
    );
}
