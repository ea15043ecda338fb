//! PostgreSQL only: the indexes PostgreSQL picks for selective Locates (EXPLAIN), the start-up backfill of the
//! Locate columns for rows written under schema version 1 (several nodes starting at once), the fence against
//! nodes of that older release, and `qkms store migrate` filling the columns.

use std::sync::Arc;

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, KnownAttribute};
use kmip::enums::State;
use kms_server::store::postgres::copy::copy_sled_to_postgres;
use kms_server::store::{
    Argon2Params, Custody, DateRange, IndexQuery, ObjectStore, PgStore, RootKey, SledStore,
    StoreOptions, StoredStates,
};

use super::store_locate_filters::{check, with};
use super::{alice, pg_support::PgServer, PgOptions};

fn open(database: &PgServer, name: &str) -> PgStore {
    PgStore::open_with_custody(
        &database.options(name),
        |_| Ok(Custody::Raw(RootKey::from_bytes([3; 32]))),
        EntropyPool::new(EntropyConfig::default()).unwrap(),
        &Argon2Params::insecure_for_tests(),
    )
    .unwrap()
}

#[test]
fn selective_state_group_and_date_locates_use_their_indexes() {
    let database = PgServer::start();
    database.create_database("plans");
    let store = open(&database, "plans");
    for i in 0..3_000i64 {
        let (state, group) = match i % 500 {
            0 => (State::Compromised, "rare"),
            _ => (State::Active, "common"),
        };
        store
            .insert(&with(
                &format!("k{i}"),
                vec![
                    Attribute::State(state),
                    Attribute::ObjectGroup(group.into()),
                    Attribute::InitialDate(i),
                ],
            ))
            .unwrap();
    }
    database.psql("plans", "ANALYZE");
    let plan = |query: IndexQuery| store.explain_locate(&alice(), &query).unwrap();
    let by_state = plan(IndexQuery {
        stored_states: Some(StoredStates {
            states: vec![State::Compromised],
            stateless: false,
        }),
        ..IndexQuery::default()
    });
    assert!(by_state.contains("qkms_objects_by_state"), "{by_state}");
    let by_group = plan(IndexQuery {
        groups: vec!["rare".into()],
        ..IndexQuery::default()
    });
    assert!(by_group.contains("qkms_groups_by_group"), "{by_group}");
    let by_date = plan(IndexQuery {
        dates: vec![DateRange {
            attribute: KnownAttribute::InitialDate,
            low: 10,
            high: 20,
        }],
        ..IndexQuery::default()
    });
    assert!(by_date.contains("qkms_dates_by_value"), "{by_date}");
    // And the answers are right.
    check(
        &store,
        vec![Attribute::State(State::Compromised)],
        None,
        &["k0", "k500", "k1000", "k1500", "k2000", "k2500"],
    );
}

/// Objects with every kind of Locate fact, and the checks that find them.
fn populate(store: &dyn ObjectStore) {
    store
        .insert(&with(
            "g1",
            vec![
                Attribute::State(State::Active),
                Attribute::ObjectGroup("g".into()),
                Attribute::InitialDate(10),
            ],
        ))
        .unwrap();
    store
        .insert(&with(
            "c1",
            vec![
                Attribute::State(State::Compromised),
                Attribute::InitialDate(20),
            ],
        ))
        .unwrap();
    store
        .insert(&with(
            "g2",
            vec![
                Attribute::State(State::PreActive),
                Attribute::ObjectGroup("g".into()),
                Attribute::InitialDate(30),
            ],
        ))
        .unwrap();
}

fn found_as_populated(store: &dyn ObjectStore) {
    check(
        store,
        vec![Attribute::ObjectGroup("g".into())],
        None,
        &["g1", "g2"],
    );
    check(
        store,
        vec![Attribute::State(State::Compromised)],
        None,
        &["c1"],
    );
    check(
        store,
        vec![Attribute::InitialDate(15), Attribute::InitialDate(30)],
        None,
        &["c1", "g2"],
    );
}

