//! The database schema and its versioned migrations, applied at start-up.
//!
//! Why versioned: nodes of different releases may meet one database during a rolling upgrade. Each migration
//! runs in its own transaction that first claims its version row in `qkms_schema_migrations` (the primary key
//! makes two nodes starting at once apply it once: the second waits, then sees the row and skips it). A database
//! whose schema is newer than this build knows is refused with a clear error rather than written in an older
//! layout. The SQL is kept portable (no PostgreSQL-only types, no partial indexes, no triggers or PL/pgSQL) so
//! that CockroachDB or YugabyteDB could serve it.
//!
//! What the tables hold is what sled holds: the wrapped data key and its metadata (`qkms_meta`), each object's
//! clear attribute record and its sealed blob (`qkms_objects`), and what Locate looks up: the stored State
//! (`qkms_objects.state`), Names, Object Groups and dates (`qkms_names`, `qkms_groups`, `qkms_dates`). Rows
//! written before version 2 get their Locate columns from the start-up backfill (`backfill`), in Rust, since
//! SQL cannot decode the records. Beside the objects, the node state every node shares (version 3): user PINs,
//! usage counters and entropy-as-a-service metering (`shared_pins`, `shared_usage`).
//! And the audit log (version 4): one hash-chained sequence of records per node (`qkms_audit`), and per node
//! who holds its chain and how far it reached (`qkms_audit_nodes`), see `audit_table`. And what keeps the nodes'
//! object caches coherent (version 5): a change counter, the log of changed storage keys, and each caching
//! node's lease and how far it has read the log (`qkms_change_counter`, `qkms_object_changes`,
//! `qkms_cache_nodes`), see `cache_coherence`. Version 7 keeps new audit records without their hashes in hex
//! and their hash in bytes (`audit_rows`).

use deadpool_postgres::Object;

use super::retry::Failure;
use crate::store::StoreError;

/// One schema step.
struct Migration {
    version: i32,
    description: &'static str,
    statements: &'static [&'static str],
}

