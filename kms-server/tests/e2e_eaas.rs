//! Entropy as a service end to end: the real server binary over mutual TLS, the real `qkms eaas` client.
//!
//! - `qkms eaas fetch` gets, verifies and writes bytes; a second fetch links to the first; `qkms eaas verify`
//!   accepts the pair and refuses a tampered byte, a replayed envelope (wrong nonce, wrong order), a wrong CA
//!   and a wrong data file, each with its own message.
//! - Bad parameters answer 400 naming the field; quotas answer 429 with Retry-After naming the limit;
//!   `/v1/usage` shows the tenant's own usage (operators: everyone's); usage and the sequence survive a restart,
//!   and a kill -9 never makes the server reuse a sequence number.
//! - HPKE-encrypted envelopes (`eaas_encrypted`): they open with the registered key (in qkms and in Python's
//!   `cryptography`) and only with it; unusable keys are 400 naming `encrypt`.

mod e2e_support;
mod eaas_encrypted;
mod https_client;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e_support::process::client_config;
use e2e_support::*;
use https_client::{HttpResponse, HttpsConnection};
use kmip::ProtocolVersion;
use kms_server::config::EaasTenantLimits;
use kms_server::pki::files::ClientBundle;

fn set_up(edit: impl FnOnce(&mut kms_server::config::Config)) -> SetUp {
    let https = free_loopback_address();
    SetUp::init_with(|config| {
        config.https.enabled = true;
        config.https.listen = https;
        config.auth.operators = vec!["ops".into()];
        edit(config);
    })
}

fn qkms(args: &[&str], config: &Path) -> std::process::Output {
    let mut command = Command::new(qkms_binary());
    command.arg("eaas").args(args);
    if args[0] == "fetch" {
        command.arg("--config").arg(config);
    }
    command.output().expect("qkms runs")
}

fn ok(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "qkms failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn refused(output: &std::process::Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "accepted, expected a refusal naming {expected:?}"
    );
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
}

async fn get(setup: &SetUp, bundle: &ClientBundle, path: &str) -> HttpResponse {
    let addr: std::net::SocketAddr = setup.config.https.listen.parse().unwrap();
    let config = client_config(addr, bundle, ProtocolVersion::V2_1)
        .rustls_config()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut connection = loop {
        match HttpsConnection::connect(addr, Arc::new(config.clone())).await {
            Ok(connection) => break connection,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(error) => panic!("HTTPS connect: {error}"),
        }
    };
    connection
        .request("GET", path, None, b"", false)
        .await
        .unwrap()
}

fn json(response: &HttpResponse) -> serde_json::Value {
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "{}",
        response.text()
    );
    serde_json::from_slice(&response.body).expect("a JSON body")
}

