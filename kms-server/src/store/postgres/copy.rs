//! `qkms store migrate`: copies a stopped sled store into PostgreSQL, unchanged.
//!
//! The meta entries (wrapped data key and its custody fields) and every object's clear record and sealed blob are
//! copied byte for byte, so nothing is unsealed and no root key is needed: the same root key opens the copy. Each
//! object keeps its creation number (Locate order), and the database's creation sequence is moved past the
//! largest. Rows already there are left alone, so the copy can be re-run after an interruption; at the end the
//! counts and a SHA-256 digest over every (key, record, blob) are compared on both sides, and any difference (an
//! object changed in the database since, or another store's rows) is an error naming the first that differs.
//! Each row is written with its Locate columns and rows (`facts`), as the store's own inserts write them.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::connection::{Connection, PostgresOptions};
use super::facts::Facts;
use super::{backfill, meta, migrations};
use crate::store::codec;
use crate::store::namespace::uid_of_storage_key;
use crate::store::namespace_migration::{migrate_to_namespaces, ATTRIBUTES_TREE, OBJECTS_TREE};
use crate::store::{io_error, sled_meta, StoreError};

/// What a copy did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyReport {
    /// Objects in the sled store (and, verified, in the database).
    pub objects: u64,
    /// Of those, written by this run (the others were there already, identical).
    pub copied: u64,
    /// The digest both sides agree on (hex).
    pub digest: String,
}

/// Rows per round trip, both ways.
const BATCH: usize = 256;

const INSERT_COPY: &str = "WITH inserted AS (
        INSERT INTO qkms_objects (storage_key, uid, tenant, internal, object_type, created, revision, record, blob,
            state, indexed_revision)
        VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $10, 1)
        ON CONFLICT (storage_key) DO NOTHING
        RETURNING storage_key
    ),
    named AS (
        INSERT INTO qkms_names (storage_key, tenant, name)
        SELECT inserted.storage_key, $3, n.name FROM inserted CROSS JOIN unnest($9::TEXT[]) AS n(name)
    ),
    grouped AS (
        INSERT INTO qkms_groups (storage_key, tenant, object_group)
        SELECT inserted.storage_key, $3, g.object_group FROM inserted CROSS JOIN unnest($11::TEXT[]) AS g(object_group)
    ),
    dated AS (
        INSERT INTO qkms_dates (storage_key, tenant, tag, value)
        SELECT inserted.storage_key, $3, d.tag, d.value
        FROM inserted CROSS JOIN unnest($12::INTEGER[], $13::BIGINT[]) AS d(tag, value)
    )
    SELECT COUNT(*) FROM inserted";

/// One sled entry ready for the database.
#[derive(Debug)]
struct Entry {
    key: Vec<u8>,
    uid: String,
    tenant: String,
    internal: bool,
    object_type: Option<i32>,
    created: i64,
    record: Vec<u8>,
    blob: Option<Vec<u8>>,
    /// The Locate columns and rows, derived as every write path derives them.
    facts: Facts,
}

/// The uid inside a storage key (see `store::namespace`).
fn digest_row(digest: &mut Sha256, key: &[u8], record: &[u8], blob: Option<&[u8]>) {
    for part in [Some(key), Some(record), blob] {
        match part {
            Some(bytes) => {
                digest.update([1u8]);
                digest.update((bytes.len() as u64).to_be_bytes());
                digest.update(bytes);
            }
            None => digest.update([0u8]),
        }
    }
}

