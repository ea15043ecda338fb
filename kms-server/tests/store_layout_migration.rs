//! The sled store's layout 2 (one owner-type index entry per object instead of an owner index entry and a type
//! index entry): a store written in layout 1 is moved once at its next start with every object, index and Locate
//! answer intact, a move interrupted at any step finishes at the following start, and a store of a later layout
//! is refused. The layout-1 store is made here by writing layout 1's entries directly (its owner index holds
//! `lp(owner) || created -> uid` for every indexed object; its type index only typed objects).

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes, Name};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::store::{
    Argon2Params, IndexQuery, Namespace, ObjectStore, RootKey, SledStore, StoreError, StoreOptions,
    StoredObject,
};
use kms_server::tenant::TenantId;
use zeroize::Zeroizing;

const OWNER_INDEX: &str = "index_owner";
const OWNER_TYPE_INDEX: &str = "index_type";
const LAYOUT_KEY: &[u8] = b"sled_layout_version";

fn open(dir: &std::path::Path) -> Result<SledStore, StoreError> {
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let options = StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        ..StoreOptions::default()
    };
    SledStore::open_with_root_key(dir, &RootKey::from_bytes([7; 32]), pool, &options)
}

/// A symmetric key (typed) or, with `object_type` `None`, a destroyed object with no type anywhere (untyped).
fn object(uid: &str, owner: &str, object_type: Option<ObjectType>, names: &[&str]) -> StoredObject {
    let mut attributes = vec![Attribute::UniqueIdentifier(uid.into())];
    attributes.extend(object_type.map(Attribute::ObjectType));
    attributes.extend(names.iter().map(|n| Attribute::Name(Name::text(*n))));
    StoredObject {
        uid: uid.into(),
        owner: TenantId(owner.into()),
        object: object_type.map(|_| {
            ManagedObject::SymmetricKey(KeyBlock::new(
                KeyFormatType::Raw,
                KeyMaterial::Bytes(Zeroizing::new(uid.as_bytes().to_vec())),
                Some(CryptographicAlgorithm::Aes),
                Some(128),
            ))
        }),
        attributes: Attributes::from(attributes),
        internal: owner == "qkms-internal",
    }
}

const KEY: Option<ObjectType> = Some(ObjectType::SymmetricKey);
const SECRET: Option<ObjectType> = Some(ObjectType::SecretData);

/// Objects of two tenants (interleaved, typed and untyped, named and not) and one internal object.
fn objects() -> Vec<StoredObject> {
    vec![
        object("a-1", "alice", KEY, &["n"]),
        object("b-1", "bob", KEY, &[]),
        object("a-2", "alice", None, &["n", "m"]),
        object("a-3", "alice", SECRET, &[]),
        object("ca", "qkms-internal", KEY, &["n"]),
        object("a-4", "alice", KEY, &["m"]),
        object("b-2", "bob", None, &[]),
        object("a-5", "alice", None, &[]),
        object("a-6", "alice", SECRET, &["n"]),
    ]
}

/// Every Locate answer the tests compare, keyed by a description.
fn answers(store: &SledStore) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for tenant in ["alice", "bob", "carol"] {
        let owner = TenantId(tenant.into());
        let queries = [
            ("all", IndexQuery::default()),
            (
                "keys",
                IndexQuery {
                    object_type: KEY,
                    ..IndexQuery::default()
                },
            ),
            (
                "secrets",
                IndexQuery {
                    object_type: SECRET,
                    ..IndexQuery::default()
                },
            ),
            (
                "named n",
                IndexQuery {
                    name: Some("n".into()),
                    ..IndexQuery::default()
                },
            ),
            (
                "named m",
                IndexQuery {
                    name: Some("m".into()),
                    ..IndexQuery::default()
                },
            ),
        ];
        for (what, query) in queries {
            let found = store.locate(&owner, &query, &mut |_| true).unwrap();
            out.push((format!("{tenant}: {what}"), found));
        }
    }
    out
}

