//! Locate through the indexes: the owner's objects only, never internal ones, in creation order. One suite, run
//! against both stores (sled, and PostgreSQL started privately by `pg_support`): every case below exists once
//! per backend (`sled::NAME`, `postgres::NAME`), so both must give the same answers for every filter. The State,
//! Object Group and date cases are in `store_locate_filters/`; the PostgreSQL-only ones (index plans, the
//! backfill of rows from schema version 1) in `store_locate_postgres/`.

mod pg_options;
mod pg_support;
mod store_locate_filters;
mod store_locate_postgres;

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes, Name};
use kmip::enums::{CryptographicAlgorithm, ObjectType, State};
use kms_server::store::{
    Argon2Params, Custody, IndexQuery, Namespace, ObjectStore, PgStore, RootKey, SledStore,
    StoreError, StoreOptions, StoredObject,
};
use kms_server::tenant::TenantId;
use pg_options::PgOptions;
use store_locate_filters::*;

/// A store under test and what it needs kept alive (temp dir, database server).
struct Backend {
    store: Box<dyn ObjectStore>,
    _dir: Option<tempfile::TempDir>,
    _database: Option<pg_support::PgServer>,
}

impl std::ops::Deref for Backend {
    type Target = dyn ObjectStore;
    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

fn sled_backend() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let options = StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        ..StoreOptions::default()
    };
    let store =
        SledStore::open_with_root_key(dir.path(), &RootKey::from_bytes([3; 32]), pool, &options)
            .unwrap();
    Backend {
        store: Box::new(store),
        _dir: Some(dir),
        _database: None,
    }
}

fn postgres_backend() -> Backend {
    let database = pg_support::PgServer::start();
    database.create_database("locate");
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let store = PgStore::open_with_custody(
        &database.options("locate"),
        |_| Ok(Custody::Raw(RootKey::from_bytes([3; 32]))),
        pool,
        &Argon2Params::insecure_for_tests(),
    )
    .unwrap();
    Backend {
        store: Box::new(store),
        _dir: None,
        _database: Some(database),
    }
}

/// Each case once per backend.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sled {
            $( #[test] fn $case() { super::$case(super::sled_backend()); } )*
        }
        mod postgres {
            $( #[test] fn $case() { super::$case(super::postgres_backend()); } )*
        }
    };
}

on_both_backends!(
    locate_returns_the_owners_objects_in_creation_order,
    locate_by_name_type_and_filter,
    updates_reindex_and_removal_unindexes,
    duplicate_inserts_and_missing_objects_are_typed_errors,
    destroyed_objects_keep_their_metadata_and_indexes,
    one_uid_in_three_namespaces_is_three_objects,
    locate_pages_through_many_objects_in_order,
    state_filters_follow_date_transitions_and_the_storage_mask,
    object_group_filters_need_each_group,
    date_filters_match_one_value_or_a_range,
    combined_filters_page_in_creation_order,
);

fn object(
    uid: &str,
    owner: &str,
    object_type: ObjectType,
    names: &[&str],
    internal: bool,
) -> StoredObject {
    let mut attributes = Attributes::from(vec![
        Attribute::UniqueIdentifier(uid.into()),
        Attribute::ObjectType(object_type),
        Attribute::State(State::PreActive),
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
    ]);
    for name in names {
        attributes.push(Attribute::Name(Name::text(*name)));
    }
    StoredObject {
        uid: uid.into(),
        owner: TenantId(owner.into()),
        object: None,
        attributes,
        internal,
    }
}

fn all(_: &Attributes) -> bool {
    true
}

fn alice() -> TenantId {
    TenantId("alice".into())
}

fn populated(s: Backend) -> Backend {
    s.insert(&object(
        "a1",
        "alice",
        ObjectType::SymmetricKey,
        &["backup"],
        false,
    ))
    .unwrap();
    s.insert(&object(
        "b1",
        "bob",
        ObjectType::SymmetricKey,
        &["backup"],
        false,
    ))
    .unwrap();
    s.insert(&object(
        "a2",
        "alice",
        ObjectType::SecretData,
        &["backup", "db"],
        false,
    ))
    .unwrap();
    s.insert(&object(
        "a-int",
        "alice",
        ObjectType::SymmetricKey,
        &["backup"],
        true,
    ))
    .unwrap();
    s.insert(&object(
        "a3",
        "alice",
        ObjectType::SymmetricKey,
        &["db"],
        false,
    ))
    .unwrap();
    // An owner whose name is a prefix of another's must not see the other's objects.
    s.insert(&object(
        "al1",
        "al",
        ObjectType::SymmetricKey,
        &["backup"],
        false,
    ))
    .unwrap();
    s
}

