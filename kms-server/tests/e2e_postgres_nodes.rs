//! Several `qkms-server` processes on one PostgreSQL database, with real clients over real TLS: what one node
//! does the others see at once (their object caches included; `e2e_postgres_cache.rs` tests those further), a node killed with SIGKILL under Create load loses nothing it
//! acknowledged, a database restart is answered with clear errors and then served again without
//! restarting qkms, and a bad database configuration stops start-up with a message naming the cause.
//!
//! Each node is started from the same set-up (PKI, root-key passphrase, database) with its own configuration
//! file that differs only in its node-local files (`[store] path`'s directory: session-lease journal and entropy
//! counter), the set-up's `user-pins.json` named explicitly (`pg_cluster`). Each node's audit chain is in the
//! database (`e2e_postgres_audit.rs` checks it).

mod e2e_support;
mod pg_cluster;
mod pg_options;
mod pg_support;

use std::time::{Duration, Instant};

use e2e_support::*;
use kmip::client::Client;
use kmip::ProtocolVersion;
use pg_cluster::Cluster;

async fn locate_named(client: &mut Client, name: &str) -> Vec<String> {
    client
        .locate(locate_name(name))
        .await
        .expect("Locate")
        .unique_identifiers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_share_every_object_and_change_at_once() {
    let cluster = Cluster::new(|_| {});
    let nodes: Vec<ServerProcess> = (1..=3).map(|n| cluster.start_node(n)).collect();
    let mut clients = Vec::new();
    for node in &nodes {
        clients.push(node.connect(&cluster.setup.client).await);
    }

    // Create on node 1, Get on node 2 (same material), Locate on all three.
    let uid = clients[0]
        .create(create_aes(256, "shared-key", vec![]))
        .await
        .expect("Create on node 1")
        .unique_identifier;
    let on_two = clients[1].get(get(&uid)).await.expect("Get on node 2");
    let on_three = clients[2].get(get(&uid)).await.expect("Get on node 3");
    assert_eq!(material(&on_two), material(&on_three));
    assert_eq!(material(&on_two).len(), 32);
    for client in clients.iter_mut() {
        assert_eq!(locate_named(client, "shared-key").await, vec![uid.clone()]);
    }

    // A change on node 2 is what node 1 reads next (node 1's cache dropped the row before node 2 acknowledged).
    clients[1]
        .add_attribute(kmip::payloads::AddAttributeRequest {
            unique_identifier: Some(uid.clone()),
            new_attribute: kmip::attributes::Attribute::Description("changed on node 2".into())
                .into(),
        })
        .await
        .expect("Add Attribute on node 2");
    let seen = attributes_of(
        clients[0]
            .get_attributes(get_attributes(&uid))
            .await
            .expect("Get Attributes on node 1"),
    );
    assert!(
        seen.iter().any(
            |a| matches!(a, kmip::attributes::Attribute::Description(d) if d == "changed on node 2")
        ),
        "node 1 sees node 2's change: {seen:?}"
    );
    // Destroyed on node 3 (a Pre-Active key may be destroyed at once).
    clients[2].destroy(&uid).await.expect("Destroy on node 3");
    // No node serves the key any more.
    for (n, client) in clients.iter_mut().enumerate() {
        assert!(
            client.get(get(&uid)).await.is_err(),
            "node {} served a destroyed key",
            n + 1
        );
    }
    // Locate answers alike on all three.
    let mut answers = Vec::new();
    for client in clients.iter_mut() {
        answers.push(all_objects(client).await);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);
}

/// Creates until the connection fails or `limit` passes; returns the acknowledged uids and whether it failed.
async fn create_until_failure(
    mut client: Client,
    tag: String,
    limit: Duration,
) -> (Vec<String>, bool) {
    let started = Instant::now();
    let mut acked = Vec::new();
    let mut n = 0;
    while started.elapsed() < limit {
        n += 1;
        match client
            .create(create_aes(256, &format!("{tag}-{n}"), vec![]))
            .await
        {
            Ok(response) => acked.push(response.unique_identifier),
            Err(_) => return (acked, true),
        }
    }
    (acked, false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_under_create_load_loses_no_acknowledged_object() {
    let cluster = Cluster::new(|_| {});
    let doomed = cluster.start_node(1);
    let survivor = cluster.start_node(2);
    let mut writers = Vec::new();
    for w in 0..4 {
        let node = if w % 2 == 0 { &doomed } else { &survivor };
        let client = node.connect(&cluster.setup.client).await;
        writers.push(tokio::spawn(create_until_failure(
            client,
            format!("load-{w}"),
            Duration::from_secs(3),
        )));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    tokio::task::spawn_blocking(move || doomed.sigkill())
        .await
        .unwrap();
    let mut acked = Vec::new();
    let mut cut_off = 0;
    for writer in writers {
        let (uids, failed) = writer.await.unwrap();
        cut_off += usize::from(failed);
        acked.extend(uids);
    }
    assert_eq!(
        cut_off, 2,
        "the two writers of the killed node were cut off mid-load"
    );
    assert!(
        acked.len() > 8,
        "the load made only {} objects",
        acked.len()
    );
    let mut client = survivor.connect(&cluster.setup.client).await;
    for uid in &acked {
        let response = client
            .get(get(uid))
            .await
            .unwrap_or_else(|e| panic!("acknowledged object {uid} lost: {e}"));
        assert_eq!(material(&response).len(), 32);
    }
    // The killed node comes back on the same database and serves them too.
    let back = cluster.start_node(1);
    let mut again = back.connect(&cluster.setup.client).await;
    assert!(again.get(get(&acked[0])).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_gives_clear_errors_then_service_without_restarting_qkms() {
    let cluster = Cluster::new(|_| {});
    let node = cluster.start_node(1);
    let mut client = node.connect(&cluster.setup.client).await;
    let before = client
        .create(create_aes(256, "before-restart", vec![]))
        .await
        .unwrap()
        .unique_identifier;

    cluster.database.stop_immediately();
    // While it is gone: a clear KMIP failure naming the database, within bounded time, on the same connection.
    let started = Instant::now();
    let request = kmip::RequestMessage::new(
        ProtocolVersion::V2_1,
        vec![kmip::RequestBatchItem::new(create_aes(
            256,
            "during-outage",
            vec![],
        ))],
    );
    let response = client
        .send(&request)
        .await
        .expect("an answer, not a dropped connection");
    let item = &response.items[0];
    assert_eq!(
        item.result_status,
        kmip::ResultStatus::OperationFailed,
        "{item:?}"
    );
    let message = item.result_message.clone().unwrap_or_default();
    assert!(message.contains("database"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(15));

    cluster.database.restart();
    // Back without restarting qkms: the pool drops the dead connections and makes new ones.
    let after = client
        .create(create_aes(256, "after-restart", vec![]))
        .await
        .expect("Create after the database came back")
        .unique_identifier;
    assert_eq!(material(&client.get(get(&before)).await.unwrap()).len(), 32);
    assert_eq!(material(&client.get(get(&after)).await.unwrap()).len(), 32);
    assert!(
        node.log().contains("database"),
        "the outage is in the server's log"
    );
}

#[test]
fn bad_database_settings_stop_start_up_with_the_cause() {
    let mut cluster = Cluster::new(|_| {});
    let start = |cluster: &Cluster| {
        ServerProcess::start_from(
            &cluster.setup.config_file,
            cluster.setup.path().join("bad.log"),
        )
        .map(drop)
        .expect_err("start-up must fail")
    };

    // Wrong password.
    let wrong = cluster.setup.path().join("wrong.pass");
    std::fs::write(&wrong, "not-it\n").unwrap();
    let right = cluster.database.password_file.clone();
    cluster
        .setup
        .rewrite_config(|c| c.store.password_file = Some(wrong));
    let log = start(&cluster);
    assert!(log.contains("password authentication failed"), "{log}");
    assert!(!log.contains("not-it"), "the password is never logged");
    cluster
        .setup
        .rewrite_config(|c| c.store.password_file = Some(right));

    // A database that holds no store.
    cluster.database.create_database("empty");
    let (good_url, empty_url) = (
        cluster.database.url("cluster"),
        cluster.database.url("empty"),
    );
    cluster.setup.rewrite_config(|c| c.store.url = empty_url);
    let log = start(&cluster);
    assert!(log.contains("holds no qkms store"), "{log}");

    // Unreachable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    cluster
        .setup
        .rewrite_config(|c| c.store.url = format!("postgresql://qkms@127.0.0.1:{port}/cluster"));
    let log = start(&cluster);
    assert!(log.contains("the database is unavailable"), "{log}");

    // Two nodes on the same node-local files: the second is refused, naming them.
    cluster.setup.rewrite_config(|c| c.store.url = good_url);
    let first = ServerProcess::start_from(
        &cluster.setup.config_file,
        cluster.setup.path().join("first.log"),
    )
    .unwrap_or_else(|log| panic!("{log}"));
    let log = start(&cluster);
    assert!(
        log.contains("needs its own directory for [store] path"),
        "{log}"
    );
    drop(first);

    // A newer schema.
    let newer = kms_server::store::postgres::SCHEMA_VERSION + 1;
    cluster.database.psql(
        "cluster",
        &format!(
            "INSERT INTO qkms_schema_migrations (version, description) VALUES ({newer}, 'later release')"
        ),
    );
    let log = start(&cluster);
    assert!(log.contains(&format!("schema is version {newer}")), "{log}");
}