#[test]
fn fetched_envelopes_verify_chain_and_refuse_tampering() {
    let setup = set_up(|_| {});
    let _server = ServerProcess::start(&setup).expect("server starts");
    let dir = setup.path();
    let path = |name: &str| dir.join(name).display().to_string();
    let config = setup.config_file.clone();

    let first = ok(&qkms(
        &[
            "fetch",
            "--bytes",
            "32",
            "--out",
            &path("d1"),
            "--envelope",
            &path("e1.json"),
        ],
        &config,
    ));
    assert!(first.contains("32 bytes from qkms-"), "{first}");
    assert!(
        first.contains("not quantum"),
        "the OS fallback is not called quantum: {first}"
    );
    assert_eq!(std::fs::read(path("d1")).unwrap().len(), 32);
    ok(&qkms(
        &[
            "fetch",
            "--bytes",
            "1000",
            "--out",
            &path("d2"),
            "--envelope",
            &path("e2.json"),
            "--previous",
            &path("e1.json"),
        ],
        &config,
    ));
    let e1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("e1.json")).unwrap()).unwrap();
    let e2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("e2.json")).unwrap()).unwrap();
    assert_eq!(
        e2["sequence"].as_u64(),
        Some(e1["sequence"].as_u64().unwrap() + 1)
    );
    assert_eq!(e1["tenant"], "default");
    assert_eq!(
        e1["nonce"].as_str().unwrap().len(),
        64,
        "a 32-byte nonce from the client"
    );
    assert_ne!(
        std::fs::read(path("d1")).unwrap(),
        std::fs::read(path("d2")).unwrap()[..32]
    );

    let ca = setup.client.ca.display().to_string();
    let verified = ok(&qkms(
        &[
            "verify",
            "--envelope",
            &path("e2.json"),
            "--ca",
            &ca,
            "--data",
            &path("d2"),
            "--previous",
            &path("e1.json"),
            "--nonce",
            e2["nonce"].as_str().unwrap(),
        ],
        &config,
    ));
    assert!(verified.starts_with("valid: 1000 bytes"), "{verified}");

    // One changed data byte (a different base64 digit in the middle of the data).
    let mut tampered = e2.clone();
    let mut data = tampered["data"].as_str().unwrap().to_owned();
    let middle = data.len() / 2;
    let replacement = if &data[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    data.replace_range(middle..=middle, replacement);
    tampered["data"] = data.into();
    std::fs::write(path("tampered.json"), tampered.to_string()).unwrap();
    refused(
        &qkms(
            &["verify", "--envelope", &path("tampered.json"), "--ca", &ca],
            &config,
        ),
        "the signature does not verify",
    );
    // A changed sequence number, provenance or tenant is as detectable.
    for (field, value) in [
        ("sequence", serde_json::json!(999)),
        ("tenant", serde_json::json!("other")),
    ] {
        let mut altered = e2.clone();
        altered[field] = value;
        std::fs::write(path("altered.json"), altered.to_string()).unwrap();
        refused(
            &qkms(
                &["verify", "--envelope", &path("altered.json"), "--ca", &ca],
                &config,
            ),
            "the signature does not verify",
        );
    }
    let mut altered = e2.clone();
    altered["provenance"]["quantum"] = true.into();
    std::fs::write(path("altered.json"), altered.to_string()).unwrap();
    refused(
        &qkms(
            &["verify", "--envelope", &path("altered.json"), "--ca", &ca],
            &config,
        ),
        "the signature does not verify",
    );
    // A replayed envelope: answered to another request's nonce, or out of chain order.
    refused(
        &qkms(
            &[
                "verify",
                "--envelope",
                &path("e1.json"),
                "--ca",
                &ca,
                "--nonce",
                e2["nonce"].as_str().unwrap(),
            ],
            &config,
        ),
        "not the",
    );
    refused(
        &qkms(
            &[
                "verify",
                "--envelope",
                &path("e1.json"),
                "--ca",
                &ca,
                "--previous",
                &path("e2.json"),
            ],
            &config,
        ),
        "chain link is broken",
    );
    // Data that is not the envelope's.
    refused(
        &qkms(
            &[
                "verify",
                "--envelope",
                &path("e2.json"),
                "--ca",
                &ca,
                "--data",
                &path("d1"),
            ],
            &config,
        ),
        "does not match",
    );
    // Another installation's CA.
    let other = set_up(|_| {});
    refused(
        &qkms(
            &[
                "verify",
                "--envelope",
                &path("e2.json"),
                "--ca",
                &other.client.ca.display().to_string(),
            ],
            &config,
        ),
        "does not chain to the given CA",
    );
    // A fetch whose answer links elsewhere is refused before anything is written.
    refused(
        &qkms(
            &[
                "fetch",
                "--bytes",
                "8",
                "--out",
                &path("d3"),
                "--envelope",
                &path("e3.json"),
                "--previous",
                &path("e1.json"),
            ],
            &config,
        ),
        "chain link is broken",
    );
    assert!(!dir.join("d3").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_quotas_usage_and_restarts() {
    let mut setup = set_up(|config| {
        config.eaas.default_limits.max_bytes_per_request = 4096;
        config.eaas.tenants.insert(
            "default".into(),
            EaasTenantLimits {
                bytes_per_day: Some(100),
                ..EaasTenantLimits::default()
            },
        );
    });
    let ops = setup.issue_client("ops");
    let other = setup.issue_client("other");
    let server = ServerProcess::start(&setup).expect("server starts");
    let client = setup.client.clone();

    for (query, field) in [
        ("bytes=0", "bytes"),
        ("bytes=abc", "bytes"),
        ("bytes=-5", "bytes"),
        ("nonce=00", "bytes"),
        ("bytes=8&nonce=xyz", "nonce"),
        ("bytes=8&nonce=0", "nonce"),
        ("bytes=8&colour=red", "colour"),
        ("bytes=8&bytes=9", "bytes"),
        ("bytes=8&encrypt=key-1", "encrypt"),
    ] {
        let response = get(&setup, &client, &format!("/v1/random?{query}")).await;
        assert_eq!(response.status, 400, "{query}: {}", response.text());
        assert_eq!(json(&response)["field"], field, "{query}");
    }
    let long_nonce = "ab".repeat(65);
    let response = get(
        &setup,
        &client,
        &format!("/v1/random?bytes=8&nonce={long_nonce}"),
    )
    .await;
    assert_eq!(
        (response.status, json(&response)["field"].as_str()),
        (400, Some("nonce"))
    );
    let response = get(&setup, &other, "/v1/random?bytes=4097").await;
    assert_eq!(response.status, 400);
    assert_eq!(json(&response)["limit"], "max_bytes_per_request");

    // Tenant "default" may take 100 bytes a day.
    let response = get(&setup, &client, "/v1/random?bytes=64&nonce=01").await;
    assert_eq!(response.status, 200, "{}", response.text());
    let first = json(&response);
    let response = get(&setup, &client, "/v1/random?bytes=64&nonce=02").await;
    assert_eq!(response.status, 429, "{}", response.text());
    assert_eq!(json(&response)["limit"], "bytes_per_day");
    let retry: u64 = response
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry));
    // Another tenant is not limited by it.
    let response = get(&setup, &other, "/v1/random?bytes=64").await;
    assert_eq!(response.status, 200);
    let second = json(&response);
    assert_eq!(
        second["sequence"].as_u64(),
        Some(first["sequence"].as_u64().unwrap() + 1)
    );
    assert_eq!(second["nonce"], "", "no nonce sent, none echoed");

    let usage = json(&get(&setup, &client, "/v1/usage").await);
    assert_eq!(usage["tenant"], "default");
    assert_eq!(usage["usage"]["total_bytes"], 64);
    assert_eq!(usage["usage"]["total_requests"], 1);
    assert_eq!(usage["limits"]["bytes_per_day"], 100);
    assert!(usage.get("tenants").is_none(), "a tenant sees only itself");
    let all = json(&get(&setup, &ops, "/v1/usage").await);
    assert_eq!(all["tenants"]["default"]["usage"]["total_bytes"], 64);
    assert_eq!(all["tenants"]["other"]["usage"]["total_bytes"], 64);
    let metrics = get(&setup, &ops, "/metrics").await.text();
    assert!(metrics.contains("qkms_eaas_envelopes_total 2"), "{metrics}");
    assert!(
        metrics.contains("qkms_eaas_tenant_bytes_total{tenant=\"default\"} 64"),
        "{metrics}"
    );

    // A graceful restart keeps the usage (the quota still holds) and continues the chain.
    assert!(server.stop(), "graceful stop");
    let server = ServerProcess::start(&setup).expect("server restarts");
    let response = get(&setup, &client, "/v1/random?bytes=64").await;
    assert_eq!(
        response.status,
        429,
        "the day's usage survived the restart: {}",
        response.text()
    );
    let third = json(&get(&setup, &other, "/v1/random?bytes=8").await);
    assert!(third["sequence"].as_u64().unwrap() > second["sequence"].as_u64().unwrap());
    let link = eaas::Envelope::from_json(second.to_string().as_bytes())
        .unwrap()
        .chain_hash()
        .unwrap();
    assert_eq!(
        third["previous"],
        link.as_str(),
        "the chain continues across a graceful restart"
    );

    // kill -9: the next sequence number is past everything served before (a reserved block is skipped).
    server.sigkill();
    let _server = ServerProcess::start(&setup).expect("server restarts after SIGKILL");
    let fourth = json(&get(&setup, &other, "/v1/random?bytes=8").await);
    assert!(fourth["sequence"].as_u64().unwrap() > third["sequence"].as_u64().unwrap());

    // A state file of another node is refused at start, naming both nodes.
    setup.rewrite_config(|config| config.eaas.usage_flush_secs = 1);
    let state = setup.path().join("eaas.state");
    let mut document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    document["server"] = "qkms-0000000000000000".into();
    drop(_server);
    std::fs::write(&state, document.to_string()).unwrap();
    let server =
        ServerProcess::start(&setup).expect("the server still starts; /v1/random explains");
    let response = get(&setup, &other, "/v1/random?bytes=8").await;
    assert_eq!(response.status, 503);
    assert!(json(&response)["error"]
        .as_str()
        .unwrap()
        .contains("qkms-0000000000000000"));
    drop(server);
}

