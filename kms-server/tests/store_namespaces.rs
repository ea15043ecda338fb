//! The store keeps one uid namespace per tenant and one for the server (issue #12, part 1): the same uid in two
//! namespaces is two objects, an insert never collides with another namespace, and a store written before
//! namespaces (trees keyed by uid alone) is moved into them once, at its next start, with nothing lost.

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::store::{
    Argon2Params, Namespace, ObjectStore, RootKey, SledStore, StoreError, StoreOptions,
    StoredObject,
};
use kms_server::tenant::TenantId;
use zeroize::Zeroizing;

fn options() -> StoreOptions {
    StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        ..StoreOptions::default()
    }
}

fn open(dir: &std::path::Path) -> SledStore {
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    SledStore::open_with_root_key(dir, &RootKey::from_bytes([7; 32]), pool, &options()).unwrap()
}

fn object(uid: &str, owner: &str, internal: bool, byte: u8) -> StoredObject {
    StoredObject {
        uid: uid.into(),
        owner: TenantId(owner.into()),
        object: Some(ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![byte; 16])),
            Some(CryptographicAlgorithm::Aes),
            Some(128),
        ))),
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(uid.into()),
            Attribute::ObjectType(ObjectType::SymmetricKey),
        ]),
        internal,
    }
}

fn byte_of(store: &SledStore, namespace: Namespace<'_>, uid: &str) -> Option<u8> {
    store.get(namespace, uid).unwrap().map(|o| match o.object {
        Some(ManagedObject::SymmetricKey(block)) => match block.key_value.unwrap().material {
            KeyMaterial::Bytes(bytes) => bytes[0],
            other => panic!("unexpected material {other:?}"),
        },
        other => panic!("unexpected object {other:?}"),
    })
}

#[test]
fn the_same_uid_in_two_namespaces_is_two_objects() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (alice, bob) = (TenantId("alice".into()), TenantId("bob".into()));
    store.insert(&object("k", "alice", false, 1)).unwrap();
    store.insert(&object("k", "bob", false, 2)).unwrap();
    store
        .insert(&object("k", "qkms-internal", true, 3))
        .unwrap();
    assert!(matches!(
        store.insert(&object("k", "alice", false, 9)),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(byte_of(&store, Namespace::Tenant(&alice), "k"), Some(1));
    assert_eq!(byte_of(&store, Namespace::Tenant(&bob), "k"), Some(2));
    assert_eq!(byte_of(&store, Namespace::Server, "k"), Some(3));
    assert_eq!(
        byte_of(&store, Namespace::Tenant(&TenantId("carol".into())), "k"),
        None
    );
    store.remove(Namespace::Tenant(&bob), "k").unwrap();
    assert_eq!(byte_of(&store, Namespace::Tenant(&alice), "k"), Some(1));
    assert_eq!(byte_of(&store, Namespace::Tenant(&bob), "k"), None);
}

#[test]
fn a_store_keyed_by_uid_alone_moves_into_namespaces_at_its_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = (TenantId("alice".into()), TenantId("bob".into()));
    {
        let store = open(dir.path());
        store.insert(&object("a", "alice", false, 1)).unwrap();
        store.insert(&object("b", "bob", false, 2)).unwrap();
        store
            .insert(&object("ca", "qkms-internal", true, 3))
            .unwrap();
        store.wait_durable().unwrap();
    }
    // Rewrite the trees in the layout of a store made before namespaces: records and blobs keyed by the uid.
    {
        let db = sled::open(dir.path()).unwrap();
        for (new, legacy) in [
            ("attributes_by_namespace", "attributes"),
            ("objects_by_namespace", "objects"),
        ] {
            let from = db.open_tree(new).unwrap();
            let to = db.open_tree(legacy).unwrap();
            for (namespace, uid) in [
                (Namespace::Tenant(&alice), "a"),
                (Namespace::Tenant(&bob), "b"),
                (Namespace::Server, "ca"),
            ] {
                let value = from.get(namespace.key(uid)).unwrap().unwrap();
                to.insert(uid.as_bytes(), value).unwrap();
            }
            db.drop_tree(new).unwrap();
        }
        db.flush().unwrap();
    }
    let store = open(dir.path());
    assert_eq!(byte_of(&store, Namespace::Tenant(&alice), "a"), Some(1));
    assert_eq!(byte_of(&store, Namespace::Tenant(&bob), "b"), Some(2));
    assert_eq!(byte_of(&store, Namespace::Server, "ca"), Some(3));
    // Nowhere else.
    assert_eq!(byte_of(&store, Namespace::Tenant(&bob), "a"), None);
    assert_eq!(byte_of(&store, Namespace::Tenant(&alice), "ca"), None);
    drop(store);
    let db = sled::open(dir.path()).unwrap();
    assert!(
        !db.tree_names().iter().any(|n| n.as_ref() == b"attributes"),
        "the legacy trees are gone"
    );
}
