//! `GET /v1/random` over mutual TLS, the answer parsed (not yet verified: call [`crate::verify`]).
//!
//! One HTTP/1.1 request written by hand with `Connection: close` and the response read to its end (bounded):
//! the endpoint is one fixed GET, and an HTTP client library would add a second TLS stack to configure.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::{EaasError, Envelope};

/// The largest answer read: a 16 MiB envelope's base64 and headers.
const MAX_RESPONSE: usize = 24 << 20;
const TIMEOUT: Duration = Duration::from_secs(60);

/// Asks `address` (`host:port` of the HTTPS listener) for `bytes` random bytes bound to `nonce` (hex). `tls`
/// carries the client certificate and the CA that signed the server certificate; `server_name` is the name the
/// server certificate must carry.
pub async fn fetch(
    tls: Arc<rustls::ClientConfig>,
    address: &str,
    server_name: &str,
    bytes: usize,
    nonce: &str,
) -> Result<Envelope, EaasError> {
    fetch_query(tls, address, server_name, bytes, nonce, None).await
}

/// [`fetch`] with `&encrypt=KEY_ID`: the bytes come HPKE-encrypted to the X25519 public key the tenant
/// registered under `key_id` (a KMIP Unique Identifier: letters, digits, `-`, `_`, `.`, `~`).
pub async fn fetch_encrypted(
    tls: Arc<rustls::ClientConfig>,
    address: &str,
    server_name: &str,
    bytes: usize,
    nonce: &str,
    key_id: &str,
) -> Result<Envelope, EaasError> {
    if key_id.is_empty() || !key_id.bytes().all(is_unreserved) {
        return Err(EaasError::Transport(format!(
            "key identifier {key_id:?}: only letters, digits, '-', '_', '.' and '~' go into the query unescaped"
        )));
    }
    fetch_query(tls, address, server_name, bytes, nonce, Some(key_id)).await
}

/// RFC 3986 unreserved characters.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

async fn fetch_query(
    tls: Arc<rustls::ClientConfig>,
    address: &str,
    server_name: &str,
    bytes: usize,
    nonce: &str,
    key_id: Option<&str>,
) -> Result<Envelope, EaasError> {
    let encrypt = key_id
        .map(|id| format!("&encrypt={id}"))
        .unwrap_or_default();
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|e| EaasError::Transport(format!("server name {server_name:?}: {e}")))?;
    let exchange = async {
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|e| EaasError::Transport(format!("connect {address}: {e}")))?;
        let mut stream = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| EaasError::Transport(format!("TLS with {address}: {e}")))?;
        let request = format!(
            "GET /v1/random?bytes={bytes}&nonce={nonce}{encrypt} HTTP/1.1\r\nHost: {server_name}\r\n\
             Accept: application/json\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| EaasError::Transport(e.to_string()))?;
        read_response(&mut stream).await
    };
    let response = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| EaasError::Transport(format!("no answer within {TIMEOUT:?}")))??;
    let (status, body) = split_response(&response)?;
    if status != 200 {
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|value| {
                value
                    .get("error")
                    .and_then(|e| e.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
        return Err(EaasError::Refused { status, message });
    }
    Envelope::from_json(body)
}

/// Reads one response: the headers, then exactly Content-Length bytes (a peer that closes without TLS
/// close_notify after a complete answer is fine; one that stops early is not).
async fn read_response<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<Vec<u8>, EaasError> {
    let mut response = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut expected: Option<usize> = None;
    loop {
        if let Some(total) = expected {
            if response.len() >= total {
                response.truncate(total);
                return Ok(response);
            }
        } else if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .ok_or_else(|| EaasError::Transport("an answer without Content-Length".into()))?;
            if end + 4 + length > MAX_RESPONSE {
                return Err(EaasError::Transport(format!(
                    "answer larger than {MAX_RESPONSE} bytes"
                )));
            }
            expected = Some(end + 4 + length);
            continue;
        }
        if response.len() > MAX_RESPONSE {
            return Err(EaasError::Transport(format!(
                "answer larger than {MAX_RESPONSE} bytes"
            )));
        }
        match stream.read(&mut chunk).await {
            Ok(0) => {
                return Err(EaasError::Transport(
                    "the connection closed before the whole answer".into(),
                ))
            }
            Ok(n) => response.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(EaasError::Transport(e.to_string())),
        }
    }
}

/// The status code and body of an HTTP/1.1 response without chunked encoding (the server sends a length).
fn split_response(response: &[u8]) -> Result<(u16, &[u8]), EaasError> {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| EaasError::Transport("an incomplete HTTP answer".into()))?;
    let head = std::str::from_utf8(&response[..end])
        .map_err(|_| EaasError::Transport("HTTP headers are not text".into()))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| EaasError::Transport(format!("no status in {:?}", head.lines().next())))?;
    if head.lines().any(|line| {
        line.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    }) {
        return Err(EaasError::Transport(
            "a chunked answer (the server sends a length)".into(),
        ));
    }
    Ok((status, &response[end + 4..]))
}