fn pulse(response: &HttpResponse) -> eaas::Pulse {
    assert_eq!(response.status, 200, "{}", response.text());
    eaas::Pulse::from_json(&response.body).expect("a pulse")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beacon_pulses_chain_and_keep_their_precommitments_across_restarts() {
    let setup = set_up(|config| config.eaas.beacon_interval_secs = 1);
    let server = ServerProcess::start(&setup).expect("server starts");
    let client = setup.client.clone();
    let cas = kmip::client::certificates_from_file(&client.ca).unwrap();
    let options = eaas::VerifyOptions::new(cas);

    // Wait for three pulses.
    let deadline = Instant::now() + Duration::from_secs(60);
    let latest = loop {
        let response = get(&setup, &client, "/v1/beacon/latest").await;
        if response.status == 200 && pulse(&response).index >= 2 {
            break pulse(&response);
        }
        assert!(
            Instant::now() < deadline,
            "no third pulse: {}",
            response.text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let before = pulse(&get(&setup, &client, &format!("/v1/beacon/{}", latest.index - 1)).await);
    let first = pulse(&get(&setup, &client, "/v1/beacon/0").await);
    assert_eq!(first.previous, eaas::GENESIS_PULSE);
    eaas::verify_pulse(&first, None, &options).unwrap();
    eaas::verify_pulse(&latest, Some(&before), &options).unwrap();
    assert!(!latest.quantum, "the OS fallback is not quantum");
    assert_eq!(latest.period_secs, 1);

    // A pulse with another local value breaks its signature; a pulse presented after the wrong one breaks the link.
    let mut forged = latest.clone();
    forged.local_random = "00".repeat(64);
    assert!(matches!(
        eaas::verify_pulse(&forged, None, &options),
        Err(eaas::EaasError::Signature)
    ));
    assert!(matches!(
        eaas::verify_pulse(&latest, Some(&first), &options),
        Err(eaas::EaasError::Chain(_))
    ));

    for (path, status) in [
        ("/v1/beacon/abc", 400),
        ("/v1/beacon/-1", 400),
        ("/v1/beacon/999999", 404),
    ] {
        let response = get(&setup, &client, path).await;
        assert_eq!(response.status, status, "{path}: {}", response.text());
        assert!(json(&response)["error"].is_string());
    }

    // After a kill -9 the next pulse follows the last published one and honours its precommitment.
    server.sigkill();
    let last_before = pulse(&get_after_restart_latest(&setup).await);
    let _server = ServerProcess::start(&setup).expect("server restarts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let after = loop {
        let response = get(&setup, &client, "/v1/beacon/latest").await;
        let candidate = pulse(&response);
        if candidate.index > last_before.index {
            break candidate;
        }
        assert!(Instant::now() < deadline, "no pulse after the restart");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let link = pulse(&get(&setup, &client, &format!("/v1/beacon/{}", after.index - 1)).await);
    eaas::verify_pulse(&after, Some(&link), &options).unwrap();
}

/// The last pulse the killed server recorded, read from its state file (the server is down).
async fn get_after_restart_latest(setup: &SetUp) -> HttpResponse {
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.path().join("eaas.state")).unwrap()).unwrap();
    HttpResponse {
        status: 200,
        headers: Vec::new(),
        body: state["beacon_last"].to_string().into_bytes(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn octet_stream_answers_carry_the_envelope_in_a_header() {
    let setup = set_up(|config| config.eaas.beacon_interval_secs = 0);
    let _server = ServerProcess::start(&setup).expect("server starts");
    let addr: std::net::SocketAddr = setup.config.https.listen.parse().unwrap();
    let config = client_config(addr, &setup.client, ProtocolVersion::V2_1)
        .rustls_config()
        .unwrap();
    let mut connection = HttpsConnection::connect(addr, Arc::new(config))
        .await
        .unwrap();
    let response = connection
        .request_with_headers(
            "GET",
            "/v1/random?bytes=4096&nonce=abcd",
            None,
            &[("Accept", "application/octet-stream")],
            b"",
            false,
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(response.body.len(), 4096);
    let header = response
        .header(eaas::ENVELOPE_HEADER)
        .expect("the envelope header");
    let envelope = eaas::Envelope::from_octet_stream(header, &response.body).unwrap();
    let cas = kmip::client::certificates_from_file(&setup.client.ca).unwrap();
    let verified = eaas::verify(
        &envelope,
        &eaas::VerifyOptions::new(cas.clone()).expect_nonce("abcd"),
    )
    .unwrap();
    assert_eq!(verified.data, response.body);
    // One flipped body byte no longer verifies.
    let mut body = response.body.clone();
    body[100] ^= 1;
    let altered = eaas::Envelope::from_octet_stream(header, &body).unwrap();
    assert!(matches!(
        eaas::verify(&altered, &eaas::VerifyOptions::new(cas)),
        Err(eaas::EaasError::Signature)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qkms_feed_puts_verified_bytes_into_the_kernel_pool_or_a_fifo() {
    use sha2::Digest;
    let setup = set_up(|config| config.eaas.beacon_interval_secs = 0);
    let _server = ServerProcess::start(&setup).expect("server starts");
    let feed = |extra: &[&str]| {
        Command::new(qkms_binary())
            .args(["feed", "--once", "--bytes", "64", "--config"])
            .arg(&setup.config_file)
            .args(extra)
            .output()
            .expect("qkms feed runs")
    };

    // The kernel pool: CI runs as root, where both ioctls work; a sandbox without CAP_SYS_ADMIN must get the
    // error that says so.
    let kernel = feed(&[]);
    let stdout = String::from_utf8_lossy(&kernel.stdout);
    let stderr = String::from_utf8_lossy(&kernel.stderr);
    if kernel.status.success() {
        assert!(stdout.contains("fed 64 bytes"), "{stdout}");
        assert!(
            stdout.contains("into the kernel pool (credited 0 bits) and reseeded the CRNG"),
            "{stdout}"
        );
    } else {
        println!("note: the kernel refused the ioctl here: {stderr}");
        assert!(
            stderr.contains("ioctl RNDADDENTROPY") && stderr.contains("CAP_SYS_ADMIN"),
            "{stderr}"
        );
    }

    // The FIFO rngd reads: the bytes that arrive are the verified ones (their digest is printed).
    let fifo = setup.path().join("rngd.fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut received = Vec::new();
        std::fs::File::open(&reader_path)
            .expect("open the FIFO for reading")
            .read_to_end(&mut received)
            .expect("read the FIFO");
        received
    });
    let piped = feed(&["--fifo", &fifo.display().to_string()]);
    let stdout = String::from_utf8_lossy(&piped.stdout).into_owned();
    assert!(
        piped.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let received = reader.join().expect("the reader");
    assert_eq!(received.len(), 64);
    let digest = hex::encode(sha2::Sha256::digest(&received));
    assert!(stdout.contains(&format!("sha256 {digest}")), "{stdout}");
    assert!(stdout.contains("into FIFO"), "{stdout}");

    // Both rounds were metered for the tenant.
    let usage = json(&get(&setup, &setup.client, "/v1/usage").await);
    assert_eq!(usage["usage"]["total_requests"], 2);
    assert_eq!(usage["usage"]["total_bytes"], 128);

    // A server that is gone: a clear error, non-zero exit.
    drop(_server);
    let gone = feed(&[]);
    assert!(!gone.status.success());
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("connect"),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
}
