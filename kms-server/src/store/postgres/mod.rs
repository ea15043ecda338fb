//! The PostgreSQL store: several stateless qkms nodes share one database (`[store] kind = "postgres"`).
//!
//! The database sees exactly what sled holds: each object's clear attribute record and its blob sealed with
//! AES-256-GCM under the data key (sealed here, in the node, before any byte leaves it), the data key wrapped by
//! the root key (`qkms_meta`), and what Locate looks up (type, stored State, Names, Object Groups, dates). The root
//! key never reaches the database.
//!
//! Across nodes: each node may cache the object rows it read (`object_cache`: the sealed rows, bounded by bytes;
//! `[store] object_cache_mb = 0` turns it off), kept coherent through the database (`cache_coherence`): every
//! change is logged with a seq, each caching node renews a lease and reports how far it has applied the log, and a
//! change is acknowledged only once every other node holding a lease has dropped the changed row (or its lease
//! has run out, after which it serves nothing from its cache), so no node serves an object another node has
//! destroyed, revoked or changed once that change is acknowledged. Locate and everything else always read the
//! database. Writes are single statements committed before they return (durably, or, for a request message whose audit
//! records are committed durably in this database before it is acknowledged, with the flush left to that commit:
//! `durability`); updates made after a read of the same message are conditional on the revision read
//! (`update_if`), so two nodes modifying one object never lose an update; failures that a retry cures
//! (serialization failures, deadlocks, lost connections) are retried with a bounded backoff (`retry`).
//!
//! One module per concern: `connection` (pool, TLS, runtime bridge), `migrations` (versioned schema), `objects`
//! (the row statements), `object_store` (the `ObjectStore` operations on the rows), `durability` (which deferred
//! writes a durable commit has covered), `object_cache`, `cache_coherence`, `cache_watcher` and `cache_options`
//! (the node's cache of rows, the protocol that keeps it coherent, the node's task in it, their settings), `facts`
//! (what Locate's SQL filters on, derived from the attributes), `locate` (Locate's SQL), `backfill` (Locate columns
//! for rows older than them), `meta` (the wrapped data key), `retry`, `copy` (`qkms store migrate` from sled),
//! `audit_table`, `audit_rows` and `audit_chains` (the nodes' audit chains: their claim and commits, a record as
//! its row keeps it, every chain read back for verification); and, beside the objects, the node state every node
//! shares through [`Database`]: `shared_pins` (user PINs and their retry counters), `shared_usage` (usage counters,
//! entropy-as-a-service metering and quotas), `eaas_usage_copy` (a node's entropy-as-a-service usage history added
//! to those once, by `qkms store migrate`).

mod audit_chains;
pub mod audit_rows;
mod audit_table;
mod backfill;
mod cache_coherence;
mod cache_options;
mod cache_watcher;
mod connection;
pub mod copy;
mod durability;
mod eaas_usage_copy;
mod facts;
mod locate;
mod meta;
mod migrations;
mod object_cache;
mod object_store;
mod objects;
pub mod retry;
mod shared_pins;
mod shared_usage;

use std::fmt;
use std::sync::Arc;

use entropy::EntropyPool;
use kmip::objects::ManagedObject;
use zeroize::Zeroizing;

use super::codec::{self, Record};
use super::custody::{Custody, CustodyKind};
use super::root_key::{Argon2Params, KEY_LEN};
use super::seal::Sealer;
use super::sealed_object;
use super::sled_meta::Wrapping;
use super::{
    deferred_durability, IndexQuery, Namespace, Revision, StoreCondition, StoreError, StoredObject,
};
use crate::tenant::TenantId;

pub use audit_chains::AuditChains;
pub use audit_table::{Appended, AuditTable, ClaimedChain, LEASE as AUDIT_LEASE};
pub use cache_options::CacheOptions as ObjectCacheOptions;
pub use connection::{redacted_url, PostgresOptions};
pub use eaas_usage_copy::{EaasUsageCopy, EARLIER as EAAS_EARLIER_MONTH};
pub use migrations::SCHEMA_VERSION;
pub use retry::RetryPolicy;
pub use shared_pins::{PinCopyReport, SharedPins, GUARDED_REFRESH};
pub use shared_usage::{SharedQuotas, SharedUsage};

use cache_coherence::Coherence;
use connection::Connection;
use objects::Commit;

/// The PostgreSQL-backed [`ObjectStore`].
pub struct PgStore {
    connection: Arc<Connection>,
    sealer: Sealer,
    coherence: Coherence,
}

/// The store's database, for the node state every node shares beside the objects (user PINs, usage counters,
/// entropy-as-a-service metering): the same pool, runtime and retry policy as the objects.
#[derive(Clone)]
pub struct Database {
    connection: Arc<Connection>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("connection", &self.connection)
            .finish()
    }
}

