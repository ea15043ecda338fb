//! The sled store's one-time move from trees keyed by uid alone to trees keyed by (namespace, uid) (see
//! [`super::namespace`]), and the names of the trees on either side of it.

use super::codec;
use super::{io_error, Namespace, StoreError};

/// The trees objects and their attribute records live in, keyed by (namespace, uid).
pub(crate) const OBJECTS_TREE: &str = "objects_by_namespace";
pub(crate) const ATTRIBUTES_TREE: &str = "attributes_by_namespace";
/// The trees of stores made before namespaces, keyed by uid alone.
const LEGACY_OBJECTS_TREE: &str = "objects";
const LEGACY_ATTRIBUTES_TREE: &str = "attributes";

/// Moves the objects of a store made before uid namespaces (trees keyed by uid alone) into the namespaced trees,
/// once: each record names its owner and whether it is the server's, which gives its namespace. The copy is
/// idempotent (a crash part-way copies again at the next start) and flushed before the old trees are dropped.
/// Index trees are unchanged (they are per owner and hold uids).
pub(crate) fn migrate_to_namespaces(db: &sled::Db) -> Result<(), StoreError> {
    let names = db.tree_names();
    if !names
        .iter()
        .any(|name| name.as_ref() == LEGACY_ATTRIBUTES_TREE.as_bytes())
    {
        return Ok(());
    }
    let old_attributes = db.open_tree(LEGACY_ATTRIBUTES_TREE).map_err(io_error)?;
    let old_objects = db.open_tree(LEGACY_OBJECTS_TREE).map_err(io_error)?;
    let attributes = db.open_tree(ATTRIBUTES_TREE).map_err(io_error)?;
    let objects = db.open_tree(OBJECTS_TREE).map_err(io_error)?;
    let mut moved = 0usize;
    for entry in old_attributes.iter() {
        let (uid, record_bytes) = entry.map_err(io_error)?;
        let uid_text = std::str::from_utf8(&uid)
            .map_err(|_| StoreError::Corrupt("a stored uid is not UTF-8".into()))?;
        let record = codec::decode_record(&record_bytes)?;
        let namespace = if record.internal {
            Namespace::Server
        } else {
            Namespace::Tenant(&record.owner)
        };
        let key = namespace.key(uid_text);
        attributes.insert(&key, record_bytes).map_err(io_error)?;
        if let Some(blob) = old_objects.get(&uid).map_err(io_error)? {
            objects.insert(&key, blob).map_err(io_error)?;
        }
        moved += 1;
    }
    db.flush().map_err(io_error)?;
    db.drop_tree(LEGACY_ATTRIBUTES_TREE).map_err(io_error)?;
    db.drop_tree(LEGACY_OBJECTS_TREE).map_err(io_error)?;
    db.flush().map_err(io_error)?;
    tracing::info!(
        objects = moved,
        "store: objects moved into per-tenant uid namespaces"
    );
    Ok(())
}
