//! A node whose audit chain is in the database answers a read once its record is in the node-local spool
//! (`[audit] answer_reads_after = "spooled"`, the default), not once the database committed it: the records of
//! reads answered while the database was away, from the node's object cache, and of a node killed with SIGKILL
//! before it could commit them, reach the database when the node starts again, and `qkms audit verify` accepts
//! the chain. A spool that does not continue the chain in the database stops the node from starting. With
//! `answer_reads_after = "committed"` no read is answered while the database is frozen (the control: the first
//! test's reads were answered because of the spool). Under a stream of reads the spool keeps only what the
//! database may lack: its segments are deleted once committed (by the committer thread, off the requests' path).

mod e2e_support;
mod pg_cluster;
mod pg_options;
mod pg_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e_support::*;
use kms_server::audit::AuditRecord;
use kms_server::config::ReadsAnsweredAfter;
use pg_cluster::{verify, Cluster};

/// Successful Gets of `uid` the records show.
fn gets_recorded(records: &[AuditRecord], uid: &str) -> usize {
    records
        .iter()
        .filter(|r| {
            r.operation == "Get" && r.result == "Success" && r.objects.iter().any(|o| o == uid)
        })
        .count()
}

/// Gets `uid` on `clients` connections for `limit` (or until the connection goes): answered Gets, refusals.
async fn get_for(
    node: &ServerProcess,
    cluster: &Cluster,
    uid: &str,
    clients: usize,
    limit: Duration,
) -> (usize, usize) {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let mut client = node.connect(&cluster.setup.client).await;
        let uid = uid.to_owned();
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let (mut answered, mut refused) = (0, 0);
            while started.elapsed() < limit {
                match client.get(get(&uid)).await {
                    Ok(_) => answered += 1,
                    Err(kmip::client::ClientError::Operation { .. }) => refused += 1,
                    // The connection went (a killed server).
                    Err(_) => break,
                }
            }
            (answered, refused)
        }));
    }
    let mut total = (0, 0);
    for task in tasks {
        let (answered, refused) = task.await.unwrap();
        total.0 += answered;
        total.1 += refused;
    }
    total
}

