//! Per-message budgets over real mutual-TLS connections to the `qkms-server` binary (issue #11, part 2):
//! - 64 RNG Retrieve items of 16 MiB in one 3 KB request once made the server abort on allocation failure
//!   (32 reached 2.16 GB): now every item is answered Response Too Large naming the server's limit before any
//!   random byte is drawn, and the server's memory stays where it was;
//! - a request's Maximum Response Size lowers the budget (and is named in the answer);
//! - a batch of Gets of a large object stops being answered once the budget is used, item by item;
//! - more batch items than `[limits] max_batch_items` is refused whole with Invalid Message naming the limit.

mod e2e_support;

use e2e_support::*;
use kmip::message::BatchErrorContinuationOption;
use kmip::payloads::{GetResponse, RequestPayload, ResponsePayload, RngRetrieveRequest};
use kmip::{ProtocolVersion, RequestBatchItem, RequestMessage, ResultReason, ResultStatus};

const MIB: i32 = 1024 * 1024;

fn rng_items(count: usize, bytes: i32) -> Vec<RequestBatchItem> {
    (0..count)
        .map(|i| {
            RequestBatchItem::new(RngRetrieveRequest { data_length: bytes })
                .with_id((i as u32).to_be_bytes().to_vec())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_request_for_a_gigabyte_of_random_is_refused_before_any_is_made() {
    let setup = SetUp::init();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = server.connect(&setup.client).await;
    client.rng_retrieve(32).await.expect("warm up");
    let before = server.rss_kib();

    let mut request = RequestMessage::new(ProtocolVersion::V2_1, rng_items(64, 16 * MIB));
    // Continue: every item is answered (under the default Stop, the first refusal ends the batch).
    request.header.batch_error_continuation_option = Some(BatchErrorContinuationOption::Continue);
    let encoded = ttlv::binary::encode(&request.to_ttlv()).unwrap();
    assert!(
        encoded.len() < 5000,
        "the attack fits in {} bytes",
        encoded.len()
    );
    for _ in 0..3 {
        let response = client
            .send(&request)
            .await
            .expect("an answer, not a dead server");
        assert_eq!(response.items.len(), 64, "{:?}", response.items[0]);
        for item in &response.items {
            assert_failed(item, ResultReason::ResponseTooLarge);
            let message = item.result_message.as_deref().unwrap_or_default();
            assert!(
                message.contains("max_response_bytes") && message.contains("1073741824"),
                "the answer names the limit and what was asked: {message}"
            );
        }
    }
    let after = server.rss_kib();
    assert!(
        after < before + 64 * 1024,
        "RSS grew from {before} KiB to {after} KiB answering three 1 GiB asks"
    );
    // The same connection keeps working, and a request within the budget is served.
    let response = client
        .send(&RequestMessage::new(
            ProtocolVersion::V2_1,
            rng_items(3, MIB),
        ))
        .await
        .unwrap();
    for item in &response.items {
        assert_eq!(item.result_status, ResultStatus::Success);
        match &item.payload {
            Some(ResponsePayload::RngRetrieve(r)) => assert_eq!(r.data.len(), MIB as usize),
            other => panic!("unexpected payload {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_maximum_response_size_lowers_the_budget_and_is_named() {
    let setup = SetUp::init();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = server.connect(&setup.client).await;
    let mut request = RequestMessage::new(ProtocolVersion::V1_4, rng_items(2, 4096));
    request.header.maximum_response_size = Some(6000);
    let response = client.send(&request).await.unwrap();
    for item in &response.items {
        assert_failed(item, ResultReason::ResponseTooLarge);
        assert!(item
            .result_message
            .as_deref()
            .unwrap_or_default()
            .contains("Maximum Response Size (6000 bytes)"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gets_of_a_large_object_are_answered_until_the_budget_is_spent() {
    let setup = SetUp::init_with(|config| config.limits.max_response_bytes = 8 << 20);
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = server.connect(&setup.client).await;
    let secret = vec![0x5a; 3 << 20];
    let uid = match client
        .call(register_secret(&secret, "large-secret", vec![]))
        .await
        .expect("register 3 MiB of secret data")
    {
        ResponsePayload::Register(r) => r.unique_identifier,
        other => panic!("unexpected {other:?}"),
    };
    let items: Vec<RequestBatchItem> = (0..5u32)
        .map(|i| RequestBatchItem::new(get(&uid)).with_id(i.to_be_bytes().to_vec()))
        .collect();
    let mut request = RequestMessage::new(ProtocolVersion::V2_1, items);
    request.header.batch_error_continuation_option = Some(BatchErrorContinuationOption::Continue);
    let response = client.send(&request).await.unwrap();
    let statuses: Vec<_> = response.items.iter().map(|i| i.result_status).collect();
    assert_eq!(
        &statuses[..2],
        &[ResultStatus::Success, ResultStatus::Success],
        "two 3 MiB answers fit in 8 MiB"
    );
    for item in &response.items[2..] {
        assert_failed(item, ResultReason::ResponseTooLarge);
    }
    if let Some(ResponsePayload::Get(GetResponse { .. })) = &response.items[0].payload {
    } else {
        panic!("the first Get carries the object");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_batch_items_than_the_limit_are_refused_whole_naming_the_limit() {
    let setup = SetUp::init();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    let mut client = server.connect(&setup.client).await;
    let items: Vec<RequestBatchItem> = (0..1001)
        .map(|_| RequestBatchItem::new(RequestPayload::from(RngRetrieveRequest { data_length: 1 })))
        .collect();
    let response = client
        .send(&RequestMessage::new(ProtocolVersion::V2_1, items))
        .await
        .unwrap();
    assert_eq!(response.items.len(), 1);
    assert_failed(&response.items[0], ResultReason::InvalidMessage);
    let message = response.items[0]
        .result_message
        .as_deref()
        .unwrap_or_default();
    assert!(
        message.contains("1001") && message.contains("max_batch_items"),
        "{message}"
    );
    // Exactly the limit is fine.
    let items = rng_items(1000, 1);
    let response = client
        .send(&RequestMessage::new(ProtocolVersion::V2_1, items))
        .await
        .unwrap();
    assert_eq!(response.items.len(), 1000);
    assert!(response
        .items
        .iter()
        .all(|i| i.result_status == ResultStatus::Success));
}