/// Every migration, oldest first. Append only: a released migration is never edited.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "objects, names, meta",
        statements: &[
            "CREATE TABLE qkms_meta (name BYTEA PRIMARY KEY, value BYTEA NOT NULL)",
            "CREATE SEQUENCE qkms_created_seq",
            // storage_key: the object's (namespace, uid) as store::namespace encodes it (the sled key).
            // record: the clear attribute record (store::codec), blob: the sealed object (store::seal).
            // revision: bumped by every update; conditional updates compare it (no lost update across nodes).
            "CREATE TABLE qkms_objects (
            storage_key BYTEA PRIMARY KEY,
            uid TEXT NOT NULL,
            tenant TEXT NOT NULL,
            internal BOOLEAN NOT NULL,
            object_type INTEGER,
            created BIGINT NOT NULL DEFAULT nextval('qkms_created_seq'),
            revision BIGINT NOT NULL,
            record BYTEA NOT NULL,
            blob BYTEA
        )",
            "CREATE INDEX qkms_objects_by_tenant ON qkms_objects (tenant, internal, created)",
            "CREATE INDEX qkms_objects_by_type ON qkms_objects (tenant, object_type, created)",
            "CREATE TABLE qkms_names (
            storage_key BYTEA NOT NULL,
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (storage_key, name)
        )",
            "CREATE INDEX qkms_names_by_name ON qkms_names (tenant, name)",
        ],
    },
    Migration {
        version: 2,
        description: "Locate columns: state, object groups, dates",
        statements: &[
            // state: the stored State (0 none, -1 several different ones, else the KMIP enumeration value).
            "ALTER TABLE qkms_objects ADD COLUMN state INTEGER NOT NULL DEFAULT 0",
            "CREATE INDEX qkms_objects_by_state ON qkms_objects (tenant, state, created)",
            // indexed_revision: the revision the Locate columns and rows were derived from; 0 until the start-up
            // backfill (`backfill`) has indexed a row written before this migration. It has no default, so a node
            // of an older release (which does not write it) can no longer insert, and the check refuses its updates
            // of indexed rows (it bumps `revision` alone): no row is left with stale Locate columns.
            "ALTER TABLE qkms_objects ADD COLUMN indexed_revision BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE qkms_objects ALTER COLUMN indexed_revision DROP DEFAULT",
            "ALTER TABLE qkms_objects ADD CONSTRAINT qkms_objects_indexed_current
            CHECK (indexed_revision = 0 OR indexed_revision = revision)",
            "CREATE TABLE qkms_groups (
            storage_key BYTEA NOT NULL,
            tenant TEXT NOT NULL,
            object_group TEXT NOT NULL,
            PRIMARY KEY (storage_key, object_group)
        )",
            "CREATE INDEX qkms_groups_by_group ON qkms_groups (tenant, object_group)",
            // tag: the date attribute's KMIP tag (Initial Date 0x420021...), value: seconds since the epoch.
            "CREATE TABLE qkms_dates (
            storage_key BYTEA NOT NULL,
            tenant TEXT NOT NULL,
            tag INTEGER NOT NULL,
            value BIGINT NOT NULL,
            PRIMARY KEY (storage_key, tag, value)
        )",
            "CREATE INDEX qkms_dates_by_value ON qkms_dates (tenant, tag, value)",
            // Backfills finished (by name): a node starting after one is recorded here skips it.
            "CREATE TABLE qkms_backfills (
            name TEXT PRIMARY KEY,
            finished_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
        )",
        ],
    },
    Migration {
    version: 3,
    description: "node state shared by every node: user PINs, usage counters, entropy-as-a-service metering",
    statements: &[
        // One row per PIN-guarded tenant (user_pin::PinRecord): the argon2id hash, never the PIN; `failures` is
        // counted with conditional increments, so tries spread over nodes add up.
        "CREATE TABLE qkms_user_pins (
            tenant TEXT PRIMARY KEY,
            salt TEXT NOT NULL,
            hash TEXT NOT NULL,
            memory_kib INTEGER NOT NULL,
            iterations INTEGER NOT NULL,
            max_tries INTEGER NOT NULL,
            failures INTEGER NOT NULL
        )",
        // Per-tenant KMIP usage (usage::TenantUsage), every node's flushed deltas added up.
        "CREATE TABLE qkms_tenant_usage (
            tenant TEXT PRIMARY KEY,
            operations BIGINT NOT NULL,
            failed_operations BIGINT NOT NULL,
            keys_created BIGINT NOT NULL,
            random_bytes_served BIGINT NOT NULL
        )",
        // The last delta batch each running node added (node numbers from qkms_node_seq): a batch retried after
        // a lost connection is recognised and not added twice.
        "CREATE SEQUENCE qkms_node_seq",
        "CREATE TABLE qkms_usage_flushes (node BIGINT PRIMARY KEY, sequence BIGINT NOT NULL)",
        // Entropy-as-a-service metering per UTC day and month (quotas are conditional increments of these rows).
        "CREATE TABLE qkms_eaas_days (
            tenant TEXT NOT NULL,
            day TEXT NOT NULL,
            requests BIGINT NOT NULL,
            bytes BIGINT NOT NULL,
            PRIMARY KEY (tenant, day)
        )",
        "CREATE TABLE qkms_eaas_months (
            tenant TEXT NOT NULL,
            month TEXT NOT NULL,
            requests BIGINT NOT NULL,
            bytes BIGINT NOT NULL,
            PRIMARY KEY (tenant, month)
        )",
    ],
},
    Migration {
        version: 4,
        description: "audit chains, one per node",
        statements: &[
            // One row per node that ever wrote a chain. owner: the process holding the chain now ('' when
            // released); heartbeat_ms: the database's clock (ms since the epoch) at the holder's last write or
            // heartbeat (a holder silent for longer than the lease may be replaced); head_sequence: the last
            // sequence committed, updated in the same transaction as the records (so `verify` notices records
            // cut off the end).
            "CREATE TABLE qkms_audit_nodes (
                node_id TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                heartbeat_ms BIGINT NOT NULL,
                head_sequence BIGINT NOT NULL
            )",
            // record: the JSON text of one audit record, exactly as a line of the file log (audit::record).
            "CREATE TABLE qkms_audit (
                node_id TEXT NOT NULL,
                sequence BIGINT NOT NULL,
                record TEXT NOT NULL,
                PRIMARY KEY (node_id, sequence)
            )",
        ],
    },
    Migration {
        version: 5,
        description: "object cache coherence: change counter, change log, cache leases",
        statements: &[
            // One row (id 1): the seq of the last change to an object row. Every change bumps it in its own
            // statement, and its row lock, held to commit, makes changes commit in seq order.
            "CREATE TABLE qkms_change_counter (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL)",
            "INSERT INTO qkms_change_counter (id, seq) VALUES (1, 0)",
            // One row per change of an object row (update or remove; creates are not logged): which storage key,
            // and the database's clock (ms since the epoch) when, for pruning.
            "CREATE TABLE qkms_object_changes (
                seq BIGINT PRIMARY KEY,
                storage_key BYTEA NOT NULL,
                changed_ms BIGINT NOT NULL
            )",
            // One row per node with an object cache: until when (database clock, ms) its lease runs, and the last
            // change whose invalidation it has applied.
            "CREATE TABLE qkms_cache_nodes (
                node_id TEXT PRIMARY KEY,
                lease_until_ms BIGINT NOT NULL,
                seen_seq BIGINT NOT NULL
            )",
        ],
    },
    Migration {
        version: 6,
        description: "audit chains keyed by node id in byte order",
        statements: &[
            // Every audit commit inserts its records into the primary key (node_id, sequence); with the
            // database's collation each comparison of node ids went through the locale's rules. Byte order costs
            // a memcmp (PostgreSQL's CPU per record of a flood of Gets' records: 4.1 -> 3.6 µs, BENCHMARKS.md).
            // Node ids are only ever compared for equality, which byte order keeps. Rebuilds the index.
            "ALTER TABLE qkms_audit ALTER COLUMN node_id TYPE TEXT COLLATE \"C\"",
        ],
    },
    Migration {
        version: 7,
        description: "audit records stored without their hashes in hex, the hash in bytes",
        statements: &[
            // New rows keep a record's text without its two closing hashes (158 of a Get's ~380 bytes) and its
            // own hash in 32 bytes; the previous hash is the row before's (see `audit_rows`). Rows written
            // before keep their whole text and no hash. An older build refuses this schema (newer than it
            // knows), so no build that would misread the new rows writes or verifies them.
            "ALTER TABLE qkms_audit ADD COLUMN hash BYTEA",
        ],
    },
];

