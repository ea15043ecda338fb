//! A node whose audit log is in the database commits each written object without waiting for its WAL flush and
//! lets the durable commit of the message's audit record flush both (one flush per Create instead of two), and
//! still acknowledges nothing that a crash of the database could lose.
//!
//! The database's WAL writer is slowed to one round every 10 s (`wal_writer_delay`), so a commit left unflushed
//! stays in PostgreSQL's memory for seconds: had the node acknowledged an object whose commit no later durable
//! commit covered, a crash of the database (`pg_ctl stop -m immediate`, which discards the WAL buffers) would lose
//! it. And PostgreSQL's own count of WAL flushes (`pg_stat_wal.wal_sync`) shows the one flush per Create. At the
//! store's level: deferred writes that no audit commit covered are flushed by `wait_durable_through` itself.

mod e2e_support;
mod pg_cluster;
mod pg_options;
mod pg_support;

use std::collections::BTreeSet;
use std::time::Duration;

use e2e_support::*;
use kmip::attributes::{Attribute, Attributes};
use kmip::enums::ObjectType;
use kms_server::store::deferred_durability::deferring;
use kms_server::store::{
    Argon2Params, Custody, Namespace, ObjectStore, PgStore, RootKey, StoredObject,
};
use kms_server::tenant::TenantId;
use pg_cluster::{create_for, Cluster};
use pg_options::PgOptions;
use pg_support::PgServer;

/// A cluster of one database whose WAL writer seldom runs (see the module comment).
fn cluster_with_a_lazy_wal_writer() -> Cluster {
    let cluster = Cluster::new(|_| {});
    cluster.sql("ALTER SYSTEM SET wal_writer_delay = '10s'");
    cluster.sql("SELECT pg_reload_conf()");
    assert!(
        pg_support::PgServer::wait_until(Duration::from_secs(10), || {
            cluster.sql("SHOW wal_writer_delay") == "10s"
        }),
        "the database took the setting"
    );
    cluster
}

