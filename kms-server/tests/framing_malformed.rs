//! Malformed input over a real TLS connection: each class gets a KMIP error response or a clean close, and the
//! server keeps serving (the same connection where framing survived, other clients always).

mod common;

use common::{is_closed, read_response, TestServer};
use kmip::payloads::DiscoverVersionsRequest;
use kmip::{ProtocolVersion, RequestBatchItem, RequestMessage, ResultReason, ResultStatus};
use tokio::io::AsyncWriteExt;
use ttlv::{tags, Item, Value};

fn discover_versions(version: ProtocolVersion) -> Vec<u8> {
    let request = RequestMessage::new(
        version,
        vec![RequestBatchItem::new(DiscoverVersionsRequest::default())],
    );
    ttlv::binary::encode(&request.to_ttlv()).unwrap()
}

/// A whole-message failure: one failed item, the reason given, a message a human can read.
fn assert_message_failure(response: &kmip::ResponseMessage, reason: ResultReason) {
    assert_eq!(response.items.len(), 1, "{response:?}");
    let item = &response.items[0];
    assert_eq!(item.result_status, ResultStatus::OperationFailed);
    assert_eq!(item.result_reason, Some(reason), "{item:?}");
    assert!(
        item.result_message.as_deref().is_some_and(|m| m.len() > 10),
        "{item:?}"
    );
}

/// The server still answers a well-formed request on a fresh connection.
async fn assert_still_serving(server: &TestServer) {
    let mut stream = server.connect_raw().await;
    stream
        .write_all(&discover_versions(ProtocolVersion::V2_1))
        .await
        .unwrap();
    let response = read_response(&mut stream).await.expect("a response");
    assert_eq!(response.items.len(), 1);
}

