//! The dispatcher and Get on a full store disk, in both ways a full disk shows: the store refuses the write up
//! front (the recovering store's full condition), or the write is applied in memory and the message's flush
//! fails (sled's first ENOSPC). Either way a first Get serves the key (Fresh stays set), while a Create is
//! refused with a message naming the full disk and leaves nothing behind. The real full file system is in
//! `e2e_store_disk_full.rs`; this test pins the dispatcher's part with a store that fails on cue.

mod operations_harness;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use kmip::attributes::{Attribute, Attributes, KnownAttribute};
use kmip::payloads::ResponsePayload;
use kmip::{ResultReason, ResultStatus};
use kms_server::store::{IndexQuery, Namespace, ObjectStore, StoreError, StoredObject};
use kms_server::tenant::TenantId;
use operations_harness::*;

const HEALTHY: u8 = 0;
/// Inserts and updates refused up front.
const REFUSES_WRITES: u8 = 1;
/// Writes applied (in memory), flushes fail.
const FLUSH_FAILS: u8 = 2;

/// The harness's memory store behind a disk that can fill.
#[derive(Debug)]
struct FillingDisk {
    inner: Arc<MemoryStore>,
    mode: AtomicU8,
}

impl FillingDisk {
    fn full() -> StoreError {
        StoreError::DiskFull {
            path: "/srv/qkms/store".into(),
            cause: "No space left on device (os error 28)".into(),
        }
    }

    fn write(&self, apply: impl FnOnce() -> Result<(), StoreError>) -> Result<(), StoreError> {
        match self.mode.load(Ordering::SeqCst) {
            REFUSES_WRITES => Err(Self::full()),
            _ => apply(),
        }
    }
}

impl ObjectStore for FillingDisk {
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
        match self.mode.load(Ordering::SeqCst) {
            FLUSH_FAILS => Err(Self::full()),
            _ => self.inner.wait_durable(),
        }
    }
}

fn fresh(h: &Harness, uid: &str) -> bool {
    matches!(
        h.stored(uid).attributes.get(&KnownAttribute::Fresh.into()),
        Some(Attribute::Fresh(true))
    )
}

fn assert_names_the_full_disk(item: &kmip::ResponseBatchItem) {
    assert_eq!(
        item.result_status,
        ResultStatus::OperationFailed,
        "{item:?}"
    );
    assert_eq!(item.result_reason, Some(ResultReason::GeneralFailure));
    let message = item.result_message.as_deref().unwrap_or_default();
    assert!(
        message.contains("disk is full") && message.contains("[store] path"),
        "{message}"
    );
    assert!(!message.contains("/srv/qkms"), "no server path: {message}");
}

#[test]
fn a_first_get_serves_the_key_and_a_create_names_the_full_disk_either_way() {
    for mode in [REFUSES_WRITES, FLUSH_FAILS] {
        let mut h = Harness::new();
        let disk = Arc::new(FillingDisk {
            inner: Arc::clone(&h.store),
            mode: AtomicU8::new(HEALTHY),
        });
        h.state.store = Arc::clone(&disk) as Arc<dyn ObjectStore>;
        let unread = h.create_aes(&h.alice, V2_1, "unread");
        let other = h.create_aes(&h.alice, V2_1, "other");
        assert!(fresh(&h, &unread));
        let objects_before = h
            .store
            .locate(&h.alice.tenant, &IndexQuery::default(), &mut |_| true)
            .unwrap();

        disk.mode.store(mode, Ordering::SeqCst);
        let served = h.ok(&h.alice, V2_1, get(&unread));
        assert!(
            matches!(served, ResponsePayload::Get(ref r) if r.unique_identifier == unread),
            "mode {mode}: {served:?}"
        );
        assert!(fresh(&h, &unread), "mode {mode}: Fresh stays set");

        let refused = h.one(&h.alice, V2_1, create_aes(256, "refused"));
        assert_names_the_full_disk(&refused);
        // A batch: the Create is refused, the first Get of the other key is still served.
        let response = h.batch(
            &h.alice,
            V2_1,
            Some(kmip::message::BatchErrorContinuationOption::Continue),
            vec![create_aes(256, "refused-too").into(), get(&other).into()],
        );
        assert_names_the_full_disk(&response.items[0]);
        assert_eq!(
            response.items[1].result_status,
            ResultStatus::Success,
            "mode {mode}: {:?}",
            response.items[1]
        );
        let objects_after = h
            .store
            .locate(&h.alice.tenant, &IndexQuery::default(), &mut |_| true)
            .unwrap();
        assert_eq!(objects_after, objects_before, "mode {mode}: nothing kept");

        // Space back: the Get clears Fresh, a Create is acknowledged.
        disk.mode.store(HEALTHY, Ordering::SeqCst);
        h.ok(&h.alice, V2_1, get(&unread));
        assert!(!fresh(&h, &unread));
        h.create_aes(&h.alice, V2_1, "after");
    }
}
