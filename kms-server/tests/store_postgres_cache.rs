//! The PostgreSQL store's object cache between two nodes (two `PgStore`s on one private PostgreSQL, each with its
//! own cache and lease): a row changed or removed through one node is never served stale by the other once the
//! change returned, even while a reader keeps refilling the other's cache; repeated Gets are served from memory
//! (a row changed behind qkms's back stays as read) and with `object_cache_mb = 0` every Get reads the database; a write waits for a
//! node that holds a lease but stopped reporting, at most its lease, and reports an error if a lease keeps being
//! held without reporting; a node that closes removes its lease row; an idle node writes its lease row every
//! eighth of its lease, not at every poll, and keeps serving from its cache across many leases.

mod pg_options;
mod pg_support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes, Name};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::store::postgres::ObjectCacheOptions;
use kms_server::store::{
    Argon2Params, Custody, Namespace, ObjectStore, PgStore, PostgresOptions, RootKey, StoreError,
    StoredObject,
};
use kms_server::tenant::TenantId;
use pg_options::PgOptions;
use pg_support::PgServer;
use zeroize::Zeroizing;

const ROOT: [u8; 32] = [0x6d; 32];

fn open(options: &PostgresOptions) -> PgStore {
    PgStore::open_with_custody(
        options,
        |_| Ok(Custody::Raw(RootKey::from_bytes(ROOT))),
        EntropyPool::new(EntropyConfig::default()).unwrap(),
        &Argon2Params::insecure_for_tests(),
    )
    .expect("the store opens")
}

fn cached(db: &PgServer, database: &str, lease_ms: u64) -> PostgresOptions {
    let mut options = db.options(database);
    options.object_cache = ObjectCacheOptions {
        bytes: 4 * 1024 * 1024,
        poll: Duration::from_millis(5),
        lease: Duration::from_millis(lease_ms),
    };
    options
}

fn key(uid: &str, description: &str) -> StoredObject {
    StoredObject {
        uid: uid.into(),
        owner: TenantId("alice".into()),
        object: Some(ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![0x42; 32])),
            Some(CryptographicAlgorithm::Aes),
            Some(256),
        ))),
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(uid.into()),
            Attribute::ObjectType(ObjectType::SymmetricKey),
            Attribute::Name(Name::text(format!("name-{uid}"))),
            Attribute::Description(description.into()),
        ]),
        internal: false,
    }
}

fn description(object: &StoredObject) -> String {
    object
        .attributes
        .iter()
        .find_map(|a| match a {
            Attribute::Description(d) => Some(d.clone()),
            _ => None,
        })
        .expect("a Description")
}

fn read(store: &PgStore, uid: &str) -> Option<(String, u64)> {
    store
        .get_with_revision(Namespace::Tenant(&TenantId("alice".into())), uid)
        .expect("Get")
        .map(|(object, revision)| (description(&object), revision.expect("a revision")))
}

/// Waits until both nodes hold a lease (their watchers have joined).
fn wait_for_leases(db: &PgServer, database: &str, nodes: usize) {
    let joined = PgServer::wait_until(Duration::from_secs(10), || {
        db.psql(database, "SELECT COUNT(*) FROM qkms_cache_nodes") == nodes.to_string()
    });
    assert!(joined, "{nodes} nodes joined");
}

