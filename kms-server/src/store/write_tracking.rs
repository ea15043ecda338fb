//! An [`ObjectStore`] view that notes whether anything was written through it, so a request message can wait
//! for the disk only when it changed something (a Get that clears Fresh does; every later Get of that key does
//! not). Its writes are made inside a `deferred_durability` scope: the dispatcher waits for durability before it
//! acknowledges anything, so the store may leave a write's flush to that wait ([`WriteTracking::durability_mark`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use kmip::attributes::Attributes;

use super::deferred_durability::deferring;
use super::{IndexQuery, Namespace, ObjectStore, StoreError, StoredObject};
use crate::tenant::TenantId;

/// Passes every call to the wrapped store and remembers whether an insert, update or remove was attempted.
#[derive(Debug)]
pub struct WriteTracking {
    inner: Arc<dyn ObjectStore>,
    wrote: AtomicBool,
    /// The highest mark of a write whose durability the store deferred (0: none).
    mark: AtomicU64,
}

impl WriteTracking {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            wrote: AtomicBool::new(false),
            mark: AtomicU64::new(0),
        }
    }

    /// What to pass to the store's `wait_durable_through` before acknowledging the writes made through this view.
    pub fn durability_mark(&self) -> u64 {
        self.mark.load(Ordering::Acquire)
    }

    /// Whether a write was attempted through this view (a failed one counts: it may have been applied in part
    /// by a store without transactions, and waiting for durability is then the safe answer).
    pub fn wrote(&self) -> bool {
        self.wrote.load(Ordering::Acquire)
    }

    fn note_write(&self) {
        self.wrote.store(true, Ordering::Release);
    }

    /// Makes one write through the inner store, letting it defer the write's durability.
    fn write<T>(&self, write: impl FnOnce() -> T) -> T {
        self.note_write();
        let (result, mark) = deferring(write);
        self.mark.fetch_max(mark, Ordering::AcqRel);
        result
    }
}

impl ObjectStore for WriteTracking {
    fn insert(&self, object: &StoredObject) -> Result<(), StoreError> {
        self.write(|| self.inner.insert(object))
    }

    fn update(&self, object: &StoredObject) -> Result<(), StoreError> {
        self.write(|| self.inner.update(object))
    }

    fn get(&self, namespace: Namespace<'_>, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        self.inner.get(namespace, uid)
    }

    fn remove(&self, namespace: Namespace<'_>, uid: &str) -> Result<(), StoreError> {
        self.write(|| self.inner.remove(namespace, uid))
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A store that holds nothing and accepts every call.
    #[derive(Debug, Default)]
    struct Accepting(Mutex<u32>);

    impl ObjectStore for Accepting {
        fn insert(&self, _: &StoredObject) -> Result<(), StoreError> {
            Ok(())
        }
        fn update(&self, _: &StoredObject) -> Result<(), StoreError> {
            Err(StoreError::NotFound("x".into()))
        }
        fn get(&self, _: Namespace<'_>, _: &str) -> Result<Option<StoredObject>, StoreError> {
            *self.0.lock().unwrap() += 1;
            Ok(None)
        }
        fn remove(&self, _: Namespace<'_>, _: &str) -> Result<(), StoreError> {
            Ok(())
        }
        fn locate(
            &self,
            _: &TenantId,
            _: &IndexQuery,
            _: &mut dyn FnMut(&Attributes) -> bool,
        ) -> Result<Vec<String>, StoreError> {
            Ok(Vec::new())
        }
        fn wait_durable(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    fn object() -> StoredObject {
        StoredObject {
            uid: "x".into(),
            owner: TenantId("t".into()),
            object: None,
            attributes: Attributes::new(),
            internal: false,
        }
    }

    #[test]
    fn reads_leave_it_clean_and_any_write_attempt_marks_it() {
        let inner = Arc::new(Accepting::default());
        let tracking = WriteTracking::new(inner.clone());
        tracking.get(Namespace::Server, "x").unwrap();
        tracking
            .locate(&TenantId("t".into()), &IndexQuery::default(), &mut |_| true)
            .unwrap();
        tracking.wait_durable().unwrap();
        assert!(!tracking.wrote());
        assert_eq!(*inner.0.lock().unwrap(), 1, "reads reach the inner store");

        let failed = WriteTracking::new(inner.clone());
        assert!(failed.update(&object()).is_err());
        assert!(failed.wrote(), "a failed update still counts");

        for write in [
            |t: &WriteTracking| t.insert(&object()),
            |t: &WriteTracking| t.remove(Namespace::Server, "x"),
        ] {
            let tracking = WriteTracking::new(inner.clone());
            write(&tracking).unwrap();
            assert!(tracking.wrote());
        }
    }
}
