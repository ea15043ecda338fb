//! HTTPS QRNG source against a local HTTPS server (rustls + rcgen certificates) speaking the ANU JSON shape.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use entropy::health::HealthTestedSource;
use entropy::source::{
    EntropySource, HttpsDataFormat, HttpsError, HttpsSource, HttpsSourceConfig, SourceError,
    SourceKind, TrustRoots,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const API_KEY: &str = "test-key-123";

struct TestServer {
    base: String,
    ca_pem: PathBuf,
    /// Request lines seen, e.g. `GET /uint8?type=uint8&length=10 HTTP/1.1`.
    requests: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

/// The byte the server sends at position `i`.
fn byte_at(i: usize) -> u8 {
    (i * 37 + 11) as u8
}

fn answer(path: &str, length: usize) -> (u16, String) {
    let bytes: Vec<u8> = (0..length).map(byte_at).collect();
    let uint8 =
        serde_json::json!({"success": true, "type": "uint8", "length": length, "data": bytes});
    match path {
        "/uint8" => (200, uint8.to_string()),
        "/uint16" => {
            let data: Vec<u16> = (0..length)
                .map(|i| u16::from_be_bytes([byte_at(2 * i), byte_at(2 * i + 1)]))
                .collect();
            (200, serde_json::json!({"success": true, "type": "uint16", "length": length, "data": data}).to_string())
        }
        "/hex" => {
            let data: Vec<String> = (0..length)
                .map(|i| {
                    hex::encode([
                        byte_at(4 * i),
                        byte_at(4 * i + 1),
                        byte_at(4 * i + 2),
                        byte_at(4 * i + 3),
                    ])
                })
                .collect();
            (200, serde_json::json!({"success": true, "type": "hex16", "length": length, "data": data}).to_string())
        }
        "/nested" => (
            200,
            serde_json::json!({"result": {"ok": true, "random": bytes}}).to_string(),
        ),
        "/unsuccessful" => (
            200,
            r#"{"success":false,"message":"quota exceeded"}"#.to_owned(),
        ),
        "/short" => {
            let data: Vec<u8> = (0..length.saturating_sub(1)).map(byte_at).collect();
            (
                200,
                serde_json::json!({"success": true, "data": data}).to_string(),
            )
        }
        "/out-of-range" => (
            200,
            serde_json::json!({"success": true, "data": vec![256; length]}).to_string(),
        ),
        "/not-json" => (200, "<html>maintenance</html>".to_owned()),
        "/strings" => (
            200,
            serde_json::json!({"success": true, "data": vec!["x"; length]}).to_string(),
        ),
        "/busy" => (503, "{}".to_owned()),
        _ => (404, "{}".to_owned()),
    }
}

fn handle(
    stream: std::net::TcpStream,
    config: Arc<rustls::ServerConfig>,
    requests: &Mutex<Vec<String>>,
) {
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let mut reader = BufReader::new(&mut tls);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return; // e.g. the client rejected our certificate
    }
    let mut api_key = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("x-api-key") {
                api_key = Some(value.trim().to_owned());
            }
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_owned();
    requests
        .lock()
        .unwrap()
        .push(request_line.trim().to_owned());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let length = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("length="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let (status, body) = if api_key.as_deref() != Some(API_KEY) {
        (401, "{}".to_owned())
    } else {
        answer(path, length)
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tls.write_all(response.as_bytes());
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(&mut tls.sock);
}

fn start_server() -> TestServer {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "qkms test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let server_cert = server_params
        .signed_by(&server_key, &ca_cert, &ca_key)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, ca_cert.pem()).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(server_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            handle(stream, config.clone(), &seen);
        }
    });
    TestServer {
        base: format!("https://127.0.0.1:{port}"),
        ca_pem,
        requests,
        _dir: dir,
    }
}

fn config(server: &TestServer, path: &str) -> HttpsSourceConfig {
    let mut config = HttpsSourceConfig::new(format!("{}{path}?type=uint8", server.base))
        .with_api_key("x-api-key", API_KEY);
    config.trust = TrustRoots::PemFile(server.ca_pem.clone());
    config
}

