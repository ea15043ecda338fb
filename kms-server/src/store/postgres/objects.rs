//! The statements that write and read one object. Each write is ONE statement (data-modifying common table
//! expressions keep an object row and its Locate rows (names, groups, dates: see `facts`) together), so it is
//! atomic without an explicit transaction and costs one round trip. How it commits is the caller's choice
//! ([`Commit`]): durably (PostgreSQL acknowledges it once its WAL record is flushed), or deferred (the statement
//! sets `synchronous_commit` off for its own transaction: committed and visible at once, flushed by the next
//! durable commit, see `durability`). The `settings` CTE that does so is referenced by the statement's first write,
//! so that PostgreSQL evaluates it.
//!
//! Updates and removals also log the change for the nodes' object caches (the `change_counted` and
//! `change_logged` CTEs, see `cache_coherence`) and return its seq.
//!
//! Updates are conditional when the caller knows the revision it read: `revision = $expected` is re-checked by
//! PostgreSQL on the newest row version after waiting for a concurrent writer, so of two nodes updating one
//! object from the same reading, the second matches no row and gets [`StoreError::Conflict`] (no lost update).

use deadpool_postgres::Object;

use super::facts::Facts;
use super::retry::Failure;
use crate::store::StoreError;

/// How a write's transaction commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Commit {
    /// Once its WAL record is flushed (`synchronous_commit` on).
    Durable,
    /// At once; a later durable commit flushes it (`synchronous_commit` off for this transaction).
    Deferred,
}

impl Commit {
    /// The value of `synchronous_commit` for the write's transaction.
    fn setting(self) -> &'static str {
        match self {
            Commit::Durable => "on",
            Commit::Deferred => "off",
        }
    }
}

/// One object row as written.
#[derive(Clone, Debug)]
pub(super) struct Row {
    pub storage_key: Vec<u8>,
    pub uid: String,
    pub tenant: String,
    pub internal: bool,
    pub object_type: Option<i32>,
    pub record: Vec<u8>,
    pub blob: Option<Vec<u8>>,
    /// What Locate's SQL filters on.
    pub facts: Facts,
}

/// One object row as read.
#[derive(Debug)]
pub(super) struct Read {
    pub record: Vec<u8>,
    pub blob: Option<Vec<u8>>,
    pub revision: i64,
}

const INSERT: &str = "WITH settings AS (
        SELECT set_config('synchronous_commit', $13, true) AS value
    ),
    inserted AS (
        INSERT INTO qkms_objects (storage_key, uid, tenant, internal, object_type, revision, record, blob, state,
            indexed_revision)
        SELECT $1::BYTEA, $2::TEXT, $3::TEXT, $4::BOOLEAN, $5::INTEGER, 1, $6::BYTEA, $7::BYTEA, $9::INTEGER, 1
        FROM settings
        RETURNING storage_key
    ),
    named AS (
        INSERT INTO qkms_names (storage_key, tenant, name)
        SELECT inserted.storage_key, $3, n.name FROM inserted CROSS JOIN unnest($8::TEXT[]) AS n(name)
    ),
    grouped AS (
        INSERT INTO qkms_groups (storage_key, tenant, object_group)
        SELECT inserted.storage_key, $3, g.object_group FROM inserted CROSS JOIN unnest($10::TEXT[]) AS g(object_group)
    )
    INSERT INTO qkms_dates (storage_key, tenant, tag, value)
    SELECT inserted.storage_key, $3, d.tag, d.value
    FROM inserted CROSS JOIN unnest($11::INTEGER[], $12::BIGINT[]) AS d(tag, value)";

const SELECT: &str = "SELECT record, blob, revision FROM qkms_objects WHERE storage_key = $1";

const SELECT_BLOB: &str = "SELECT blob FROM qkms_objects WHERE storage_key = $1";

