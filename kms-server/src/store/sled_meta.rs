//! The `meta` tree of the sled store: schema version, how the root key is obtained (argon2id passphrase or a raw
//! key from an HSM), the argon2id parameters and salt, and the data key wrapped under the root key. The data key
//! that seals every object is created here once and unwrapped here at every start.

use entropy::EntropyPool;
use hsm_bridge::{WrapMechanism, WrappedDataKey};
use sled::Tree;
use zeroize::Zeroizing;

use super::custody::{Custody, CustodyKind};
use super::root_key::{Argon2Params, RootKey, KEY_LEN, SALT_LEN};
use super::{io_error, StoreError};

/// The on-disk layout this code writes and reads.
const SCHEMA_VERSION: u32 = 1;

const META_SCHEMA_VERSION: &[u8] = b"schema_version";
const META_ROOT_KEY_KIND: &[u8] = b"root_key_kind";
const META_ARGON2_PARAMS: &[u8] = b"argon2_params";
const META_ARGON2_SALT: &[u8] = b"argon2_salt";
const META_WRAPPED_DATA_KEY: &[u8] = b"wrapped_data_key";
/// HSM custody: the PKCS#11 mechanism that wrapped the data key, and (for error messages) where the key was.
const META_HSM_MECHANISM: &[u8] = b"hsm_wrap_mechanism";
const META_HSM_TOKEN: &[u8] = b"hsm_token_label";
const META_HSM_KEY_LABEL: &[u8] = b"hsm_key_label";
/// How the sled store lays out its trees (see [`super::index_migration`]): a sled-only entry, absent in stores
/// made before layout 2 and never copied to PostgreSQL.
const META_SLED_LAYOUT: &[u8] = b"sled_layout_version";

/// Every custody-specific field: a custody change removes those the new kind does not write.
const CUSTODY_FIELDS: [&[u8]; 5] = [
    META_ARGON2_PARAMS,
    META_ARGON2_SALT,
    META_HSM_MECHANISM,
    META_HSM_TOKEN,
    META_HSM_KEY_LABEL,
];

/// The data key wrapped for one custody, with what unwrapping it needs besides the root key. The PostgreSQL store
/// keeps the same entries (name -> bytes) in its `qkms_meta` table.
pub(super) struct Wrapping {
    kind: CustodyKind,
    wrapped: Vec<u8>,
    /// Passphrase custody: argon2id parameters and salt.
    argon2: Option<(Argon2Params, Vec<u8>)>,
    /// HSM custody: the mechanism, the token label and the key label.
    hsm: Option<(WrapMechanism, String, String)>,
}

impl Wrapping {
    /// Wraps `data_key` for `custody` (a passphrase gets a fresh salt from the pool; an HSM gets its root key
    /// generated if it has none yet).
    pub(super) fn new(
        custody: &Custody,
        data_key: &[u8; KEY_LEN],
        pool: &EntropyPool,
        argon2: &Argon2Params,
    ) -> Result<Self, StoreError> {
        let mut wrapping = Self {
            kind: custody.kind(),
            wrapped: Vec::new(),
            argon2: None,
            hsm: None,
        };
        match custody {
            Custody::Passphrase(passphrase) => {
                let mut salt = [0u8; SALT_LEN];
                pool.try_fill(&mut salt)?;
                wrapping.wrapped = RootKey::derive(passphrase, argon2, &salt)?.wrap(data_key)?;
                wrapping.argon2 = Some((*argon2, salt.to_vec()));
            }
            Custody::Raw(key) => wrapping.wrapped = key.wrap(data_key)?,
            Custody::Hsm(hsm) => {
                hsm.ensure_root_key(pool)?;
                let wrapped = hsm.wrap_data_key(data_key, pool)?;
                wrapping.wrapped = wrapped.bytes;
                wrapping.hsm = Some((
                    wrapped.mechanism,
                    hsm.label().to_owned(),
                    hsm.settings().key_label.clone(),
                ));
            }
        }
        Ok(wrapping)
    }

