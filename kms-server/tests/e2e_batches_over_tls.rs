//! Batches over a real TLS connection mixing bad and good items: each bad item gets its own Result Reason
//! (Operation Not Supported, Invalid Field, Object/Item Not Found, Wrong Key Lifecycle State) while the good ones
//! run (Continue) or do not (Stop); Maximum Response Size turns only the oversized payloads into Response Too
//! Large. The connection keeps serving afterwards.

mod common;
mod e2e_support;

use common::{read_response, TestServer};
use e2e_support::*;
use kmip::message::BatchErrorContinuationOption;
use kmip::payloads::*;
use kmip::{
    ProtocolVersion, RequestBatchItem, RequestMessage, ResponseBatchItem, ResponseMessage,
    ResultReason, ResultStatus,
};
use tokio::io::AsyncWriteExt;
use ttlv::{tags, Item, Value};

/// One batch item: typed, or hand-made TTLV the typed layer would never produce.
enum Entry {
    Typed(Box<RequestBatchItem>),
    Raw(Item),
}

/// A batch item of operation code `operation` with a hand-made payload.
fn raw_item(operation: u32, id: u8, payload: Vec<Item>) -> Entry {
    Entry::Raw(Item::structure(
        tags::BATCH_ITEM,
        vec![
            Item::new(tags::OPERATION, Value::Enumeration(operation)),
            Item::new(tags::UNIQUE_BATCH_ITEM_ID, Value::ByteString(vec![id])),
            Item::structure(tags::REQUEST_PAYLOAD, payload),
        ],
    ))
}

fn typed(id: u8, payload: impl Into<RequestPayload>) -> Entry {
    Entry::Typed(Box::new(RequestBatchItem::new(payload).with_id(vec![id])))
}

/// Encodes a request message holding `entries` in order, with the given header options.
fn encode(
    version: ProtocolVersion,
    continuation: Option<BatchErrorContinuationOption>,
    maximum_response_size: Option<i32>,
    entries: Vec<Entry>,
) -> Vec<u8> {
    let count = entries.len();
    let mut typed_items = Vec::new();
    let mut order = Vec::new();
    for entry in entries {
        match entry {
            Entry::Typed(item) => {
                order.push(None);
                typed_items.push(*item);
            }
            Entry::Raw(item) => order.push(Some(item)),
        }
    }
    let mut request = RequestMessage::new(version, typed_items);
    request.header.batch_error_continuation_option = continuation;
    request.header.maximum_response_size = maximum_response_size;
    let Value::Structure(children) = request.to_ttlv().value else {
        panic!("a request message is a structure")
    };
    let mut children = children.into_iter();
    let mut header = children.next().expect("the header comes first");
    let Value::Structure(fields) = &mut header.value else {
        panic!("the header is a structure")
    };
    for field in fields.iter_mut().filter(|f| f.tag == tags::BATCH_COUNT) {
        field.value = Value::Integer(i32::try_from(count).unwrap());
    }
    let mut items = vec![header];
    for slot in order {
        items.push(slot.unwrap_or_else(|| children.next().expect("a typed item per slot")));
    }
    ttlv::binary::encode(&Item::structure(tags::REQUEST_MESSAGE, items)).unwrap()
}

fn by_id(response: &ResponseMessage, id: u8) -> &ResponseBatchItem {
    response
        .items
        .iter()
        .find(|i| i.unique_batch_item_id.as_deref() == Some(&[id][..]))
        .unwrap_or_else(|| panic!("no response item {id}: {response:?}"))
}

async fn still_serving(stream: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>) {
    let request = RequestMessage::new(
        ProtocolVersion::V2_1,
        vec![RequestBatchItem::new(DiscoverVersionsRequest::default())],
    );
    stream
        .write_all(&ttlv::binary::encode(&request.to_ttlv()).unwrap())
        .await
        .unwrap();
    let response = read_response(stream)
        .await
        .expect("the connection still answers");
    assert_eq!(response.items[0].result_status, ResultStatus::Success);
}

