//! The HTTPS listener end to end: a real server on loopback with real mutual TLS; KMIP over HTTPS in TTLV, XML
//! and JSON reaching the same dispatcher and store as the TTLV listener; refusals; /health and /metrics.

mod common;
mod https_client;

use std::sync::Arc;

use common::TestServer;
use https_client::{HttpResponse, HttpsConnection};
use kmip::{ResponseMessage, ResultReason, ResultStatus};
use kms_server::https::MessageEncoding;
use ttlv::{tags, Item, Value};

const CREATE_AES_256: &str = r#"<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="2"/>
      <ProtocolVersionMinor type="Integer" value="1"/>
    </ProtocolVersion>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Create"/>
    <RequestPayload>
      <ObjectType type="Enumeration" value="SymmetricKey"/>
      <Attributes>
        <CryptographicAlgorithm type="Enumeration" value="AES"/>
        <CryptographicLength type="Integer" value="256"/>
        <CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>
      </Attributes>
    </RequestPayload>
  </BatchItem>
</RequestMessage>"#;

fn get_request(unique_identifier: &str) -> Item {
    let text = format!(
        r#"<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="2"/>
      <ProtocolVersionMinor type="Integer" value="1"/>
    </ProtocolVersion>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Get"/>
    <RequestPayload>
      <UniqueIdentifier type="TextString" value="{unique_identifier}"/>
    </RequestPayload>
  </BatchItem>
</RequestMessage>"#
    );
    ttlv::xml::from_str(&text).unwrap()
}

async fn https_server() -> TestServer {
    TestServer::start_with(|config| {
        config.https.enabled = true;
        config.https.listen = "127.0.0.1:0".into();
        config.limits.max_message_size = 8192;
        config.auth.operators = vec!["ops".into()];
    })
    .await
}

fn https_addr(server: &TestServer) -> std::net::SocketAddr {
    server
        .running()
        .https_local_addr()
        .expect("[https] is enabled")
}

async fn connect(server: &TestServer) -> HttpsConnection {
    let config = server.client_config().rustls_config().unwrap();
    HttpsConnection::connect(https_addr(server), Arc::new(config))
        .await
        .unwrap()
}

async fn post_kmip(
    connection: &mut HttpsConnection,
    encoding: MessageEncoding,
    request: &Item,
) -> (HttpResponse, ResponseMessage) {
    let content_type = match encoding {
        MessageEncoding::Ttlv => "application/octet-stream",
        MessageEncoding::Xml => "text/xml",
        MessageEncoding::Json => "application/json",
    };
    let body = encoding.encode(request).unwrap();
    let response = connection
        .request("POST", "/kmip", Some(content_type), &body, false)
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-type").unwrap().split(';').next(),
        Some(content_type)
    );
    let item = encoding
        .decode(&response.body, &ttlv::Limits::default())
        .expect("the response is in the request's encoding");
    let message = ResponseMessage::from_ttlv(&item).unwrap();
    (response, message)
}