fn locate_returns_the_owners_objects_in_creation_order(backend: Backend) {
    let s = populated(backend);
    assert_eq!(
        s.locate(&alice(), &IndexQuery::default(), &mut all)
            .unwrap(),
        ["a1", "a2", "a3"]
    );
    assert_eq!(
        s.locate(&TenantId("bob".into()), &IndexQuery::default(), &mut all)
            .unwrap(),
        ["b1"]
    );
    assert_eq!(
        s.locate(&TenantId("al".into()), &IndexQuery::default(), &mut all)
            .unwrap(),
        ["al1"]
    );
    assert!(s
        .locate(
            &TenantId("mallory".into()),
            &IndexQuery::default(),
            &mut all
        )
        .unwrap()
        .is_empty());
}

fn locate_by_name_type_and_filter(backend: Backend) {
    let s = populated(backend);
    let by_name = IndexQuery {
        name: Some("backup".into()),
        ..IndexQuery::default()
    };
    assert_eq!(
        s.locate(&alice(), &by_name, &mut all).unwrap(),
        ["a1", "a2"]
    );
    let by_type = IndexQuery {
        object_type: Some(ObjectType::SymmetricKey),
        ..IndexQuery::default()
    };
    assert_eq!(
        s.locate(&alice(), &by_type, &mut all).unwrap(),
        ["a1", "a3"]
    );
    let both = IndexQuery {
        name: Some("db".into()),
        object_type: Some(ObjectType::SymmetricKey),
        ..IndexQuery::default()
    };
    assert_eq!(s.locate(&alice(), &both, &mut all).unwrap(), ["a3"]);
    let no_such_name = IndexQuery {
        name: Some("back".into()),
        ..IndexQuery::default()
    };
    assert!(s
        .locate(&alice(), &no_such_name, &mut all)
        .unwrap()
        .is_empty());
    let mut only_secret_data = |a: &Attributes| a.object_type() == Some(ObjectType::SecretData);
    assert_eq!(
        s.locate(&alice(), &IndexQuery::default(), &mut only_secret_data)
            .unwrap(),
        ["a2"]
    );
}

fn updates_reindex_and_removal_unindexes(backend: Backend) {
    let s = populated(backend);
    let mut renamed = s.get(Namespace::Tenant(&alice()), "a1").unwrap().unwrap();
    renamed
        .attributes
        .set(Attribute::Name(Name::text("archive")));
    s.update(&renamed).unwrap();
    let query = |name: &str| IndexQuery {
        name: Some(name.into()),
        ..IndexQuery::default()
    };
    assert_eq!(
        s.locate(&alice(), &query("backup"), &mut all).unwrap(),
        ["a2"]
    );
    assert_eq!(
        s.locate(&alice(), &query("archive"), &mut all).unwrap(),
        ["a1"]
    );
    // Creation order is kept across updates.
    assert_eq!(
        s.locate(&alice(), &IndexQuery::default(), &mut all)
            .unwrap(),
        ["a1", "a2", "a3"]
    );

    s.remove(Namespace::Tenant(&alice()), "a2").unwrap();
    assert!(s.get(Namespace::Tenant(&alice()), "a2").unwrap().is_none());
    assert_eq!(
        s.locate(&alice(), &IndexQuery::default(), &mut all)
            .unwrap(),
        ["a1", "a3"]
    );
    assert!(s.locate(&alice(), &query("db"), &mut all).unwrap() == ["a3"]);
}

fn duplicate_inserts_and_missing_objects_are_typed_errors(backend: Backend) {
    let s = populated(backend);
    let again = object("a1", "alice", ObjectType::SymmetricKey, &[], false);
    assert!(matches!(s.insert(&again), Err(StoreError::AlreadyExists(uid)) if uid == "a1"));
    let ghost = object("ghost", "alice", ObjectType::SymmetricKey, &[], false);
    assert!(matches!(s.update(&ghost), Err(StoreError::NotFound(_))));
    assert!(matches!(
        s.remove(Namespace::Tenant(&alice()), "ghost"),
        Err(StoreError::NotFound(_))
    ));
    assert!(s
        .get(Namespace::Tenant(&alice()), "ghost")
        .unwrap()
        .is_none());
    // The failed insert left the original intact.
    let original = s.get(Namespace::Tenant(&alice()), "a1").unwrap().unwrap();
    assert_eq!(original.attributes.names().next().unwrap().value, "backup");
}