#[test]
fn a_row_changed_or_removed_on_another_node_is_never_served_stale_after_the_change_returned() {
    let db = PgServer::start();
    db.create_database("stale");
    let (first, second) = (
        Arc::new(open(&cached(&db, "stale", 5000))),
        open(&cached(&db, "stale", 5000)),
    );
    wait_for_leases(&db, "stale", 2);
    let tenant = TenantId("alice".into());
    let namespace = Namespace::Tenant(&tenant);

    for round in 0..40 {
        let uid = format!("k-{round}");
        second.insert(&key(&uid, "v0")).unwrap();
        assert_eq!(read(&first, &uid), Some(("v0".into(), 1)));
        // A reader keeps Getting the key on the first node (refilling its cache) while the second changes it.
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (first, stop, uid) = (Arc::clone(&first), Arc::clone(&stop), uid.clone());
            std::thread::spawn(move || {
                let mut reads = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let _ = read(&first, &uid);
                    reads += 1;
                }
                reads
            })
        };
        for step in 1..=5u64 {
            let (_, revision) = second
                .get_with_revision(namespace, &uid)
                .unwrap()
                .expect("present");
            let written = second
                .update_if(&key(&uid, &format!("v{step}")), revision)
                .unwrap()
                .expect("a new revision");
            assert_eq!(written, step + 1);
            // Acknowledged: the first node serves the change, never the row it cached before.
            assert_eq!(
                read(&first, &uid),
                Some((format!("v{step}"), step + 1)),
                "round {round} step {step}"
            );
        }
        second.update(&key(&uid, "unconditional")).unwrap();
        assert_eq!(read(&first, &uid), Some(("unconditional".into(), 7)));
        // The first node's conditional update from a revision it read before is a conflict, not a lost update.
        assert!(matches!(
            first.update_if(&key(&uid, "late"), Some(6)),
            Err(StoreError::Conflict { .. })
        ));
        // A change made on the first node itself is read back by it at once.
        first.update_if(&key(&uid, "own"), Some(7)).unwrap();
        assert_eq!(read(&first, &uid), Some(("own".into(), 8)));
        assert_eq!(read(&second, &uid), Some(("own".into(), 8)));
        second.remove(namespace, &uid).unwrap();
        assert_eq!(read(&first, &uid), None, "round {round}: removed");
        stop.store(true, Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    }
    let changes: i64 = db
        .psql("stale", "SELECT seq FROM qkms_change_counter")
        .parse()
        .unwrap();
    assert_eq!(
        changes,
        40 * 8,
        "every update and removal, and nothing else, is logged"
    );
}

#[test]
fn repeated_gets_are_served_from_memory_and_every_get_reads_the_database_with_the_cache_off() {
    let db = PgServer::start();
    db.create_database("reads");
    let on = open(&cached(&db, "reads", 5000));
    let mut off_options = cached(&db, "reads", 5000);
    off_options.object_cache.bytes = 0;
    let off = open(&off_options);
    wait_for_leases(&db, "reads", 1);
    assert!(off.object_cache_usage().is_none());
    on.insert(&key("hot", "v0")).unwrap();
    assert_eq!(read(&on, "hot"), Some(("v0".into(), 1)));
    let (rows, bytes) = on.object_cache_usage().unwrap();
    assert_eq!(rows, 1);
    assert!(bytes > 32 && bytes < 4096, "{bytes}");

    // Changed behind qkms's back (no change logged): the caching node keeps serving what it read, the node
    // without a cache reads the database every time.
    db.psql(
        "reads",
        "UPDATE qkms_objects SET revision = 99, indexed_revision = 99 WHERE uid = 'hot'",
    );
    for _ in 0..100 {
        assert_eq!(read(&on, "hot"), Some(("v0".into(), 1)));
        assert_eq!(read(&off, "hot"), Some(("v0".into(), 99)));
    }

    // The node without a cache holds no lease, yet its changes reach the caching node's cache.
    off.update(&key("hot", "changed by the node without a cache"))
        .unwrap();
    assert_eq!(
        read(&on, "hot"),
        Some(("changed by the node without a cache".into(), 100))
    );
}