// The name, group and date rows are brought to the new sets by two steps each that commute (drop the rows no
// longer there, add the new ones unless present), so their order inside the statement does not matter. The
// Locate columns are stamped with the new revision (`indexed_revision`, see `migrations`).
const UPDATE: &str = "WITH settings AS (
        SELECT set_config('synchronous_commit', $13, true) AS value
    ),
    updated AS (
        UPDATE qkms_objects
        SET tenant = $2, internal = $3, object_type = COALESCE($4, object_type), record = $5, blob = $6,
            revision = revision + 1, state = $9, indexed_revision = revision + 1
        WHERE storage_key = $1 AND ($7::BIGINT IS NULL OR revision = $7::BIGINT)
            AND (SELECT COUNT(*) FROM settings) = 1
        RETURNING storage_key, revision
    ),
    names_dropped AS (
        DELETE FROM qkms_names
        WHERE storage_key = $1 AND NOT (name = ANY($8::TEXT[])) AND EXISTS (SELECT 1 FROM updated)
    ),
    names_added AS (
        INSERT INTO qkms_names (storage_key, tenant, name)
        SELECT updated.storage_key, $2, n.name FROM updated CROSS JOIN unnest($8::TEXT[]) AS n(name)
        ON CONFLICT (storage_key, name) DO NOTHING
    ),
    groups_dropped AS (
        DELETE FROM qkms_groups
        WHERE storage_key = $1 AND NOT (object_group = ANY($10::TEXT[])) AND EXISTS (SELECT 1 FROM updated)
    ),
    groups_added AS (
        INSERT INTO qkms_groups (storage_key, tenant, object_group)
        SELECT updated.storage_key, $2, g.object_group FROM updated CROSS JOIN unnest($10::TEXT[]) AS g(object_group)
        ON CONFLICT (storage_key, object_group) DO NOTHING
    ),
    dates_dropped AS (
        DELETE FROM qkms_dates
        WHERE storage_key = $1
            AND (tag, value) NOT IN (SELECT d.tag, d.value FROM unnest($11::INTEGER[], $12::BIGINT[]) AS d(tag, value))
            AND EXISTS (SELECT 1 FROM updated)
    ),
    dates_added AS (
        INSERT INTO qkms_dates (storage_key, tenant, tag, value)
        SELECT updated.storage_key, $2, d.tag, d.value
        FROM updated CROSS JOIN unnest($11::INTEGER[], $12::BIGINT[]) AS d(tag, value)
        ON CONFLICT (storage_key, tag, value) DO NOTHING
    ),
    change_counted AS (
        UPDATE qkms_change_counter SET seq = seq + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM updated)
        RETURNING seq
    ),
    change_logged AS (
        INSERT INTO qkms_object_changes (seq, storage_key, changed_ms)
        SELECT seq, $1, CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT) FROM change_counted
    )
    SELECT revision, (SELECT seq FROM change_counted) FROM updated";

const REMOVE: &str = "WITH settings AS (
        SELECT set_config('synchronous_commit', $2, true) AS value
    ),
    removed AS (
        DELETE FROM qkms_objects WHERE storage_key = $1 AND (SELECT COUNT(*) FROM settings) = 1
        RETURNING storage_key
    ),
    names AS (
        DELETE FROM qkms_names WHERE storage_key = $1 AND EXISTS (SELECT 1 FROM removed)
    ),
    groups AS (
        DELETE FROM qkms_groups WHERE storage_key = $1 AND EXISTS (SELECT 1 FROM removed)
    ),
    dates AS (
        DELETE FROM qkms_dates WHERE storage_key = $1 AND EXISTS (SELECT 1 FROM removed)
    ),
    change_counted AS (
        UPDATE qkms_change_counter SET seq = seq + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM removed)
        RETURNING seq
    ),
    change_logged AS (
        INSERT INTO qkms_object_changes (seq, storage_key, changed_ms)
        SELECT seq, $1, CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT) FROM change_counted
    )
    SELECT (SELECT COUNT(*) FROM removed), (SELECT seq FROM change_counted)";