/// The number of WAL flushes PostgreSQL has counted so far (backends report theirs about once a second).
fn wal_flushes(cluster: &Cluster) -> u64 {
    cluster
        .sql("SELECT pg_stat_clear_snapshot(); SELECT wal_sync FROM pg_stat_wal")
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .expect("pg_stat_wal.wal_sync")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_wal_flush_per_create_when_the_audit_record_commits_durably() {
    let cluster = cluster_with_a_lazy_wal_writer();
    let node = cluster.start_node(1);
    let mut client = node.connect(&cluster.setup.client).await;
    // Warm up (the node's first writes prepare its statements), then let the statistics settle.
    client
        .create(create_aes(256, "warm-up", vec![]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = tokio::task::block_in_place(|| wal_flushes(&cluster));
    const CREATES: u64 = 60;
    for n in 0..CREATES {
        client
            .create(create_aes(256, &format!("counted-{n}"), vec![]))
            .await
            .unwrap();
    }
    // Every Create's durable commit has been counted once the count reaches one per Create; a little later, any
    // second flush per Create would have been too.
    tokio::task::block_in_place(|| {
        pg_support::PgServer::wait_until(Duration::from_secs(20), || {
            wal_flushes(&cluster) >= before + CREATES
        })
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let flushes = tokio::task::block_in_place(|| wal_flushes(&cluster)) - before;
    // One durable commit per Create (its audit record), plus the node's heartbeats (one every 2 s) and the
    // database's own; committing the object durably as well makes it at least two per Create.
    assert!(
        (CREATES..CREATES * 3 / 2).contains(&flushes),
        "{flushes} WAL flushes for {CREATES} sequential Creates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_crash_under_create_load_loses_no_acknowledged_object() {
    let cluster = cluster_with_a_lazy_wal_writer();
    let node = cluster.start_node(1);
    let mut acked = BTreeSet::new();
    // Two crashes (each catches the unflushed tail with some chance; the node reconnects by itself).
    for round in 0..2 {
        // Four writers that pause between Creates: the WAL fills slowly, so with the WAL writer asleep the last
        // commits sit in a WAL page that nothing has written out yet when the database crashes (at full speed,
        // pages fill and wake the WAL writer, which then writes nearly everything: a test that could not fail).
        let mut writers = Vec::new();
        for w in 0..4 {
            let client = node.connect(&cluster.setup.client).await;
            writers.push(tokio::spawn(create_for(
                client,
                format!("load-{round}-{w}"),
                Duration::from_secs(3),
                Duration::from_millis(10),
            )));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // What was committed but not flushed is in the WAL buffers only; `-m immediate` discards them.
        tokio::task::block_in_place(|| cluster.database.stop_immediately());
        tokio::time::sleep(Duration::from_millis(500)).await;
        tokio::task::block_in_place(|| cluster.database.restart());
        for writer in writers {
            // Refused while the database is away: not acknowledged, nothing to check.
            acked.extend(writer.await.unwrap().0);
        }
    }
    assert!(
        acked.len() > 40,
        "the load made only {} objects",
        acked.len()
    );
    let stored: BTreeSet<String> = tokio::task::block_in_place(|| {
        cluster
            .sql("SELECT uid FROM qkms_objects")
            .lines()
            .map(str::to_owned)
            .collect()
    });
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged objects lost in the crashes: {lost:?}",
        lost.len(),
        acked.len()
    );
}

fn opaque_record(uid: &str) -> StoredObject {
    StoredObject {
        uid: uid.into(),
        owner: TenantId("alice".into()),
        object: None,
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(uid.into()),
            Attribute::ObjectType(ObjectType::SymmetricKey),
        ]),
        internal: false,
    }
}

#[test]
fn deferred_writes_no_audit_commit_covered_are_flushed_by_the_store_itself() {
    let database = PgServer::start();
    database.create_database("store");
    database.psql("store", "ALTER SYSTEM SET wal_writer_delay = '10s'");
    database.psql("store", "SELECT pg_reload_conf()");
    assert!(
        PgServer::wait_until(Duration::from_secs(10), || {
            database.psql("store", "SHOW wal_writer_delay") == "10s"
        }),
        "the database took the setting"
    );
    let options = database.options("store");
    // Each opening claims its own audit chain: the chain in this database is what allows deferral (nothing is
    // appended to it here), and the previous opening's claim is still held by this live process.
    let open = |round: usize| {
        let store = PgStore::open_with_custody(
            &options,
            |_| Ok(Custody::Raw(RootKey::from_bytes([0x3a; 32]))),
            entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap(),
            &Argon2Params::insecure_for_tests(),
        )
        .unwrap();
        store
            .claim_audit_chain(&format!("store-test-{round}"), "here")
            .unwrap();
        store
    };
    let present = |store: &PgStore, uid: &str| {
        store
            .get(Namespace::Tenant(&TenantId("alice".into())), uid)
            .unwrap()
            .is_some()
    };

    // The control (a deferred write is durable only once waited for, so the checks could fail) depends on no other
    // flush of the WAL landing between the unwaited write and the crash: the WAL writer's round, the background
    // writer's standby snapshot or a checkpoint may, rarely. So up to three rounds; one lost control suffices.
    let mut control_lost = false;
    for round in 0..3 {
        let store = open(round);
        // Outside a deferral scope, writes stay durable (start-up, session leases, the issuing CA).
        store
            .insert(&opaque_record(&format!("durable-{round}")))
            .unwrap();
        let (written, mark) = deferring(|| {
            (0..20).try_for_each(|n| store.insert(&opaque_record(&format!("waited-{round}-{n}"))))
        });
        written.unwrap();
        assert!(mark > 0, "the writes were deferred");
        store.wait_durable_through(mark).unwrap();
        // Written afterwards and never waited for: only the WAL buffers hold its commit.
        let unwaited = format!("unwaited-{round}");
        let (written, unwaited_mark) = deferring(|| store.insert(&opaque_record(&unwaited)));
        written.unwrap();
        assert!(unwaited_mark > mark);

        database.stop_immediately();
        drop(store);
        database.restart();
        let store = open(round + 10);
        assert!(present(&store, &format!("durable-{round}")));
        for n in 0..20 {
            assert!(
                present(&store, &format!("waited-{round}-{n}")),
                "waited-{round}-{n}, waited for, was lost in the crash"
            );
        }
        if !present(&store, &unwaited) {
            eprintln!("the unwaited write of round {round} was lost in the crash, as it may be");
            control_lost = true;
            break;
        }
        eprintln!("round {round}: another flush covered the unwaited write; once more");
    }
    assert!(
        control_lost,
        "in three rounds, a deferred commit nobody waited for was flushed anyway (is the write deferred at all?)"
    );
}
