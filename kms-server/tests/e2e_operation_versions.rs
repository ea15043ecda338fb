//! Operations are accepted from the KMIP version that introduced them (the specifications' tables), over a real
//! mutual-TLS connection: Discover Versions and Re-key Key Pair are KMIP 1.1 operations (qkms once refused
//! Discover Versions in a 1.1 message, which broke clients that open with it, and accepted Re-key Key Pair in
//! 1.0); Log and Interop are 2.0 operations with typed payloads; Query lists exactly what the version defines.

mod common;

use common::TestServer;
use kmip::client::ClientError;
use kmip::payloads::{
    InteropFunction, InteropRequest, LogRequest, QueryFunction, QueryRequest, ReKeyKeyPairRequest,
    ResponsePayload,
};
use kmip::{Operation, OperationCode, ProtocolVersion, ResultReason};

fn refused_with(result: Result<ResponsePayload, ClientError>, expected: ResultReason) -> String {
    match result {
        Err(ClientError::Operation {
            reason, message, ..
        }) if reason == expected => message,
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_versions_opens_a_kmip_1_1_session() {
    let server = TestServer::start().await;
    let mut client = server
        .connect_as(&server.client, ProtocolVersion::V1_1)
        .await;
    let versions = client
        .discover_versions(vec![ProtocolVersion::V1_1])
        .await
        .expect("Discover Versions is a 1.1 operation");
    assert_eq!(versions, vec![ProtocolVersion::V1_1]);

    client.set_protocol_version(ProtocolVersion::V1_0);
    let message = refused_with(
        client
            .call(kmip::payloads::DiscoverVersionsRequest::default())
            .await,
        ResultReason::OperationNotSupported,
    );
    assert!(message.contains("KMIP 1.0"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_key_pair_is_refused_in_1_0_and_accepted_from_1_1() {
    let server = TestServer::start().await;
    let mut client = server
        .connect_as(&server.client, ProtocolVersion::V1_0)
        .await;
    let request = ReKeyKeyPairRequest {
        private_key_unique_identifier: Some("no-such-key".into()),
        offset: None,
        common_attributes: None,
        private_key_attributes: None,
        public_key_attributes: None,
        common_protection_storage_masks: None,
        private_protection_storage_masks: None,
        public_protection_storage_masks: None,
    };
    refused_with(
        client.call(request.clone()).await,
        ResultReason::OperationNotSupported,
    );
    client.set_protocol_version(ProtocolVersion::V1_1);
    // Accepted as an operation; the key does not exist.
    refused_with(client.call(request).await, ResultReason::ItemNotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_and_interop_are_typed_2_0_operations() {
    let server = TestServer::start().await;
    let mut client = server
        .connect_as(&server.client, ProtocolVersion::V2_0)
        .await;
    let logged = client
        .call(LogRequest {
            log_message: "hello from the test".into(),
        })
        .await
        .expect("Log");
    assert!(matches!(logged, ResponsePayload::Log(_)));
    let interop = client
        .call(InteropRequest {
            interop_function: InteropFunction::Begin,
            interop_identifier: "TEST-1".into(),
        })
        .await
        .expect("Interop");
    assert!(matches!(interop, ResponsePayload::Interop(_)));

    client.set_protocol_version(ProtocolVersion::V1_4);
    refused_with(
        client
            .call(LogRequest {
                log_message: "too early".into(),
            })
            .await,
        ResultReason::OperationNotSupported,
    );
}

async fn queried_operations(server: &TestServer, version: ProtocolVersion) -> Vec<OperationCode> {
    let mut client = server.connect_as(&server.client, version).await;
    match client
        .call(QueryRequest {
            query_functions: vec![QueryFunction::QueryOperations],
        })
        .await
        .expect("Query")
    {
        ResponsePayload::Query(r) => r.operations,
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_lists_the_operations_each_version_defines() {
    let server = TestServer::start().await;
    let v1_0 = queried_operations(&server, ProtocolVersion::V1_0).await;
    let v1_1 = queried_operations(&server, ProtocolVersion::V1_1).await;
    let v2_1 = queried_operations(&server, ProtocolVersion::V2_1).await;
    let has = |list: &[OperationCode], op| list.contains(&OperationCode::Known(op));
    assert!(!has(&v1_0, Operation::DiscoverVersions) && !has(&v1_0, Operation::ReKeyKeyPair));
    assert!(has(&v1_1, Operation::DiscoverVersions) && has(&v1_1, Operation::ReKeyKeyPair));
    assert!(!has(&v1_1, Operation::Encrypt));
    assert!(has(&v2_1, Operation::Log) && has(&v2_1, Operation::Interop));
    for op in &v1_0 {
        let OperationCode::Known(op) = op else {
            panic!("unknown operation listed")
        };
        assert_eq!(
            op.introduced_in(),
            ProtocolVersion::V1_0,
            "{op} listed in 1.0"
        );
    }
}