/// Node 1 started from `config`, and a key created on it.
async fn node_with_a_key(cluster: &Cluster, config: &Path) -> (ServerProcess, String) {
    let node = cluster.start_from(1, config);
    let mut client = node.connect(&cluster.setup.client).await;
    let uid = client
        .create(create_aes(256, "read-often", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    (node, uid)
}

/// This node's spool directory (one per node id under `audit-spool` beside `[store] path`).
fn spool_of(cluster: &Cluster, n: usize) -> PathBuf {
    let config = cluster.node_config(n).config;
    let root = kms_server::audit::spool_dir_of(&config.store.path);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_answered_while_the_database_was_frozen_are_recorded_after_a_kill_and_a_restart() {
    let cluster = Cluster::new(|_| {});
    let config = cluster
        .node_config_with(1, |c| c.audit.node_id = Some("spooled".into()))
        .file;
    let (node, uid) = node_with_a_key(&cluster, &config).await;
    // The first Get clears the key's Fresh flag (a write); the next ones only read, from the node's cache.
    let (before, refused) = get_for(&node, &cluster, &uid, 4, Duration::from_millis(500)).await;
    assert!(
        before > 0 && refused == 0,
        "{before} answered, {refused} refused"
    );

    // The database freezes: statements hang, so nothing more is committed; the node's cache lease (renewals sent
    // less than a lease ago) still lets it serve the key for seconds, and each answer's record goes to the spool.
    tokio::task::block_in_place(|| cluster.database.freeze());
    let (during, _) = get_for(&node, &cluster, &uid, 4, Duration::from_millis(800)).await;
    assert!(
        during > 0,
        "no read was answered while the database was frozen"
    );
    tokio::task::block_in_place(|| {
        node.sigkill();
        cluster.database.thaw();
    });
    // The commit the killed node had under way, if any, lands or not; either way the spool has the rest.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored = gets_recorded(&cluster.chain("spooled"), &uid);
    assert!(
        stored < before + during,
        "the database already holds all {stored} records: nothing for the spool to prove"
    );

    let node = cluster.start_from(1, &config);
    assert!(
        node.log()
            .contains("found in the spool only, committed to the database"),
        "{}",
        node.log()
    );
    let recorded = gets_recorded(&cluster.chain("spooled"), &uid);
    assert!(
        recorded >= before + during,
        "{} Gets answered ({before} before the outage, {during} during it), {recorded} recorded",
        before + during
    );
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
    // The chain continues where the spool ended.
    let (after, refused) = get_for(&node, &cluster, &uid, 2, Duration::from_millis(200)).await;
    assert!(after > 0 && refused == 0);
    drop(node);
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
}

/// The spool's segments, by name.
fn segments(spool: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(spool)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_a_stream_of_reads_committed_segments_leave_the_spool() {
    let cluster = Cluster::new(|_| {});
    let config = cluster
        .node_config_with(1, |c| c.audit.node_id = Some("streaming".into()))
        .file;
    let (node, uid) = node_with_a_key(&cluster, &config).await;
    let spool = spool_of(&cluster, 1);
    let first = segments(&spool);
    assert_eq!(first.len(), 1, "{first:?}");
    // A segment closes once all of it is committed and it holds 2 MiB (a quarter segment: ~5,500 Gets' records).
    let started = Instant::now();
    let mut answered = 0;
    while segments(&spool).contains(&first[0]) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first segment is still there after {answered} Gets: {:?}",
            segments(&spool)
        );
        let (gets, refused) = get_for(&node, &cluster, &uid, 4, Duration::from_millis(500)).await;
        assert_eq!(refused, 0);
        answered += gets;
    }
    let left: u64 = segments(&spool)
        .iter()
        .map(|n| std::fs::metadata(spool.join(n)).unwrap().len())
        .sum();
    assert!(
        left < 2 * (8 << 20),
        "{left} bytes left in the spool after {answered} Gets"
    );
    // The last ones within the committer's next round.
    let mut recorded = 0;
    for _ in 0..50 {
        recorded = gets_recorded(&cluster.chain("streaming"), &uid);
        if recorded == answered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recorded, answered, "every Get answered is in the database");
    drop(node);
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_reads_answered_after_their_commit_no_read_is_answered_while_the_database_is_frozen() {
    let cluster = Cluster::new(|_| {});
    let config = cluster
        .node_config_with(1, |c| {
            c.audit.answer_reads_after = ReadsAnsweredAfter::Committed
        })
        .file;
    let (node, uid) = node_with_a_key(&cluster, &config).await;
    let (before, refused) = get_for(&node, &cluster, &uid, 2, Duration::from_millis(300)).await;
    assert!(before > 0 && refused == 0);
    assert!(
        !kms_server::audit::spool_dir_of(&cluster.node_config(1).config.store.path).exists(),
        "no spool is kept"
    );
    tokio::task::block_in_place(|| cluster.database.freeze());
    let answered = tokio::time::timeout(
        Duration::from_millis(800),
        get_for(&node, &cluster, &uid, 1, Duration::from_millis(300)),
    )
    .await;
    tokio::task::block_in_place(|| cluster.database.thaw());
    // The Get waits for its record's commit: no answer while the database is frozen.
    assert!(
        answered.is_err(),
        "answered while the database was frozen: {answered:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_spool_that_does_not_continue_the_chain_stops_the_node_from_starting() {
    let cluster = Cluster::new(|_| {});
    let config = cluster
        .node_config_with(1, |c| c.audit.node_id = Some("gapped".into()))
        .file;
    let node = cluster.start_from(1, &config);
    let mut client = node.connect(&cluster.setup.client).await;
    client.create(create_aes(256, "one", vec![])).await.unwrap();
    assert!(tokio::task::block_in_place(|| node.stop()), "clean stop");
    let records = cluster.chain("gapped");
    let mut last = records.last().unwrap().clone();
    // A record two past the head: the one between is missing.
    last.sequence += 2;
    last.previous_hash = last.hash.clone();
    last.hash = last.compute_hash();
    let spool = spool_of(&cluster, 1);
    std::fs::write(
        spool.join(format!("{:020}.jsonl", last.sequence)),
        format!("{}\n", serde_json::to_string(&last).unwrap()),
    )
    .unwrap();

    let refused = ServerProcess::start_from(&config, cluster.setup.path().join("refused.log"))
        .map(drop)
        .expect_err("a node whose spool does not continue its chain must not start");
    assert!(
        refused.contains("does not continue the chain")
            && refused.contains(&spool.display().to_string()),
        "{refused}"
    );
    // Moved aside, the node starts and its chain verifies.
    std::fs::rename(&spool, spool.with_extension("aside")).unwrap();
    let node = cluster.start_from(1, &config);
    drop(node);
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_crash_under_read_load_leaves_every_answered_read_in_a_chain_without_gaps() {
    let cluster = Cluster::new(|_| {});
    // Commits not waited for stay in PostgreSQL's memory for long: the crash loses the reads' last commits.
    cluster.sql("ALTER SYSTEM SET wal_writer_delay = '10s'");
    cluster.sql("SELECT pg_reload_conf()");
    let config = cluster
        .node_config_with(1, |c| c.audit.node_id = Some("crashed".into()))
        .file;
    let (node, uid) = node_with_a_key(&cluster, &config).await;
    let load = {
        let mut clients = Vec::new();
        for _ in 0..4 {
            clients.push(node.connect(&cluster.setup.client).await);
        }
        let uid = uid.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let mut tasks = Vec::new();
            for mut client in clients {
                let uid = uid.clone();
                tasks.push(tokio::spawn(async move {
                    let mut answered = 0;
                    while started.elapsed() < Duration::from_secs(4) {
                        if client.get(get(&uid)).await.is_ok() {
                            answered += 1;
                        }
                    }
                    answered
                }));
            }
            let mut total = 0;
            for task in tasks {
                total += task.await.unwrap();
            }
            total
        })
    };
    tokio::time::sleep(Duration::from_millis(1200)).await;
    tokio::task::block_in_place(|| {
        cluster.database.stop_immediately();
        std::thread::sleep(Duration::from_millis(300));
        cluster.database.restart();
    });
    let answered: usize = load.await.unwrap();
    assert!(tokio::task::block_in_place(|| node.stop()), "clean stop");
    let recorded = gets_recorded(&cluster.chain("crashed"), &uid);
    assert!(
        recorded >= answered,
        "{answered} Gets answered, {recorded} recorded"
    );
    let (ok, text) = verify(&config);
    assert!(ok, "{text}");
}
