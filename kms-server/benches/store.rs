//! Store throughput: durable inserts (insert + `wait_durable`, group commit) from 1 and 16 threads, and gets.
//!
//! `cargo bench -p kms-server --bench store`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes, Name};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType, State};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::audit::{AuditEntry, AuditLog};
use kms_server::store::recovering::passphrase_opener;
use kms_server::store::{
    Argon2Params, Namespace, ObjectStore, RecoveringStore, RecoverySettings, SledStore,
    StoreOptions, StoredObject,
};
use kms_server::tenant::{Role, TenantId};
use zeroize::Zeroizing;

fn key(uid: String) -> StoredObject {
    StoredObject {
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(uid.clone()),
            Attribute::ObjectType(ObjectType::SymmetricKey),
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
            Attribute::CryptographicLength(256),
            Attribute::State(State::PreActive),
            Attribute::Name(Name::text(format!("bench-{uid}"))),
            Attribute::InitialDate(1_700_000_000),
        ]),
        owner: TenantId("bench".into()),
        object: Some(ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![0x42; 32])),
            Some(CryptographicAlgorithm::Aes),
            Some(256),
        ))),
        uid,
        internal: false,
    }
}

fn open(dir: &std::path::Path) -> SledStore {
    let options = StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        ..StoreOptions::default()
    };
    SledStore::open(
        dir,
        b"bench",
        EntropyPool::new(EntropyConfig::default()).unwrap(),
        &options,
    )
    .unwrap()
}

fn open_recovering(dir: &std::path::Path) -> RecoveringStore {
    let options = StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        ..StoreOptions::default()
    };
    let opener = passphrase_opener(
        dir,
        Zeroizing::new(b"bench".to_vec()),
        EntropyPool::new(EntropyConfig::default()).unwrap(),
        options,
    );
    RecoveringStore::open(dir, opener, RecoverySettings::default()).unwrap()
}

/// `iters` durable inserts spread over `threads` threads, each followed by the audit record and both waits, as
/// the dispatcher does for a Create.
fn durable_inserts(
    store: &Arc<SledStore>,
    audit: Option<&Arc<AuditLog>>,
    next: &Arc<AtomicU64>,
    threads: u64,
    iters: u64,
) -> Duration {
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (store, audit, next) = (store.clone(), audit.cloned(), next.clone());
            let count = iters / threads + u64::from(t < iters % threads);
            std::thread::spawn(move || {
                let tenant = TenantId("bench".into());
                for _ in 0..count {
                    let uid = format!("k{}", next.fetch_add(1, Ordering::Relaxed));
                    store.insert(&key(uid.clone())).unwrap();
                    if let Some(audit) = &audit {
                        audit
                            .append(AuditEntry {
                                tenant: &tenant,
                                role: Role::Tenant,
                                operation: "Create",
                                objects: vec![uid],
                                targets: Vec::new(),
                                result: Ok(()),
                                detail: None,
                                time: 1_700_000_000,
                            })
                            .unwrap();
                        audit.wait_durable().unwrap();
                    }
                    store.wait_durable().unwrap();
                }
            })
        })
        .collect();
    workers.into_iter().for_each(|w| w.join().unwrap());
    start.elapsed()
}

fn bench_durable_insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("store_durable_insert");
    group.throughput(Throughput::Elements(1));
    for with_audit in [false, true] {
        for threads in [1u64, 16] {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(open(dir.path()));
            let audit =
                with_audit.then(|| Arc::new(AuditLog::open(dir.path().join("audit.log")).unwrap()));
            let next = Arc::new(AtomicU64::new(0));
            let name = if with_audit { "insert+audit" } else { "insert" };
            group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &threads| {
                b.iter_custom(|iters| {
                    durable_inserts(&store, audit.as_ref(), &next, threads, iters)
                })
            });
        }
    }
    group.finish();
}

fn bench_get(c: &mut Criterion) {
    const OBJECTS: u64 = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for i in 0..OBJECTS {
        store.insert(&key(format!("k{i}"))).unwrap();
    }
    store.wait_durable().unwrap();
    // The same store behind the server's full-disk recovery wrapper: what a healthy store pays for it.
    let recovering_dir = tempfile::tempdir().unwrap();
    let recovering = open_recovering(recovering_dir.path());
    for i in 0..OBJECTS {
        recovering.insert(&key(format!("k{i}"))).unwrap();
    }
    recovering.wait_durable().unwrap();
    let mut group = c.benchmark_group("store_get");
    group.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    group.bench_function("get_unsealed", |b| {
        b.iter(|| {
            i = (i + 7919) % OBJECTS;
            store
                .get(
                    Namespace::Tenant(&TenantId("bench".into())),
                    &format!("k{i}"),
                )
                .unwrap()
                .unwrap()
        })
    });
    group.bench_function("get_unsealed_recovering", |b| {
        b.iter(|| {
            i = (i + 7919) % OBJECTS;
            recovering
                .get(
                    Namespace::Tenant(&TenantId("bench".into())),
                    &format!("k{i}"),
                )
                .unwrap()
                .unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = bench_durable_insert, bench_get
}
criterion_main!(benches);