#[test]
fn an_idle_node_renews_its_lease_every_eighth_of_it_not_at_every_poll_and_keeps_serving() {
    let db = PgServer::start();
    db.create_database("renewals");
    // A lease of 800 ms: a renewal every 100 ms; a poll every 5 ms.
    let node = open(&cached(&db, "renewals", 800));
    wait_for_leases(&db, "renewals", 1);
    node.insert(&key("r", "v0")).unwrap();
    assert_eq!(read(&node, "r"), Some(("v0".into(), 1)));
    // Changed behind qkms's back: the node serves what it read for as long as its lease keeps being renewed (a
    // lapse would empty the cache and the next Get would read revision 99).
    db.psql(
        "renewals",
        "UPDATE qkms_objects SET revision = 99, indexed_revision = 99 WHERE uid = 'r'",
    );
    let started = Instant::now();
    let (mut samples, mut leases) = (0usize, BTreeSet::new());
    while samples < 80 || started.elapsed() < Duration::from_millis(2400) {
        leases.insert(db.psql("renewals", "SELECT lease_until_ms FROM qkms_cache_nodes"));
        samples += 1;
        assert_eq!(
            read(&node, "r"),
            Some(("v0".into(), 1)),
            "served from the cache throughout"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let renewals_due = (started.elapsed().as_millis() / 100) as usize;
    // Writing the row at every poll would show a new lease in nearly every sample.
    assert!(
        leases.len() <= renewals_due + 3 && leases.len() * 2 < samples,
        "{} distinct leases in {samples} samples over {:?}",
        leases.len(),
        started.elapsed()
    );
    assert!(
        leases.len() >= renewals_due / 2,
        "the lease keeps being renewed: {} distinct leases over {:?}",
        leases.len(),
        started.elapsed()
    );
}

#[test]
fn a_write_waits_for_a_silent_lease_at_most_until_it_runs_out() {
    let db = PgServer::start();
    db.create_database("silent");
    let node = open(&cached(&db, "silent", 1000));
    wait_for_leases(&db, "silent", 1);
    node.insert(&key("w", "v0")).unwrap();

    // Alone, a write does not wait.
    let started = Instant::now();
    node.update(&key("w", "v1")).unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );

    // A node that holds a lease for 1.5 s more and never reports (frozen): the write waits for it, until then.
    db.psql(
        "silent",
        "INSERT INTO qkms_cache_nodes (node_id, lease_until_ms, seen_seq)
         VALUES ('frozen', CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT) + 1500, 0)",
    );
    let started = Instant::now();
    node.update(&key("w", "v2")).unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1200) && waited < Duration::from_millis(2000),
        "{waited:?}"
    );

    // A lease held far longer without any report (a broken node): the write reports it after twice its own lease.
    db.psql(
        "silent",
        "UPDATE qkms_cache_nodes SET lease_until_ms = lease_until_ms + 3600000 WHERE node_id = 'frozen'",
    );
    let started = Instant::now();
    let refused = node.update(&key("w", "v3")).unwrap_err().to_string();
    assert!(refused.contains("did not confirm"), "{refused}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    db.psql(
        "silent",
        "DELETE FROM qkms_cache_nodes WHERE node_id = 'frozen'",
    );

    // A node that closes removes its lease row.
    let id = node.cache_node_id().to_owned();
    drop(node);
    assert_eq!(
        db.psql(
            "silent",
            &format!("SELECT COUNT(*) FROM qkms_cache_nodes WHERE node_id = '{id}'")
        ),
        "0"
    );
}

#[test]
fn a_node_that_loses_the_database_stops_serving_and_starts_again_empty() {
    let db = PgServer::start();
    db.create_database("outage");
    let mut options = cached(&db, "outage", 1000);
    options.retry.attempts = 1;
    options.connect_timeout = Duration::from_secs(1);
    let node = open(&options);
    wait_for_leases(&db, "outage", 1);
    node.insert(&key("o", "v0")).unwrap();
    assert_eq!(read(&node, "o"), Some(("v0".into(), 1)));

    db.stop_immediately();
    // The watcher notices within a few polls and the lease is at most 1 s: from then on nothing is served.
    std::thread::sleep(Duration::from_millis(1100));
    let tenant = TenantId("alice".into());
    assert!(
        node.get(Namespace::Tenant(&tenant), "o").is_err(),
        "no Get is answered from memory without a lease"
    );
    db.restart();
    let back = PgServer::wait_until(Duration::from_secs(15), || {
        node.get(Namespace::Tenant(&tenant), "o").is_ok()
    });
    assert!(back);
    assert_eq!(read(&node, "o"), Some(("v0".into(), 1)));
}
