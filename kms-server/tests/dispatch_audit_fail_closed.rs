//! The dispatcher's audit contract: an item whose audit record cannot be appended is not acknowledged. Its write
//! is rolled back, a read's answer is dropped, the rest of the message is not run, and every item says General
//! Failure naming the audit log. The audit log here is `/dev/full`, which refuses every write with ENOSPC (the
//! real full file system is in `e2e_audit_fail_closed.rs`).

mod operations_harness;

use std::sync::Arc;

use kmip::message::BatchErrorContinuationOption;
use kmip::{ResultReason, ResultStatus};
use kms_server::audit::{AuditHealth, AuditLog};
use kms_server::store::{IndexQuery, Namespace, ObjectStore};
use operations_harness::*;

#[test]
fn nothing_is_acknowledged_or_kept_when_the_audit_log_cannot_record_it() {
    let mut h = Harness::new();
    let key = h.create_aes(&h.alice, V2_1, "kept");
    let before = h
        .store
        .get(Namespace::Tenant(&h.alice.tenant), &key)
        .unwrap()
        .expect("created");

    h.state.audit = Arc::new(AuditLog::open("/dev/full").unwrap());
    for continuation in [
        BatchErrorContinuationOption::Continue,
        BatchErrorContinuationOption::Stop,
        BatchErrorContinuationOption::Undo,
    ] {
        let response = h.batch(
            &h.alice,
            V2_1,
            Some(continuation),
            vec![
                destroy(&key).into(),
                create_aes(256, "refused").into(),
                get(&key).into(),
            ],
        );
        assert_eq!(
            response.items.len(),
            3,
            "{continuation:?}: every item is answered"
        );
        for item in &response.items {
            assert_eq!(
                item.result_status,
                ResultStatus::OperationFailed,
                "{item:?}"
            );
            assert_eq!(item.result_reason, Some(ResultReason::GeneralFailure));
            assert!(item.payload.is_none(), "no key bytes leave: {item:?}");
            let message = item.result_message.as_deref().unwrap_or_default();
            assert!(message.contains("audit log"), "{message}");
        }
        // The Destroy ran, could not be recorded, and was rolled back.
        let after = h
            .store
            .get(Namespace::Tenant(&h.alice.tenant), &key)
            .unwrap()
            .expect("the key is still there");
        assert!(after.object.is_some(), "its key material is still there");
        assert_eq!(after.attributes, before.attributes);
        assert!(matches!(
            h.state.audit.health(),
            AuditHealth::Failing { .. }
        ));
    }
    // Nothing else was stored: only the key made before the audit log failed.
    let stored = h
        .store
        .locate(&h.alice.tenant, &IndexQuery::default(), &mut |_| true)
        .unwrap();
    assert_eq!(stored, vec![key]);
}
