//! The `meta` tree of the sled store: schema version, how the root key is obtained (argon2id passphrase or a raw
//! key from an HSM), the argon2id parameters and salt, and the data key wrapped under the root key. The data key
//! that seals every object is created here once and unwrapped here at every start.

use entropy::EntropyPool;
use sled::Tree;
use zeroize::Zeroizing;

use super::root_key::{Argon2Params, RootKey, KEY_LEN, SALT_LEN};
use super::{io_error, StoreError};

/// The on-disk layout this code writes and reads.
const SCHEMA_VERSION: u32 = 1;

const META_SCHEMA_VERSION: &[u8] = b"schema_version";
const META_ROOT_KEY_KIND: &[u8] = b"root_key_kind";
const META_ARGON2_PARAMS: &[u8] = b"argon2_params";
const META_ARGON2_SALT: &[u8] = b"argon2_salt";
const META_WRAPPED_DATA_KEY: &[u8] = b"wrapped_data_key";

const KIND_ARGON2ID: &str = "argon2id passphrase";
const KIND_RAW: &str = "raw root key";

/// Where the root key comes from.
pub(super) enum RootKeySource<'a> {
    Passphrase(&'a [u8]),
    Raw(&'a RootKey),
}

impl RootKeySource<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Self::Passphrase(_) => KIND_ARGON2ID,
            Self::Raw(_) => KIND_RAW,
        }
    }
}

/// The store's data key: created (with the rest of the metadata, flushed before anything is sealed under it) for a
/// new store, unwrapped with the root key `source` gives for an existing one.
pub(super) fn data_key(
    db: &sled::Db,
    source: &RootKeySource<'_>,
    pool: &EntropyPool,
    argon2: &Argon2Params,
) -> Result<Zeroizing<[u8; KEY_LEN]>, StoreError> {
    let meta = db.open_tree("meta").map_err(io_error)?;
    match meta.get(META_WRAPPED_DATA_KEY).map_err(io_error)? {
        None => initialise(db, &meta, source, pool, argon2),
        Some(wrapped) => unlock(&meta, source, &wrapped),
    }
}

/// Creates the metadata of a new store and makes it durable before anything is sealed under its data key.
fn initialise(
    db: &sled::Db,
    meta: &Tree,
    source: &RootKeySource<'_>,
    pool: &EntropyPool,
    argon2: &Argon2Params,
) -> Result<Zeroizing<[u8; KEY_LEN]>, StoreError> {
    let mut batch = sled::Batch::default();
    let derived;
    let root: &RootKey = match source {
        RootKeySource::Passphrase(passphrase) => {
            let mut salt = [0u8; SALT_LEN];
            pool.try_fill(&mut salt)?;
            derived = RootKey::derive(passphrase, argon2, &salt)?;
            batch.insert(META_ARGON2_PARAMS, &argon2.to_bytes()[..]);
            batch.insert(META_ARGON2_SALT, &salt[..]);
            &derived
        }
        RootKeySource::Raw(key) => key,
    };
    let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
    pool.try_fill(data_key.as_mut())?;
    batch.insert(META_SCHEMA_VERSION, &SCHEMA_VERSION.to_be_bytes()[..]);
    batch.insert(META_ROOT_KEY_KIND, source.kind().as_bytes());
    batch.insert(META_WRAPPED_DATA_KEY, root.wrap(&data_key)?);
    meta.apply_batch(batch).map_err(io_error)?;
    db.flush().map_err(io_error)?;
    Ok(data_key)
}

/// Checks the metadata of an existing store and unwraps its data key.
fn unlock(
    meta: &Tree,
    source: &RootKeySource<'_>,
    wrapped: &[u8],
) -> Result<Zeroizing<[u8; KEY_LEN]>, StoreError> {
    let field = |key: &[u8]| {
        meta.get(key).map_err(io_error)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "store metadata lacks {:?}",
                String::from_utf8_lossy(key)
            ))
        })
    };
    let version = field(META_SCHEMA_VERSION)?;
    let version = <[u8; 4]>::try_from(&version[..])
        .map(u32::from_be_bytes)
        .map_err(|_| StoreError::Corrupt("schema version is not 4 bytes".into()))?;
    if version != SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "store schema version {version}, this server reads version {SCHEMA_VERSION}"
        )));
    }
    let kind = field(META_ROOT_KEY_KIND)?;
    let kind = String::from_utf8_lossy(&kind).into_owned();
    if kind != source.kind() {
        return Err(StoreError::RootKeyKindMismatch {
            stored: kind,
            offered: source.kind().into(),
        });
    }
    match source {
        RootKeySource::Passphrase(passphrase) => {
            let params = Argon2Params::from_bytes(&field(META_ARGON2_PARAMS)?)?;
            let salt = field(META_ARGON2_SALT)?;
            RootKey::derive(passphrase, &params, &salt)?.unwrap(wrapped)
        }
        RootKeySource::Raw(key) => key.unwrap(wrapped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (sled::Db, EntropyPool) {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        (db, pool)
    }

    #[test]
    fn the_data_key_is_created_once_and_unwrapped_the_same_afterwards() {
        let (db, pool) = fresh();
        let root = RootKey::from_bytes([7; KEY_LEN]);
        let params = Argon2Params::insecure_for_tests();
        let created = data_key(&db, &RootKeySource::Raw(&root), &pool, &params).unwrap();
        let again = data_key(&db, &RootKeySource::Raw(&root), &pool, &params).unwrap();
        assert_eq!(*created, *again);
        let other = RootKey::from_bytes([8; KEY_LEN]);
        assert!(matches!(
            data_key(&db, &RootKeySource::Raw(&other), &pool, &params),
            Err(StoreError::WrongRootKey(_))
        ));
    }

    #[test]
    fn another_schema_version_or_missing_metadata_is_corruption_not_a_new_store() {
        let (db, pool) = fresh();
        let root = RootKey::from_bytes([7; KEY_LEN]);
        let params = Argon2Params::insecure_for_tests();
        data_key(&db, &RootKeySource::Raw(&root), &pool, &params).unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert(META_SCHEMA_VERSION, &2u32.to_be_bytes()[..])
            .unwrap();
        match data_key(&db, &RootKeySource::Raw(&root), &pool, &params) {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("schema version 2"), "{message}")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        meta.remove(META_SCHEMA_VERSION).unwrap();
        match data_key(&db, &RootKeySource::Raw(&root), &pool, &params) {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("schema_version"), "{message}")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
}
