//! Sealed at rest: no key material and no data key in any file of the store; reopening needs the right root key.

use std::path::Path;

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes, Name};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::store::{
    Argon2Params, Namespace, ObjectStore, RootKey, SledStore, StoreError, StoreOptions,
    StoredObject,
};
use kms_server::tenant::TenantId;
use zeroize::Zeroizing;

fn pool() -> EntropyPool {
    EntropyPool::new(EntropyConfig::default()).unwrap()
}

fn options() -> StoreOptions {
    StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        ..StoreOptions::default()
    }
}

fn key_bytes(i: u8) -> Vec<u8> {
    (0..32u8)
        .map(|b| b.wrapping_mul(31).wrapping_add(i).wrapping_mul(97) ^ 0xA5)
        .collect()
}

fn symmetric_key(uid: &str, bytes: Vec<u8>) -> StoredObject {
    StoredObject {
        uid: uid.into(),
        owner: TenantId("alice".into()),
        object: Some(ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(bytes)),
            Some(CryptographicAlgorithm::Aes),
            Some(256),
        ))),
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(uid.into()),
            Attribute::ObjectType(ObjectType::SymmetricKey),
            Attribute::Name(Name::text(format!("name-{uid}"))),
        ]),
        internal: false,
    }
}

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else {
            let content = std::fs::read(&path).unwrap();
            if content.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

fn material(object: &StoredObject) -> Vec<u8> {
    match &object.object {
        Some(ManagedObject::SymmetricKey(block)) => {
            match &block.key_value.as_ref().unwrap().material {
                KeyMaterial::Bytes(bytes) => bytes.to_vec(),
                other => panic!("unexpected material {other:?}"),
            }
        }
        other => panic!("unexpected object {other:?}"),
    }
}

/// Runs `open` until the database's file lock is free: sled's I/O threads may hold it a moment after the last
/// handle of a closed store is dropped (as `store_disk_full.rs` does for its reopen).
fn released<T, E: std::fmt::Display>(mut open: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match open() {
            Err(error)
                if error.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

#[test]
fn no_key_bytes_or_data_key_on_disk_and_objects_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let root = [0x5C; 32];
    let keys: Vec<Vec<u8>> = (0..20).map(key_bytes).collect();
    {
        let store = released(|| {
            SledStore::open_with_root_key(
                dir.path(),
                &RootKey::from_bytes(root),
                pool(),
                &options(),
            )
        })
        .unwrap();
        for (i, key) in keys.iter().enumerate() {
            store
                .insert(&symmetric_key(&format!("k{i}"), key.clone()))
                .unwrap();
        }
        store.wait_durable().unwrap();
    }
    // The data key, unwrapped the way the store does it, from the metadata the store wrote.
    let data_key = {
        let db = released(|| sled::open(dir.path())).unwrap();
        let wrapped = db
            .open_tree("meta")
            .unwrap()
            .get(b"wrapped_data_key")
            .unwrap()
            .unwrap();
        use aes_kw::KeyInit;
        let mut data_key = vec![0u8; wrapped.len() - aes_kw::IV_LEN];
        let len = aes_kw::KwpAes256::new(&root.into())
            .unwrap_key(&wrapped, &mut data_key)
            .unwrap()
            .len();
        data_key.truncate(len);
        data_key
    };
    assert_eq!(data_key.len(), 32);
    assert!(
        files_containing(dir.path(), &data_key).is_empty(),
        "data key found on disk"
    );
    for key in &keys {
        let hits = files_containing(dir.path(), key);
        assert!(hits.is_empty(), "key bytes found in {hits:?}");
    }
    // Attributes stay in the clear (Locate reads them without unsealing): the scan does find a name.
    assert!(!files_containing(dir.path(), b"name-k3").is_empty());

    let store = released(|| {
        SledStore::open_with_root_key(dir.path(), &RootKey::from_bytes(root), pool(), &options())
    })
    .unwrap();
    for (i, key) in keys.iter().enumerate() {
        let object = store
            .get(
                Namespace::Tenant(&TenantId("alice".into())),
                &format!("k{i}"),
            )
            .unwrap()
            .unwrap();
        assert_eq!(&material(&object), key);
        assert_eq!(object.owner, TenantId("alice".into()));
    }
}

#[test]
fn passphrase_store_reopens_with_its_passphrase_only() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store =
            released(|| SledStore::open(dir.path(), b"operator passphrase", pool(), &options()))
                .unwrap();
        store.insert(&symmetric_key("k", key_bytes(1))).unwrap();
        store.wait_durable().unwrap();
    }
    let wrong =
        released(|| SledStore::open(dir.path(), b"operator passphrasE", pool(), &options()));
    assert!(
        matches!(wrong, Err(StoreError::WrongRootKey(_))),
        "{wrong:?}"
    );
    let raw = released(|| {
        SledStore::open_with_root_key(
            dir.path(),
            &RootKey::from_bytes([0; 32]),
            pool(),
            &options(),
        )
    });
    assert!(
        matches!(raw, Err(StoreError::RootKeyKindMismatch { .. })),
        "{raw:?}"
    );
    // The stored argon2 parameters are used, whatever the options say now.
    let changed = StoreOptions {
        argon2: Argon2Params {
            memory_kib: 16 * 1024,
            iterations: 2,
            parallelism: 1,
        },
        ..options()
    };
    let store =
        released(|| SledStore::open(dir.path(), b"operator passphrase", pool(), &changed)).unwrap();
    assert_eq!(
        material(
            &store
                .get(Namespace::Tenant(&TenantId("alice".into())), "k")
                .unwrap()
                .unwrap()
        ),
        key_bytes(1)
    );
}

#[test]
fn a_blob_moved_to_another_record_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let root = RootKey::from_bytes([1; 32]);
    {
        let store =
            released(|| SledStore::open_with_root_key(dir.path(), &root, pool(), &options()))
                .unwrap();
        store.insert(&symmetric_key("a", key_bytes(1))).unwrap();
        store.insert(&symmetric_key("b", key_bytes(2))).unwrap();
        store.wait_durable().unwrap();
    }
    {
        let db = released(|| sled::open(dir.path())).unwrap();
        let objects = db.open_tree("objects_by_namespace").unwrap();
        let alice = TenantId("alice".into());
        let blob_a = objects
            .get(Namespace::Tenant(&alice).key("a"))
            .unwrap()
            .unwrap();
        objects
            .insert(Namespace::Tenant(&alice).key("b"), blob_a)
            .unwrap();
        db.flush().unwrap();
    }
    let store =
        released(|| SledStore::open_with_root_key(dir.path(), &root, pool(), &options())).unwrap();
    assert!(store
        .get(Namespace::Tenant(&TenantId("alice".into())), "a")
        .unwrap()
        .is_some());
    assert!(matches!(
        store.get(Namespace::Tenant(&TenantId("alice".into())), "b"),
        Err(StoreError::Unseal { .. })
    ));
}
