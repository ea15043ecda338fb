//! A Create / Create Key Pair of an HSM-held key whose store write fails leaves nothing behind (part of `--test
//! hsm_held_keys`), and neither does one the dispatcher rolls back after it succeeded (the message's flush
//! failing): the dispatcher in process over the operations harness, a store that refuses writes or flushes on
//! cue, and a real SoftHSM2 token, inspected from outside with OpenSC's `pkcs11-tool` after each refusal.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use hsm_bridge::softhsm::SoftHsmToken;
use hsm_bridge::Hsm;
use kmip::attributes::{Attribute, Attributes, CryptographicDomainParameters, CustomAttribute};
use kmip::enums::{CryptographicAlgorithm, RecommendedCurve};
use kmip::payloads::{CreateKeyPairRequest, RequestPayload};
use kmip::ResultStatus;
use kms_server::store::{IndexQuery, Namespace, ObjectStore, StoreError, StoredObject};
use kms_server::tenant::TenantId;

use super::operations_harness::{self, Harness, MemoryStore, V2_1};
use super::{token_objects, LABEL, TURN};

/// The harness's store, refusing the insert number `fail_at` (counting from 1; 0: never) as a full disk.
#[derive(Debug)]
struct RefusingStore {
    inner: Arc<MemoryStore>,
    inserts: AtomicUsize,
    fail_at: AtomicUsize,
    /// The message's flush fails (the writes were applied): the dispatcher rolls the message back.
    flush_fails: AtomicBool,
}

impl ObjectStore for RefusingStore {
    fn insert(&self, object: &StoredObject) -> Result<(), StoreError> {
        let n = self.inserts.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at.load(Ordering::SeqCst) {
            return Err(full());
        }
        self.inner.insert(object)
    }
    fn update(&self, object: &StoredObject) -> Result<(), StoreError> {
        self.inner.update(object)
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
        if self.flush_fails.load(Ordering::SeqCst) {
            return Err(full());
        }
        self.inner.wait_durable()
    }
}

fn full() -> StoreError {
    StoreError::DiskFull {
        path: "/srv/qkms/store".into(),
        cause: "No space left on device (os error 28)".into(),
    }
}

impl RefusingStore {
    /// The next insert that fails: `n` inserts from now.
    fn fail_in(&self, n: usize) {
        self.fail_at
            .store(self.inserts.load(Ordering::SeqCst) + n, Ordering::SeqCst);
    }
}

fn in_hsm() -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: "x".into(),
        attribute_name: "qkms-hsm".into(),
        value: ttlv::Value::TextString(LABEL.into()),
    })
}

fn held_aes(name: &str) -> RequestPayload {
    let mut create = operations_harness::create_aes(256, name);
    create.attributes.push(in_hsm());
    create.into()
}

fn held_p256_pair() -> RequestPayload {
    let common: Attributes = vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Ec),
        Attribute::CryptographicLength(256),
        Attribute::CryptographicDomainParameters(CryptographicDomainParameters {
            qlength: None,
            recommended_curve: Some(RecommendedCurve::P256),
        }),
        in_hsm(),
    ]
    .into();
    CreateKeyPairRequest {
        common_attributes: Some(common),
        private_key_attributes: Some(
            vec![Attribute::CryptographicUsageMask(
                kmip::attributes::CryptographicUsageMask::SIGN,
            )]
            .into(),
        ),
        public_key_attributes: Some(
            vec![Attribute::CryptographicUsageMask(
                kmip::attributes::CryptographicUsageMask::VERIFY,
            )]
            .into(),
        ),
        ..CreateKeyPairRequest::default()
    }
    .into()
}

/// The lines of `pkcs11-tool --list-objects` that start a key object.
fn key_objects(token: &SoftHsmToken) -> usize {
    token_objects(token)
        .lines()
        .filter(|line| line.contains("Key Object"))
        .count()
}

#[test]
fn a_failed_store_write_destroys_the_key_made_in_the_hsm() {
    let _turn = TURN.blocking_lock();
    let dir = tempfile::tempdir().unwrap();
    let token = SoftHsmToken::create(dir.path(), LABEL, "user-pin-2468").unwrap();
    token.activate();
    let mut h = Harness::new();
    let store = Arc::new(RefusingStore {
        inner: Arc::clone(&h.store),
        inserts: AtomicUsize::new(0),
        fail_at: AtomicUsize::new(0),
        flush_fails: AtomicBool::new(false),
    });
    h.state.store = Arc::clone(&store) as Arc<dyn ObjectStore>;
    h.state.settings.key_hsm = Some(Arc::new(
        Hsm::connect(token.settings()).expect("SoftHSM2 connects"),
    ));

    // A held key that is stored: one key object in the token.
    let kept = h.ok(&h.alice, V2_1, held_aes("kept"));
    let kmip::payloads::ResponsePayload::Create(kept) = kept else {
        panic!("{kept:?}")
    };
    let listing = token_objects(&token);
    assert!(listing.contains(&kept.unique_identifier), "{listing}");
    let before = key_objects(&token);
    let stored_before = h
        .store
        .locate(&h.alice.tenant, &IndexQuery::default(), &mut |_| true)
        .unwrap();

    let refused = |payload: RequestPayload, fail_in: usize| {
        store.fail_in(fail_in);
        let item = h.one(&h.alice, V2_1, payload);
        assert_eq!(
            item.result_status,
            ResultStatus::OperationFailed,
            "{item:?}"
        );
        let message = item.result_message.unwrap_or_default();
        assert!(message.contains("disk is full"), "{message}");
        if fail_in > 0 {
            // The handler's own rollback says so; a dispatcher rollback (flush) answers as for any write.
            assert!(message.contains("destroyed again"), "{message}");
        }
        assert_eq!(key_objects(&token), before, "{}", token_objects(&token));
        assert_eq!(
            h.store
                .locate(&h.alice.tenant, &IndexQuery::default(), &mut |_| true)
                .unwrap(),
            stored_before
        );
    };
    // Create: the one write fails.
    refused(held_aes("refused"), 1);
    // Create Key Pair: the private key's write fails; then the public key's, after the private key was written.
    refused(held_p256_pair(), 1);
    refused(held_p256_pair(), 2);
    // The writes succeed but the message's flush fails: the dispatcher rolls both Creates back, keys included.
    store.flush_fails.store(true, Ordering::SeqCst);
    refused(held_aes("unflushed"), 0);
    refused(held_p256_pair(), 0);
    store.flush_fails.store(false, Ordering::SeqCst);

    // The HSM still takes keys afterwards, and the kept key still works.
    store.fail_in(0);
    h.ok(&h.alice, V2_1, held_p256_pair());
    assert!(key_objects(&token) > before);
}