fn material(store: &SledStore, object: &StoredObject) -> Option<Vec<u8>> {
    let stored = store
        .get(object.namespace(), &object.uid)
        .unwrap()
        .unwrap_or_else(|| panic!("{} is gone", object.uid));
    assert_eq!(stored.attributes, object.attributes, "{}", object.uid);
    stored.object.map(|o| match o {
        ManagedObject::SymmetricKey(block) => match block.key_value.unwrap().material {
            KeyMaterial::Bytes(bytes) => bytes.to_vec(),
            other => panic!("unexpected material {other:?}"),
        },
        other => panic!("unexpected object {other:?}"),
    })
}

/// Makes a store of the current layout and returns its Locate answers.
fn current_store(dir: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let store = open(dir).unwrap();
    for object in objects() {
        store.insert(&object).unwrap();
    }
    store.wait_durable().unwrap();
    answers(&store)
}

fn has_tree(db: &sled::Db, name: &str) -> bool {
    db.tree_names()
        .iter()
        .any(|n| n.as_ref() == name.as_bytes())
}

/// Rewrites the closed store at `dir` in layout 1: an owner index entry for every owner-type entry, no untyped
/// entries in the type index, no layout version. Returns how many untyped entries there were.
fn downgrade_to_layout_1(dir: &std::path::Path) -> usize {
    let db = sled::open(dir).unwrap();
    let owner_type = db.open_tree(OWNER_TYPE_INDEX).unwrap();
    let owner_index = db.open_tree(OWNER_INDEX).unwrap();
    let mut untyped = 0;
    for entry in owner_type.iter() {
        let (key, uid) = entry.unwrap();
        let owner_len = u32::from_be_bytes(key[..4].try_into().unwrap()) as usize;
        let (owner_part, rest) = key.split_at(4 + owner_len);
        let (code, created) = rest.split_at(4);
        owner_index
            .insert([owner_part, created].concat(), uid)
            .unwrap();
        if code == [0, 0, 0, 0] {
            owner_type.remove(&key).unwrap();
            untyped += 1;
        }
    }
    db.open_tree("meta").unwrap().remove(LAYOUT_KEY).unwrap();
    db.flush().unwrap();
    untyped
}

/// Opens the store at `dir` (moving it if needed) and checks every object and Locate answer against `expected`,
/// then that the store is in layout 2.
fn check_moved(dir: &std::path::Path, expected: &[(String, Vec<String>)]) {
    {
        let store = open(dir).unwrap();
        for object in objects() {
            let uid = object.uid.as_bytes().to_vec();
            let want = object.object.is_some().then_some(uid);
            assert_eq!(material(&store, &object), want, "{}", object.uid);
        }
        assert_eq!(answers(&store), expected);
    }
    let db = sled::open(dir).unwrap();
    assert!(!has_tree(&db, OWNER_INDEX), "the owner index is dropped");
    let layout = db.open_tree("meta").unwrap().get(LAYOUT_KEY).unwrap();
    assert_eq!(layout.as_deref(), Some(&2u32.to_be_bytes()[..]));
}

#[test]
fn a_layout_1_store_is_moved_once_with_every_object_and_locate_answer() {
    let dir = tempfile::tempdir().unwrap();
    let expected = current_store(dir.path());
    // The answers are the ones the objects call for (creation order), not merely stable.
    let alice_all = &expected[0];
    assert_eq!(alice_all.0, "alice: all");
    assert_eq!(alice_all.1, ["a-1", "a-2", "a-3", "a-4", "a-5", "a-6"]);
    assert_eq!(expected[3].1, ["a-1", "a-2", "a-6"], "{}", expected[3].0);
    assert_eq!(expected[5].1, ["b-1", "b-2"], "{}", expected[5].0);
    assert_eq!(downgrade_to_layout_1(dir.path()), 3);
    check_moved(dir.path(), &expected);
    // A second start finds nothing to do, and new objects (typed and not) join the merged order.
    let store = open(dir.path()).unwrap();
    store.insert(&object("a-7", "alice", None, &[])).unwrap();
    store.insert(&object("a-8", "alice", KEY, &[])).unwrap();
    let all = store
        .locate(
            &TenantId("alice".into()),
            &IndexQuery::default(),
            &mut |_| true,
        )
        .unwrap();
    assert_eq!(
        all,
        ["a-1", "a-2", "a-3", "a-4", "a-5", "a-6", "a-7", "a-8"]
    );
}

