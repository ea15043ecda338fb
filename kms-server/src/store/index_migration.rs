//! The sled store's one-time move to layout 2: from two Locate index entries per object (an owner index
//! `lp(owner) || created` and a type index) to one owner-type index entry (see [`super::index`] for why).
//!
//! The owner-type index is the old type index under its old tree name, so typed objects' entries are already in
//! place; the move adds an [`UNTYPED`](super::index::UNTYPED) entry for each indexed object without a type, records
//! layout 2 in the `meta` tree, and drops the old owner index, flushing between the steps. Each step is idempotent
//! and the owner index is dropped last, so a crash anywhere leaves a store that the next start moves again (the
//! presence of the old tree is what says the move is not finished). A store made new gets layout 2 at once.

use super::codec;
use super::index::IndexKeys;
use super::namespace::uid_of_storage_key;
use super::namespace_migration::ATTRIBUTES_TREE;
use super::{io_error, sled_meta, StoreError};

/// The layout this code reads and writes.
pub(crate) const LAYOUT: u32 = 2;
/// The owner-type index (layout 2), which layout 1 called its type index.
pub(crate) const OWNER_TYPE_INDEX: &str = "index_type";
/// Layout 1's owner index.
const LEGACY_OWNER_INDEX: &str = "index_owner";

/// Brings the store at `db` to [`LAYOUT`] (see the module comment); refuses a store of a later layout. Returns
/// whether it moved a layout-1 store: the move reads every record and drops a tree, which leaves sled holding
/// those pages in memory (551 MB at rest for 1.15M objects instead of ~170 MB), so the caller reopens the database afterwards.
pub(crate) fn migrate_to_owner_type_index(db: &sled::Db) -> Result<bool, StoreError> {
    let layout = sled_meta::sled_layout(db)?;
    if layout > LAYOUT {
        return Err(StoreError::Corrupt(format!(
            "store layout version {layout}, this server reads layout {LAYOUT}: it was written by a newer \
             qkms-server; run that release"
        )));
    }
    let legacy = db
        .tree_names()
        .iter()
        .any(|name| name.as_ref() == LEGACY_OWNER_INDEX.as_bytes());
    if !legacy {
        if layout < LAYOUT {
            // A new store (layout 1 stores always have the owner index: every start opened it).
            sled_meta::set_sled_layout(db, LAYOUT)?;
            db.flush().map_err(io_error)?;
        }
        return Ok(false);
    }
    let attributes = db.open_tree(ATTRIBUTES_TREE).map_err(io_error)?;
    let owner_type = db.open_tree(OWNER_TYPE_INDEX).map_err(io_error)?;
    let mut added = 0usize;
    for entry in attributes.iter() {
        let (key, record_bytes) = entry.map_err(io_error)?;
        let record = codec::decode_record(&record_bytes)?;
        if record.internal || record.indexed_type.is_some() {
            continue;
        }
        let uid = uid_of_storage_key(&key)?;
        for index_key in IndexKeys::of(&record).owner_type {
            owner_type
                .insert(index_key, uid.as_bytes())
                .map_err(io_error)?;
            added += 1;
        }
    }
    db.flush().map_err(io_error)?;
    sled_meta::set_sled_layout(db, LAYOUT)?;
    db.flush().map_err(io_error)?;
    db.drop_tree(LEGACY_OWNER_INDEX).map_err(io_error)?;
    db.flush().map_err(io_error)?;
    tracing::info!(
        untyped_entries_added = added,
        "store: Locate's owner index folded into the owner-type index (sled layout {LAYOUT})"
    );
    Ok(true)
}
