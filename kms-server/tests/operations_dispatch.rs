//! The dispatcher itself: batch item ids, ID Placeholders, Batch Error Continuation (Continue / Stop / Undo),
//! undecoded items, Discover Versions and Query.

mod operations_harness;

use kmip::attributes::{Attribute, CryptographicUsageMask, Name};
use kmip::message::BatchErrorContinuationOption as Continuation;
use kmip::payloads::*;
use kmip::{DecodeError, Operation, OperationCode, ProtocolVersion, ResultReason, ResultStatus};
use operations_harness::*;

#[test]
fn batch_item_ids_are_echoed_and_the_placeholder_links_items() {
    let h = Harness::new();
    let response = h.batch(
        &h.alice,
        V2_1,
        None,
        vec![
            create_aes(128, "placeholder").into(),
            ActivateRequest::default().into(),
            GetRequest::default().into(),
        ],
    );
    assert_eq!(response.items.len(), 3);
    for (i, item) in response.items.iter().enumerate() {
        assert_eq!(item.unique_batch_item_id, Some(vec![i as u8 + 1]));
        assert_eq!(
            item.result_status,
            ResultStatus::Success,
            "{:?}",
            item.result_message
        );
    }
    let Some(ResponsePayload::Create(created)) = &response.items[0].payload else {
        panic!()
    };
    let Some(ResponsePayload::Get(got)) = &response.items[2].payload else {
        panic!()
    };
    assert_eq!(got.unique_identifier, created.unique_identifier);
}

#[test]
fn locate_sets_the_placeholder_too() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "found");
    let response = h.batch(
        &h.alice,
        V2_1,
        None,
        vec![
            locate(vec![Attribute::Name(Name::text("found"))]).into(),
            GetAttributeListRequest::default().into(),
        ],
    );
    let Some(ResponsePayload::GetAttributeList(list)) = &response.items[1].payload else {
        panic!("{response:?}")
    };
    assert_eq!(list.unique_identifier, uid);
}

#[test]
fn an_item_without_identifier_or_placeholder_is_missing_data() {
    let h = Harness::new();
    assert_failed(
        &h.one(&h.alice, V2_1, GetRequest::default()),
        ResultReason::MissingData,
    );
}

#[test]
fn stop_is_the_default_and_continue_runs_the_rest() {
    let h = Harness::new();
    let items = || -> Vec<RequestPayload> {
        vec![
            get("missing").into(),
            RngRetrieveRequest { data_length: 16 }.into(),
        ]
    };
    let stopped = h.batch(&h.alice, V2_1, None, items());
    assert_eq!(stopped.items.len(), 1);
    assert_failed(&stopped.items[0], ResultReason::ObjectNotFound);
    let continued = h.batch(&h.alice, V2_1, Some(Continuation::Continue), items());
    assert_eq!(continued.items.len(), 2);
    assert_eq!(continued.items[1].result_status, ResultStatus::Success);
}

#[test]
fn undo_rolls_back_earlier_items_and_answers_them_operation_undone() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "undo");
    let check = |mask: CryptographicUsageMask| CheckRequest {
        unique_identifier: Some(uid.clone()),
        cryptographic_usage_mask: Some(mask.to_wire()),
        ..CheckRequest::default()
    };
    let response = h.batch(
        &h.alice,
        V2_1,
        Some(Continuation::Undo),
        vec![
            activate(&uid).into(),
            check(CryptographicUsageMask::ENCRYPT).into(),
            check(CryptographicUsageMask::SIGN).into(),
        ],
    );
    let statuses: Vec<_> = response.items.iter().map(|i| i.result_status).collect();
    assert_eq!(
        statuses,
        [
            ResultStatus::OperationUndone,
            ResultStatus::OperationUndone,
            ResultStatus::OperationFailed
        ]
    );
    assert_eq!(
        response.items[2].result_reason,
        Some(ResultReason::IncompatibleCryptographicUsageMask)
    );
    assert_eq!(
        h.state_of(&h.alice, &uid),
        kmip::enums::State::PreActive,
        "the Activate was undone"
    );
}

#[test]
fn undo_removes_objects_the_batch_created() {
    let h = Harness::new();
    let response = h.batch(
        &h.alice,
        V2_1,
        Some(Continuation::Undo),
        vec![
            create_aes(128, "undone-create").into(),
            get("missing").into(),
        ],
    );
    assert_eq!(
        response.items[0].result_status,
        ResultStatus::OperationUndone
    );
    assert!(located(h.ok(
        &h.alice,
        V2_1,
        locate(vec![Attribute::Name(Name::text("undone-create"))])
    ))
    .is_empty());
}

