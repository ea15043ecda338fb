//! Request decoding is per batch item: one bad item is answered on its own, the others still decode.

use kmip::message::{BatchErrorContinuationOption, Credential, RequestHeader};
use kmip::payloads::*;
use kmip::{
    OperationCode, ProtocolVersion, RequestBatchItem, RequestMessage, ResponseBatchItem,
    ResponseMessage, ResultReason, ResultStatus,
};
use ttlv::{tags, Item, Tag, Value};

fn header(version: ProtocolVersion, count: i32) -> Item {
    RequestHeader::new(version, count).to_ttlv(tags::REQUEST_HEADER, version)
}

fn batch_item(operation: u32, id: Option<&[u8]>, payload: Vec<Item>) -> Item {
    let mut children = vec![Item::new(tags::OPERATION, Value::Enumeration(operation))];
    if let Some(id) = id {
        children.push(Item::new(
            tags::UNIQUE_BATCH_ITEM_ID,
            Value::ByteString(id.to_vec()),
        ));
    }
    children.push(Item::structure(tags::REQUEST_PAYLOAD, payload));
    Item::structure(tags::BATCH_ITEM, children)
}

fn uid(text: &str) -> Item {
    Item::new(tags::UNIQUE_IDENTIFIER, Value::TextString(text.to_owned()))
}

fn message(version: ProtocolVersion, items: Vec<Item>) -> Item {
    let mut children = vec![header(version, items.len() as i32)];
    children.extend(items);
    Item::structure(tags::REQUEST_MESSAGE, children)
}

fn undecoded(payload: &RequestPayload) -> &UndecodedPayload {
    match payload {
        RequestPayload::Undecoded(u) => u,
        other => panic!("expected an undecoded payload, got {other:?}"),
    }
}

#[test]
fn unknown_operation_decodes_as_operation_not_supported_item() {
    let tree = message(
        ProtocolVersion::V1_4,
        vec![batch_item(0x8000_0042, Some(b"\x01"), vec![uid("k")])],
    );
    let request = RequestMessage::from_ttlv(&tree).unwrap();
    let item = &request.items[0];
    let u = undecoded(&item.payload);
    assert_eq!(u.operation, Some(OperationCode::Unknown(0x8000_0042)));
    assert_eq!(u.error.reason, ResultReason::OperationNotSupported);
    assert_eq!(item.unique_batch_item_id.as_deref(), Some(&b"\x01"[..]));
    // Kept as received, so the message re-encodes unchanged.
    assert_eq!(request.to_ttlv(), tree);
}

#[test]
fn malformed_item_fails_alone_and_its_neighbours_decode() {
    let good_before = batch_item(0x12, Some(b"a"), vec![uid("key-1")]); // Activate
                                                                        // Destroy whose Unique Identifier is an Integer.
    let bad = batch_item(
        0x14,
        Some(b"b"),
        vec![Item::new(tags::UNIQUE_IDENTIFIER, Value::Integer(7))],
    );
    let good_after = batch_item(
        0x25,
        Some(b"c"),
        vec![Item::new(tags::DATA_LENGTH, Value::Integer(16))],
    );
    let tree = message(ProtocolVersion::V2_1, vec![good_before, bad, good_after]);
    let request = RequestMessage::from_ttlv(&tree).unwrap();
    assert_eq!(request.items.len(), 3);
    assert!(
        matches!(&request.items[0].payload, RequestPayload::Activate(a) if a.unique_identifier.as_deref() == Some("key-1"))
    );
    let u = undecoded(&request.items[1].payload);
    assert_eq!(u.error.reason, ResultReason::InvalidField);
    assert_eq!(u.error.tag, Some(tags::UNIQUE_IDENTIFIER));
    assert_eq!(
        request.items[1].unique_batch_item_id.as_deref(),
        Some(&b"b"[..])
    );
    assert!(
        matches!(&request.items[2].payload, RequestPayload::RngRetrieve(r) if r.data_length == 16)
    );
}

