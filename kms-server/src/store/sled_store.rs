//! The embedded store: one sled database.
//!
//! Trees: `objects_by_namespace` (storage key -> sealed object blob), `attributes_by_namespace` (storage key ->
//! clear attribute record; the storage key is the object's (namespace, uid), see [`super::namespace`]),
//! `index_name` and `index_type` (the owner-type index; see [`super::index`]) and `meta` (schema version, sled
//! layout version, root-key kind, argon2 parameters and salt, the wrapped data key). An object is three tree
//! entries plus one per distinct Name: resident memory in sled 0.34 grows with the number of entries, so none is
//! kept that another implies. Every write touches its trees in one sled transaction, so a crash never leaves an
//! index entry without its record. sled is crash-consistent at flush boundaries: whatever a completed `flush()`
//! covered is recovered after a crash (even SIGKILL or power loss).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use entropy::EntropyPool;
use kmip::attributes::Attributes;
use kmip::objects::ManagedObject;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::{Transactional, Tree};
use zeroize::Zeroizing;

use super::codec::{self, Record};
use super::custody::{Custody, CustodyKind};
use super::group_commit::{GroupCommit, GroupCommitStats};
use super::index::{self, CreationOrder, IndexKeys};
use super::index_migration::{migrate_to_owner_type_index, OWNER_TYPE_INDEX};
use super::insert_batch::InsertBatcher;
use super::namespace_migration::{migrate_to_namespaces, ATTRIBUTES_TREE, OBJECTS_TREE};
use super::root_key::{Argon2Params, RootKey};
use super::seal::Sealer;
use super::sealed_object;
use super::sled_meta;
use super::uid_locks::UidLocks;
use super::{io_error, IndexQuery, Namespace, ObjectStore, StoreError, StoredObject};
use crate::tenant::TenantId;

/// How a store is opened.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// argon2id cost when a passphrase store is created (an existing store uses its stored parameters).
    pub argon2: Argon2Params,
    /// sled page cache size in bytes (`[store] cache_mb`). Default 16 MiB.
    pub cache_capacity_bytes: u64,
    /// sled's own background flush period; durability never depends on it (`wait_durable` flushes).
    /// Default `Some(500)`.
    pub background_flush_ms: Option<u64>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            argon2: Argon2Params::default(),
            cache_capacity_bytes: 16 * 1024 * 1024,
            background_flush_ms: Some(500),
        }
    }
}

#[derive(Clone)]
struct Trees {
    objects: Tree,
    attributes: Tree,
    by_name: Tree,
    by_owner_type: Tree,
}

/// The sled-backed [`ObjectStore`].
pub struct SledStore {
    db: sled::Db,
    trees: Trees,
    sealer: Sealer,
    commit: GroupCommit,
    uid_locks: UidLocks,
    inserts: InsertBatcher<PreparedInsert>,
    path: PathBuf,
}

/// One object's insert, encoded and sealed, waiting for its batch (see [`InsertBatcher`]).
#[derive(Debug)]
struct PreparedInsert {
    /// The object's storage key (namespace and uid).
    key: Vec<u8>,
    uid: String,
    record: Vec<u8>,
    blob: Option<Vec<u8>>,
    index_keys: IndexKeys,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .field("commit", &self.commit.stats())
            .finish_non_exhaustive()
    }
}

fn open_db(path: &Path, options: &StoreOptions) -> Result<sled::Db, StoreError> {
    sled::Config::new()
        .path(path)
        .cache_capacity(options.cache_capacity_bytes)
        .flush_every_ms(options.background_flush_ms)
        .open()
        .map_err(|e| StoreError::Io(format!("cannot open store {}: {e}", path.display())))
}

fn tx_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => io_error(e),
    }
}

fn abort<T>(e: StoreError) -> Result<T, ConflictableTransactionError<StoreError>> {
    Err(ConflictableTransactionError::Abort(e))
}

impl SledStore {
    /// Opens (creating if absent) the store at `path` whose root key is derived from `passphrase` with argon2id.
    /// A new store draws its salt and data key from `pool`. A wrong passphrase is [`StoreError::WrongRootKey`].
    pub fn open(
        path: impl AsRef<Path>,
        passphrase: &[u8],
        pool: EntropyPool,
        options: &StoreOptions,
    ) -> Result<Self, StoreError> {
        let custody = Custody::Passphrase(Zeroizing::new(passphrase.to_vec()));
        Self::open_with_custody(path.as_ref(), |_| Ok(custody), pool, options)
    }