impl Database {
    /// Connects and brings the schema up to date, for tools that need the shared state without the objects
    /// (`qkms-server user-pin`). Connection and TLS as the store's.
    pub fn connect(options: &PostgresOptions, pool: &EntropyPool) -> Result<Self, StoreError> {
        let connection = Connection::new(options, pool.rustls_provider())?;
        connection.run(|client, _| migrations::migrate(client))?;
        Ok(Self {
            connection: Arc::new(connection),
        })
    }

    /// Where the database is (no password), for messages.
    pub fn describe(&self) -> &str {
        self.connection.describe()
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("connection", &self.connection)
            .field("coherence", &self.coherence)
            .finish_non_exhaustive()
    }
}

/// The object type a record is filed under (from the attributes, else from the object), as stored.
fn indexed_type(object: &StoredObject) -> Option<kmip::enums::ObjectType> {
    object
        .attributes
        .object_type()
        .or_else(|| object.object.as_ref().map(ManagedObject::object_type))
}

fn revision(stored: i64) -> Revision {
    u64::try_from(stored).unwrap_or_default()
}

impl PgStore {
    /// Connects, migrates the schema, and opens (creating when the database holds none) the store whose root
    /// key `choose` gives: it is told the custody kind the database records (`None` for a new store).
    pub fn open_with_custody(
        options: &PostgresOptions,
        choose: impl FnOnce(Option<CustodyKind>) -> Result<Custody, StoreError>,
        pool: EntropyPool,
        argon2: &Argon2Params,
    ) -> Result<Self, StoreError> {
        let connection = Arc::new(Connection::new(options, pool.rustls_provider())?);
        connection.run(|client, _| migrations::migrate(client))?;
        let backfilled = backfill::run(&connection)?;
        if backfilled > 0 {
            tracing::info!(
                objects = backfilled,
                "Locate columns backfilled for objects written before schema version 2"
            );
        }
        let data_key = Self::data_key(&connection, choose, &pool, argon2)?;
        let mut node = [0u8; 16];
        pool.try_fill(&mut node)?;
        let handle = connection
            .handle()
            .ok_or_else(|| StoreError::Io("the database runtime is shut down".into()))?;
        let coherence = Coherence::start(
            hex::encode(node),
            options.object_cache,
            connection.pool(),
            &handle,
        );
        Ok(Self {
            connection,
            sealer: Sealer::new(&data_key, pool),
            coherence,
        })
    }

    /// What the node's object cache holds now (rows, bytes); `None` when it is off (`object_cache_mb = 0`).
    pub fn object_cache_usage(&self) -> Option<(usize, u64)> {
        self.coherence.cache().map(|c| (c.len(), c.weight()))
    }

    /// This node's id among the caching nodes (`qkms_cache_nodes`).
    pub fn cache_node_id(&self) -> &str {
        self.coherence.node_id()
    }

    /// After a change committed: see [`Coherence::changed`].
    fn changed(&self, storage_key: &[u8], seq: Option<i64>) -> Result<(), StoreError> {
        self.coherence.changed(&self.connection, storage_key, seq)
    }

    /// Whether the database holds a qkms store (its schema and a wrapped data key). Connects, without
    /// migrating anything.
    pub fn exists(options: &PostgresOptions, pool: &EntropyPool) -> Result<bool, StoreError> {
        let connection = Connection::new(options, pool.rustls_provider())?;
        connection.run(|client, _| async move {
            let row = client
                .query_one(
                    "SELECT COUNT(*) FROM information_schema.tables
                     WHERE table_name = 'qkms_meta' AND table_schema = current_schema()",
                    &[],
                )
                .await?;
            if row.get::<_, i64>(0) == 0 {
                return Ok(false);
            }
            Ok(!meta::read_all(&client).await?.is_empty())
        })
    }