    /// The stored wrapping of an existing store (its schema version checked).
    fn read(meta: &Tree) -> Result<Option<Self>, StoreError> {
        Self::read_with(|key| Ok(meta.get(key).map_err(io_error)?.map(|v| v.to_vec())))
    }

    /// [`Self::read`] over any map of entries: `get` gives the value stored under a name.
    pub(super) fn read_with(
        get: impl Fn(&[u8]) -> Result<Option<Vec<u8>>, StoreError>,
    ) -> Result<Option<Self>, StoreError> {
        let Some(wrapped) = get(META_WRAPPED_DATA_KEY)? else {
            return Ok(None);
        };
        let field = |key: &[u8]| {
            get(key)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "store metadata lacks {:?}",
                    String::from_utf8_lossy(key)
                ))
            })
        };
        let text = |key: &[u8]| field(key).map(|v| String::from_utf8_lossy(&v).into_owned());
        let version = field(META_SCHEMA_VERSION)?;
        let version = <[u8; 4]>::try_from(&version[..])
            .map(u32::from_be_bytes)
            .map_err(|_| StoreError::Corrupt("schema version is not 4 bytes".into()))?;
        if version != SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "store schema version {version}, this server reads version {SCHEMA_VERSION}"
            )));
        }
        let kind = text(META_ROOT_KEY_KIND)?;
        let kind = CustodyKind::from_stored_name(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown root key kind {kind:?}")))?;
        let mut wrapping = Self {
            kind,
            wrapped: wrapped.to_vec(),
            argon2: None,
            hsm: None,
        };
        match kind {
            CustodyKind::Passphrase => {
                let params = Argon2Params::from_bytes(&field(META_ARGON2_PARAMS)?)?;
                wrapping.argon2 = Some((params, field(META_ARGON2_SALT)?.to_vec()));
            }
            CustodyKind::Raw => {}
            CustodyKind::Pkcs11 => {
                let name = text(META_HSM_MECHANISM)?;
                let mechanism = WrapMechanism::from_name(&name).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown HSM wrapping mechanism {name:?}"))
                })?;
                wrapping.hsm = Some((mechanism, text(META_HSM_TOKEN)?, text(META_HSM_KEY_LABEL)?));
            }
        }
        Ok(Some(wrapping))
    }

    /// Unwraps with `custody`, which must be of the recorded kind.
    pub(super) fn unwrap(&self, custody: &Custody) -> Result<Zeroizing<[u8; KEY_LEN]>, StoreError> {
        if custody.kind() != self.kind {
            return Err(StoreError::RootKeyKindMismatch {
                stored: self.kind.stored_name().into(),
                offered: custody.kind().stored_name().into(),
            });
        }
        let missing = |what: &str| StoreError::Corrupt(format!("store metadata lacks {what}"));
        match custody {
            Custody::Passphrase(passphrase) => {
                let (params, salt) = self.argon2.as_ref().ok_or_else(|| missing("argon2"))?;
                RootKey::derive(passphrase, params, salt)?.unwrap(&self.wrapped)
            }
            Custody::Raw(key) => key.unwrap(&self.wrapped),
            Custody::Hsm(hsm) => {
                let (mechanism, token, key_label) =
                    self.hsm.as_ref().ok_or_else(|| missing("HSM fields"))?;
                if hsm.label() != token || hsm.settings().key_label != *key_label {
                    tracing::warn!(stored_token = %token, stored_key = %key_label, token = %hsm.label(),
                        key = %hsm.settings().key_label,
                        "the store was wrapped under another HSM token/key label than configured");
                }
                let wrapped = WrappedDataKey {
                    mechanism: *mechanism,
                    bytes: self.wrapped.clone(),
                };
                Ok(hsm.unwrap_data_key(&wrapped)?)
            }
        }
    }

    /// The meta entries of this wrapping (name, value).
    pub(super) fn entries(&self) -> Vec<(&'static [u8], Vec<u8>)> {
        let mut entries = vec![
            (META_SCHEMA_VERSION, SCHEMA_VERSION.to_be_bytes().to_vec()),
            (
                META_ROOT_KEY_KIND,
                self.kind.stored_name().as_bytes().to_vec(),
            ),
            (META_WRAPPED_DATA_KEY, self.wrapped.clone()),
        ];
        if let Some((params, salt)) = &self.argon2 {
            entries.push((META_ARGON2_PARAMS, params.to_bytes().to_vec()));
            entries.push((META_ARGON2_SALT, salt.clone()));
        }
        if let Some((mechanism, token, key_label)) = &self.hsm {
            entries.push((META_HSM_MECHANISM, mechanism.name().as_bytes().to_vec()));
            entries.push((META_HSM_TOKEN, token.as_bytes().to_vec()));
            entries.push((META_HSM_KEY_LABEL, key_label.as_bytes().to_vec()));
        }
        entries
    }

    /// The custody kind this wrapping is for.
    pub(super) fn kind(&self) -> CustodyKind {
        self.kind
    }

    /// The meta entries of this wrapping, as one atomic batch that also removes the other kinds' fields.
    fn batch(&self) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for field in CUSTODY_FIELDS {
            batch.remove(field);
        }
        for (name, value) in self.entries() {
            batch.insert(name, value);
        }
        batch
    }
}