#[test]
fn unexpected_field_in_payload_is_invalid_field_not_silently_dropped() {
    let tree = message(
        ProtocolVersion::V2_1,
        vec![batch_item(
            0x12,
            None,
            vec![uid("k"), Item::new(Tag(0x540001), Value::Integer(1))],
        )],
    );
    let request = RequestMessage::from_ttlv(&tree).unwrap();
    let u = undecoded(&request.items[0].payload);
    assert_eq!(u.error.reason, ResultReason::InvalidField);
    assert_eq!(u.error.tag, Some(Tag(0x540001)));
}

#[test]
fn batch_item_without_operation_fails_alone() {
    let no_op = Item::structure(
        tags::BATCH_ITEM,
        vec![Item::structure(tags::REQUEST_PAYLOAD, vec![])],
    );
    let tree = message(
        ProtocolVersion::V1_4,
        vec![no_op, batch_item(0x12, None, vec![])],
    );
    let request = RequestMessage::from_ttlv(&tree).unwrap();
    let u = undecoded(&request.items[0].payload);
    assert_eq!(u.operation, None);
    assert_eq!(u.error.reason, ResultReason::InvalidField);
    assert!(matches!(
        request.items[1].payload,
        RequestPayload::Activate(_)
    ));
}

#[test]
fn batch_count_mismatch_fails_the_whole_message_as_invalid_message() {
    let mut tree = message(ProtocolVersion::V1_4, vec![batch_item(0x12, None, vec![])]);
    if let Value::Structure(children) = &mut tree.value {
        children[0] = header(ProtocolVersion::V1_4, 2);
    }
    let error = RequestMessage::from_ttlv(&tree).unwrap_err();
    assert_eq!(error.reason, ResultReason::InvalidMessage);
    assert_eq!(
        RequestMessage::peek_protocol_version(&tree),
        Some(ProtocolVersion::V1_4)
    );
}

#[test]
fn missing_header_is_invalid_message() {
    let tree = Item::structure(tags::REQUEST_MESSAGE, vec![batch_item(0x12, None, vec![])]);
    assert_eq!(
        RequestMessage::from_ttlv(&tree).unwrap_err().reason,
        ResultReason::InvalidMessage
    );
}

#[test]
fn operation_newer_than_the_message_version_is_not_supported() {
    // Set Attribute (2.0) in a 1.4 message.
    let tree = message(
        ProtocolVersion::V1_4,
        vec![batch_item(0x31, None, vec![uid("k")])],
    );
    let request = RequestMessage::from_ttlv(&tree).unwrap();
    assert_eq!(
        undecoded(&request.items[0].payload).error.reason,
        ResultReason::OperationNotSupported
    );
}

#[test]
fn attributes_follow_the_message_version() {
    use kmip::attributes::{Attribute, Attributes};
    use kmip::enums::{CryptographicAlgorithm, ObjectType};
    let create = CreateRequest {
        object_type: ObjectType::SymmetricKey,
        attributes: Attributes::from(vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
            Attribute::CryptographicLength(256),
        ]),
        protection_storage_masks: None,
    };
    let v14 = RequestMessage::new(
        ProtocolVersion::V1_4,
        vec![RequestBatchItem::new(create.clone())],
    );
    let v21 = RequestMessage::new(
        ProtocolVersion::V2_1,
        vec![RequestBatchItem::new(create.clone())],
    );
    let payload_of = |m: &RequestMessage| {
        m.to_ttlv().children()[1]
            .child(tags::REQUEST_PAYLOAD)
            .unwrap()
            .clone()
    };
    let p14 = payload_of(&v14);
    let p21 = payload_of(&v21);
    assert!(p14.child(tags::TEMPLATE_ATTRIBUTE).is_some() && p14.child(tags::ATTRIBUTES).is_none());
    assert!(p21.child(tags::ATTRIBUTES).is_some() && p21.child(tags::TEMPLATE_ATTRIBUTE).is_none());
    assert_eq!(
        p14.child(tags::TEMPLATE_ATTRIBUTE).unwrap().children()[0].tag,
        tags::ATTRIBUTE
    );
    assert_eq!(
        p21.child(tags::ATTRIBUTES).unwrap().children()[0].tag,
        tags::CRYPTOGRAPHIC_ALGORITHM
    );
    // Each decodes back to the same typed payload.
    for m in [&v14, &v21] {
        let back = RequestMessage::from_ttlv(&m.to_ttlv()).unwrap();
        assert_eq!(
            back.items[0].payload,
            RequestPayload::Create(create.clone())
        );
    }
    // A 2.x Attributes structure inside a 1.4 message (the other family's form, as PyKMIP mixes them) is read
    // by its tag, to the same typed payload.
    let mut mixed = v14.to_ttlv();
    if let Value::Structure(children) = &mut mixed.value {
        children[1] = v21.to_ttlv().children()[1].clone();
    }
    let back = RequestMessage::from_ttlv(&mixed).unwrap();
    assert_eq!(back.items[0].payload, RequestPayload::Create(create));
}