    /// Opens (creating if absent) a store whose root key is supplied directly. A store created one way cannot be
    /// opened another: [`StoreError::RootKeyKindMismatch`].
    pub fn open_with_root_key(
        path: impl AsRef<Path>,
        root_key: &RootKey,
        pool: EntropyPool,
        options: &StoreOptions,
    ) -> Result<Self, StoreError> {
        let custody = Custody::Raw(root_key.clone());
        Self::open_with_custody(path.as_ref(), |_| Ok(custody), pool, options)
    }

    /// Opens (creating if absent) the store at `path`; `choose` is told the custody kind the store records (`None`
    /// for a new store) and gives the custody to open it with.
    pub fn open_with_custody(
        path: &Path,
        choose: impl FnOnce(Option<CustodyKind>) -> Result<Custody, StoreError>,
        pool: EntropyPool,
        options: &StoreOptions,
    ) -> Result<Self, StoreError> {
        let mut db = open_db(path, options)?;
        let custody = choose(sled_meta::stored_kind(&db)?)?;
        let data_key = sled_meta::data_key(&db, &custody, &pool, &options.argon2)?;
        migrate_to_namespaces(&db)?;
        if migrate_to_owner_type_index(&db)? {
            // The move left every page it read in memory; a fresh open holds only what the store needs.
            drop(db);
            db = open_db(path, options)?;
        }
        let tree = |name: &str| db.open_tree(name).map_err(io_error);
        let trees = Trees {
            objects: tree(OBJECTS_TREE)?,
            attributes: tree(ATTRIBUTES_TREE)?,
            by_name: tree("index_name")?,
            by_owner_type: tree(OWNER_TYPE_INDEX)?,
        };
        Ok(Self {
            sealer: Sealer::new(&data_key, pool),
            db,
            trees,
            commit: GroupCommit::new(),
            uid_locks: UidLocks::new(),
            inserts: InsertBatcher::default(),
            path: path.to_owned(),
        })
    }

    /// Whether `path` holds a sled database (sled writes its `conf` file when it creates one).
    pub fn exists(path: &Path) -> bool {
        path.join("conf").is_file()
    }

