//! The `ObjectStore` operations of the PostgreSQL store: each a statement of `objects` on the node's connection
//! pool (sealed in the node first), Gets served from the node's object cache when it holds the row, and every
//! change confirmed by the other caching nodes (`cache_coherence`) before it returns.

use std::sync::Arc;

use kmip::attributes::Attributes;

use super::{durability, locate, object_cache, objects, revision, PgStore};
use crate::store::{codec, IndexQuery, Namespace, ObjectStore, Revision, StoreError, StoredObject};
use crate::tenant::TenantId;

impl ObjectStore for PgStore {
    fn insert(&self, object: &StoredObject) -> Result<(), StoreError> {
        let blob = self.seal(&object.uid, object.object.as_ref())?;
        let row = Arc::new(self.row(object, blob)?);
        let commit = self.commit();
        self.write(commit, || {
            self.connection.run(move |client, attempt| {
                let row = Arc::clone(&row);
                async move { objects::insert(&client, &row, commit, attempt).await }
            })
        })
    }

    fn update(&self, object: &StoredObject) -> Result<(), StoreError> {
        self.update_if(object, None).map(drop)
    }

    fn update_if(
        &self,
        object: &StoredObject,
        expected: Option<Revision>,
    ) -> Result<Option<Revision>, StoreError> {
        let storage_key = object.namespace().key(&object.uid);
        let blob = self.reseal_if_changed(&storage_key, &object.uid, object.object.as_ref())?;
        let row = Arc::new(self.row(object, blob)?);
        let expected = expected.map(|r| i64::try_from(r).unwrap_or(i64::MAX));
        let commit = self.commit();
        let updated = self.write(commit, || {
            self.connection.run(move |client, _| {
                let row = Arc::clone(&row);
                async move { objects::update(&client, &row, expected, commit).await }
            })
        });
        if let (Err(StoreError::Conflict { .. } | StoreError::NotFound(_)), Some(cache)) =
            (&updated, self.coherence.cache())
        {
            // Changed or removed by a change not yet confirmed here: the caller's next read goes to the database.
            cache.invalidate([storage_key.as_slice()], None);
        }
        let (updated, seq) = updated?;
        self.changed(&storage_key, seq)?;
        Ok(Some(revision(updated)))
    }

    fn get(&self, namespace: Namespace<'_>, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        Ok(self
            .get_with_revision(namespace, uid)?
            .map(|(object, _)| object))
    }

    fn get_with_revision(
        &self,
        namespace: Namespace<'_>,
        uid: &str,
    ) -> Result<Option<(StoredObject, Option<Revision>)>, StoreError> {
        let key = namespace.key(uid);
        let cache = self.coherence.cache();
        if let Some(row) = cache.and_then(|c| c.lookup(&key)) {
            let object = self.decode(namespace, uid, &row)?;
            return Ok(Some((object, Some(revision(row.revision)))));
        }
        let ticket = cache.map(object_cache::ObjectCache::ticket);
        let read = {
            let key = key.clone();
            self.connection.run(move |client, _| {
                let key = key.clone();
                async move { objects::get(&client, &key).await }
            })?
        };
        read.map(|read| {
            let read = Arc::new(read);
            if let (Some(cache), Some(ticket)) = (cache, ticket) {
                cache.fill(ticket, &key, Arc::clone(&read));
            }
            let object = self.decode(namespace, uid, &read)?;
            Ok((object, Some(revision(read.revision))))
        })
        .transpose()
    }

    fn remove(&self, namespace: Namespace<'_>, uid: &str) -> Result<(), StoreError> {
        let key = namespace.key(uid);
        let uid = uid.to_owned();
        let commit = self.commit();
        let seq = {
            let key = key.clone();
            self.write(commit, || {
                self.connection.run(move |client, attempt| {
                    let (key, uid) = (key.clone(), uid.clone());
                    async move { objects::remove(&client, &key, &uid, commit, attempt).await }
                })
            })?
        };
        self.changed(&key, seq)
    }

    fn locate(
        &self,
        owner: &TenantId,
        query: &IndexQuery,
        filter: &mut dyn FnMut(&Attributes) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        let selection = Arc::new(locate::Selection::new(&owner.0, query));
        let sql: Arc<str> = selection.sql().into();
        let mut found = Vec::new();
        let mut after = i64::MIN;
        loop {
            let page = {
                let (selection, sql) = (Arc::clone(&selection), Arc::clone(&sql));
                self.connection.run(move |client, _| {
                    let (selection, sql) = (Arc::clone(&selection), Arc::clone(&sql));
                    async move { locate::page(&client, &selection, &sql, after).await }
                })?
            };
            let full = page.len() as i64 == locate::PAGE;
            for candidate in page {
                after = candidate.created;
                let record = codec::decode_record(&candidate.record)?;
                // The SQL has applied the query; this re-check costs nothing next to the filter and keeps the
                // conditions the SQL leaves out (beyond its bound on groups and dates).
                if query.admits(&record.attributes) && filter(&record.attributes) {
                    found.push(candidate.uid);
                }
            }
            if !full {
                return Ok(found);
            }
        }
    }

    /// Every write made before this call durable: those committed durably already are; deferred ones are unless
    /// no durable commit has covered them yet, and then this flushes.
    fn wait_durable(&self) -> Result<(), StoreError> {
        self.wait_durable_through(self.connection.durability.snapshot())
    }

    fn wait_durable_through(&self, mark: u64) -> Result<(), StoreError> {
        let books = &self.connection.durability;
        if books.is_durable(mark) {
            return Ok(());
        }
        let snapshot = books.snapshot();
        self.connection
            .run(|client, _| async move { durability::flush(&client).await })?;
        books.covered(snapshot);
        Ok(())
    }
}
