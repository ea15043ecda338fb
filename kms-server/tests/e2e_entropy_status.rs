//! The entropy status tells the truth, end to end against the real binaries: a quantum-labelled FIFO source
//! whose noise is stuck (one repeated byte, latched off by the SP 800-90B Repetition Count Test) while the OS
//! generator seeds every key. `/health`, `/metrics`, Query's Server Information and a new key's provenance all
//! say not quantum; a tenant cannot reset the source (403, audited); an operator resets it with
//! `qkms entropy reset` once the noise is healthy, and they all say quantum again.

mod e2e_support;
mod https_client;

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e_support::process::client_config;
use e2e_support::*;
use entropy::config::SourceConfig;
use entropy::source::SourceKind;
use https_client::{HttpResponse, HttpsConnection};
use kmip::client::Client;
use kmip::payloads::{QueryFunction, QueryRequest};
use kmip::ProtocolVersion;
use kms_server::pki::files::ClientBundle;

const QRNG: &str = "qrng-fifo";
const OS: &str = "os";
const OPERATOR: &str = "default";

/// Linux `O_NONBLOCK`, for draining the FIFO from the test side.
const O_NONBLOCK: i32 = 0o4000;

const STUCK: u8 = 0;
const HEALTHY: u8 = 1;
const PAUSE: u8 = 2;
const PAUSED: u8 = 3;

/// Feeds the FIFO from a thread: constant bytes (STUCK), pool output (HEALTHY), or nothing (PAUSE, which the
/// thread acknowledges as PAUSED once no write of its own is in flight).
struct NoiseWriter {
    mode: Arc<AtomicU8>,
}

impl NoiseWriter {
    fn start(fifo: PathBuf) -> Self {
        let mode = Arc::new(AtomicU8::new(STUCK));
        let shared = Arc::clone(&mode);
        std::thread::spawn(move || {
            let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
            // Blocks until the server opens its end.
            let Ok(mut pipe) = std::fs::OpenOptions::new().write(true).open(&fifo) else {
                return;
            };
            let mut block = [0u8; 512];
            loop {
                match shared.load(Ordering::SeqCst) {
                    STUCK => block.fill(0x42),
                    HEALTHY => pool.fill(&mut block).map(|_| ()).unwrap(),
                    _ => {
                        shared.store(PAUSED, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                }
                if pipe.write_all(&block).is_err() {
                    return; // the server is gone
                }
            }
        });
        Self { mode }
    }

    /// Stops the writer, drains what it left in the FIFO, and switches it to healthy noise.
    fn switch_to_healthy(&self, fifo: &Path) {
        self.mode.store(PAUSE, Ordering::SeqCst);
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NONBLOCK)
            .open(fifo)
            .expect("open the FIFO to drain it");
        let mut scratch = [0u8; 65536];
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let paused = self.mode.load(Ordering::SeqCst) == PAUSED;
            loop {
                match reader.read(&mut scratch) {
                    Ok(n) if n > 0 => continue,
                    _ => break,
                }
            }
            if paused {
                break;
            }
            assert!(Instant::now() < deadline, "the noise writer never paused");
            std::thread::sleep(Duration::from_millis(5));
        }
        self.mode.store(HEALTHY, Ordering::SeqCst);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn https_get(
    server: &SetUp,
    bundle: &ClientBundle,
    method: &str,
    path: &str,
) -> HttpResponse {
    let addr: std::net::SocketAddr = server.config.https.listen.parse().unwrap();
    let config = client_config(addr, bundle, ProtocolVersion::V2_1)
        .rustls_config()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut connection = loop {
        match HttpsConnection::connect(addr, Arc::new(config.clone())).await {
            Ok(connection) => break connection,
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("HTTPS connect: {error}"),
        }
    };
    connection
        .request(method, path, None, b"", false)
        .await
        .unwrap()
}

fn json(response: &HttpResponse) -> serde_json::Value {
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "{response:?}"
    );
    serde_json::from_slice(&response.body).unwrap_or_else(|e| panic!("{e}: {}", response.text()))
}

async fn server_information(client: &mut Client) -> String {
    let response = client
        .query(QueryRequest {
            query_functions: vec![QueryFunction::QueryServerInformation],
        })
        .await
        .unwrap();
    format!(
        "{:?}",
        response.server_information.expect("server information")
    )
}

/// Creates an AES key and returns its `x-qkms-entropy-quantum` provenance attribute.
async fn new_key_is_quantum(client: &mut Client, name: &str) -> String {
    let uid = client
        .create(create_aes(256, name, vec![]))
        .await
        .unwrap()
        .unique_identifier;
    let attributes = attributes_of(client.get_attributes(get_attributes(&uid)).await.unwrap());
    match attributes.custom("x", "qkms-entropy-quantum") {
        Some(ttlv::Value::TextString(value)) => value.clone(),
        other => panic!("no provenance attribute: {other:?}"),
    }
}

/// `qkms entropy reset --config ... --source ID [--cert --key]`.
fn qkms_reset(setup: &SetUp, source: &str, bundle: &ClientBundle) -> std::process::Output {
    Command::new(qkms_binary())
        .args(["entropy", "reset", "--config"])
        .arg(&setup.config_file)
        .args(["--source", source, "--cert"])
        .arg(&bundle.certificate)
        .arg("--key")
        .arg(&bundle.key)
        .output()
        .expect("qkms runs")
}

fn metric(text: &str, line_start: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix(line_start))
        .unwrap_or_else(|| panic!("{line_start} missing:\n{text}"))
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latched_quantum_source_is_reported_as_not_quantum_until_an_operator_resets_it() {
    let https_port = free_port();
    let mut setup = SetUp::init_with(|config| {
        config.https.enabled = true;
        config.https.listen = format!("127.0.0.1:{https_port}");
        config.auth.operators = vec![OPERATOR.into()];
    });
    let tenant = setup.issue_client("tenant-b");
    let fifo = setup.path().join("qrng.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    setup.rewrite_config(|config| {
        let mut qrng = SourceConfig::new(SourceKind::CharDevice, QRNG);
        qrng.path = Some(fifo.clone());
        qrng.min_entropy_per_sample = Some(8.0);
        qrng.quantum = true;
        let mut os = SourceConfig::new(SourceKind::Os, OS);
        os.min_entropy_per_sample = Some(8.0);
        config.entropy.sources = vec![qrng, os];
    });
    let writer = NoiseWriter::start(fifo.clone());
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let operator = setup.client.clone();
    let mut client = server.connect(&operator).await;