fn find_text(item: &Item, tag: ttlv::Tag) -> Option<String> {
    if item.tag == tag {
        if let Value::TextString(text) = &item.value {
            return Some(text.clone());
        }
    }
    item.children()
        .iter()
        .find_map(|child| find_text(child, tag))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttlv_xml_and_json_requests_reach_the_same_store_and_answer_in_their_encoding() {
    let server = https_server().await;
    let mut connection = connect(&server).await;
    let create = ttlv::xml::from_str(CREATE_AES_256).unwrap();
    let mut created = Vec::new();
    for encoding in [
        MessageEncoding::Json,
        MessageEncoding::Xml,
        MessageEncoding::Ttlv,
    ] {
        let (_, message) = post_kmip(&mut connection, encoding, &create).await;
        assert_eq!(
            message.items[0].result_status,
            ResultStatus::Success,
            "{encoding:?}: {message:?}"
        );
        let id =
            find_text(&message.to_ttlv(), tags::UNIQUE_IDENTIFIER).expect("Create names the key");
        created.push(id);
    }
    // Each key is fetched in another encoding than it was made in, on the same keep-alive connection.
    for (id, encoding) in created.iter().zip([
        MessageEncoding::Ttlv,
        MessageEncoding::Json,
        MessageEncoding::Xml,
    ]) {
        let (_, message) = post_kmip(&mut connection, encoding, &get_request(id)).await;
        assert_eq!(
            message.items[0].result_status,
            ResultStatus::Success,
            "{encoding:?}: {message:?}"
        );
        assert_eq!(
            find_text(&message.to_ttlv(), tags::UNIQUE_IDENTIFIER).as_deref(),
            Some(id.as_str())
        );
    }
    // And the TTLV listener sees the same objects.
    let mut client = server.connect().await;
    let request = kmip::RequestMessage::from_ttlv(&get_request(&created[0])).unwrap();
    let response = client.send(&request).await.unwrap();
    assert_eq!(response.items[0].result_status, ResultStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_a_certificate_is_refused_at_the_handshake() {
    let server = https_server().await;
    let mut roots = rustls::RootCertStore::empty();
    for ca in kmip::client::certificates_from_file(&server.client.ca).unwrap() {
        roots.add(ca).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    // TLS 1.3 lets the client finish its side first; the refusal shows at the first exchange at the latest.
    let refused = match HttpsConnection::connect(https_addr(&server), Arc::new(config)).await {
        Err(_) => true,
        Ok(mut connection) => connection
            .request("GET", "/health", None, b"", false)
            .await
            .is_err(),
    };
    assert!(
        refused,
        "a request without a client certificate was answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_maximum_message_size_are_refused_with_413() {
    let server = https_server().await;
    let oversized = vec![0x42u8; 8193];
    for chunked in [false, true] {
        let mut connection = connect(&server).await;
        let response = connection
            .request(
                "POST",
                "/kmip",
                Some("application/octet-stream"),
                &oversized,
                chunked,
            )
            .await
            .unwrap();
        assert_eq!(
            response.status,
            413,
            "chunked={chunked}: {}",
            response.text()
        );
        assert!(response.text().contains("8192"), "{}", response.text());
    }
    // At the limit itself the body is read and answered in KMIP (it is not a valid message).
    let mut connection = connect(&server).await;
    let response = connection
        .request(
            "POST",
            "/kmip",
            Some("application/octet-stream"),
            &vec![0x42u8; 8192],
            false,
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_xml_get_kmip_invalid_message_in_their_encoding() {
    let server = https_server().await;
    let mut connection = connect(&server).await;
    for (content_type, encoding, body) in [
        (
            "application/json",
            MessageEncoding::Json,
            &b"{\"tag\": \"RequestMessage\", \"value\": ["[..],
        ),
        (
            "application/json",
            MessageEncoding::Json,
            &b"{\"tag\":\"NoSuchTag\",\"value\":[]}"[..],
        ),
        (
            "text/xml",
            MessageEncoding::Xml,
            &b"<RequestMessage><RequestHeader>"[..],
        ),
        (
            "text/xml",
            MessageEncoding::Xml,
            &b"\xff\xfe<RequestMessage/>"[..],
        ),
        (
            "application/octet-stream",
            MessageEncoding::Ttlv,
            &b"\x42\x00\x78"[..],
        ),
    ] {
        let response = connection
            .request("POST", "/kmip", Some(content_type), body, false)
            .await
            .unwrap();
        assert_eq!(response.status, 200, "{content_type}: {}", response.text());
        let item = encoding
            .decode(&response.body, &ttlv::Limits::default())
            .unwrap();
        let message = ResponseMessage::from_ttlv(&item).unwrap();
        assert_eq!(
            message.items[0].result_status,
            ResultStatus::OperationFailed
        );
        assert_eq!(
            message.items[0].result_reason,
            Some(ResultReason::InvalidMessage),
            "{content_type}"
        );
    }
    // A well-formed message that is not a request is refused by KMIP too.
    let not_a_request = ttlv::Item::new(tags::BATCH_COUNT, Value::Integer(1));
    let (_, message) = post_kmip(&mut connection, MessageEncoding::Json, &not_a_request).await;
    assert_eq!(
        message.items[0].result_status,
        ResultStatus::OperationFailed
    );
}

/// Regression: an error message echoing a control character of the request (here in an element name, which the
/// reader reports) was not writable as XML 1.0 and the answer was an HTTP 500. Now it is a KMIP failure in XML,
/// the character replaced by U+FFFD.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_echoing_a_control_character_is_a_kmip_failure_in_xml() {
    let server = https_server().await;
    let mut connection = connect(&server).await;
    let body =
        "<RequestMessage><Unique\u{1}Identifier type=\"TextString\" value=\"k\"/></RequestMessage>";
    let response = connection
        .request("POST", "/kmip", Some("text/xml"), body.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    let text = response.text();
    assert!(!text.contains('\u{1}'), "{text}");
    let item = MessageEncoding::Xml
        .decode(&response.body, &ttlv::Limits::default())
        .expect("the answer is well-formed KMIP XML");
    let message = ResponseMessage::from_ttlv(&item).unwrap();
    assert_eq!(
        message.items[0].result_reason,
        Some(ResultReason::InvalidMessage)
    );
    let result_message = message.items[0].result_message.clone().unwrap_or_default();
    assert!(
        result_message.contains(&format!("Unique{}Identifier", ttlv::xml::REPLACEMENT)),
        "{result_message}"
    );
    // The refusal is in the audit log: who, that the message did not decode, the reason and the message.
    let log = std::fs::read_to_string(&server.config.audit.path).unwrap();
    let refusal: kms_server::audit::AuditRecord = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .find(|r: &kms_server::audit::AuditRecord| r.result == "InvalidMessage")
        .unwrap_or_else(|| panic!("the refused message is audited: {log}"));
    assert_eq!(refusal.tenant, "default");
    assert_eq!(refusal.operation, "(undecoded message)");
    assert!(
        refusal
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("Identifier")),
        "{refusal:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_kmip_cannot_answer_gets_a_clear_http_error() {
    let server = https_server().await;
    let mut connection = connect(&server).await;
    let response = connection
        .request("POST", "/kmip", Some("text/plain"), b"hello", false)
        .await
        .unwrap();
    assert_eq!(response.status, 415);
    assert!(
        response.text().contains("application/json"),
        "{}",
        response.text()
    );
    let response = connection
        .request("POST", "/kmip", None, b"hello", false)
        .await
        .unwrap();
    assert_eq!(response.status, 415);
    let response = connection
        .request("GET", "/nowhere", None, b"", false)
        .await
        .unwrap();
    assert_eq!(response.status, 404);
    assert!(response.text().contains("/kmip"), "{}", response.text());
    let response = connection
        .request("GET", "/kmip", None, b"", false)
        .await
        .unwrap();
    assert_eq!(response.status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_entropy_sources_and_labels_the_os_fallback_not_quantum() {
    let server = https_server().await;
    let mut connection = connect(&server).await;
    let response = connection
        .request("GET", "/health", None, b"", false)
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("application/json"));
    let health: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["entropy"]["os_fallback"], true, "{health}");
    assert_eq!(health["entropy"]["quantum"], false, "{health}");
    let sources = health["entropy"]["sources"].as_array().unwrap();
    assert!(!sources.is_empty(), "{health}");
    for source in sources {
        assert_eq!(source["kind"], "os");
        assert_eq!(source["quantum"], false);
        assert!(
            source["randomness"]
                .as_str()
                .unwrap()
                .contains("NOT QUANTUM"),
            "{health}"
        );
        assert_eq!(source["health"], "healthy", "{health}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_for_operators_and_count_requests_entropy_and_connections() {
    let server = https_server().await;
    let mut tenant = connect(&server).await;
    let response = tenant
        .request("GET", "/metrics", None, b"", false)
        .await
        .unwrap();
    assert_eq!(response.status, 403, "{}", response.text());

    let create = ttlv::xml::from_str(CREATE_AES_256).unwrap();
    post_kmip(&mut tenant, MessageEncoding::Json, &create).await;
    post_kmip(
        &mut tenant,
        MessageEncoding::Xml,
        &get_request("no-such-object"),
    )
    .await;
    // The TTLV listener's traffic is counted by the same dispatcher.
    let mut client = server.connect().await;
    client.discover_versions(vec![]).await.unwrap();

    let ops = server.issue_client("ops");
    let config = server
        .client_config_for(&ops, kmip::ProtocolVersion::V2_1)
        .rustls_config()
        .unwrap();
    let mut operator = HttpsConnection::connect(https_addr(&server), Arc::new(config))
        .await
        .unwrap();
    let response = operator
        .request("GET", "/metrics", None, b"", false)
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(response
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text();
    for expected in [
        "qkms_kmip_batch_items_total{operation=\"Create\",result=\"Success\"} 1\n",
        "qkms_kmip_batch_items_total{operation=\"Get\",result=\"OperationFailed\"} 1\n",
        "qkms_kmip_batch_items_total{operation=\"DiscoverVersions\",result=\"Success\"} 1\n",
        "qkms_https_open_connections 2\n",
        "qkms_https_refused_requests_total{status=\"403\"} 1\n",
        "qkms_entropy_os_fallback 1\n",
        "# TYPE qkms_entropy_health_test_failures_total counter\n",
        "test=\"repetition_count\",severity=\"intermittent\"} 0\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let drawn: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("qkms_entropy_bytes_drawn_total "))
        .and_then(|value| value.parse().ok())
        .expect("bytes drawn are reported");
    assert!(drawn >= 32, "the AES key came from the pool: {drawn}");
    // The tenant's own usage: one key created; the failed Get and the Discover Versions counted as operations.
    let tenant_sample = |family: &str| -> Vec<(String, u64)> {
        text.lines()
            .filter_map(|line| line.strip_prefix(family)?.strip_prefix("{tenant=\""))
            .filter_map(|rest| {
                let (tenant, value) = rest.split_once("\"} ")?;
                Some((tenant.to_owned(), value.parse().ok()?))
            })
            .collect()
    };
    let keys = tenant_sample("qkms_tenant_keys_created_total");
    assert_eq!(keys.len(), 1, "one tenant has used the server: {keys:?}");
    assert_eq!(keys[0].1, 1, "{text}");
    let tenant_name = &keys[0].0;
    assert_eq!(
        tenant_sample("qkms_tenant_operations_total"),
        vec![(tenant_name.clone(), 3)]
    );
    assert_eq!(
        tenant_sample("qkms_tenant_failed_operations_total"),
        vec![(tenant_name.clone(), 1)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_https_listener_is_off_unless_configured() {
    let server = TestServer::start().await;
    assert!(server.running().https_local_addr().is_none());
}