fn https_error(err: SourceError) -> HttpsError {
    match err {
        SourceError::Https { error, .. } => error,
        other => panic!("expected an HTTPS error, got {other:?}"),
    }
}

#[test]
fn uint8_answers_are_delivered_byte_for_byte() {
    let server = start_server();
    let mut source = HttpsSource::new(config(&server, "/uint8")).unwrap();
    let info = source.info().clone();
    assert_eq!(info.kind, SourceKind::Https);
    assert!(
        info.quantum && !info.credited,
        "third-party trust is not credited by default"
    );
    let mut buf = [0u8; 300];
    assert_eq!(source.read_samples(&mut buf).unwrap(), 300);
    assert_eq!(buf.to_vec(), (0..300).map(byte_at).collect::<Vec<_>>());
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests, ["GET /uint8?type=uint8&length=300 HTTP/1.1"]);
}

#[test]
fn requests_are_capped_at_the_service_limit() {
    let server = start_server();
    let mut source = HttpsSource::new(config(&server, "/uint8")).unwrap();
    let mut buf = vec![0u8; 5000];
    assert_eq!(source.read_samples(&mut buf).unwrap(), 1024);
    assert!(server.requests.lock().unwrap()[0].contains("length=1024"));
}

#[test]
fn uint16_and_hex_formats_decode() {
    let server = start_server();
    let mut c = config(&server, "/uint16");
    c.format = HttpsDataFormat::Uint16;
    let mut source = HttpsSource::new(c).unwrap();
    let mut buf = [0u8; 100];
    assert_eq!(source.read_samples(&mut buf).unwrap(), 100);
    assert_eq!(buf.to_vec(), (0..100).map(byte_at).collect::<Vec<_>>());
    assert!(server.requests.lock().unwrap()[0].contains("length=50"));

    let mut c = config(&server, "/hex");
    c.format = HttpsDataFormat::HexString { bytes_per_item: 4 };
    let mut source = HttpsSource::new(c).unwrap();
    assert_eq!(source.read_samples(&mut buf).unwrap(), 100);
    assert_eq!(buf.to_vec(), (0..100).map(byte_at).collect::<Vec<_>>());
}

#[test]
fn json_pointers_are_configurable() {
    let server = start_server();
    let mut c = config(&server, "/nested");
    c.success_pointer = Some("/result/ok".to_owned());
    c.data_pointer = "/result/random".to_owned();
    let mut source = HttpsSource::new(c).unwrap();
    let mut buf = [0u8; 10];
    assert_eq!(source.read_samples(&mut buf).unwrap(), 10);
    assert_eq!(buf.to_vec(), (0..10).map(byte_at).collect::<Vec<_>>());
}

#[test]
fn error_answers_are_typed_failures() {
    let server = start_server();
    let mut buf = [0u8; 16];
    let mut read = |path: &str, format: HttpsDataFormat| {
        let mut c = config(&server, path);
        c.format = format;
        https_error(
            HttpsSource::new(c)
                .unwrap()
                .read_samples(&mut buf)
                .unwrap_err(),
        )
    };
    assert!(matches!(
        read("/busy", HttpsDataFormat::Uint8),
        HttpsError::Status { status: 503 }
    ));
    assert!(matches!(
        read("/unsuccessful", HttpsDataFormat::Uint8),
        HttpsError::NotSuccessful { .. }
    ));
    assert!(matches!(
        read("/short", HttpsDataFormat::Uint8),
        HttpsError::WrongLength {
            requested: 16,
            received: 15
        }
    ));
    assert!(matches!(
        read("/out-of-range", HttpsDataFormat::Uint8),
        HttpsError::OutOfRange { index: 0, .. }
    ));
    assert!(matches!(
        read("/not-json", HttpsDataFormat::Uint8),
        HttpsError::BadJson(_)
    ));
    assert!(matches!(
        read("/strings", HttpsDataFormat::Uint8),
        HttpsError::OutOfRange { .. }
    ));
    assert!(matches!(
        read("/uint8", HttpsDataFormat::HexString { bytes_per_item: 2 }),
        HttpsError::WrongShape { .. }
    ));
    assert!(matches!(
        read("/strings", HttpsDataFormat::HexString { bytes_per_item: 2 }),
        HttpsError::BadHex { .. }
    ));
    let mut missing = config(&server, "/uint8");
    missing.data_pointer = "/random".to_owned();
    let err = https_error(
        HttpsSource::new(missing)
            .unwrap()
            .read_samples(&mut buf)
            .unwrap_err(),
    );
    assert!(matches!(err, HttpsError::MissingData { .. }), "{err:?}");
}