    fn data_key(
        connection: &Connection,
        choose: impl FnOnce(Option<CustodyKind>) -> Result<Custody, StoreError>,
        pool: &EntropyPool,
        argon2: &Argon2Params,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, StoreError> {
        let read = || -> Result<Option<Wrapping>, StoreError> {
            let entries =
                connection.run(|client, _| async move { meta::read_all(&client).await })?;
            Wrapping::read_with(|name| Ok(entries.get(name).cloned()))
        };
        let existing = read()?;
        let custody = choose(existing.as_ref().map(Wrapping::kind))?;
        if let Some(wrapping) = existing {
            return wrapping.unwrap(&custody);
        }
        let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
        pool.try_fill(data_key.as_mut())?;
        let wrapping = Wrapping::new(&custody, &data_key, pool, argon2)?;
        let entries: Arc<Vec<(Vec<u8>, Vec<u8>)>> = Arc::new(
            wrapping
                .entries()
                .into_iter()
                .map(|(name, value)| (name.to_vec(), value))
                .collect(),
        );
        let created = connection.run(move |client, _| {
            let entries = Arc::clone(&entries);
            async move { meta::create(client, &entries).await }
        })?;
        if created {
            return Ok(data_key);
        }
        // Another node created the store at the same moment: use its data key.
        read()?
            .ok_or_else(|| StoreError::Corrupt("qkms_meta lost its entries".into()))?
            .unwrap(&custody)
    }

    /// Claims node `node_id`'s audit chain for this process (see [`AuditTable`]; `host` names this machine in
    /// the claim) and returns the chain's last record (sequence, JSON text) and the head sequence its claim row
    /// recorded. Refused while another live process holds it.
    /// From then on, object writes made inside the dispatcher's deferral scope commit without waiting for their
    /// WAL flush: the durable commit of their message's audit records flushes it.
    pub fn claim_audit_chain(&self, node_id: &str, host: &str) -> Result<ClaimedChain, StoreError> {
        let claimed = AuditTable::claim(Arc::clone(&self.connection), node_id, host)?;
        self.connection.durability.enable_deferral();
        Ok(claimed)
    }

    /// Where the database is (no password), for messages.
    pub fn describe(&self) -> &str {
        self.connection.describe()
    }

    /// The plan PostgreSQL picks for the first page of a Locate (`EXPLAIN`), to check which index serves a
    /// query (tests, and operators investigating a slow Locate).
    pub fn explain_locate(
        &self,
        owner: &TenantId,
        query: &IndexQuery,
    ) -> Result<String, StoreError> {
        let selection = Arc::new(locate::Selection::new(&owner.0, query));
        let sql: Arc<str> = selection.sql().into();
        self.connection.run(move |client, _| {
            let (selection, sql) = (Arc::clone(&selection), Arc::clone(&sql));
            async move { locate::explain(&client, &selection, &sql).await }
        })
    }

    /// The database, for the state shared beside the objects.
    pub fn database(&self) -> Database {
        Database {
            connection: Arc::clone(&self.connection),
        }
    }

    /// `/health`: failing while the database cannot be reached.
    pub fn condition(&self) -> StoreCondition {
        match self.connection.unreachable() {
            None => StoreCondition::Ok,
            Some((since, cause)) => StoreCondition::Failing { since, cause },
        }
    }

    fn row(
        &self,
        object: &StoredObject,
        blob: Option<Vec<u8>>,
    ) -> Result<objects::Row, StoreError> {
        let record = Record {
            owner: object.owner.clone(),
            internal: object.internal,
            // The database orders by its own `created` column; the record's copy is not used here.
            created: 0,
            indexed_type: indexed_type(object),
            attributes: object.attributes.clone(),
        };
        Ok(objects::Row {
            storage_key: object.namespace().key(&object.uid),
            uid: object.uid.clone(),
            tenant: object.owner.0.clone(),
            internal: object.internal,
            object_type: record.indexed_type.map(|t| t.to_u32() as i32),
            record: codec::encode_record(&record)?,
            blob,
            facts: facts::Facts::of(&object.attributes),
        })
    }

    fn seal(
        &self,
        uid: &str,
        object: Option<&ManagedObject>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        sealed_object::seal(&self.sealer, uid, object)
    }

    /// See [`sealed_object::reseal_if_changed`].
    fn reseal_if_changed(
        &self,
        storage_key: &[u8],
        uid: &str,
        object: Option<&ManagedObject>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        sealed_object::reseal_if_changed(&self.sealer, uid, object, || {
            let key = storage_key.to_vec();
            self.connection.run(move |client, _| {
                let key = key.clone();
                async move { objects::blob(&client, &key).await }
            })
        })
    }

    /// How the caller's write commits: deferred when it promised to wait for durability and this node's audit log
    /// will make it durable (see `durability`).
    fn commit(&self) -> Commit {
        if self.connection.durability.deferral_enabled() && deferred_durability::allowed() {
            Commit::Deferred
        } else {
            Commit::Durable
        }
    }

    /// Runs one write committed as `commit` says; a deferred one, once its statement has returned (whatever the
    /// outcome: a failed attempt may have committed before its connection broke), is numbered for the caller.
    fn write<T>(
        &self,
        commit: Commit,
        run: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let result = run();
        if commit == Commit::Deferred {
            deferred_durability::note(self.connection.durability.finished());
        }
        result
    }

    fn decode(
        &self,
        namespace: Namespace<'_>,
        uid: &str,
        read: &objects::Read,
    ) -> Result<StoredObject, StoreError> {
        sealed_object::decode(
            &self.sealer,
            namespace,
            uid,
            &read.record,
            read.blob.as_deref(),
        )
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.coherence.leave(&self.connection);
    }
}
