//! The audit log fails closed, end to end: a real `qkms-server` over real TLS whose audit log lives on a small
//! tmpfs (needs root, as CI runs). With the file system filled, Creates and Gets are refused with a message
//! naming the audit log, nothing unrecorded is acknowledged or kept, and `/health` answers 503 naming the audit
//! log; once the filler is deleted the same server accepts requests again, and the whole log verifies. Also:
//! the log rotates by size with the chain continuing across files, and a deleted middle file is named.

mod e2e_support;
mod https_client;
mod tmpfs_support;

use std::collections::BTreeSet;
use std::path::Path;

use e2e_support::*;
use kmip::client::ClientError;
use kmip::{ProtocolVersion, ResultReason};
use kms_server::audit::{verify, AuditRecord};
use tmpfs_support::Tmpfs;

fn records(path: &Path) -> Vec<AuditRecord> {
    let mut files: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("audit.log"))
        })
        .collect();
    // Rotated files (audit.log.000001...) first, in order, then the current one.
    files.sort_by_key(|p| (p == path, p.clone()));
    files
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(file)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<AuditRecord>>()
        })
        .collect()
}

fn assert_refused_naming_the_audit_log<T: std::fmt::Debug>(result: Result<T, ClientError>) {
    match result {
        Err(ClientError::Operation {
            reason, message, ..
        }) => {
            assert_eq!(reason, ResultReason::GeneralFailure, "{message}");
            assert!(message.contains("audit log"), "{message}");
        }
        other => panic!("expected a refusal naming the audit log, got {other:?}"),
    }
}

async fn health(
    https: std::net::SocketAddr,
    setup: &SetUp,
    server: &ServerProcess,
) -> (u16, serde_json::Value) {
    let config = server
        .client_config(&setup.client, ProtocolVersion::V2_1)
        .rustls_config()
        .unwrap();
    https_client::health(https, config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_audit_file_system_refuses_everything_until_space_returns_without_a_restart() {
    let tmpfs = Tmpfs::mount("256k");
    let https = free_loopback_address();
    let mut setup = SetUp::init_with(|config| {
        config.https.enabled = true;
        config.https.listen = https.clone();
    });
    let log_path = tmpfs.path().join("audit.log");
    setup.rewrite_config(|config| config.audit.path = log_path.clone());
    let https = https.parse().unwrap();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = server.connect(&setup.client).await;
    let existing = all_objects(&mut client).await;
    let key = client
        .create(create_aes(256, "before", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    client.get(get(&key)).await.unwrap();
    let mut acknowledged = BTreeSet::from([key.clone()]);
    assert_eq!(health(https, &setup, &server).await.0, 200);

    let filler = tmpfs.fill();
    // A few records may still fit in the file's last page; then every Create is refused.
    let mut refused = 0;
    for i in 0..40 {
        match client
            .create(create_aes(256, &format!("full-{i}"), vec![]))
            .await
        {
            Ok(created) => {
                assert_eq!(refused, 0, "a Create succeeded after one was refused");
                acknowledged.insert(created.unique_identifier);
            }
            Err(error) => {
                assert_refused_naming_the_audit_log::<()>(Err(error));
                refused += 1;
            }
        }
    }
    assert!(
        refused >= 20,
        "Creates kept being acknowledged on a full audit file system"
    );
    // A read is refused too: no key bytes leave unrecorded.
    assert_refused_naming_the_audit_log(client.get(get(&key)).await);
    // Every item of a batch is refused.
    let batch = client
        .batch(vec![
            create_aes(128, "batch", vec![]).into(),
            get(&key).into(),
        ])
        .await
        .unwrap();
    for item in batch {
        assert_refused_naming_the_audit_log(item);
    }
    let (status, body) = health(https, &setup, &server).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "failing", "{body}");
    assert_eq!(body["audit"]["state"], "failing", "{body}");
    assert!(
        body["audit"]["failure"]
            .as_str()
            .is_some_and(|f| f.contains("audit log") && f.contains("No space left")),
        "{body}"
    );
    assert!(body["audit"]["since"].is_string(), "{body}");

    // Space comes back: the same server, on the same connection, works again.
    std::fs::remove_file(filler).unwrap();
    let after = client
        .create(create_aes(256, "after", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    acknowledged.insert(after);
    client.get(get(&key)).await.unwrap();
    let (status, body) = health(https, &setup, &server).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["audit"]["state"], "ok", "{body}");
    // Nothing refused was kept: the tenant's objects are exactly the acknowledged ones.
    let kept: BTreeSet<String> = all_objects(&mut client)
        .await
        .difference(&existing)
        .cloned()
        .collect();
    assert_eq!(kept, acknowledged);
    drop(client);
    assert!(server.stop(), "the server stops cleanly");

    // The whole log verifies, and every acknowledged Create is in it.
    let report = verify(&log_path).unwrap();
    let records = records(&log_path);
    assert_eq!(report.records, records.len() as u64);
    let recorded: BTreeSet<String> = records
        .iter()
        .filter(|r| r.operation == "Create" && r.result == "Success")
        .flat_map(|r| r.objects.clone())
        .collect();
    assert!(
        acknowledged.is_subset(&recorded),
        "acknowledged {acknowledged:?}, recorded {recorded:?}"
    );
    let qkms = qkms_binary();
    let verified = std::process::Command::new(qkms)
        .args(["audit", "verify", "--config"])
        .arg(&setup.config_file)
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_rotates_by_size_and_verify_checks_the_set_and_names_a_missing_file() {
    let mut setup = SetUp::init();
    setup.rewrite_config(|config| config.audit.max_file_bytes = 4096);
    let log_path = setup.config.audit.path.clone();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = server.connect(&setup.client).await;
    // Another tenant's failed Get records the identifier it named, with the reason.
    let key = client
        .create(create_aes(256, "rotated", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    let mut other = server.connect(&setup.issue_client("mallory")).await;
    assert!(other.get(get(&key)).await.is_err());
    for i in 0..60 {
        client
            .create(create_aes(128, &format!("k{i}"), vec![]))
            .await
            .unwrap();
        client.get(get(&key)).await.unwrap();
    }
    drop((client, other));
    assert!(server.stop(), "the server stops cleanly");

    let report = verify(&log_path).unwrap();
    assert!(report.files.len() >= 4, "{:?}", report.files);
    assert_eq!(report.files.last(), Some(&log_path));
    let all = records(&log_path);
    assert_eq!(report.records, all.len() as u64);
    let refused = all
        .iter()
        .find(|r| r.tenant == "mallory" && r.operation == "Get")
        .expect("the other tenant's Get is recorded");
    assert_eq!(refused.targets, vec![key.clone()]);
    assert_ne!(refused.result, "Success");
    assert!(refused.detail.is_some(), "{refused:?}");
    for file in &report.files {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(file).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        assert!(std::fs::metadata(file).unwrap().len() <= 4096);
    }

    let middle = kms_server::audit::rotated_path(&log_path, 2);
    std::fs::remove_file(&middle).unwrap();
    let output = std::process::Command::new(qkms_binary())
        .args(["audit", "verify", "--config"])
        .arg(&setup.config_file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("audit.log.000002 is missing"), "{stderr}");
}