/// Copies the sled store at `sled_path` (not in use: sled locks it) into the database of `options`.
pub fn copy_sled_to_postgres(
    sled_path: &Path,
    options: &PostgresOptions,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<CopyReport, StoreError> {
    if !crate::store::SledStore::exists(sled_path) {
        return Err(StoreError::Config(format!(
            "{} is not a store (no sled database there)",
            sled_path.display()
        )));
    }
    let db = sled::Config::new()
        .path(sled_path)
        .open()
        .map_err(|e| StoreError::Io(format!("cannot open store {}: {e}", sled_path.display())))?;
    migrate_to_namespaces(&db)?;
    let sled_meta = sled_meta::all_entries(&db)?;
    if sled_meta.is_empty() {
        return Err(StoreError::Config(
            "the sled store is empty: nothing to migrate".into(),
        ));
    }
    let connection = Connection::new(options, provider)?;
    connection.run(|client, _| migrations::migrate(client))?;
    // A re-run into a database an older release migrated into: its rows get their Locate columns first.
    backfill::run(&connection)?;

    // The meta entries: written when the database has none, else they must be these very ones.
    let existing = connection.run(|client, _| async move { meta::read_all(&client).await })?;
    if existing.is_empty() {
        let entries = Arc::new(sled_meta.clone());
        let created = connection.run(move |client, _| {
            let entries = Arc::clone(&entries);
            async move { meta::create(client, &entries).await }
        })?;
        if !created {
            return Err(StoreError::Config(
                "another node created a store in this database during the migration: nothing copied".into(),
            ));
        }
    } else {
        let same = sled_meta.len() == existing.len()
            && sled_meta
                .iter()
                .all(|(name, value)| existing.get(name) == Some(value));
        if !same {
            return Err(StoreError::Config(
                "the database already holds another qkms store (other metadata: another data key or root key); \
                 migrate into an empty database"
                    .into(),
            ));
        }
    }

    let attributes = db.open_tree(ATTRIBUTES_TREE).map_err(io_error)?;
    let objects = db.open_tree(OBJECTS_TREE).map_err(io_error)?;
    let mut sled_digest = Sha256::new();
    let (mut count, mut copied, mut max_created) = (0u64, 0u64, 0i64);
    let mut batch = Vec::with_capacity(BATCH);
    for entry in attributes.iter() {
        let (key, record) = entry.map_err(io_error)?;
        let blob = objects.get(&key).map_err(io_error)?.map(|b| b.to_vec());
        digest_row(&mut sled_digest, &key, &record, blob.as_deref());
        let decoded = codec::decode_record(&record)?;
        let created = i64::try_from(decoded.created).unwrap_or(i64::MAX);
        max_created = max_created.max(created);
        batch.push(Entry {
            uid: uid_of_storage_key(&key)?,
            key: key.to_vec(),
            tenant: decoded.owner.0,
            internal: decoded.internal,
            object_type: decoded.indexed_type.map(|t| t.to_u32() as i32),
            created,
            record: record.to_vec(),
            blob,
            facts: Facts::of(&decoded.attributes),
        });
        count += 1;
        if batch.len() == BATCH {
            copied += write_batch(&connection, std::mem::take(&mut batch))?;
        }
    }
    copied += write_batch(&connection, batch)?;
    connection.run(move |client, _| async move {
        client
            .execute(
                "SELECT setval('qkms_created_seq', GREATEST($1::BIGINT, (SELECT last_value FROM qkms_created_seq)))",
                &[&max_created.max(1)],
            )
            .await?;
        Ok(())
    })?;

    let (database_count, database_digest) = database_digest(&connection)?;
    let sled_digest = hex::encode(sled_digest.finalize());
    if database_count != count || database_digest != sled_digest {
        return Err(StoreError::Corrupt(format!(
            "verification failed: the sled store has {count} objects (digest {sled_digest}), the database \
             {database_count} (digest {database_digest}); an object was changed or added in the database since an \
             earlier migration, or it holds objects of another store"
        )));
    }
    Ok(CopyReport {
        objects: count,
        copied,
        digest: sled_digest,
    })
}

fn write_batch(connection: &Connection, batch: Vec<Entry>) -> Result<u64, StoreError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let batch = Arc::new(batch);
    connection.run(move |mut client, _| {
        let batch = Arc::clone(&batch);
        async move {
            let transaction = client.transaction().await?;
            let statement = transaction.prepare_cached(INSERT_COPY).await?;
            let mut written = 0u64;
            for e in batch.iter() {
                let row = transaction
                    .query_one(
                        &statement,
                        &[
                            &e.key,
                            &e.uid,
                            &e.tenant,
                            &e.internal,
                            &e.object_type,
                            &e.created,
                            &e.record,
                            &e.blob,
                            &e.facts.names,
                            &e.facts.state,
                            &e.facts.groups,
                            &e.facts.date_tags,
                            &e.facts.date_values,
                        ],
                    )
                    .await?;
                written += u64::try_from(row.get::<_, i64>(0)).unwrap_or_default();
            }
            transaction.commit().await?;
            Ok(written)
        }
    })
}

/// The number of objects in the database and the digest of all of them, in storage-key order.
fn database_digest(connection: &Connection) -> Result<(u64, String), StoreError> {
    let mut digest = Sha256::new();
    let mut count = 0u64;
    let mut after: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        let from = after.clone();
        let page = connection.run(move |client, _| {
            let from = from.clone();
            async move {
                let rows = client
                    .query(
                        "SELECT storage_key, record, blob FROM qkms_objects
                         WHERE $1 OR storage_key > $2 ORDER BY storage_key LIMIT $3",
                        &[&first, &from, &(BATCH as i64)],
                    )
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        (
                            row.get::<_, Vec<u8>>(0),
                            row.get::<_, Vec<u8>>(1),
                            row.get::<_, Option<Vec<u8>>>(2),
                        )
                    })
                    .collect::<Vec<_>>())
            }
        })?;
        first = false;
        let full = page.len() == BATCH;
        for (key, record, blob) in page {
            digest_row(&mut digest, &key, &record, blob.as_deref());
            count += 1;
            after = key;
        }
        if !full {
            return Ok((count, hex::encode(digest.finalize())));
        }
    }
}