/// Meta entries as (name, value) pairs.
pub(crate) type MetaEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// Every meta entry of the store at `db` but the sled layout version: what `qkms store migrate` copies, unchanged.
pub(crate) fn all_entries(db: &sled::Db) -> Result<MetaEntries, StoreError> {
    let meta = db.open_tree("meta").map_err(io_error)?;
    meta.iter()
        .filter(|entry| {
            entry
                .as_ref()
                .map_or(true, |(name, _)| name.as_ref() != META_SLED_LAYOUT)
        })
        .map(|entry| {
            let (name, value) = entry.map_err(io_error)?;
            Ok((name.to_vec(), value.to_vec()))
        })
        .collect()
}

/// The tree layout the store records (1 for a store made before the entry existed).
pub(super) fn sled_layout(db: &sled::Db) -> Result<u32, StoreError> {
    let meta = db.open_tree("meta").map_err(io_error)?;
    match meta.get(META_SLED_LAYOUT).map_err(io_error)? {
        None => Ok(1),
        Some(bytes) => <[u8; 4]>::try_from(bytes.as_ref())
            .map(u32::from_be_bytes)
            .map_err(|_| StoreError::Corrupt("sled layout version is not 4 bytes".into())),
    }
}

/// Records the tree layout (the caller flushes).
pub(super) fn set_sled_layout(db: &sled::Db, layout: u32) -> Result<(), StoreError> {
    let meta = db.open_tree("meta").map_err(io_error)?;
    meta.insert(META_SLED_LAYOUT, &layout.to_be_bytes()[..])
        .map_err(io_error)?;
    Ok(())
}

/// The custody kind an existing store records; `None` for a new (empty) store.
pub(super) fn stored_kind(db: &sled::Db) -> Result<Option<CustodyKind>, StoreError> {
    let meta = db.open_tree("meta").map_err(io_error)?;
    Ok(Wrapping::read(&meta)?.map(|w| w.kind))
}

/// The store's data key: created (with the rest of the metadata, flushed before anything is sealed under it) for a
/// new store, unwrapped with the root key `custody` gives for an existing one.
pub(super) fn data_key(
    db: &sled::Db,
    custody: &Custody,
    pool: &EntropyPool,
    argon2: &Argon2Params,
) -> Result<Zeroizing<[u8; KEY_LEN]>, StoreError> {
    let meta = db.open_tree("meta").map_err(io_error)?;
    match Wrapping::read(&meta)? {
        Some(wrapping) => wrapping.unwrap(custody),
        None => {
            let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
            pool.try_fill(data_key.as_mut())?;
            let wrapping = Wrapping::new(custody, &data_key, pool, argon2)?;
            meta.apply_batch(wrapping.batch()).map_err(io_error)?;
            db.flush().map_err(io_error)?;
            Ok(data_key)
        }
    }
}