/// Inserts a new object. A retry (`attempt > 0`) that finds the same row already there is the first attempt's
/// write, applied before its connection failed: success (uid creation is idempotent); a different row under the
/// key is [`StoreError::AlreadyExists`].
pub(super) async fn insert(
    client: &Object,
    row: &Row,
    commit: Commit,
    attempt: u32,
) -> Result<(), Failure> {
    let statement = client.prepare_cached(INSERT).await?;
    let result = client
        .execute(
            &statement,
            &[
                &row.storage_key,
                &row.uid,
                &row.tenant,
                &row.internal,
                &row.object_type,
                &row.record,
                &row.blob,
                &row.facts.names,
                &row.facts.state,
                &row.facts.groups,
                &row.facts.date_tags,
                &row.facts.date_values,
                &commit.setting(),
            ],
        )
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            let failure = Failure::from(e);
            if !failure.is_unique_violation() {
                return Err(failure);
            }
            if attempt > 0 {
                if let Some(existing) = get(client, &row.storage_key).await? {
                    if existing.record == row.record && existing.blob == row.blob {
                        return Ok(());
                    }
                }
            }
            Err(StoreError::AlreadyExists(row.uid.clone()).into())
        }
    }
}

/// The object stored under `storage_key`.
pub(super) async fn get(client: &Object, storage_key: &[u8]) -> Result<Option<Read>, Failure> {
    let statement = client.prepare_cached(SELECT).await?;
    let row = client.query_opt(&statement, &[&storage_key]).await?;
    Ok(row.map(|row| Read {
        record: row.get(0),
        blob: row.get(1),
        revision: row.get(2),
    }))
}

/// The sealed blob stored under `storage_key` (`Ok(None)` when the object is absent or has no material).
pub(super) async fn blob(client: &Object, storage_key: &[u8]) -> Result<Option<Vec<u8>>, Failure> {
    let statement = client.prepare_cached(SELECT_BLOB).await?;
    let row = client.query_opt(&statement, &[&storage_key]).await?;
    Ok(row.and_then(|row| row.get(0)))
}

/// Replaces the object under `row.storage_key` if it is still at `expected` (any revision when `None`).
/// Returns the new revision and the change's seq (`cache_coherence`); [`StoreError::NotFound`] when absent,
/// [`StoreError::Conflict`] when another write came first.
pub(super) async fn update(
    client: &Object,
    row: &Row,
    expected: Option<i64>,
    commit: Commit,
) -> Result<(i64, Option<i64>), Failure> {
    let statement = client.prepare_cached(UPDATE).await?;
    let updated = client
        .query_opt(
            &statement,
            &[
                &row.storage_key,
                &row.tenant,
                &row.internal,
                &row.object_type,
                &row.record,
                &row.blob,
                &expected,
                &row.facts.names,
                &row.facts.state,
                &row.facts.groups,
                &row.facts.date_tags,
                &row.facts.date_values,
                &commit.setting(),
            ],
        )
        .await?;
    if let Some(updated) = updated {
        return Ok((updated.get(0), updated.get(1)));
    }
    match get(client, &row.storage_key).await? {
        None => Err(StoreError::NotFound(row.uid.clone()).into()),
        Some(now) => Err(StoreError::Conflict {
            uid: row.uid.clone(),
            detail: format!(
                "read at revision {}, now at revision {}",
                expected.unwrap_or_default(),
                now.revision
            ),
        }
        .into()),
    }
}

/// Removes the object under `storage_key` and its Locate rows; returns the change's seq (`cache_coherence`).
/// A retry that finds nothing removed its own first attempt's work (applied before the connection failed):
/// success, its seq unknown (`None`).
pub(super) async fn remove(
    client: &Object,
    storage_key: &[u8],
    uid: &str,
    commit: Commit,
    attempt: u32,
) -> Result<Option<i64>, Failure> {
    let statement = client.prepare_cached(REMOVE).await?;
    let row = client
        .query_one(&statement, &[&storage_key, &commit.setting()])
        .await?;
    let removed: i64 = row.get(0);
    if removed == 0 && attempt == 0 {
        return Err(StoreError::NotFound(uid.to_owned()).into());
    }
    Ok(row.get(1))
}