#[tokio::test]
async fn bad_items_fail_one_by_one_while_good_items_in_the_same_batch_run() {
    let server = TestServer::start().await;
    let mut client = server.connect().await;
    let active = client
        .create(create_aes(128, "batch-active", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    client.activate(&active).await.unwrap();

    for version in [ProtocolVersion::V2_1, ProtocolVersion::V1_4] {
        let created_name = format!("batch-created-{version}");
        let bytes = encode(
            version,
            Some(BatchErrorContinuationOption::Continue),
            None,
            vec![
                raw_item(0x8000_0001, 1, vec![]),
                // Get (0x0A) whose Unique Identifier is an Integer.
                raw_item(
                    0x0A,
                    2,
                    vec![Item::new(tags::UNIQUE_IDENTIFIER, Value::Integer(7))],
                ),
                typed(3, RngRetrieveRequest { data_length: 16 }),
                typed(4, get("no-such-object")),
                typed(
                    5,
                    DestroyRequest {
                        unique_identifier: Some(active.clone()),
                    },
                ),
                typed(6, create_aes(256, &created_name, vec![])),
            ],
        );
        let mut stream = server.connect_raw().await;
        stream.write_all(&bytes).await.unwrap();
        let response = read_response(&mut stream).await.expect("a response");
        assert_eq!(response.protocol_version(), version);
        assert_eq!(response.items.len(), 6, "{response:?}");
        assert_failed(by_id(&response, 1), ResultReason::OperationNotSupported);
        assert_failed(by_id(&response, 2), ResultReason::InvalidField);
        let (not_found, wrong_state) = if version.is_v2() {
            (
                ResultReason::ObjectNotFound,
                ResultReason::WrongKeyLifecycleState,
            )
        } else {
            (ResultReason::ItemNotFound, ResultReason::PermissionDenied)
        };
        assert_failed(by_id(&response, 4), not_found);
        assert_failed(by_id(&response, 5), wrong_state);
        let rng = by_id(&response, 3);
        assert_eq!(rng.result_status, ResultStatus::Success, "{rng:?}");
        match &rng.payload {
            Some(ResponsePayload::RngRetrieve(r)) => assert_eq!(r.data.len(), 16),
            other => panic!("RNG Retrieve payload: {other:?}"),
        }
        let create = by_id(&response, 6);
        assert_eq!(create.result_status, ResultStatus::Success, "{create:?}");
        let Some(ResponsePayload::Create(created)) = &create.payload else {
            panic!("Create payload: {create:?}")
        };
        // The good Create really happened, the refused Destroy did not.
        assert_eq!(
            material(&client.get(get(&created.unique_identifier)).await.unwrap()).len(),
            32
        );
        assert_eq!(material(&client.get(get(&active)).await.unwrap()).len(), 16);
        still_serving(&mut stream).await;
    }
}

#[tokio::test]
async fn under_stop_nothing_after_the_first_bad_item_runs() {
    let server = TestServer::start().await;
    let mut client = server.connect().await;
    let mut stream = server.connect_raw().await;
    let bytes = encode(
        ProtocolVersion::V2_1,
        None,
        None,
        vec![
            typed(1, RngRetrieveRequest { data_length: 8 }),
            raw_item(0x8000_0001, 2, vec![]),
            typed(3, create_aes(128, "never-created", vec![])),
        ],
    );
    stream.write_all(&bytes).await.unwrap();
    let response = read_response(&mut stream).await.expect("a response");
    assert_eq!(by_id(&response, 1).result_status, ResultStatus::Success);
    assert_failed(by_id(&response, 2), ResultReason::OperationNotSupported);
    // Under Stop, the items after the failed one are neither run nor answered.
    assert_eq!(response.items.len(), 2, "{response:?}");
    assert!(client
        .locate(locate_name("never-created"))
        .await
        .unwrap()
        .unique_identifiers
        .is_empty());
    still_serving(&mut stream).await;
}

#[tokio::test]
async fn maximum_response_size_replaces_only_payloads_and_keeps_failures() {
    let server = TestServer::start().await;
    let mut stream = server.connect_raw().await;
    let bytes = encode(
        ProtocolVersion::V1_4,
        Some(BatchErrorContinuationOption::Continue),
        Some(1024),
        vec![
            typed(1, RngRetrieveRequest { data_length: 4096 }),
            typed(2, get("no-such-object")),
        ],
    );
    stream.write_all(&bytes).await.unwrap();
    let response = read_response(&mut stream).await.expect("a response");
    let big = by_id(&response, 1);
    assert_failed(big, ResultReason::ResponseTooLarge);
    assert!(big.payload.is_none());
    assert_failed(by_id(&response, 2), ResultReason::ItemNotFound);
    // The same request without the limit is answered in full on the same connection.
    let bytes = encode(
        ProtocolVersion::V1_4,
        None,
        None,
        vec![typed(1, RngRetrieveRequest { data_length: 4096 })],
    );
    stream.write_all(&bytes).await.unwrap();
    let response = read_response(&mut stream).await.expect("a response");
    assert_eq!(by_id(&response, 1).result_status, ResultStatus::Success);
    still_serving(&mut stream).await;
}