/// Moves the data key from custody `from` to custody `to`: unwraps it with `from`, wraps it for `to`, checks the
/// new wrapping unwraps to the same key, runs `before_commit` (nothing is committed if it fails), then replaces
/// the custody fields in ONE atomic batch and flushes. A crash at any point leaves either the old custody or the
/// new one, never neither; the objects are untouched (they stay sealed under the same data key).
pub(super) fn rewrap(
    db: &sled::Db,
    from: &Custody,
    to: &Custody,
    pool: &EntropyPool,
    argon2: &Argon2Params,
    before_commit: impl FnOnce() -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let meta = db.open_tree("meta").map_err(io_error)?;
    let current = Wrapping::read(&meta)?
        .ok_or_else(|| StoreError::Config("the store is empty: nothing to rewrap".into()))?;
    let data_key = current.unwrap(from)?;
    let next = Wrapping::new(to, &data_key, pool, argon2)?;
    if *next.unwrap(to)? != *data_key {
        return Err(StoreError::Corrupt(
            "the new wrapping does not unwrap to the data key: nothing changed".into(),
        ));
    }
    before_commit()?;
    crash_point("before-commit");
    meta.apply_batch(next.batch()).map_err(io_error)?;
    db.flush().map_err(io_error)?;
    crash_point("after-commit");
    Ok(())
}

/// Test hook of debug builds: `QKMS_TEST_CRASH_AT=NAME` kills the process (SIGKILL-like abort, no unwinding, no
/// flush) at the named point, so a test can stop a rewrap exactly between its steps. Release builds never look.
fn crash_point(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("QKMS_TEST_CRASH_AT").is_ok_and(|at| at == name) {
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
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
        let params = Argon2Params::insecure_for_tests();
        let created = data_key(
            &db,
            &Custody::Raw(RootKey::from_bytes([7; KEY_LEN])),
            &pool,
            &params,
        )
        .unwrap();
        let again = data_key(
            &db,
            &Custody::Raw(RootKey::from_bytes([7; KEY_LEN])),
            &pool,
            &params,
        )
        .unwrap();
        assert_eq!(*created, *again);
        let other = RootKey::from_bytes([8; KEY_LEN]);
        assert!(matches!(
            data_key(&db, &Custody::Raw(other), &pool, &params),
            Err(StoreError::WrongRootKey(_))
        ));
    }

    #[test]
    fn another_schema_version_or_missing_metadata_is_corruption_not_a_new_store() {
        let (db, pool) = fresh();
        let params = Argon2Params::insecure_for_tests();
        data_key(
            &db,
            &Custody::Raw(RootKey::from_bytes([7; KEY_LEN])),
            &pool,
            &params,
        )
        .unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert(META_SCHEMA_VERSION, &2u32.to_be_bytes()[..])
            .unwrap();
        match data_key(
            &db,
            &Custody::Raw(RootKey::from_bytes([7; KEY_LEN])),
            &pool,
            &params,
        ) {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("schema version 2"), "{message}")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        meta.remove(META_SCHEMA_VERSION).unwrap();
        match data_key(
            &db,
            &Custody::Raw(RootKey::from_bytes([7; KEY_LEN])),
            &pool,
            &params,
        ) {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("schema_version"), "{message}")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn the_sled_layout_is_recorded_but_never_copied_to_another_store() {
        let (db, pool) = fresh();
        let params = Argon2Params::insecure_for_tests();
        data_key(
            &db,
            &Custody::Raw(RootKey::from_bytes([7; KEY_LEN])),
            &pool,
            &params,
        )
        .unwrap();
        assert_eq!(sled_layout(&db).unwrap(), 1, "absent means layout 1");
        let copied = all_entries(&db).unwrap();
        set_sled_layout(&db, 2).unwrap();
        assert_eq!(sled_layout(&db).unwrap(), 2);
        assert_eq!(all_entries(&db).unwrap(), copied);
        db.open_tree("meta")
            .unwrap()
            .insert(META_SLED_LAYOUT, &b"x"[..])
            .unwrap();
        assert!(matches!(sled_layout(&db), Err(StoreError::Corrupt(_))));
    }
}
