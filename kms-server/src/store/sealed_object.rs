//! What every backend does between a stored object and its rows: seal the key material, keep a sealed blob
//! whose material did not change, and put an object back together from its record and blob. The backends differ
//! only in where the bytes live (sled trees, PostgreSQL rows).

use kmip::objects::ManagedObject;

use super::codec;
use super::seal::Sealer;
use super::{Namespace, StoreError, StoredObject};

/// The sealed blob of `object` (none for an object without key material).
pub(super) fn seal(
    sealer: &Sealer,
    uid: &str,
    object: Option<&ManagedObject>,
) -> Result<Option<Vec<u8>>, StoreError> {
    object
        .map(|o| sealer.seal(uid, &codec::encode_object(o)?))
        .transpose()
}

/// The blob an update stores: `existing` when it opens to the same material (attribute-only updates such as
/// Activate, Revoke or a Get clearing Fresh need no fresh nonce from the pool, and keep working while the pool
/// fails closed), a newly sealed one otherwise. `existing` is read only for an object with material.
pub(super) fn reseal_if_changed(
    sealer: &Sealer,
    uid: &str,
    object: Option<&ManagedObject>,
    existing: impl FnOnce() -> Result<Option<Vec<u8>>, StoreError>,
) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(object) = object else {
        return Ok(None);
    };
    let plain = codec::encode_object(object)?;
    if let Some(existing) = existing()? {
        if let Ok(old_plain) = sealer.open(uid, &existing) {
            if old_plain.as_slice() == plain.as_slice() {
                return Ok(Some(existing));
            }
        }
    }
    sealer.seal(uid, &plain).map(Some)
}

/// The object stored under `uid` in `namespace`, from its record and sealed blob; a record naming another
/// namespace than the one it was found in is corruption.
pub(super) fn decode(
    sealer: &Sealer,
    namespace: Namespace<'_>,
    uid: &str,
    record: &[u8],
    blob: Option<&[u8]>,
) -> Result<StoredObject, StoreError> {
    let record = codec::decode_record(record)?;
    let object = blob
        .map(|blob| {
            let plain = sealer.open(uid, blob)?;
            codec::decode_object(uid, &plain)
        })
        .transpose()?;
    let stored = StoredObject {
        uid: uid.to_owned(),
        owner: record.owner,
        object,
        attributes: record.attributes,
        internal: record.internal,
    };
    if stored.namespace() != namespace {
        return Err(StoreError::Corrupt(format!(
            "object {uid:?} is stored in another namespace than its record names"
        )));
    }
    Ok(stored)
}