#[test]
fn a_move_interrupted_at_any_step_finishes_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let expected = current_store(dir.path());

    // Interrupted while adding the untyped entries: one of the three is in already.
    downgrade_to_layout_1(dir.path());
    {
        let db = sled::open(dir.path()).unwrap();
        let owner_type = db.open_tree(OWNER_TYPE_INDEX).unwrap();
        let owner_index = db.open_tree(OWNER_INDEX).unwrap();
        // alice's untyped a-2 (created third) under type code 0, as the move writes it.
        let (key, uid) = owner_index
            .iter()
            .map(Result::unwrap)
            .find(|(_, uid)| uid.as_ref() == b"a-2")
            .unwrap();
        let (owner_part, created) = key.split_at(key.len() - 8);
        owner_type
            .insert([owner_part, &[0; 4], created].concat(), uid)
            .unwrap();
        db.flush().unwrap();
    }
    check_moved(dir.path(), &expected);

    // Interrupted after recording layout 2, before dropping the owner index.
    downgrade_to_layout_1(dir.path());
    {
        let db = sled::open(dir.path()).unwrap();
        let added = add_untyped_entries(&db);
        assert_eq!(added, 3);
        db.open_tree("meta")
            .unwrap()
            .insert(LAYOUT_KEY, &2u32.to_be_bytes()[..])
            .unwrap();
        db.flush().unwrap();
        assert!(has_tree(&db, OWNER_INDEX));
    }
    check_moved(dir.path(), &expected);
}

/// Adds the untyped entries of layout 2 from the layout-1 owner index (what the move's first step writes); returns
/// how many.
fn add_untyped_entries(db: &sled::Db) -> usize {
    let owner_type = db.open_tree(OWNER_TYPE_INDEX).unwrap();
    let owner_index = db.open_tree(OWNER_INDEX).unwrap();
    let typed: Vec<_> = owner_type.iter().map(|e| e.unwrap().1).collect();
    let mut added = 0;
    for entry in owner_index.iter() {
        let (key, uid) = entry.unwrap();
        if typed.contains(&uid) {
            continue;
        }
        let (owner_part, created) = key.split_at(key.len() - 8);
        owner_type
            .insert([owner_part, &[0; 4], created].concat(), uid)
            .unwrap();
        added += 1;
    }
    added
}

#[test]
fn a_store_of_a_later_layout_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    current_store(dir.path());
    {
        let db = sled::open(dir.path()).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert(LAYOUT_KEY, &3u32.to_be_bytes()[..])
            .unwrap();
        db.flush().unwrap();
    }
    match open(dir.path()) {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("layout version 3"), "{message}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn a_server_object_and_another_tenants_untyped_objects_stay_out_of_a_tenants_answers() {
    let dir = tempfile::tempdir().unwrap();
    let expected = current_store(dir.path());
    let store = open(dir.path()).unwrap();
    let ca = store.get(Namespace::Server, "ca").unwrap().unwrap();
    assert!(ca.internal);
    for (what, uids) in &expected {
        assert!(!uids.iter().any(|u| u == "ca"), "{what}: {uids:?}");
        if what.starts_with("alice") {
            assert!(uids.iter().all(|u| u.starts_with("a-")), "{what}: {uids:?}");
        }
        if what.starts_with("carol") {
            assert!(uids.is_empty(), "{what}: {uids:?}");
        }
    }
}