    /// Moves the store at `path` (not open elsewhere: sled locks it) from its recorded custody to `to`, in one
    /// atomic metadata update. `choose` is told the recorded kind and gives the custody that opens it;
    /// `before_commit` runs once the new wrapping is made and checked (its failure leaves the store as it was).
    /// Returns the kind the store had.
    pub fn rewrap(
        path: &Path,
        choose: impl FnOnce(CustodyKind) -> Result<Custody, StoreError>,
        to: &Custody,
        pool: EntropyPool,
        options: &StoreOptions,
        before_commit: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<CustodyKind, StoreError> {
        if !Self::exists(path) {
            return Err(StoreError::Config(format!(
                "{} is not a store (no sled database there)",
                path.display()
            )));
        }
        let db = open_db(path, options)?;
        let kind = sled_meta::stored_kind(&db)?
            .ok_or_else(|| StoreError::Config("the store is empty: nothing to rewrap".into()))?;
        let from = choose(kind)?;
        sled_meta::rewrap(&db, &from, to, &pool, &options.argon2, before_commit)?;
        Ok(kind)
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes and flushes so far (group-commit effectiveness).
    pub fn commit_stats(&self) -> GroupCommitStats {
        self.commit.stats()
    }

    /// Writes a batch of new objects in one transaction (see [`InsertBatcher`]). Inserts only: a retry after a
    /// conflict rewrites the same values.
    fn apply_inserts(&self, batch: &[PreparedInsert]) -> Result<(), String> {
        self.trees()
            .transaction(|(objects, attributes, by_name, by_owner_type)| {
                for insert in batch {
                    let uid = insert.uid.as_str();
                    attributes.insert(&insert.key[..], &insert.record[..])?;
                    if let Some(blob) = &insert.blob {
                        objects.insert(&insert.key[..], &blob[..])?;
                    }
                    for (tree, keys) in [
                        (by_name, &insert.index_keys.name),
                        (by_owner_type, &insert.index_keys.owner_type),
                    ] {
                        for key in keys {
                            tree.insert(&key[..], uid)?;
                        }
                    }
                }
                Ok::<(), ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|e| tx_error(e).to_string())
    }

    fn seal_object(
        &self,
        uid: &str,
        object: Option<&ManagedObject>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        sealed_object::seal(&self.sealer, uid, object)
    }

    /// See [`sealed_object::reseal_if_changed`].
    fn reseal_if_changed(
        &self,
        key: &[u8],
        uid: &str,
        object: Option<&ManagedObject>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        sealed_object::reseal_if_changed(&self.sealer, uid, object, || {
            let existing = self.trees.objects.get(key).map_err(io_error)?;
            Ok(existing.map(|blob| blob.to_vec()))
        })
    }

    fn decode_stored(
        &self,
        namespace: Namespace<'_>,
        uid: &str,
        record: &[u8],
        blob: Option<&[u8]>,
    ) -> Result<StoredObject, StoreError> {
        sealed_object::decode(&self.sealer, namespace, uid, record, blob)
    }

    fn trees(&self) -> (&Tree, &Tree, &Tree, &Tree) {
        let t = &self.trees;
        (&t.objects, &t.attributes, &t.by_name, &t.by_owner_type)
    }
}

impl ObjectStore for SledStore {
    fn insert(&self, object: &StoredObject) -> Result<(), StoreError> {
        let uid = object.uid.as_str();
        let record = Record {
            owner: object.owner.clone(),
            internal: object.internal,
            created: self.db.generate_id().map_err(io_error)?,
            indexed_type: object
                .attributes
                .object_type()
                .or_else(|| object.object.as_ref().map(ManagedObject::object_type)),
            attributes: object.attributes.clone(),
        };
        let key = object.namespace().key(uid);
        let prepared = PreparedInsert {
            key: key.clone(),
            uid: uid.to_owned(),
            record: codec::encode_record(&record)?,
            blob: self.seal_object(uid, object.object.as_ref())?,
            index_keys: IndexKeys::of(&record),
        };
        let _exclusive = self.uid_locks.write(uid);
        // Checked under the uid's write lock, which every writer of this uid holds, rather than inside the
        // transaction: sled runs transactions one at a time, so a read inside one is time every writer waits.
        if self.trees.attributes.contains_key(&key).map_err(io_error)? {
            return Err(StoreError::AlreadyExists(uid.to_owned()));
        }
        self.inserts
            .submit(prepared, |batch| self.apply_inserts(batch))
            .map_err(StoreError::Io)?;
        self.commit.record_write();
        Ok(())
    }

    fn update(&self, object: &StoredObject) -> Result<(), StoreError> {
        let uid = object.uid.as_str();
        let key = object.namespace().key(uid);
        let key = key.as_slice();
        let blob = self.reseal_if_changed(key, uid, object.object.as_ref())?;
        let new_type = object
            .attributes
            .object_type()
            .or_else(|| object.object.as_ref().map(ManagedObject::object_type));
        let _exclusive = self.uid_locks.write(uid);
        self.trees()
            .transaction(|(objects, attributes, by_name, by_owner_type)| {
                let Some(old) = attributes.get(key)? else {
                    return abort(StoreError::NotFound(uid.to_owned()));
                };
                let old = match codec::decode_record(&old) {
                    Ok(old) => old,
                    Err(e) => return abort(e),
                };
                let new = Record {
                    owner: object.owner.clone(),
                    internal: object.internal,
                    created: old.created,
                    indexed_type: new_type.or(old.indexed_type),
                    attributes: object.attributes.clone(),
                };
                let record_bytes = match codec::encode_record(&new) {
                    Ok(bytes) => bytes,
                    Err(e) => return abort(e),
                };
                let (old_keys, new_keys) = (IndexKeys::of(&old), IndexKeys::of(&new));
                for (tree, old_keys, new_keys) in [
                    (by_name, &old_keys.name, &new_keys.name),
                    (by_owner_type, &old_keys.owner_type, &new_keys.owner_type),
                ] {
                    for key in old_keys.iter().filter(|k| !new_keys.contains(k)) {
                        tree.remove(&key[..])?;
                    }
                    for key in new_keys.iter().filter(|k| !old_keys.contains(k)) {
                        tree.insert(&key[..], uid)?;
                    }
                }
                attributes.insert(key, record_bytes)?;
                match &blob {
                    Some(blob) => objects.insert(key, &blob[..])?,
                    None => objects.remove(key)?,
                };
                Ok(())
            })
            .map_err(tx_error)?;
        self.commit.record_write();
        Ok(())
    }

    fn get(&self, namespace: Namespace<'_>, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        let t = &self.trees;
        let key = namespace.key(uid);
        let (record, blob) = {
            let _shared = self.uid_locks.read(uid);
            (
                t.attributes.get(&key).map_err(io_error)?,
                t.objects.get(&key).map_err(io_error)?,
            )
        };
        record
            .map(|record| self.decode_stored(namespace, uid, &record, blob.as_deref()))
            .transpose()
    }

    fn remove(&self, namespace: Namespace<'_>, uid: &str) -> Result<(), StoreError> {
        let key = namespace.key(uid);
        let key = key.as_slice();
        let _exclusive = self.uid_locks.write(uid);
        self.trees()
            .transaction(|(objects, attributes, by_name, by_owner_type)| {
                let Some(old) = attributes.remove(key)? else {
                    return abort(StoreError::NotFound(uid.to_owned()));
                };
                let old = match codec::decode_record(&old) {
                    Ok(old) => old,
                    Err(e) => return abort(e),
                };
                let keys = IndexKeys::of(&old);
                for (tree, keys) in [(by_name, &keys.name), (by_owner_type, &keys.owner_type)] {
                    for key in keys {
                        tree.remove(&key[..])?;
                    }
                }
                objects.remove(key)?;
                Ok(())
            })
            .map_err(tx_error)?;
        self.commit.record_write();
        Ok(())
    }

    fn locate(
        &self,
        owner: &TenantId,
        query: &IndexQuery,
        filter: &mut dyn FnMut(&Attributes) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        let t = &self.trees;
        // Each scan yields index entries in creation order; `key_len` is the length of this query's keys.
        let (entries, key_len): (Box<dyn Iterator<Item = _>>, usize) =
            match (&query.name, query.object_type) {
                (Some(name), _) => {
                    let prefix = index::name_prefix(owner, name);
                    (Box::new(t.by_name.scan_prefix(&prefix)), prefix.len() + 8)
                }
                (None, Some(object_type)) => {
                    let prefix = index::type_prefix(owner, object_type);
                    (
                        Box::new(t.by_owner_type.scan_prefix(&prefix)),
                        prefix.len() + 8,
                    )
                }
                (None, None) => (
                    Box::new(CreationOrder::new(&t.by_owner_type, owner).map_err(io_error)?),
                    index::owner_type_key_len(owner),
                ),
            };
        let mut found = Vec::new();
        for entry in entries {
            let (key, uid) = entry.map_err(io_error)?;
            // A name prefix also matches longer names' keys only if lengths agree; the length prefix rules
            // that out, but the creation suffix must be exactly 8 bytes for the key to be this prefix's.
            if key.len() != key_len {
                continue;
            }
            let uid = String::from_utf8(uid.to_vec())
                .map_err(|_| StoreError::Corrupt("index entry holds a non-UTF-8 uid".into()))?;
            // Removed between the index scan and this read: skip it.
            let Some(record) = t
                .attributes
                .get(Namespace::Tenant(owner).key(&uid))
                .map_err(io_error)?
            else {
                continue;
            };
            let record = codec::decode_record(&record)?;
            let matches = !record.internal
                && record.owner == *owner
                && query
                    .name
                    .as_ref()
                    .is_none_or(|name| record.attributes.names().any(|n| &n.value == name))
                && query
                    .object_type
                    .is_none_or(|wanted| record.indexed_type == Some(wanted))
                && query.admits(&record.attributes);
            if matches && filter(&record.attributes) {
                found.push(uid);
            }
        }
        Ok(found)
    }

    fn wait_durable(&self) -> Result<(), StoreError> {
        self.commit
            .wait_durable(|| self.db.flush().map(drop).map_err(io::Error::other))
            .map_err(|e| StoreError::Io(format!("flush failed: {e}")))
    }
}