#[test]
fn batch_of_several_items_round_trips_with_ids_and_header_options() {
    let mut request = RequestMessage::new(
        ProtocolVersion::V1_4,
        vec![
            RequestBatchItem::new(DiscoverVersionsRequest::default()).with_id(b"1".to_vec()),
            RequestBatchItem::new(QueryRequest {
                query_functions: vec![QueryFunction::QueryOperations],
            })
            .with_id(b"2".to_vec()),
            RequestBatchItem::new(RngRetrieveRequest { data_length: 32 }).with_id(b"3".to_vec()),
        ],
    );
    request.header.batch_order_option = Some(true);
    request.header.batch_error_continuation_option = Some(BatchErrorContinuationOption::Continue);
    request.header.maximum_response_size = Some(4096);
    request.header.authentication = Some(kmip::message::Authentication {
        credentials: vec![Credential::UsernamePassword(
            kmip::message::UsernamePassword {
                username: "alice".into(),
                password: Some(SecretText::new("s3cret")),
            },
        )],
    });
    let bytes = ttlv::binary::encode(&request.to_ttlv()).unwrap();
    let back = RequestMessage::from_ttlv(&ttlv::binary::decode(&bytes).unwrap()).unwrap();
    assert_eq!(back, request);
    assert_eq!(back.header.batch_count, 3);
    assert!(
        !format!("{back:?}").contains("s3cret"),
        "passwords must not appear in Debug output"
    );
}

#[test]
fn response_with_failed_and_successful_items_round_trips() {
    let response = ResponseMessage::new(
        ProtocolVersion::V2_1,
        1_700_000_000,
        vec![
            ResponseBatchItem::success(ActivateResponse {
                unique_identifier: "k".into(),
            })
            .with_id(Some(b"1".to_vec())),
            ResponseBatchItem::failure(
                Some(OperationCode::Unknown(0x8000_0001)),
                ResultReason::OperationNotSupported,
                "no such operation",
            )
            .with_id(Some(b"2".to_vec())),
        ],
    );
    let back = ResponseMessage::from_ttlv(&response.to_ttlv()).unwrap();
    assert_eq!(back, response);
    assert_eq!(back.items[1].result_status, ResultStatus::OperationFailed);
}

#[test]
fn kmip_2_result_reasons_are_gated_by_version() {
    assert!(ResultReason::ItemNotFound.defined_in(ProtocolVersion::V1_0));
    assert!(!ResultReason::ObjectNotFound.defined_in(ProtocolVersion::V1_4));
    assert!(ResultReason::ObjectNotFound.defined_in(ProtocolVersion::V2_0));
    assert!(!ResultReason::ConstraintViolation.defined_in(ProtocolVersion::V2_0));
    assert!(ResultReason::ConstraintViolation.defined_in(ProtocolVersion::V2_1));
    assert_eq!(
        ResultReason::from_u32(0x4C),
        Some(ResultReason::DuplicateProcessRequest)
    );
}

