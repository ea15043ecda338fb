//! Locate by State on PostgreSQL with 100,000 objects of one tenant (1 % Compromised, the rest Active): the
//! State pushed into SQL (its index, schema version 2) against the node filtering every row the tenant index
//! returns (the same SQL the previous release sent for a State filter: tenant and creation order, 512 a page).
//! Starts a private PostgreSQL like the tests (`tests/pg_support`; Debian's `postgresql` package).
//!
//! `cargo bench -p kms-server --bench pg_locate`

#[path = "../tests/pg_support/mod.rs"]
mod pg_support;

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes};
use kmip::enums::{ObjectType, State};
use kmip::ProtocolVersion;
use kms_server::operations::locate::Search;
use kms_server::store::postgres::RetryPolicy;
use kms_server::store::{
    Argon2Params, Custody, IndexQuery, ObjectStore, PgStore, PostgresOptions, RootKey, StoredObject,
};
use kms_server::tenant::TenantId;

const OBJECTS: usize = 100_000;
const WRITERS: usize = 8;

fn open(database: &pg_support::PgServer) -> PgStore {
    let mut options = PostgresOptions::new(database.url("bench"));
    options.password = Some(zeroize::Zeroizing::new(pg_support::PASSWORD.to_owned()));
    options.tls_ca_file = Some(database.ca_file.clone());
    options.pool_size = WRITERS;
    options.retry = RetryPolicy::default();
    PgStore::open_with_custody(
        &options,
        |_| Ok(Custody::Raw(RootKey::from_bytes([3; 32]))),
        EntropyPool::new(EntropyConfig::default()).unwrap(),
        &Argon2Params::insecure_for_tests(),
    )
    .unwrap()
}

fn object(i: usize) -> StoredObject {
    let state = if i.is_multiple_of(100) {
        State::Compromised
    } else {
        State::Active
    };
    StoredObject {
        uid: format!("k{i}"),
        owner: TenantId("bench".into()),
        object: None,
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(format!("k{i}")),
            Attribute::ObjectType(ObjectType::SymmetricKey),
            Attribute::State(state),
            Attribute::InitialDate(1_700_000_000),
            Attribute::LastChangeDate(1_700_000_000),
        ]),
        internal: false,
    }
}

fn locate_by_state(c: &mut Criterion) {
    let database = pg_support::PgServer::start();
    database.create_database("bench");
    let store = Arc::new(open(&database));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for i in (w..OBJECTS).step_by(WRITERS) {
                    store.insert(&object(i)).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    database.psql("bench", "ANALYZE");
    let tenant = TenantId("bench".into());
    let mut group = c.benchmark_group("pg_locate_100k");
    for (label, state, expected) in [
        ("compromised", State::Compromised, OBJECTS / 100),
        ("active", State::Active, OBJECTS - OBJECTS / 100),
    ] {
        let search = Search::new(
            ProtocolVersion::V2_1,
            Attributes::from(vec![Attribute::State(state)]),
            None,
            None,
            1_700_000_000,
        )
        .unwrap();
        group.bench_function(format!("{label}/state_in_sql"), |b| {
            b.iter(|| {
                let found = store
                    .locate(&tenant, &search.index, &mut |a| search.matches(a))
                    .unwrap();
                assert_eq!(found.len(), expected);
            })
        });
        group.bench_function(format!("{label}/state_in_node"), |b| {
            b.iter(|| {
                let found = store
                    .locate(&tenant, &IndexQuery::default(), &mut |a| search.matches(a))
                    .unwrap();
                assert_eq!(found.len(), expected);
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = locate_by_state
}
criterion_main!(benches);
