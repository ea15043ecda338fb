//! The start-up backfill of Locate's columns and rows (`facts`) for objects written before schema version 2.
//!
//! SQL cannot decode the attribute records, so this runs in Rust when a store is opened, after the migrations
//! and before the node serves: rows still at `indexed_revision = 0` are read a batch at a time (in storage-key
//! order), their facts derived, and each written by one conditional statement that applies only while the row is
//! still unindexed and at the revision read. So it is idempotent and safe with several nodes starting at once
//! (they index the same rows in the same order; the second finds each row done and writes nothing) and with a
//! node of the previous release still updating unindexed rows (a changed row is read again in the next pass).
//! Once a pass finds nothing left, `qkms_backfills` records it and later start-ups skip the scan.

use std::sync::Arc;

use deadpool_postgres::Object;

use super::connection::Connection;
use super::facts::Facts;
use super::retry::Failure;
use crate::store::codec;
use crate::store::StoreError;

/// The name under which `qkms_backfills` records this backfill.
const NAME: &str = "locate-columns";

/// Rows per batch (one transaction).
const BATCH: i64 = 256;

const PENDING: &str = "SELECT storage_key, record, revision FROM qkms_objects
    WHERE indexed_revision = 0 AND ($1 OR storage_key > $2)
    ORDER BY storage_key LIMIT $3";

const INDEX_ROW: &str = "WITH indexed AS (
        UPDATE qkms_objects SET state = $2, indexed_revision = revision
        WHERE storage_key = $1 AND indexed_revision = 0 AND revision = $3
        RETURNING storage_key, tenant
    ),
    named AS (
        INSERT INTO qkms_names (storage_key, tenant, name)
        SELECT indexed.storage_key, indexed.tenant, n.name FROM indexed CROSS JOIN unnest($4::TEXT[]) AS n(name)
        ON CONFLICT (storage_key, name) DO NOTHING
    ),
    grouped AS (
        INSERT INTO qkms_groups (storage_key, tenant, object_group)
        SELECT indexed.storage_key, indexed.tenant, g.object_group
        FROM indexed CROSS JOIN unnest($5::TEXT[]) AS g(object_group)
        ON CONFLICT (storage_key, object_group) DO NOTHING
    ),
    dated AS (
        INSERT INTO qkms_dates (storage_key, tenant, tag, value)
        SELECT indexed.storage_key, indexed.tenant, d.tag, d.value
        FROM indexed CROSS JOIN unnest($6::INTEGER[], $7::BIGINT[]) AS d(tag, value)
        ON CONFLICT (storage_key, tag, value) DO NOTHING
    )
    SELECT COUNT(*) FROM indexed";

/// One unindexed row, read.
struct Pending {
    key: Vec<u8>,
    record: Vec<u8>,
    revision: i64,
}

/// One row's facts, ready to write.
struct Indexed {
    key: Vec<u8>,
    revision: i64,
    facts: Facts,
}

async fn finished(client: &Object) -> Result<bool, Failure> {
    let row = client
        .query_one(
            "SELECT COUNT(*) FROM qkms_backfills WHERE name = $1",
            &[&NAME],
        )
        .await?;
    Ok(row.get::<_, i64>(0) > 0)
}

/// Indexes every row written before the Locate columns existed. Returns how many rows this node indexed.
pub(super) fn run(connection: &Connection) -> Result<u64, StoreError> {
    if connection.run(|client, _| async move { finished(&client).await })? {
        return Ok(0);
    }
    let mut indexed = 0u64;
    loop {
        let (seen, written) = pass(connection)?;
        indexed += written;
        if seen == 0 {
            break;
        }
        tracing::info!(
            indexed,
            "Locate columns backfilled for older rows (one pass)"
        );
    }
    connection.run(|client, _| async move {
        client
            .execute(
                "INSERT INTO qkms_backfills (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
                &[&NAME],
            )
            .await?;
        Ok(())
    })?;
    Ok(indexed)
}

/// One pass over the unindexed rows: how many it saw and how many it wrote.
fn pass(connection: &Connection) -> Result<(u64, u64), StoreError> {
    let (mut seen, mut written) = (0u64, 0u64);
    let mut after: Option<Vec<u8>> = None;
    loop {
        let from = after.clone();
        let batch = connection.run(move |client, _| {
            let from = from.clone();
            async move {
                let rows = client
                    .query(
                        PENDING,
                        &[&from.is_none(), &from.unwrap_or_default(), &BATCH],
                    )
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| Pending {
                        key: row.get(0),
                        record: row.get(1),
                        revision: row.get(2),
                    })
                    .collect::<Vec<_>>())
            }
        })?;
        let Some(last) = batch.last() else {
            return Ok((seen, written));
        };
        after = Some(last.key.clone());
        seen += batch.len() as u64;
        // Decoded here, in the calling thread, not on the database runtime.
        let rows = batch
            .into_iter()
            .map(|pending| {
                let record = codec::decode_record(&pending.record)?;
                Ok(Indexed {
                    key: pending.key,
                    revision: pending.revision,
                    facts: Facts::of(&record.attributes),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = Arc::new(rows);
        written += connection.run(move |client, _| {
            let rows = Arc::clone(&rows);
            async move { write(client, &rows).await }
        })?;
    }
}

async fn write(mut client: Object, rows: &[Indexed]) -> Result<u64, Failure> {
    let transaction = client.transaction().await?;
    let statement = transaction.prepare_cached(INDEX_ROW).await?;
    let mut written = 0u64;
    for row in rows {
        let count: i64 = transaction
            .query_one(
                &statement,
                &[
                    &row.key,
                    &row.facts.state,
                    &row.revision,
                    &row.facts.names,
                    &row.facts.groups,
                    &row.facts.date_tags,
                    &row.facts.date_values,
                ],
            )
            .await?
            .get(0);
        written += u64::try_from(count).unwrap_or_default();
    }
    transaction.commit().await?;
    Ok(written)
}
