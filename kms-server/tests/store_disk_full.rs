//! The recovering store on a real full file system (a small tmpfs; needs root, as CI runs): writes are refused
//! as a full disk, reads keep working, writes are accepted again once space is freed without reopening by hand,
//! and every write `wait_durable` confirmed is there after a plain reopen. Also: a reopen never confirms a write
//! made to the instance it replaced, and never creates an empty store where the old one vanished.

mod tmpfs_support;

use std::time::{Duration, Instant};

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes};
use kmip::enums::{KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::store::recovering::{passphrase_opener, RESERVE_FILE};
use kms_server::store::{
    Argon2Params, IndexQuery, Namespace, ObjectStore, RecoveringStore, RecoverySettings, SledStore,
    StoreCondition, StoreError, StoreOptions, StoredObject,
};
use kms_server::tenant::TenantId;
use tmpfs_support::Tmpfs;
use zeroize::Zeroizing;

fn options() -> StoreOptions {
    StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        background_flush_ms: None,
        ..StoreOptions::default()
    }
}

fn settings() -> RecoverySettings {
    RecoverySettings {
        reserve_bytes: 1024 * 1024,
        probe_interval: Duration::from_millis(50),
    }
}

fn object(uid: &str) -> StoredObject {
    StoredObject {
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(uid.to_owned()),
            Attribute::ObjectType(ObjectType::SymmetricKey),
        ]),
        uid: uid.to_owned(),
        owner: TenantId("tenant".into()),
        object: Some(ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![7; 2048])),
            None,
            None,
        ))),
        internal: false,
    }
}

fn open(path: &std::path::Path, pool: &EntropyPool) -> RecoveringStore {
    let opener = passphrase_opener(
        path,
        Zeroizing::new(b"pw".to_vec()),
        pool.clone(),
        options(),
    );
    RecoveringStore::open(path, opener, settings()).expect("the store opens")
}

/// The store opened directly, as a restart would. sled's I/O threads may hold its file lock a moment after the
/// last handle is dropped.
fn open_plain(path: &std::path::Path, pool: EntropyPool) -> SledStore {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match SledStore::open(path, b"pw", pool.clone(), &options()) {
            Err(StoreError::Io(message))
                if message.contains("could not acquire lock") && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other.expect("the store reopens"),
        }
    }
}

fn durable_insert(store: &RecoveringStore, uid: &str) -> Result<(), StoreError> {
    store.insert(&object(uid))?;
    store.wait_durable()
}

fn located(store: &RecoveringStore) -> usize {
    store
        .locate(
            &TenantId("tenant".into()),
            &IndexQuery::default(),
            &mut |_| true,
        )
        .expect("Locate works")
        .len()
}

#[test]
fn a_full_disk_refuses_writes_keeps_reads_and_accepts_writes_once_space_is_freed() {
    let tmpfs = Tmpfs::mount("8m");
    let path = tmpfs.path().join("store");
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let store = open(&path, &pool);
    assert!(path.join(RESERVE_FILE).is_file(), "the reserve is kept");
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let uid = format!("before-{i}");
        durable_insert(&store, &uid).unwrap();
        acknowledged.push(uid);
    }

    let filler = tmpfs.fill();
    let mut refusal = None;
    for i in 0..10_000 {
        let uid = format!("filling-{i}");
        match durable_insert(&store, &uid) {
            Ok(()) => acknowledged.push(uid),
            Err(error) => {
                refusal = Some(error);
                break;
            }
        }
    }
    let refusal = refusal.expect("the file system filled up");
    assert!(
        matches!(refusal, StoreError::DiskFull { .. }),
        "{refusal:?}"
    );
    assert!(refusal.to_string().contains("[store] path"), "{refusal}");
    assert!(
        matches!(store.condition(), StoreCondition::DiskFull { .. }),
        "{:?}",
        store.condition()
    );

    // Reads keep working: every acknowledged object, and Locate.
    for uid in &acknowledged {
        assert!(
            store
                .get(Namespace::Tenant(&TenantId("tenant".into())), uid)
                .unwrap()
                .is_some(),
            "{uid} readable"
        );
    }
    assert!(located(&store) >= acknowledged.len());
    // An update (a Get clearing Fresh) is refused as a full disk; the durability wait after it succeeds.
    let mut fresh = store
        .get(
            Namespace::Tenant(&TenantId("tenant".into())),
            &acknowledged[0],
        )
        .unwrap()
        .unwrap();
    fresh.attributes = Attributes::from(vec![Attribute::Fresh(false)]);
    assert!(matches!(
        store.update(&fresh),
        Err(StoreError::DiskFull { .. })
    ));
    store.wait_durable().unwrap();
    // Still full after the probe interval: still refused.
    std::thread::sleep(Duration::from_millis(100));
    assert!(matches!(
        durable_insert(&store, "while-full"),
        Err(StoreError::DiskFull { .. })
    ));

    std::fs::remove_file(filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match durable_insert(&store, "after-freeing") {
            Ok(()) => break,
            Err(StoreError::DiskFull { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => panic!("writes not accepted after freeing space: {error}"),
        }
    }
    acknowledged.push("after-freeing".into());
    assert_eq!(store.condition(), StoreCondition::Ok);
    for i in 0..20 {
        let uid = format!("after-{i}");
        durable_insert(&store, &uid).unwrap();
        acknowledged.push(uid);
    }
    drop(store);

    let plain = open_plain(&path, pool);
    for uid in &acknowledged {
        assert!(
            plain
                .get(Namespace::Tenant(&TenantId("tenant".into())), uid)
                .unwrap()
                .is_some(),
            "{uid} survived"
        );
    }
}

#[test]
fn a_write_made_before_a_reopen_is_not_confirmed_by_the_new_instance() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let store = open(&path, &pool);
    store.insert(&object("written-before")).unwrap();
    let generation = store.generation();
    store.reopen_now().unwrap();
    assert_ne!(store.generation(), generation);
    let error = store.wait_durable().unwrap_err();
    assert!(error.to_string().contains("reopened"), "{error}");
    // Reads and later writes work on the new instance.
    assert!(store
        .get(
            Namespace::Tenant(&TenantId("tenant".into())),
            "written-before"
        )
        .unwrap()
        .is_some());
    durable_insert(&store, "written-after").unwrap();
}

