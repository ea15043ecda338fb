//! Where managed objects live: the `ObjectStore` trait, its sled implementation (the embedded default) and its
//! PostgreSQL implementation (`postgres/`: several nodes sharing one database).
//!
//! Key material is sealed at rest (AES-256-GCM under a data key wrapped by the root key); attributes are stored in
//! the clear so Locate never needs to unseal. Writes are durable before they are acknowledged: a handler calls
//! [`ObjectStore::wait_durable`] before answering, and concurrent writers share one flush (group commit).

mod codec;
pub mod custody;
pub mod deferred_durability;
mod group_commit;
mod index;
mod index_migration;
mod insert_batch;
pub mod locate_query;
mod namespace;
mod namespace_migration;
pub mod postgres;
pub mod recovering;
mod revision_check;
pub mod root_key;
mod seal;
mod sealed_object;
mod sled_meta;
pub mod sled_store;
mod uid_locks;
mod write_tracking;

use kmip::attributes::Attributes;
use kmip::objects::ManagedObject;

use crate::tenant::TenantId;

pub use custody::{Custody, CustodyKind};
pub use group_commit::{GroupCommit, GroupCommitStats};
pub use locate_query::{DateRange, IndexQuery, StoredState, StoredStates};
pub use namespace::Namespace;
pub use postgres::{PgStore, PostgresOptions};
pub use recovering::{RecoveringStore, RecoverySettings, StoreCondition};
pub use revision_check::RevisionCheck;
pub use root_key::{Argon2Params, RootKey};
pub use sled_store::{SledStore, StoreOptions};
pub use write_tracking::WriteTracking;

/// One managed object as the server holds it.
#[derive(Clone, Debug)]
pub struct StoredObject {
    pub uid: String,
    pub owner: TenantId,
    /// The object with its key material; `None` once destroyed (the metadata stays, per KMIP).
    pub object: Option<ManagedObject>,
    /// Every attribute, including State, dates, Names, Links and the entropy provenance (`x-` attributes).
    pub attributes: Attributes,
    /// The server's own objects (the issuing CA): kept in the server's namespace, which no request reaches.
    pub internal: bool,
}

impl StoredObject {
    /// The namespace the object's uid belongs to: the server's for internal objects, else its owner's.
    pub fn namespace(&self) -> Namespace<'_> {
        if self.internal {
            Namespace::Server
        } else {
            Namespace::Tenant(&self.owner)
        }
    }
}

/// An object's revision in a store that counts its writes (PostgreSQL): what a conditional update compares.
pub type Revision = u64;

/// A store's condition for `/health` (the sled store's disk, the database's reachability).
pub trait StoreHealth: Send + Sync + std::fmt::Debug {
    fn condition(&self) -> StoreCondition;
}

impl StoreHealth for RecoveringStore {
    fn condition(&self) -> StoreCondition {
        RecoveringStore::condition(self)
    }
}

impl StoreHealth for PgStore {
    fn condition(&self) -> StoreCondition {
        PgStore::condition(self)
    }
}

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an object with Unique Identifier {0:?} already exists")]
    AlreadyExists(String),
    #[error("no object with Unique Identifier {0:?}")]
    NotFound(String),
    #[error("sealed object {uid:?} cannot be opened: {reason}")]
    Unseal { uid: String, reason: String },
    #[error("store I/O: {0}")]
    Io(String),
    /// The file system holding the store is full: writes are refused until space is freed (reads still work).
    #[error(
        "the disk holding the object store ({path}, [store] path) is full: {cause}; writes are refused until \
         space is freed"
    )]
    DiskFull { path: String, cause: String },
    /// A conditional update found the object changed since the request read it (another request, possibly on
    /// another node, wrote it first): nothing was written.
    #[error(
        "object {uid:?} was changed by another request (perhaps on another node) after this one read it \
         ({detail}); nothing was written: retry the request"
    )]
    Conflict { uid: String, detail: String },
    /// The database (PostgreSQL store) failed or cannot be reached; the message says which and how.
    #[error("database: {0}")]
    Database(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("randomness unavailable: {0}")]
    Entropy(#[from] entropy::EntropyError),
    /// The root key does not unwrap the store's data key: a wrong passphrase (or wrong raw root key).
    #[error("the root key does not open this store (wrong passphrase?): {0}")]
    WrongRootKey(String),
    /// The store was created with another kind of root key (passphrase vs. raw/HSM key) than the one offered.
    #[error("root key kind mismatch: the store was created with {stored}, opened with {offered}")]
    RootKeyKindMismatch { stored: String, offered: String },
    /// The HSM holding the root key failed: module missing, token gone, wrong PIN, key deleted... (the message
    /// says which).
    #[error("{0}")]
    Hsm(#[from] hsm_bridge::HsmError),
    /// Invalid store options (argon2 parameters...).
    #[error("invalid store configuration: {0}")]
    Config(String),
}

/// A sled failure as a store error (the sled modules' one conversion).
fn io_error(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

/// A persistent home for managed objects, per-tenant, with Locate indexes.
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// Stores a new object in its namespace; fails with `AlreadyExists` when its uid is taken there.
    fn insert(&self, object: &StoredObject) -> Result<(), StoreError>;

    /// Replaces an existing object (attributes and/or material); fails with `NotFound` when absent.
    fn update(&self, object: &StoredObject) -> Result<(), StoreError>;

    /// The object with `uid` in `namespace`, unsealed (another namespace's object of the same uid is not seen).
    fn get(&self, namespace: Namespace<'_>, uid: &str) -> Result<Option<StoredObject>, StoreError>;

    /// Removes an object of `namespace` and its index entries entirely.
    fn remove(&self, namespace: Namespace<'_>, uid: &str) -> Result<(), StoreError>;

    /// The uids of `owner`'s non-internal objects that satisfy `query` and then `filter`, in a stable order
    /// (creation order). The filter sees attributes only; key material is not unsealed.
    fn locate(
        &self,
        owner: &TenantId,
        query: &IndexQuery,
        filter: &mut dyn FnMut(&Attributes) -> bool,
    ) -> Result<Vec<String>, StoreError>;

    /// Returns once every write made before this call is on disk. Concurrent callers share flushes.
    fn wait_durable(&self) -> Result<(), StoreError>;

    /// Returns once the writes this store made with durability deferred, up to `mark` (the highest mark a
    /// `deferred_durability` scope collected; 0: none), and every write made before this call otherwise, are on
    /// disk. A store that defers nothing just waits for everything.
    fn wait_durable_through(&self, mark: u64) -> Result<(), StoreError> {
        let _ = mark;
        self.wait_durable()
    }

    /// [`Self::get`] with the object's revision, from stores that keep one (`None` from the others).
    fn get_with_revision(
        &self,
        namespace: Namespace<'_>,
        uid: &str,
    ) -> Result<Option<(StoredObject, Option<Revision>)>, StoreError> {
        Ok(self.get(namespace, uid)?.map(|object| (object, None)))
    }

    /// [`Self::update`] applied only while the object is still at revision `expected` (when given; stores
    /// without revisions ignore it), else [`StoreError::Conflict`]. Returns the new revision, if kept.
    fn update_if(
        &self,
        object: &StoredObject,
        expected: Option<Revision>,
    ) -> Result<Option<Revision>, StoreError> {
        let _ = expected;
        self.update(object).map(|()| None)
    }
}