#[test]
fn a_wrong_or_missing_api_key_is_refused_by_the_service() {
    let server = start_server();
    let mut buf = [0u8; 8];
    let mut wrong = config(&server, "/uint8").with_api_key("x-api-key", "nope");
    wrong.trust = TrustRoots::PemFile(server.ca_pem.clone());
    let err = https_error(
        HttpsSource::new(wrong)
            .unwrap()
            .read_samples(&mut buf)
            .unwrap_err(),
    );
    assert!(matches!(err, HttpsError::Status { status: 401 }), "{err:?}");
    let mut none = config(&server, "/uint8");
    none.api_key = None;
    let err = https_error(
        HttpsSource::new(none)
            .unwrap()
            .read_samples(&mut buf)
            .unwrap_err(),
    );
    assert!(matches!(err, HttpsError::Status { status: 401 }), "{err:?}");
}

#[test]
fn a_server_outside_the_trust_roots_is_refused() {
    let server = start_server();
    let mut c = config(&server, "/uint8");
    c.trust = TrustRoots::WebPki;
    let err = https_error(
        HttpsSource::new(c)
            .unwrap()
            .read_samples(&mut [0u8; 8])
            .unwrap_err(),
    );
    assert!(matches!(err, HttpsError::Transport(_)), "{err:?}");
}

#[test]
fn unusable_configurations_are_refused() {
    let plain = HttpsSource::new(HttpsSourceConfig::new("http://example.invalid/"));
    assert!(
        matches!(plain, Err(SourceError::InvalidConfig { .. })),
        "{plain:?}"
    );
    let mut bad_roots = HttpsSourceConfig::new("https://example.invalid/");
    bad_roots.trust = TrustRoots::PemFile("/nonexistent/ca.pem".into());
    assert!(matches!(
        HttpsSource::new(bad_roots),
        Err(SourceError::Https {
            error: HttpsError::TrustRoots(_),
            ..
        })
    ));
    let mut over = HttpsSourceConfig::new("https://example.invalid/");
    over.min_entropy_per_sample = 8.5;
    assert!(matches!(
        HttpsSource::new(over),
        Err(SourceError::InvalidConfig { .. })
    ));
}

#[test]
fn the_api_key_never_appears_in_debug_output() {
    let server = start_server();
    let source = HttpsSource::new(config(&server, "/uint8")).unwrap();
    let debug = format!("{source:?}");
    assert!(!debug.contains(API_KEY), "{debug}");
    assert!(debug.contains("redacted"));
}

#[test]
fn an_https_source_passes_start_up_behind_the_health_tests() {
    let server = start_server();
    let mut c = config(&server, "/uint8");
    // The test server's bytes are a fixed pattern (37i + 11 mod 256: every value once per 256), no entropy
    // assessment, just enough structure to pass at a modest claim.
    c.min_entropy_per_sample = 2.0;
    let mut tested = HealthTestedSource::new(HttpsSource::new(c).unwrap()).unwrap();
    let mut buf = [0u8; 256];
    assert!(tested.read_samples(&mut buf).unwrap() > 0);
    assert!(
        server.requests.lock().unwrap().len() >= 2,
        "start-up needs at least 1024 + 512 samples"
    );
}
