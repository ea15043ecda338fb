//! Locate through the indexes: the owner's objects only, never internal ones, in creation order.

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes, Name};
use kmip::enums::{CryptographicAlgorithm, ObjectType, State};
use kms_server::store::{
    Argon2Params, IndexQuery, Namespace, ObjectStore, RootKey, SledStore, StoreError, StoreOptions,
    StoredObject,
};
use kms_server::tenant::TenantId;

fn store(dir: &std::path::Path) -> SledStore {
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let options = StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        ..StoreOptions::default()
    };
    SledStore::open_with_root_key(dir, &RootKey::from_bytes([3; 32]), pool, &options).unwrap()
}

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

fn populated(dir: &std::path::Path) -> SledStore {
    let s = store(dir);
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

#[test]
fn locate_returns_the_owners_objects_in_creation_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(dir.path());
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

#[test]
fn locate_by_name_type_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(dir.path());
    let by_name = IndexQuery {
        name: Some("backup".into()),
        object_type: None,
    };
    assert_eq!(
        s.locate(&alice(), &by_name, &mut all).unwrap(),
        ["a1", "a2"]
    );
    let by_type = IndexQuery {
        name: None,
        object_type: Some(ObjectType::SymmetricKey),
    };
    assert_eq!(
        s.locate(&alice(), &by_type, &mut all).unwrap(),
        ["a1", "a3"]
    );
    let both = IndexQuery {
        name: Some("db".into()),
        object_type: Some(ObjectType::SymmetricKey),
    };
    assert_eq!(s.locate(&alice(), &both, &mut all).unwrap(), ["a3"]);
    let no_such_name = IndexQuery {
        name: Some("back".into()),
        object_type: None,
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

#[test]
fn updates_reindex_and_removal_unindexes() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(dir.path());
    let mut renamed = s.get(Namespace::Tenant(&alice()), "a1").unwrap().unwrap();
    renamed
        .attributes
        .set(Attribute::Name(Name::text("archive")));
    s.update(&renamed).unwrap();
    let query = |name: &str| IndexQuery {
        name: Some(name.into()),
        object_type: None,
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

#[test]
fn duplicate_inserts_and_missing_objects_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(dir.path());
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

#[test]
fn destroyed_objects_keep_their_metadata_and_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(dir.path());
    let mut destroyed = s.get(Namespace::Tenant(&alice()), "a3").unwrap().unwrap();
    destroyed.object = None;
    destroyed.attributes.set(Attribute::State(State::Destroyed));
    s.update(&destroyed).unwrap();
    let back = s.get(Namespace::Tenant(&alice()), "a3").unwrap().unwrap();
    assert!(back.object.is_none());
    assert_eq!(back.attributes.state(), Some(State::Destroyed));
    let by_type = IndexQuery {
        name: None,
        object_type: Some(ObjectType::SymmetricKey),
    };
    assert_eq!(
        s.locate(&alice(), &by_type, &mut all).unwrap(),
        ["a1", "a3"]
    );
}
