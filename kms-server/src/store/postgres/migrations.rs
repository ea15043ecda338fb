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
//! clear attribute record and its sealed blob (`qkms_objects`), and the names Locate looks up (`qkms_names`);
//! and the audit log: one hash-chained sequence of records per node (`qkms_audit`), and per node who holds its
//! chain and how far it reached (`qkms_audit_nodes`), see `audit_table`.

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
];

/// The newest schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 2;

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