#[tokio::test]
async fn garbage_bytes_get_invalid_message_then_close() {
    let server = TestServer::start().await;
    let mut stream = server.connect_raw().await;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(&mut stream)
        .await
        .expect("an Invalid Message response");
    assert_message_failure(&response, ResultReason::InvalidMessage);
    assert!(
        is_closed(&mut stream).await,
        "framing is lost: the server closes"
    );
    let log = std::fs::read_to_string(&server.config.audit.path).unwrap();
    assert!(
        log.lines()
            .any(|line| line.contains("InvalidMessage") && line.contains("valid TTLV item header")),
        "the refusal is audited: {log}"
    );
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn bad_ttlv_body_gets_invalid_message_and_the_connection_stays_usable() {
    let server = TestServer::start().await;
    let mut stream = server.connect_raw().await;
    // A Request Message structure of 16 bytes holding an item of unknown type 0x0F.
    let mut bad = vec![0x42, 0x00, 0x78, 0x01, 0x00, 0x00, 0x00, 0x10];
    bad.extend_from_slice(&[
        0x42, 0x00, 0x77, 0x0F, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    stream.write_all(&bad).await.unwrap();
    let response = read_response(&mut stream).await.expect("a response");
    assert_message_failure(&response, ResultReason::InvalidMessage);
    // The refusal is audited with the tenant, the reason and the message sent.
    let log = std::fs::read_to_string(&server.config.audit.path).unwrap();
    let refusal: kms_server::audit::AuditRecord = serde_json::from_str(
        log.lines()
            .find(|line| line.contains("InvalidMessage"))
            .unwrap_or_else(|| panic!("the refusal is audited: {log}")),
    )
    .unwrap();
    assert_eq!(
        (refusal.tenant.as_str(), refusal.operation.as_str()),
        ("default", "(undecoded message)")
    );
    assert!(
        refusal.detail.is_some_and(|d| d.contains("not valid TTLV")),
        "{log}"
    );
    // Framing survived: the next request on the same connection is answered.
    stream
        .write_all(&discover_versions(ProtocolVersion::V2_1))
        .await
        .unwrap();
    assert!(read_response(&mut stream).await.is_some());
}

#[tokio::test]
async fn valid_ttlv_that_is_not_a_request_gets_invalid_message() {
    let server = TestServer::start().await;
    let mut stream = server.connect_raw().await;
    let not_a_request = Item::structure(
        tags::PROTOCOL_VERSION,
        vec![
            Item::new(tags::PROTOCOL_VERSION_MAJOR, Value::Integer(2)),
            Item::new(tags::PROTOCOL_VERSION_MINOR, Value::Integer(1)),
        ],
    );
    stream
        .write_all(&ttlv::binary::encode(&not_a_request).unwrap())
        .await
        .unwrap();
    let response = read_response(&mut stream).await.expect("a response");
    assert_message_failure(&response, ResultReason::InvalidMessage);
    stream
        .write_all(&discover_versions(ProtocolVersion::V1_4))
        .await
        .unwrap();
    assert!(read_response(&mut stream).await.is_some());
}

#[tokio::test]
async fn bad_header_is_answered_in_the_clients_version() {
    let server = TestServer::start().await;
    let mut stream = server.connect_raw().await;
    let mut request = RequestMessage::new(
        ProtocolVersion::V1_2,
        vec![RequestBatchItem::new(DiscoverVersionsRequest::default())],
    );
    request.header.batch_count = 5; // one item present
    stream
        .write_all(&ttlv::binary::encode(&request.to_ttlv()).unwrap())
        .await
        .unwrap();
    let response = read_response(&mut stream).await.expect("a response");
    assert_eq!(response.protocol_version(), ProtocolVersion::V1_2);
    assert_message_failure(&response, ResultReason::InvalidMessage);
}

#[tokio::test]
async fn declared_length_over_the_limit_closes_without_reading_the_body() {
    let server = TestServer::start_with(|config| config.limits.max_message_size = 4096).await;
    let mut stream = server.connect_raw().await;
    // Declares 1 MiB and sends none of it: the server must decide on the header alone.
    stream
        .write_all(&[0x42, 0x00, 0x78, 0x01, 0x00, 0x10, 0x00, 0x00])
        .await
        .unwrap();
    assert!(
        is_closed(&mut stream).await,
        "no response can be framed: the server closes"
    );
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn truncated_message_closes_cleanly() {
    let server = TestServer::start().await;
    let mut stream = server.connect_raw().await;
    let whole = discover_versions(ProtocolVersion::V2_1);
    stream.write_all(&whole[..whole.len() / 2]).await.unwrap();
    stream.shutdown().await.unwrap(); // close_notify: the rest never comes
    assert!(is_closed(&mut stream).await);
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn silent_client_is_closed_after_the_idle_timeout() {
    let server = TestServer::start_with(|config| config.limits.idle_timeout_secs = 1).await;
    let mut stream = server.connect_raw().await;
    // `is_closed` waits up to 5 s; the idle timeout is 1 s.
    assert!(is_closed(&mut stream).await);
}

#[tokio::test]
async fn many_requests_on_one_connection_are_each_answered() {
    let server = TestServer::start().await;
    let mut stream = server.connect_raw().await;
    for version in [
        ProtocolVersion::V1_0,
        ProtocolVersion::V1_4,
        ProtocolVersion::V2_0,
        ProtocolVersion::V2_1,
    ] {
        stream.write_all(&discover_versions(version)).await.unwrap();
        let response = read_response(&mut stream).await.expect("a response");
        assert_eq!(response.protocol_version(), version);
    }
}

#[tokio::test]
async fn connection_limit_closes_further_clients_until_a_slot_frees() {
    // A connection beyond `max_connections` is closed once its handshake is done, never parked where it would
    // hold resources (issue #12: admission control); the freed slot serves the next client.
    let server = TestServer::start_with(|config| config.limits.max_connections = 1).await;
    let mut first = server.connect_raw().await;
    first
        .write_all(&discover_versions(ProtocolVersion::V2_1))
        .await
        .unwrap();
    assert!(read_response(&mut first).await.is_some());
    let mut second = server.connect_raw().await;
    assert!(
        is_closed(&mut second).await,
        "a second connection is closed while the only slot is taken"
    );
    first
        .write_all(&discover_versions(ProtocolVersion::V2_1))
        .await
        .unwrap();
    assert!(
        read_response(&mut first).await.is_some(),
        "the first keeps its slot"
    );
    drop(first);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut third = server.connect_raw().await;
    third
        .write_all(&discover_versions(ProtocolVersion::V2_1))
        .await
        .unwrap();
    assert!(
        read_response(&mut third).await.is_some(),
        "the freed slot goes to the next client"
    );
}

#[tokio::test]
async fn maximum_response_size_turns_an_oversized_answer_into_response_too_large() {
    let server = TestServer::start().await;
    let mut stream = server.connect_raw().await;
    let mut request = RequestMessage::new(
        ProtocolVersion::V2_1,
        vec![RequestBatchItem::new(DiscoverVersionsRequest::default()).with_id(vec![1])],
    );
    request.header.maximum_response_size = Some(64);
    stream
        .write_all(&ttlv::binary::encode(&request.to_ttlv()).unwrap())
        .await
        .unwrap();
    let response = read_response(&mut stream).await.expect("a response");
    let item = &response.items[0];
    assert_eq!(
        item.result_reason,
        Some(ResultReason::ResponseTooLarge),
        "{item:?}"
    );
    assert_eq!(item.unique_batch_item_id.as_deref(), Some(&[1u8][..]));
    assert!(item.payload.is_none());
}
