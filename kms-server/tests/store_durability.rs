//! Group commit: concurrent writers share flushes, and whatever `wait_durable` confirmed is there after reopen.

use std::sync::Arc;

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes};
use kmip::enums::{KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::store::{
    Argon2Params, Namespace, ObjectStore, SledStore, StoreOptions, StoredObject,
};
use kms_server::tenant::TenantId;
use zeroize::Zeroizing;

fn options() -> StoreOptions {
    StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        // Only `wait_durable` flushes: the count below is then exactly the group commit's.
        background_flush_ms: None,
        ..StoreOptions::default()
    }
}

fn object(uid: String) -> StoredObject {
    StoredObject {
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(uid.clone()),
            Attribute::ObjectType(ObjectType::SecretData),
        ]),
        uid,
        owner: TenantId("tenant".into()),
        object: Some(ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![7; 16])),
            None,
            None,
        ))),
        internal: false,
    }
}

#[test]
fn concurrent_durable_writers_share_flushes_and_survive_reopen() {
    const THREADS: usize = 16;
    const PER_THREAD: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    {
        let store = Arc::new(SledStore::open(dir.path(), b"pw", pool.clone(), &options()).unwrap());
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..PER_THREAD {
                        store.insert(&object(format!("t{t}-{i}"))).unwrap();
                        store.wait_durable().unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let stats = store.commit_stats();
        assert_eq!(stats.writes, (THREADS * PER_THREAD) as u64);
        assert!(
            stats.flushes * 2 < stats.writes,
            "group commit did not share flushes: {stats:?}"
        );
    }
    let store = SledStore::open(dir.path(), b"pw", pool, &options()).unwrap();
    for t in 0..THREADS {
        for i in 0..PER_THREAD {
            assert!(
                store
                    .get(
                        Namespace::Tenant(&TenantId("tenant".into())),
                        &format!("t{t}-{i}")
                    )
                    .unwrap()
                    .is_some(),
                "t{t}-{i} lost"
            );
        }
    }
}

#[test]
fn wait_durable_without_writes_returns_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let store = SledStore::open(dir.path(), b"pw", pool, &options()).unwrap();
    store.wait_durable().unwrap();
    assert_eq!(store.commit_stats().flushes, 0);
}

/// Child half of `acknowledged_writes_survive_sigkill`: writes until killed, printing each acknowledged uid.
#[test]
fn sigkill_child_writer() {
    let Some(dir) = std::env::var_os("QKMS_STORE_SIGKILL_CHILD_DIR") else {
        return;
    };
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let store = Arc::new(SledStore::open(&dir, b"pw", pool, &options()).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                use std::io::Write;
                for i in 0.. {
                    let uid = format!("c{t}-{i}");
                    store.insert(&object(uid.clone())).unwrap();
                    store.wait_durable().unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ACK {uid}").unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sigkill_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("QKMS_STORE_SIGKILL_CHILD_DIR", dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acknowledged = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acknowledged.len() < 400 {
        let line = lines.next().expect("child ended early").unwrap();
        if let Some(uid) = line.strip_prefix("ACK ") {
            acknowledged.push(uid.to_owned());
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Lines the child printed before dying are acknowledged too.
    acknowledged.extend(
        lines
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("ACK ").map(str::to_owned)),
    );

    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let store = SledStore::open(dir.path(), b"pw", pool, &options()).unwrap();
    for uid in &acknowledged {
        assert!(
            store
                .get(Namespace::Tenant(&TenantId("tenant".into())), uid)
                .unwrap()
                .is_some(),
            "acknowledged {uid} lost after SIGKILL"
        );
    }
}