/// Takes the database back to schema version 1, as an older release left it: the rows keep their records and
/// names, the Locate columns and tables (version 2), the shared node state (3), the audit tables (4) and the
/// object caches' change log and leases (5) are gone.
const TO_VERSION_1: &str = "
    DROP TABLE qkms_change_counter; DROP TABLE qkms_object_changes; DROP TABLE qkms_cache_nodes;
    DROP TABLE qkms_audit; DROP TABLE qkms_audit_nodes;
    DROP TABLE qkms_user_pins; DROP TABLE qkms_tenant_usage; DROP TABLE qkms_usage_flushes;
    DROP SEQUENCE qkms_node_seq; DROP TABLE qkms_eaas_days; DROP TABLE qkms_eaas_months;
    DROP TABLE qkms_groups; DROP TABLE qkms_dates; DROP TABLE qkms_backfills;
    ALTER TABLE qkms_objects DROP CONSTRAINT qkms_objects_indexed_current;
    DROP INDEX qkms_objects_by_state;
    ALTER TABLE qkms_objects DROP COLUMN state;
    ALTER TABLE qkms_objects DROP COLUMN indexed_revision;
    DELETE FROM qkms_schema_migrations WHERE version > 1";

#[test]
fn rows_from_schema_version_1_are_backfilled_by_nodes_starting_at_once() {
    let database = PgServer::start();
    database.create_database("older");
    populate(&open(&database, "older"));
    database.psql("older", TO_VERSION_1);

    let database = Arc::new(database);
    let nodes: Vec<PgStore> = (0..3)
        .map(|_| {
            let database = Arc::clone(&database);
            std::thread::spawn(move || open(&database, "older"))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("every node opens and backfills"))
        .collect();
    assert_eq!(
        database.psql(
            "older",
            "SELECT COUNT(*) FROM qkms_objects WHERE indexed_revision <> revision"
        ),
        "0"
    );
    assert_eq!(
        database.psql("older", "SELECT COUNT(*) FROM qkms_groups"),
        "2"
    );
    assert_eq!(
        database.psql("older", "SELECT name FROM qkms_backfills"),
        "locate-columns"
    );
    for node in &nodes {
        found_as_populated(node);
    }
    // Indexed rows are written as usual afterwards, and a node starting now skips the scan.
    let mut moved = nodes[0]
        .get(kms_server::store::Namespace::Tenant(&alice()), "c1")
        .unwrap()
        .unwrap();
    moved.attributes.push(Attribute::ObjectGroup("g".into()));
    nodes[1].update(&moved).unwrap();
    let late = open(&database, "older");
    check(
        &late,
        vec![Attribute::ObjectGroup("g".into())],
        None,
        &["g1", "c1", "g2"],
    );
}

#[test]
fn a_node_of_the_older_release_can_no_longer_write() {
    let database = PgServer::start();
    database.create_database("fence");
    populate(&open(&database, "fence"));
    // schema version 1's UPDATE: bumps the revision without re-deriving the Locate columns.
    let update = database
        .try_psql(
            "fence",
            "UPDATE qkms_objects SET record = record, revision = revision + 1 WHERE uid = 'g1'",
        )
        .unwrap_err();
    assert!(update.contains("qkms_objects_indexed_current"), "{update}");
    // schema version 1's INSERT: does not know the columns.
    let insert = database
        .try_psql(
            "fence",
            "INSERT INTO qkms_objects (storage_key, uid, tenant, internal, object_type, revision, record, blob)
             VALUES ('\\x00ff', 'v1', 'alice', FALSE, NULL, 1, '\\x00', NULL)",
        )
        .unwrap_err();
    assert!(insert.contains("indexed_revision"), "{insert}");
}

#[test]
fn store_migrate_fills_the_locate_columns() {
    let dir = tempfile::tempdir().unwrap();
    {
        let sled = SledStore::open_with_root_key(
            dir.path(),
            &RootKey::from_bytes([3; 32]),
            EntropyPool::new(EntropyConfig::default()).unwrap(),
            &StoreOptions {
                argon2: Argon2Params::insecure_for_tests(),
                ..StoreOptions::default()
            },
        )
        .unwrap();
        populate(&sled);
        found_as_populated(&sled);
        sled.wait_durable().unwrap();
    }
    let database = PgServer::start();
    database.create_database("copied");
    let provider = EntropyPool::new(EntropyConfig::default())
        .unwrap()
        .rustls_provider();
    let report = copy_sled_to_postgres(
        dir.path(),
        &database.options("copied"),
        Arc::clone(&provider),
    )
    .unwrap();
    assert_eq!(report.copied, 3);
    let again = copy_sled_to_postgres(dir.path(), &database.options("copied"), provider).unwrap();
    assert_eq!(again.copied, 0);
    found_as_populated(&open(&database, "copied"));
}
