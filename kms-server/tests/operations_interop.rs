//! Interop (KMIP 2.x): Begin / End / Reset are acknowledged with an empty payload and change nothing; a
//! malformed request or a 1.x message is refused.

mod operations_harness;

use kmip::payloads::{RequestPayload, ResponsePayload};
use kmip::{Operation, OperationCode, ProtocolVersion, ResultReason, ResultStatus};
use operations_harness::*;
use ttlv::{tags, Item, Value};

fn interop(
    version: ProtocolVersion,
    function: Option<u32>,
    identifier: Option<&str>,
) -> RequestPayload {
    let mut children = Vec::new();
    if let Some(function) = function {
        children.push(Item::new(
            tags::INTEROP_FUNCTION,
            Value::Enumeration(function),
        ));
    }
    if let Some(identifier) = identifier {
        children.push(Item::new(
            tags::INTEROP_IDENTIFIER,
            Value::TextString(identifier.to_owned()),
        ));
    }
    let payload = Item::structure(tags::REQUEST_PAYLOAD, children);
    RequestPayload::from_ttlv(
        Some(OperationCode::Known(Operation::Interop)),
        Some(&payload),
        version,
    )
}

#[test]
fn interop_begin_end_and_reset_succeed_with_an_empty_payload() {
    let h = Harness::new();
    for function in [1, 2, 3] {
        let item = h.one(
            &h.alice,
            V2_1,
            interop(V2_1, Some(function), Some("BL-M-1-21")),
        );
        assert_eq!(
            item.result_status,
            ResultStatus::Success,
            "{:?}",
            item.result_message
        );
        assert_eq!(
            item.operation,
            Some(OperationCode::Known(Operation::Interop))
        );
        let Some(payload @ ResponsePayload::Interop(_)) = &item.payload else {
            panic!("unexpected payload {:?}", item.payload)
        };
        assert_eq!(
            payload.to_ttlv(V2_1),
            Some(Item::structure(tags::RESPONSE_PAYLOAD, Vec::new()))
        );
    }
}

#[test]
fn interop_with_an_unknown_function_or_no_identifier_is_an_invalid_field() {
    let h = Harness::new();
    for request in [
        interop(V2_1, Some(9), Some("x")),
        interop(V2_1, None, Some("x")),
        interop(V2_1, Some(1), None),
    ] {
        let item = h.one(&h.alice, V2_1, request);
        assert_eq!(item.result_status, ResultStatus::OperationFailed);
        assert_eq!(item.result_reason, Some(ResultReason::InvalidField));
    }
}

#[test]
fn interop_is_not_an_operation_of_kmip_1_4() {
    let h = Harness::new();
    let item = h.one(&h.alice, V1_4, interop(V1_4, Some(1), Some("x")));
    assert_eq!(item.result_status, ResultStatus::OperationFailed);
    assert_eq!(
        item.result_reason,
        Some(ResultReason::OperationNotSupported)
    );
}