/// The newest schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 7;

const CREATE_VERSIONS: &str = "CREATE TABLE IF NOT EXISTS qkms_schema_migrations (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
)";

/// The schema version the database is at (0: none yet).
async fn current_version(client: &Object) -> Result<i32, Failure> {
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM qkms_schema_migrations",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// Brings the database to [`SCHEMA_VERSION`], or refuses a newer one. Returns the version it found.
pub(super) async fn migrate(mut client: Object) -> Result<i32, Failure> {
    match client.batch_execute(CREATE_VERSIONS).await {
        Ok(()) => {}
        // Two nodes creating the table at once: the loser sees a duplicate (of the table, or of its row type
        // in pg_type: 42710); the table is there either way.
        Err(e)
            if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
                || e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_TABLE)
                || e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_OBJECT) => {}
        Err(e) => return Err(e.into()),
    }
    let found = current_version(&client).await?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::Config(format!(
            "the database's qkms schema is version {found}, newer than this qkms-server knows (up to \
             {SCHEMA_VERSION}): it was upgraded by a newer qkms-server; run that release (or point [store] url \
             at another database)"
        ))
        .into());
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        let transaction = client.transaction().await?;
        let claimed = transaction
            .execute(
                "INSERT INTO qkms_schema_migrations (version, description) VALUES ($1, $2)",
                &[&migration.version, &migration.description],
            )
            .await;
        match claimed {
            Ok(_) => {}
            // Another node applied it meanwhile (its transaction committed before ours could insert).
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                transaction.rollback().await?;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        for statement in migration.statements {
            transaction.batch_execute(statement).await?;
        }
        transaction.commit().await?;
        tracing::info!(
            version = migration.version,
            description = migration.description,
            "database schema migrated"
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_up_to_the_schema_version() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i32 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }
}
