//! A full store disk, end to end: a real `qkms-server` over real TLS whose object store lives on a 32 MiB tmpfs
//! (needs root, as CI runs; the audit log stays on another file system). Creates until the disk is full: the
//! refused Create names the full disk; Gets (also a first Get, whose Fresh flag cannot be cleared) and Locate
//! keep working and `/health` says the store's disk is full; once the filler is deleted the same server accepts
//! Creates again; after a SIGKILL and a restart every acknowledged object is there and the audit chain verifies.

mod e2e_support;
mod https_client;
mod tmpfs_support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use e2e_support::*;
use kmip::attributes::{Attribute, KnownAttribute};
use kmip::client::{Client, ClientError};
use kmip::{ProtocolVersion, ResultReason};
use tmpfs_support::Tmpfs;

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

async fn fresh(client: &mut Client, uid: &str) -> bool {
    let attributes = attributes_of(client.get_attributes(get_attributes(uid)).await.unwrap());
    matches!(
        attributes.get(&KnownAttribute::Fresh.into()),
        Some(Attribute::Fresh(true))
    )
}

fn assert_names_the_full_disk(error: &ClientError) {
    match error {
        ClientError::Operation {
            reason, message, ..
        } => {
            assert_eq!(*reason, ResultReason::GeneralFailure, "{message}");
            assert!(
                message.contains("disk is full") && message.contains("[store] path"),
                "{message}"
            );
        }
        other => panic!("expected a refusal naming the full disk, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_store_disk_refuses_creates_keeps_reads_and_recovers_without_a_restart() {
    let tmpfs = Tmpfs::mount("32m");
    let https = free_loopback_address();
    let mut setup = SetUp::init_with(|config| {
        config.https.enabled = true;
        config.https.listen = https.clone();
    });
    // The store moves to the tmpfs; the audit log and the entropy state stay where --init put them.
    let store = tmpfs.path().join("store");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(&setup.config.store.path)
        .arg(&store)
        .status()
        .unwrap();
    assert!(copied.success());
    let entropy_state = setup.path().join(kms_server::server::ENTROPY_STATE_FILE);
    setup.rewrite_config(|config| {
        config.store.path = store.clone();
        config.entropy.state_file = Some(entropy_state);
    });
    let https = https.parse().unwrap();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = server.connect(&setup.client).await;
    let existing = all_objects(&mut client).await;
    let mut acknowledged = BTreeSet::new();
    let mut read = Vec::new();
    for i in 0..5 {
        let uid = client
            .create(create_aes(256, &format!("before-{i}"), vec![]))
            .await
            .unwrap()
            .unique_identifier;
        client.get(get(&uid)).await.unwrap();
        read.push(uid.clone());
        acknowledged.insert(uid);
    }
    // Never read: its first Get will want to clear Fresh while the disk is full.
    let unread = client
        .create(create_aes(256, "unread", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    acknowledged.insert(unread.clone());
    assert!(fresh(&mut client, &unread).await);
    let (status, body) = health(https, &setup, &server).await;
    assert_eq!(
        (status, &body["store"]["state"]),
        (200, &"ok".into()),
        "{body}"
    );

    let filler = tmpfs.fill();
    let mut refusal = None;
    for i in 0..5_000 {
        match client
            .create(create_aes(256, &format!("filling-{i}"), vec![]))
            .await
        {
            Ok(created) => {
                acknowledged.insert(created.unique_identifier);
            }
            Err(error) => {
                refusal = Some(error);
                break;
            }
        }
    }
    let refusal = refusal.expect("a Create was refused once the disk filled");
    assert_names_the_full_disk(&refusal);
    // Still refused while full, also after the probe interval.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_names_the_full_disk(
        &client
            .create(create_aes(256, "while-full", vec![]))
            .await
            .unwrap_err(),
    );

    // Reads keep working: every acknowledged object, the first Get of the unread key (Fresh stays set), Locate.
    for uid in &acknowledged {
        client.get(get(uid)).await.unwrap();
    }
    assert!(
        fresh(&mut client, &unread).await,
        "Fresh could not be cleared on a full disk"
    );
    let located: BTreeSet<String> = all_objects(&mut client)
        .await
        .difference(&existing)
        .cloned()
        .collect();
    assert_eq!(located, acknowledged, "exactly the acknowledged objects");
    let (status, body) = health(https, &setup, &server).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["store"]["state"], "full", "{body}");
    assert!(body["store"]["since"].is_string(), "{body}");

    // Space comes back: the same server, on the same connection, accepts Creates again.
    std::fs::remove_file(filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        match client.create(create_aes(256, "after", vec![])).await {
            Ok(created) => break created.unique_identifier,
            Err(error) if Instant::now() < deadline => {
                assert_names_the_full_disk(&error);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("Creates still refused after freeing space: {error}"),
        }
    };
    acknowledged.insert(after);
    for i in 0..10 {
        let uid = client
            .create(create_aes(128, &format!("after-{i}"), vec![]))
            .await
            .unwrap()
            .unique_identifier;
        acknowledged.insert(uid);
    }
    client.get(get(&unread)).await.unwrap();
    assert!(!fresh(&mut client, &unread).await, "Fresh cleared now");
    let (status, body) = health(https, &setup, &server).await;
    assert_eq!(
        (status, &body["store"]["state"]),
        (200, &"ok".into()),
        "{body}"
    );
    drop(client);
    server.sigkill();

    // A restart finds every acknowledged object, and the audit chain verifies.
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = server.connect(&setup.client).await;
    for uid in &acknowledged {
        client
            .get(get(uid))
            .await
            .unwrap_or_else(|e| panic!("acknowledged {uid} lost: {e}"));
    }
    drop(client);
    assert!(server.stop(), "the server stops cleanly");
    kms_server::audit::verify(&setup.config.audit.path).expect("the audit chain verifies");
    let verified = Command::new(qkms_binary())
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
