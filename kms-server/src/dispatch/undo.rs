//! Batch Error Continuation Option Undo: a store wrapper that remembers each object's state before the batch
//! first touched it, so a failed batch can be rolled back and its earlier items answered Operation Undone.
//!
//! The rollback restores those before-images; a concurrent write by the same tenant to the same object between
//! the item and the rollback is overwritten (a batch is not a transaction against other connections).

use std::sync::{Arc, Mutex, PoisonError};

use crate::store::{IndexQuery, Namespace, ObjectStore, StoreError, StoredObject};
use crate::tenant::TenantId;
use kmip::attributes::Attributes;

/// An [`ObjectStore`] recording before-images of everything written through it.
#[derive(Debug)]
pub struct JournalingStore {
    inner: Arc<dyn ObjectStore>,
    /// (the object's place, the object before the batch touched it; `None` when the batch created it), first
    /// touch only.
    before: Mutex<Vec<(Place, Option<StoredObject>)>>,
    /// New objects whose key a Create put into an HSM: a roll-back must destroy those keys there too.
    held_inserted: Mutex<Vec<StoredObject>>,
}

/// Where an object lives: its namespace (owned) and uid.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Place {
    server: bool,
    owner: TenantId,
    uid: String,
}

impl Place {
    fn of(namespace: Namespace<'_>, uid: &str) -> Self {
        match namespace {
            Namespace::Server => Self {
                server: true,
                owner: TenantId(String::new()),
                uid: uid.to_owned(),
            },
            Namespace::Tenant(owner) => Self {
                server: false,
                owner: owner.clone(),
                uid: uid.to_owned(),
            },
        }
    }

    fn namespace(&self) -> Namespace<'_> {
        if self.server {
            Namespace::Server
        } else {
            Namespace::Tenant(&self.owner)
        }
    }
}

impl JournalingStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            before: Mutex::new(Vec::new()),
            held_inserted: Mutex::new(Vec::new()),
        }
    }

    fn remember(
        &self,
        place: Place,
        before: impl FnOnce() -> Result<Option<StoredObject>, StoreError>,
    ) -> Result<(), StoreError> {
        let mut journal = self.before.lock().unwrap_or_else(PoisonError::into_inner);
        if !journal.iter().any(|(seen, _)| *seen == place) {
            journal.push((place, before()?));
        }
        Ok(())
    }

    /// Puts every object the batch wrote back as it was, newest change first.
    /// The objects this message inserted whose keys live in an HSM (taken: asked once, after a roll-back).
    pub fn take_held_inserted(&self) -> Vec<StoredObject> {
        std::mem::take(
            &mut *self
                .held_inserted
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    pub fn roll_back(&self) -> Result<(), StoreError> {
        let journal =
            std::mem::take(&mut *self.before.lock().unwrap_or_else(PoisonError::into_inner));
        for (place, before) in journal.into_iter().rev() {
            match before {
                None => match self.inner.remove(place.namespace(), &place.uid) {
                    Ok(()) | Err(StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                },
                Some(object) => match self.inner.update(&object) {
                    Err(StoreError::NotFound(_)) => self.inner.insert(&object)?,
                    other => other?,
                },
            }
        }
        Ok(())
    }
}

impl ObjectStore for JournalingStore {
    fn insert(&self, object: &StoredObject) -> Result<(), StoreError> {
        // Remembered only once inserted: a refused insert (uid taken) must not roll back someone's object.
        self.inner.insert(object)?;
        if crate::managed::hsm_held::is_held(object) {
            self.held_inserted
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(object.clone());
        }
        self.remember(Place::of(object.namespace(), &object.uid), || Ok(None))
    }

    fn update(&self, object: &StoredObject) -> Result<(), StoreError> {
        let namespace = object.namespace();
        self.remember(Place::of(namespace, &object.uid), || {
            self.inner.get(namespace, &object.uid)
        })?;
        self.inner.update(object)
    }

    fn get(&self, namespace: Namespace<'_>, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        self.inner.get(namespace, uid)
    }

    fn remove(&self, namespace: Namespace<'_>, uid: &str) -> Result<(), StoreError> {
        self.remember(Place::of(namespace, uid), || self.inner.get(namespace, uid))?;
        self.inner.remove(namespace, uid)
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