#[test]
fn undecoded_items_are_answered_with_their_reason() {
    let h = Harness::new();
    let undecoded = UndecodedPayload {
        operation: Some(OperationCode::Unknown(0x8000_0001)),
        error: DecodeError::new(
            ResultReason::OperationNotSupported,
            None,
            "operation 0x80000001 is not a KMIP operation",
        ),
        raw: None,
    };
    let item = h.one(&h.alice, V1_4, RequestPayload::Undecoded(undecoded));
    assert_failed(&item, ResultReason::OperationNotSupported);
    assert_eq!(item.operation, Some(OperationCode::Unknown(0x8000_0001)));
    let invalid = UndecodedPayload {
        operation: Some(OperationCode::Known(Operation::Get)),
        error: DecodeError::new(
            ResultReason::InvalidField,
            None,
            "Unique Identifier must be a Text String",
        ),
        raw: None,
    };
    let item = h.one(&h.alice, V1_4, RequestPayload::Undecoded(invalid));
    assert_failed(&item, ResultReason::InvalidField);
    assert_eq!(
        item.result_message.as_deref(),
        Some("Unique Identifier must be a Text String")
    );
}

#[test]
fn operations_without_a_handler_are_not_supported() {
    let h = Harness::new();
    let archive = kmip::RequestPayload::from_ttlv(
        Some(kmip::OperationCode::Known(kmip::Operation::Archive)),
        Some(&ttlv::Item::structure(ttlv::tags::REQUEST_PAYLOAD, vec![])),
        V2_1,
    );
    let item = h.one(&h.alice, V2_1, archive);
    assert_failed(&item, ResultReason::OperationNotSupported);
}

#[test]
fn discover_versions_intersects_in_client_order() {
    let h = Harness::new();
    let request = DiscoverVersionsRequest {
        protocol_versions: vec![
            ProtocolVersion::new(3, 0),
            ProtocolVersion::V1_2,
            ProtocolVersion::V2_1,
        ],
    };
    let ResponsePayload::DiscoverVersions(r) = h.ok(&h.alice, V1_4, request) else {
        panic!()
    };
    assert_eq!(
        r.protocol_versions,
        [ProtocolVersion::V1_2, ProtocolVersion::V2_1]
    );
    let ResponsePayload::DiscoverVersions(all) =
        h.ok(&h.alice, V1_4, DiscoverVersionsRequest::default())
    else {
        panic!()
    };
    assert_eq!(all.protocol_versions, ProtocolVersion::SUPPORTED);
}

#[test]
fn query_lists_operations_of_the_version_and_the_entropy_sources() {
    let h = Harness::new();
    let request = QueryRequest {
        query_functions: vec![
            QueryFunction::QueryOperations,
            QueryFunction::QueryObjects,
            QueryFunction::QueryServerInformation,
        ],
    };
    let ResponsePayload::Query(v14) = h.ok(&h.alice, V1_4, request.clone()) else {
        panic!()
    };
    assert!(v14
        .operations
        .contains(&OperationCode::Known(Operation::Create)));
    assert!(v14
        .operations
        .contains(&OperationCode::Known(Operation::RngRetrieve)));
    assert!(
        !v14.operations
            .contains(&OperationCode::Known(Operation::SetAttribute)),
        "Set Attribute is 2.0"
    );
    assert!(
        !v14.operations
            .contains(&OperationCode::Known(Operation::Log)),
        "Log is 2.0"
    );
    let ResponsePayload::Query(v21) = h.ok(&h.alice, V2_1, request) else {
        panic!()
    };
    for operation in [Operation::SetAttribute, Operation::Log, Operation::Interop] {
        assert!(v21.operations.contains(&OperationCode::Known(operation)));
    }
    assert!(v21
        .object_types
        .contains(&EnumValue(kmip::enums::ObjectType::SymmetricKey.to_u32())));
    assert!(v21.vendor_identification.is_some());
    let info = format!("{:?}", v21.server_information.unwrap());
    assert!(info.contains("not quantum"), "{info}");
}

#[test]
fn every_item_is_audited_once_with_its_objects_and_result() {
    let h = Harness::new();
    let response = h.batch(
        &h.alice,
        V2_1,
        Some(Continuation::Continue),
        vec![create_aes(128, "audited").into(), get("missing").into()],
    );
    let Some(ResponsePayload::Create(created)) = &response.items[0].payload else {
        panic!()
    };
    let log = std::fs::read_to_string(h.dir.path().join("audit.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].contains("Create")
            && lines[0].contains(&created.unique_identifier)
            && lines[0].contains("alice")
    );
    assert!(lines[1].contains("Get") && lines[1].contains("ObjectNotFound"));
}