#[test]
fn a_reopen_never_makes_an_empty_store_where_the_old_one_vanished() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let store = open(&path, &pool);
    durable_insert(&store, "k").unwrap();
    std::fs::remove_dir_all(&path).unwrap();
    assert!(store.reopen_now().is_err());
    assert!(
        store
            .get(Namespace::Tenant(&TenantId("tenant".into())), "k")
            .is_err(),
        "an error, not an empty store's None"
    );
    assert!(!path.exists(), "no new store created");
    assert!(matches!(store.condition(), StoreCondition::Failing { .. }));
}

#[test]
fn concurrent_writers_filling_the_disk_lose_nothing_acknowledged() {
    const THREADS: usize = 8;
    let tmpfs = Tmpfs::mount("8m");
    let path = tmpfs.path().join("store");
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let store = std::sync::Arc::new(open(&path, &pool));
    let filler = tmpfs.fill();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut refusals = 0;
                // Each writer goes on until refused a few times in a row: the disk is full for everyone.
                for i in 0..5_000 {
                    let uid = format!("t{t}-{i}");
                    match durable_insert(&store, &uid) {
                        Ok(()) => {
                            acknowledged.push(uid);
                            refusals = 0;
                        }
                        Err(StoreError::DiskFull { .. }) => {
                            refusals += 1;
                            if refusals == 3 {
                                break;
                            }
                        }
                        // A write applied to an instance replaced before its flush: refused, not acknowledged.
                        Err(StoreError::Io(message)) => {
                            assert!(message.contains("reopened"), "{message}")
                        }
                        Err(error) => panic!("{error:?}"),
                    }
                    // Reads work throughout.
                    if let Some(uid) = acknowledged.first() {
                        assert!(store
                            .get(Namespace::Tenant(&TenantId("tenant".into())), uid)
                            .unwrap()
                            .is_some());
                    }
                }
                acknowledged
            })
        })
        .collect();
    let acknowledged: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(matches!(store.condition(), StoreCondition::DiskFull { .. }));
    for uid in &acknowledged {
        assert!(
            store
                .get(Namespace::Tenant(&TenantId("tenant".into())), uid)
                .unwrap()
                .is_some(),
            "{uid} readable while full"
        );
    }
    std::fs::remove_file(filler).unwrap();
    std::thread::sleep(Duration::from_millis(60));
    durable_insert(&store, "after").unwrap();
    drop(store);
    let plain = open_plain(&path, pool);
    for uid in acknowledged
        .iter()
        .chain(std::iter::once(&"after".to_owned()))
    {
        assert!(
            plain
                .get(Namespace::Tenant(&TenantId("tenant".into())), uid)
                .unwrap()
                .is_some(),
            "{uid} survived"
        );
    }
}
