//! Optimistic concurrency for one request message: an update is applied only if the object is still as the
//! message first read it.
//!
//! Why: a handler reads an object, changes it, and writes it back. With one sled node a lost update between two
//! such messages is bounded by one process; with several nodes on one database, two nodes modifying one object
//! at once would each overwrite the other's change. The dispatcher wraps the store in a `RevisionCheck` per
//! message: the first read of each object remembers its revision (later reads, such as the undo journal's copy
//! before a write, do not move it), and each update is conditional on it. Stores without revisions (sled) get
//! plain updates, as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use kmip::attributes::Attributes;

use super::{IndexQuery, Namespace, ObjectStore, Revision, StoreError, StoredObject};
use crate::tenant::TenantId;

/// Passes every call to the wrapped store, remembering revisions read and making updates conditional on them.
#[derive(Debug)]
pub struct RevisionCheck {
    inner: Arc<dyn ObjectStore>,
    /// Storage key -> the revision this message holds (first read, then its own writes').
    seen: Mutex<HashMap<Vec<u8>, Revision>>,
}

impl RevisionCheck {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            seen: Mutex::default(),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Revision>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ObjectStore for RevisionCheck {
    fn insert(&self, object: &StoredObject) -> Result<(), StoreError> {
        self.inner.insert(object)
    }

    fn update(&self, object: &StoredObject) -> Result<(), StoreError> {
        let key = object.namespace().key(&object.uid);
        let expected = self.seen().get(&key).copied();
        let revision = self.inner.update_if(object, expected)?;
        if let Some(revision) = revision {
            self.seen().insert(key, revision);
        }
        Ok(())
    }

    fn get(&self, namespace: Namespace<'_>, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        let Some((object, revision)) = self.inner.get_with_revision(namespace, uid)? else {
            return Ok(None);
        };
        if let Some(revision) = revision {
            self.seen().entry(namespace.key(uid)).or_insert(revision);
        }
        Ok(Some(object))
    }

    fn remove(&self, namespace: Namespace<'_>, uid: &str) -> Result<(), StoreError> {
        self.inner.remove(namespace, uid)?;
        self.seen().remove(&namespace.key(uid));
        Ok(())
    }

    fn locate(
        &self,
        owner: &TenantId,
        query: &IndexQuery,
        filter: &mut dyn FnMut(&Attributes) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        self.inner.locate(owner, query, filter)
    }

    fn wait_durable(&self) -> Result<(), StoreError> {
        self.inner.wait_durable()
    }
}