fn destroyed_objects_keep_their_metadata_and_indexes(backend: Backend) {
    let s = populated(backend);
    let mut destroyed = s.get(Namespace::Tenant(&alice()), "a3").unwrap().unwrap();
    destroyed.object = None;
    destroyed.attributes.set(Attribute::State(State::Destroyed));
    s.update(&destroyed).unwrap();
    let back = s.get(Namespace::Tenant(&alice()), "a3").unwrap().unwrap();
    assert!(back.object.is_none());
    assert_eq!(back.attributes.state(), Some(State::Destroyed));
    let by_type = IndexQuery {
        object_type: Some(ObjectType::SymmetricKey),
        ..IndexQuery::default()
    };
    assert_eq!(
        s.locate(&alice(), &by_type, &mut all).unwrap(),
        ["a1", "a3"]
    );
}

fn one_uid_in_three_namespaces_is_three_objects(s: Backend) {
    let bob = TenantId("bob".into());
    s.insert(&object(
        "k",
        "alice",
        ObjectType::SymmetricKey,
        &["a"],
        false,
    ))
    .unwrap();
    s.insert(&object("k", "bob", ObjectType::SecretData, &["b"], false))
        .unwrap();
    s.insert(&object(
        "k",
        "alice",
        ObjectType::SymmetricKey,
        &["server"],
        true,
    ))
    .unwrap();
    let alices = s.get(Namespace::Tenant(&alice()), "k").unwrap().unwrap();
    let bobs = s.get(Namespace::Tenant(&bob), "k").unwrap().unwrap();
    let servers = s.get(Namespace::Server, "k").unwrap().unwrap();
    assert_eq!(alices.attributes.names().next().unwrap().value, "a");
    assert_eq!(bobs.attributes.names().next().unwrap().value, "b");
    assert_eq!(servers.attributes.names().next().unwrap().value, "server");
    assert!(servers.internal);
    s.remove(Namespace::Tenant(&bob), "k").unwrap();
    assert!(s.get(Namespace::Tenant(&bob), "k").unwrap().is_none());
    assert!(s.get(Namespace::Tenant(&alice()), "k").unwrap().is_some());
    assert!(s.get(Namespace::Server, "k").unwrap().is_some());
    assert_eq!(
        s.locate(&alice(), &IndexQuery::default(), &mut all)
            .unwrap(),
        ["k"]
    );
}

/// More objects than one database page (512): all found, in creation order, filters applied across pages.
fn locate_pages_through_many_objects_in_order(s: Backend) {
    let uids: Vec<String> = (0..1100).map(|i| format!("many-{i:05}")).collect();
    for (i, uid) in uids.iter().enumerate() {
        let kind = if i % 2 == 0 {
            ObjectType::SymmetricKey
        } else {
            ObjectType::SecretData
        };
        let name = if i % 3 == 0 { "third" } else { "other" };
        s.insert(&object(uid, "alice", kind, &[name], false))
            .unwrap();
    }
    assert_eq!(
        s.locate(&alice(), &IndexQuery::default(), &mut all)
            .unwrap(),
        uids
    );
    let by_type = IndexQuery {
        object_type: Some(ObjectType::SecretData),
        ..IndexQuery::default()
    };
    let odd: Vec<String> = uids.iter().skip(1).step_by(2).cloned().collect();
    assert_eq!(s.locate(&alice(), &by_type, &mut all).unwrap(), odd);
    let by_name = IndexQuery {
        name: Some("third".into()),
        ..IndexQuery::default()
    };
    let thirds: Vec<String> = uids.iter().step_by(3).cloned().collect();
    assert_eq!(s.locate(&alice(), &by_name, &mut all).unwrap(), thirds);
    let mut tens = |a: &Attributes| {
        a.names().next().is_some() && a.unique_identifier().is_some_and(|uid| uid.ends_with('0'))
    };
    let ending_in_zero: Vec<String> = uids.iter().filter(|u| u.ends_with('0')).cloned().collect();
    assert_eq!(
        s.locate(&alice(), &IndexQuery::default(), &mut tens)
            .unwrap(),
        ending_in_zero
    );
}