#[test]
fn fields_newer_than_the_message_version_are_read_and_never_sent() {
    let locate = |version| {
        message(
            version,
            vec![batch_item(
                0x08,
                None,
                vec![Item::new(tags::OFFSET_ITEMS, Value::Integer(5))],
            )],
        )
    };
    // Offset Items is KMIP 1.3+; PyKMIP 0.11 sends it in 1.2 Locates, and its meaning is clear: honoured.
    let old = RequestMessage::from_ttlv(&locate(ProtocolVersion::V1_2)).unwrap();
    assert!(
        matches!(&old.items[0].payload, RequestPayload::Locate(l) if l.offset_items == Some(5))
    );
    let new = RequestMessage::from_ttlv(&locate(ProtocolVersion::V1_3)).unwrap();
    assert!(
        matches!(&new.items[0].payload, RequestPayload::Locate(l) if l.offset_items == Some(5))
    );

    // Encoding for a version that lacks a field leaves it out.
    let response = LocateResponse {
        located_items: Some(9),
        unique_identifiers: vec!["a".into()],
    };
    let v12 = response.to_ttlv(tags::RESPONSE_PAYLOAD, ProtocolVersion::V1_2);
    let v13 = response.to_ttlv(tags::RESPONSE_PAYLOAD, ProtocolVersion::V1_3);
    assert!(v12.child(tags::LOCATED_ITEMS).is_none());
    assert_eq!(
        v13.child(tags::LOCATED_ITEMS).map(|i| &i.value),
        Some(&Value::Integer(9))
    );
}

#[test]
fn header_fields_follow_the_header_version() {
    let mut header = RequestHeader::new(ProtocolVersion::V1_4, 1);
    header.client_correlation_value = Some("step 1".into());
    let with_correlation = |version: ProtocolVersion| {
        let mut h = header.clone();
        h.protocol_version = version;
        // Build the 1.4 form, then relabel the version: a 1.3 client cannot send Client Correlation Value.
        let mut item = h.to_ttlv(tags::REQUEST_HEADER, ProtocolVersion::V1_4);
        if let Value::Structure(children) = &mut item.value {
            children[0] = version.to_ttlv();
        }
        Item::structure(
            tags::REQUEST_MESSAGE,
            vec![item, batch_item(0x12, None, vec![])],
        )
    };
    let ok = RequestMessage::from_ttlv(&with_correlation(ProtocolVersion::V1_4)).unwrap();
    assert_eq!(
        ok.header.client_correlation_value.as_deref(),
        Some("step 1")
    );
    // A 1.3 client sending the 1.4 field is understood, and the field is never sent back in 1.3.
    let older = RequestMessage::from_ttlv(&with_correlation(ProtocolVersion::V1_3)).unwrap();
    assert_eq!(
        older.header.client_correlation_value.as_deref(),
        Some("step 1")
    );
    let encoded = older
        .header
        .to_ttlv(tags::REQUEST_HEADER, ProtocolVersion::V1_3);
    assert!(encoded.child(tags::CLIENT_CORRELATION_VALUE).is_none());
}

#[test]
fn ephemeral_flag_is_a_2_x_field() {
    let item = |version| {
        let b = Item::structure(
            tags::BATCH_ITEM,
            vec![
                Item::new(tags::OPERATION, Value::Enumeration(0x12)),
                Item::new(tags::EPHEMERAL, Value::Boolean(true)),
                Item::structure(tags::REQUEST_PAYLOAD, vec![]),
            ],
        );
        RequestMessage::from_ttlv(&message(version, vec![b])).unwrap()
    };
    assert_eq!(item(ProtocolVersion::V2_0).items[0].ephemeral, Some(true));
    assert_eq!(
        undecoded(&item(ProtocolVersion::V1_4).items[0].payload)
            .error
            .reason,
        ResultReason::InvalidField
    );
}
