//! Log (KMIP 2.x): the client's message is accepted with an empty payload and the item is audited; a malformed
//! request or a 1.x message is refused.

mod operations_harness;

use kmip::payloads::{RequestPayload, ResponsePayload};
use kmip::{Operation, OperationCode, ProtocolVersion, ResultReason, ResultStatus};
use operations_harness::*;
use ttlv::{tags, Item, Value};

fn log(version: ProtocolVersion, message: Option<Value>) -> RequestPayload {
    let children = message
        .map(|value| Item::new(tags::LOG_MESSAGE, value))
        .into_iter()
        .collect();
    let payload = Item::structure(tags::REQUEST_PAYLOAD, children);
    RequestPayload::from_ttlv(
        Some(OperationCode::Known(Operation::Log)),
        Some(&payload),
        version,
    )
}

fn text(message: &str) -> Option<Value> {
    Some(Value::TextString(message.to_owned()))
}

#[test]
fn log_succeeds_with_an_empty_payload_and_is_audited_for_the_caller() {
    let h = Harness::new();
    let item = h.one(
        &h.alice,
        V2_1,
        log(V2_1, text("Registered a symmetric key.")),
    );
    assert_eq!(
        item.result_status,
        ResultStatus::Success,
        "{:?}",
        item.result_message
    );
    assert_eq!(item.operation, Some(OperationCode::Known(Operation::Log)));
    let Some(payload @ ResponsePayload::Log(_)) = &item.payload else {
        panic!("unexpected payload {:?}", item.payload)
    };
    assert_eq!(
        payload.to_ttlv(V2_1),
        Some(Item::structure(tags::RESPONSE_PAYLOAD, Vec::new()))
    );
    let audit = std::fs::read_to_string(h.dir.path().join("audit.log")).unwrap();
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(lines.len(), 1, "{audit}");
    assert!(
        lines[0].contains("Log") && lines[0].contains("alice"),
        "{audit}"
    );
}

#[test]
fn log_without_a_text_log_message_is_an_invalid_field() {
    let h = Harness::new();
    for message in [None, Some(Value::Integer(7))] {
        let item = h.one(&h.alice, V2_1, log(V2_1, message));
        assert_eq!(item.result_status, ResultStatus::OperationFailed);
        assert_eq!(item.result_reason, Some(ResultReason::InvalidField));
    }
}

#[test]
fn log_is_not_an_operation_of_kmip_1_4() {
    let h = Harness::new();
    let item = h.one(&h.alice, V1_4, log(V1_4, text("x")));
    assert_eq!(item.result_status, ResultStatus::OperationFailed);
    assert_eq!(
        item.result_reason,
        Some(ResultReason::OperationNotSupported)
    );
}
