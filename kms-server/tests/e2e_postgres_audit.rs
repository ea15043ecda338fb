//! The audit log of nodes sharing a PostgreSQL store lives in the database, one hash-chained sequence per node:
//! three `qkms-server` processes each write their own chain and `qkms audit verify --config` (the real CLI)
//! checks every chain there, naming the node and the sequence of a deleted or altered row; a second live node
//! with the same node id refuses to start; a node killed with SIGKILL under load and a database stopped under
//! load leave no acknowledged write without its record, and the node recovers without a restart.

mod e2e_support;
mod https_client;
mod pg_cluster;
mod pg_options;
mod pg_support;

use std::collections::BTreeSet;
use std::time::Duration;

use e2e_support::*;
use kmip::client::Client;
use kmip::ProtocolVersion;
use kms_server::audit::AuditRecord;
use pg_cluster::{create_for, verify, Cluster};

/// The uids that Success records of Create in `records` name.
fn created(records: &[AuditRecord]) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| r.operation == "Create" && r.result == "Success")
        .flat_map(|r| r.objects.iter().cloned())
        .collect()
}

async fn some_operations(client: &mut Client, tag: &str) {
    for n in 0..2 {
        let uid = client
            .create(create_aes(256, &format!("{tag}-{n}"), vec![]))
            .await
            .expect("Create")
            .unique_identifier;
        client.get(get(&uid)).await.expect("Get");
    }
    client.locate(locate_name(tag)).await.expect("Locate");
    assert!(client.get(get("no-such-object")).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_keep_their_own_chains_and_verify_reads_them_from_the_database() {
    let cluster = Cluster::new(|_| {});
    let nodes: Vec<ServerProcess> = (1..=3).map(|n| cluster.start_node(n)).collect();
    for (n, node) in nodes.iter().enumerate() {
        let mut client = node.connect(&cluster.setup.client).await;
        some_operations(&mut client, &format!("node-{}", n + 1)).await;
    }
    // The node ids derive from the host name and each node's listen address.
    let ids: Vec<String> = cluster
        .database
        .psql(
            "cluster",
            "SELECT node_id FROM qkms_audit_nodes ORDER BY node_id",
        )
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    for node in &nodes {
        let address = node.addr.to_string();
        assert!(
            ids.iter().any(|id| id.ends_with(&format!("/{address}"))),
            "{ids:?}"
        );
    }
    // No file log on these nodes: the database is the log.
    for n in 1..=3 {
        let file = cluster.setup.path().join(format!("node-{n}/audit.log"));
        assert!(!file.exists(), "{} was written", file.display());
    }

    let config = cluster.node_config(1).file;
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
    assert!(text.contains("3 node chain(s)"), "{text}");
    for id in &ids {
        let records = cluster.chain(id);
        // 2 x (Create, Get), Locate, the failed Get: 6 records each, and the requests of the connection.
        assert!(records.len() >= 6, "{records:?}");
        assert!(
            text.contains(&format!("node {id:?}: {} records, chain OK", records.len())),
            "{text}"
        );
        assert_eq!(created(&records).len(), 2);
    }

    // A deleted row: the node and the sequence where the chain breaks.
    let (first, second) = (&ids[0], &ids[1]);
    let where_ = |id: &str, sequence: u64| format!("node_id = '{id}' AND sequence = {sequence}");
    let saved = cluster.database.psql(
        "cluster",
        &format!(
            "SELECT encode(hash, 'hex') || ' ' || record FROM qkms_audit WHERE {}",
            where_(first, 2)
        ),
    );
    let (saved_hash, saved) = saved.split_once(' ').expect("the row's hash and record");
    // Stored without its hashes in hex (schema 7): 32 bytes of hash beside it.
    assert_eq!(saved_hash.len(), 64, "{saved_hash}");
    assert!(!saved.contains("hash"), "{saved}");
    cluster.database.psql(
        "cluster",
        &format!("DELETE FROM qkms_audit WHERE {}", where_(first, 2)),
    );
    let (ok, text) = verify(&config);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("node {first:?}")) && text.contains("broken at sequence 3"),
        "{text}"
    );
    assert!(text.contains("1 record(s) missing"), "{text}");
    let quoted = saved.replace('\'', "''");
    cluster.database.psql(
        "cluster",
        &format!(
            "INSERT INTO qkms_audit (node_id, sequence, record, hash)
             VALUES ('{first}', 2, '{quoted}', decode('{saved_hash}', 'hex'))"
        ),
    );
    assert!(verify(&config).0, "restored");

    // An altered row.
    cluster.database.psql(
        "cluster",
        &format!(
            "UPDATE qkms_audit SET record = replace(record, '\"Success\"', '\"ItemNotFound\"') WHERE {}",
            where_(second, 1)
        ),
    );
    let (ok, text) = verify(&config);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("node {second:?}")) && text.contains("broken at sequence 1"),
        "{text}"
    );
    assert!(text.contains("the record was altered"), "{text}");

    // Rows cut off the end are noticed against the head the node committed with its records.
    cluster.database.psql(
        "cluster",
        &format!(
            "UPDATE qkms_audit SET record = replace(record, '\"ItemNotFound\"', '\"Success\"') WHERE {}",
            where_(second, 1)
        ),
    );
    assert!(verify(&config).0, "restored");
    let last: u64 = cluster
        .database
        .psql(
            "cluster",
            &format!("SELECT MAX(sequence) FROM qkms_audit WHERE node_id = '{first}'"),
        )
        .parse()
        .unwrap();
    drop(nodes);
    cluster.database.psql(
        "cluster",
        &format!("DELETE FROM qkms_audit WHERE {}", where_(first, last)),
    );
    let (ok, text) = verify(&config);
    assert!(!ok, "{text}");
    assert!(text.contains("records were deleted from the end"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_live_node_with_the_same_id_is_refused_and_a_killed_ones_chain_is_taken_over() {
    let cluster = Cluster::new(|_| {});
    let same = |c: &mut kms_server::config::Config| c.audit.node_id = Some("same-node".into());
    let first = cluster.start_from(1, &cluster.node_config_with(1, same).file);
    let mut client = first.connect(&cluster.setup.client).await;
    some_operations(&mut client, "first").await;

    let second_config = cluster.node_config_with(2, same).file;
    let refused =
        ServerProcess::start_from(&second_config, cluster.setup.path().join("second.log"))
            .map(drop)
            .expect_err("a second node on a held chain must not start");
    assert!(
        refused.contains("is held by another running qkms-server")
            && refused.contains("give each node its own [audit] node_id"),
        "{refused}"
    );

    // Once the holder is gone (SIGKILL: no chance to release), the chain is taken over and continued.
    tokio::task::spawn_blocking(move || first.sigkill())
        .await
        .unwrap();
    let second = cluster.start_from(2, &second_config);
    let mut client = second.connect(&cluster.setup.client).await;
    some_operations(&mut client, "second").await;
    let records = cluster.chain("same-node");
    assert_eq!(created(&records).len(), 4);
    let (ok, text) = verify(&second_config);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!(
            "node \"same-node\": {} records, chain OK",
            records.len()
        )),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_under_load_leaves_a_verified_chain_with_every_acknowledged_create() {
    let cluster = Cluster::new(|_| {});
    let config = cluster
        .node_config_with(1, |c| c.audit.node_id = Some("doomed".into()))
        .file;
    let doomed = cluster.start_from(1, &config);
    let mut writers = Vec::new();
    for w in 0..4 {
        let client = doomed.connect(&cluster.setup.client).await;
        writers.push(tokio::spawn(create_for(
            client,
            format!("load-{w}"),
            Duration::from_secs(5),
            Duration::ZERO,
        )));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tokio::task::spawn_blocking(move || doomed.sigkill())
        .await
        .unwrap();
    let mut acked = BTreeSet::new();
    for writer in writers {
        acked.extend(writer.await.unwrap().0);
    }
    assert!(
        acked.len() > 8,
        "the load made only {} objects",
        acked.len()
    );
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
    let recorded = created(&cluster.chain("doomed"));
    let missing: Vec<&String> = acked.difference(&recorded).collect();
    assert!(
        missing.is_empty(),
        "acknowledged without a record: {missing:?}"
    );

    // Back on the same id: the chain continues.
    let back = cluster.start_from(1, &config);
    let mut client = back.connect(&cluster.setup.client).await;
    some_operations(&mut client, "after").await;
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
}

async fn health(
    https: std::net::SocketAddr,
    cluster: &Cluster,
    node: &ServerProcess,
) -> (u16, serde_json::Value) {
    let config = node
        .client_config(&cluster.setup.client, ProtocolVersion::V2_1)
        .rustls_config()
        .unwrap();
    https_client::health(https, config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_stopped_under_load_refuses_writes_then_recovers_with_every_record() {
    let cluster = Cluster::new(|_| {});
    let https = free_loopback_address();
    let config = cluster
        .node_config_with(1, |c| {
            c.audit.node_id = Some("outage".into());
            c.https.enabled = true;
            c.https.listen = https.clone();
        })
        .file;
    let https: std::net::SocketAddr = https.parse().unwrap();
    let node = cluster.start_from(1, &config);
    assert_eq!(health(https, &cluster, &node).await.0, 200);
    let mut writers = Vec::new();
    for w in 0..4 {
        let client = node.connect(&cluster.setup.client).await;
        writers.push(tokio::spawn(create_for(
            client,
            format!("load-{w}"),
            Duration::from_secs(8),
            Duration::ZERO,
        )));
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    cluster.database.stop_immediately();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = health(https, &cluster, &node).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["audit"]["state"], "failing", "{body}");
    cluster.database.restart();

    let mut acked = BTreeSet::new();
    let mut refused = Vec::new();
    for writer in writers {
        let (uids, messages) = writer.await.unwrap();
        acked.extend(uids);
        refused.extend(messages);
    }
    assert!(
        !refused.is_empty(),
        "writes were refused while the database was away"
    );
    for message in &refused {
        assert!(
            message.contains("audit log") || message.contains("database"),
            "{message}"
        );
    }
    // Recovered without a restart: new writes are acknowledged and /health is back.
    let mut client = node.connect(&cluster.setup.client).await;
    some_operations(&mut client, "after").await;
    assert!(
        {
            let mut healthy = false;
            for _ in 0..50 {
                if health(https, &cluster, &node).await.1["audit"]["state"] == "ok" {
                    healthy = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            healthy
        },
        "the audit log's health recovers"
    );
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
    let recorded = created(&cluster.chain("outage"));
    let missing: Vec<&String> = acked.difference(&recorded).collect();
    assert!(
        missing.is_empty(),
        "acknowledged without a record: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_chain_written_before_schema_7_verifies_and_continues_in_the_shorter_rows() {
    let cluster = Cluster::new(|_| {});
    let config = cluster
        .node_config_with(1, |c| c.audit.node_id = Some("upgraded".into()))
        .file;
    let node = cluster.start_from(1, &config);
    some_operations(&mut node.connect(&cluster.setup.client).await, "before").await;
    drop(node);
    let before = cluster.chain("upgraded");

    // The database as a build of schema 6 left it: every row holds its whole text, no hash column.
    cluster.sql(&format!(
        "UPDATE qkms_audit AS a SET hash = NULL, record = left(record, -1)
            || ',\"previous_hash\":\"' || COALESCE(
                (SELECT encode(b.hash, 'hex') FROM qkms_audit AS b
                 WHERE b.node_id = a.node_id AND b.sequence = a.sequence - 1), '{}')
            || '\",\"hash\":\"' || encode(hash, 'hex') || '\"}}'",
        kms_server::audit::GENESIS_HASH
    ));
    cluster.sql("ALTER TABLE qkms_audit DROP COLUMN hash");
    cluster.sql("DELETE FROM qkms_schema_migrations WHERE version = 7");
    let whole: Vec<AuditRecord> = cluster
        .database
        .psql("cluster", "SELECT record FROM qkms_audit ORDER BY sequence")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a whole record"))
        .collect();
    assert_eq!(whole, before, "the rows hold what a schema 6 build wrote");
    // The CLI of this build verifies a schema 6 database as it is.
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");

    // This build migrates it and continues the chain after the last whole row, in the shorter form.
    let node = cluster.start_from(1, &config);
    some_operations(&mut node.connect(&cluster.setup.client).await, "after").await;
    drop(node);
    assert_eq!(
        cluster.sql("SELECT COUNT(*) FROM qkms_audit WHERE hash IS NULL"),
        before.len().to_string()
    );
    let after = cluster.chain("upgraded");
    assert!(after.len() >= before.len() + 6, "{after:?}");
    assert_eq!(after[..before.len()], before[..]);
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("{} records, chain OK", after.len())),
        "{text}"
    );
}
