//! The audit log a real server writes during a session verifies with `qkms audit verify` (the built CLI), while
//! the server runs and after it stops; one flipped byte in a record makes the check fail, naming that record.

mod e2e_support;

use std::path::Path;
use std::process::{Command, Output};

use e2e_support::*;
use kmip::client::ClientError;

fn audit_verify(qkms: &Path, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(qkms)
        .args(["audit", "verify"])
        .args(args)
        .output()
        .expect("qkms audit verify runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_audit_log_verifies_and_a_flipped_byte_is_named() {
    let qkms = qkms_binary();
    let setup = SetUp::init();
    let log_path = setup.config.audit.path.clone();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = server.connect(&setup.client).await;
    let uid = client
        .create(create_aes(256, "audited", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    client.get(get(&uid)).await.unwrap();
    client.activate(&uid).await.unwrap();
    client.locate(locate_name("audited")).await.unwrap();
    client.rng_retrieve(64).await.unwrap();
    let missing = client.get(get("no-such-object")).await;
    assert!(matches!(missing, Err(ClientError::Operation { .. })));
    let other = client
        .register(register_secret(b"s3cret", "audited-secret", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    client.destroy(&other).await.unwrap();

    // While the server runs.
    let running = audit_verify(&qkms, &["--log".as_ref(), log_path.as_os_str()]);
    assert!(running.status.success(), "{}", text(&running));
    drop(client);
    assert!(server.stop(), "the server stops cleanly on SIGTERM");

    // After it stopped, by directory.
    let stopped = audit_verify(&qkms, &["--dir".as_ref(), setup.path().as_os_str()]);
    assert!(stopped.status.success(), "{}", text(&stopped));
    let contents = std::fs::read_to_string(&log_path).unwrap();
    let records: Vec<serde_json::Value> = contents
        .lines()
        .map(|line| serde_json::from_str(line).expect("each record is one JSON line"))
        .collect();
    assert!(
        text(&stopped).contains(&format!("{} records checked", records.len())),
        "{}",
        text(&stopped)
    );
    // Who, what, which object, what result: the Create and the failed Get are there.
    let created = records
        .iter()
        .find(|r| r["operation"] == "Create")
        .expect("the Create is audited");
    assert_eq!(created["tenant"], "default");
    assert_eq!(created["objects"][0], uid.as_str());
    assert!(
        records
            .iter()
            .any(|r| r["operation"] == "Get" && r["result"] != created["result"]),
        "the failed Get is audited with its failure: {contents}"
    );

    // Flip one bit of one byte inside a record in the middle of the log.
    let target = records.len() / 2;
    let line_start: usize = contents.lines().take(target).map(|l| l.len() + 1).sum();
    let line = contents.lines().nth(target).unwrap();
    let field = line
        .find("\"operation\":\"")
        .expect("the record names its operation")
        + 13;
    let mut bytes = contents.clone().into_bytes();
    bytes[line_start + field] ^= 0x01;
    std::fs::write(&log_path, &bytes).unwrap();

    let tampered = audit_verify(&qkms, &["--log".as_ref(), log_path.as_os_str()]);
    assert!(
        !tampered.status.success(),
        "a flipped byte must fail the check: {}",
        text(&tampered)
    );
    let line_number = target + 1;
    let sequence = records[target]["sequence"].as_u64().unwrap();
    let report = text(&tampered);
    assert!(
        report.contains(&format!("line {line_number}"))
            && report.contains(&format!("record {sequence}")),
        "the failure names line {line_number} / record {sequence}: {report}"
    );
}