    // Latched at the start-up seed: the OS seeds, and everything says not quantum.
    let health = json(&https_get(&setup, &operator, "GET", "/health").await);
    assert_eq!(health["entropy"]["quantum"], false, "{health:#}");
    assert_eq!(
        health["entropy"]["seeding_sources"],
        serde_json::json!([OS])
    );
    let qrng = &health["entropy"]["sources"][0];
    assert_eq!(qrng["id"], QRNG);
    assert_eq!(qrng["quantum"], true, "the kind's claim is kept: {qrng}");
    assert_eq!(qrng["contributing"], false, "{qrng}");
    assert_eq!(qrng["health"], "persistent-failure", "{qrng}");
    assert_eq!(
        qrng["randomness"], "quantum device, NOT contributing now",
        "{qrng}"
    );
    assert!(
        server.log().contains("entropy: NOT quantum-seeded now"),
        "the start-up log says what seeds:\n{}",
        server.log()
    );
    let info = server_information(&mut client).await;
    assert!(info.contains("not quantum-seeded now"), "{info}");
    assert!(!info.contains("qkms quantum-seeded"), "{info}");
    assert_eq!(
        new_key_is_quantum(&mut client, "while-latched").await,
        "false"
    );
    let metrics = https_get(&setup, &operator, "GET", "/metrics").await.text();
    assert_eq!(metric(&metrics, "qkms_entropy_quantum_seeding "), "0");
    assert_eq!(
        metric(
            &metrics,
            &format!("qkms_entropy_source_contributing{{source=\"{QRNG}\"}} ")
        ),
        "0"
    );

    // A tenant may not reset it; an unknown source is refused; both answers are JSON, and audited.
    let refused = https_get(
        &setup,
        &tenant,
        "POST",
        &format!("/v1/entropy/sources/{QRNG}/reset"),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(json(&refused)["error"]
        .as_str()
        .unwrap()
        .contains("operators"));
    let output = qkms_reset(&setup, QRNG, &tenant);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HTTP 403"), "{stderr}");
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one line, no backtrace: {stderr}"
    );
    let unknown = https_get(&setup, &operator, "POST", "/v1/entropy/sources/nope/reset").await;
    assert_eq!(unknown.status, 404);
    assert!(json(&unknown)["error"].as_str().unwrap().contains("nope"));

    // Healthy noise again: still latched until the operator resets it with the qkms command.
    writer.switch_to_healthy(&fifo);
    assert_eq!(
        new_key_is_quantum(&mut client, "still-latched").await,
        "false"
    );
    let output = qkms_reset(&setup, QRNG, &operator);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("\"healthy\"") && stdout.contains("quantum now"),
        "{stdout}"
    );

    let health = json(&https_get(&setup, &operator, "GET", "/health").await);
    assert_eq!(health["entropy"]["quantum"], true, "{health:#}");
    assert_eq!(
        health["entropy"]["seeding_sources"],
        serde_json::json!([QRNG])
    );
    assert_eq!(health["entropy"]["sources"][0]["contributing"], true);
    let log = server.log();
    assert!(
        log.contains("entropy source reset by an operator")
            && log.contains("entropy: seeds are quantum"),
        "the log records the reset and the return to quantum seeds:\n{log}"
    );
    let info = server_information(&mut client).await;
    assert!(info.contains("; quantum-seeded now"), "{info}");
    assert_eq!(new_key_is_quantum(&mut client, "after-reset").await, "true");
    let metrics = https_get(&setup, &operator, "GET", "/metrics").await.text();
    assert_eq!(metric(&metrics, "qkms_entropy_quantum_seeding "), "1");

    // The audit log holds every attempt, with who asked and how it ended.
    let audit = std::fs::read_to_string(&setup.config.audit.path).unwrap();
    let resets: Vec<serde_json::Value> = audit
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|record| record["operation"] == "EntropySourceReset")
        .map(|record| serde_json::json!([record["tenant"], record["result"], record["objects"][0]]))
        .collect();
    let source = format!("entropy-source:{QRNG}");
    assert_eq!(
        resets,
        [
            serde_json::json!(["tenant-b", "PermissionDenied", source]),
            serde_json::json!(["tenant-b", "PermissionDenied", source]),
            serde_json::json!([OPERATOR, "ItemNotFound", "entropy-source:nope"]),
            serde_json::json!([OPERATOR, "Success", source]),
        ]
    );
    drop(client);
    assert!(server.stop(), "the server stops cleanly");
}
