//! A minimal HTTP/1.1 client over mutual TLS for the HTTPS listener tests: hand-written requests (including
//! chunked and oversized ones no ordinary client would send), responses read by Content-Length.
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// One HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A keep-alive HTTPS connection.
pub struct HttpsConnection {
    stream: TlsStream<TcpStream>,
}

impl HttpsConnection {
    /// Connects to `addr` (server name "localhost") with `config` (the KMIP client configuration is fine: the
    /// server offers ALPN http/1.1 and accepts clients that offer none).
    pub async fn connect(
        addr: std::net::SocketAddr,
        config: Arc<rustls::ClientConfig>,
    ) -> std::io::Result<Self> {
        let tcp = TcpStream::connect(addr).await?;
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("valid name");
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await?;
        Ok(Self { stream })
    }

    /// Sends `method path` with `body` (Content-Length framing unless `chunked`) and reads the response.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        chunked: bool,
    ) -> std::io::Result<HttpResponse> {
        self.request_with_headers(method, path, content_type, &[], body, chunked)
            .await
    }

    /// [`HttpsConnection::request`] with extra request headers.
    pub async fn request_with_headers(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        extra_headers: &[(&str, &str)],
        body: &[u8],
        chunked: bool,
    ) -> std::io::Result<HttpResponse> {
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nCache-Control: no-cache\r\n");
        for (name, value) in extra_headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(content_type) = content_type {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        let mut bytes = Vec::new();
        if chunked {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            bytes.extend_from_slice(head.as_bytes());
            if !body.is_empty() {
                bytes.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                bytes.extend_from_slice(body);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        } else {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            bytes.extend_from_slice(head.as_bytes());
            bytes.extend_from_slice(body);
        }
        self.stream.write_all(&bytes).await?;
        self.stream.flush().await?;
        tokio::time::timeout(Duration::from_secs(20), self.read_response())
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no response"))?
    }

    async fn read_response(&mut self) -> std::io::Result<HttpResponse> {
        let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
        let mut buffer = Vec::new();
        let header_end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed before a response",
                ));
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buffer[..header_end].to_vec())
            .map_err(|_| invalid("head not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().ok_or_else(|| invalid("no status line"))?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("bad status line"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| invalid("response without Content-Length"))?;
        let mut body = buffer[header_end + 4..].to_vec();
        while body.len() < length {
            let mut chunk = vec![0u8; length - body.len()];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(invalid("connection closed inside the body"));
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(length);
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// `GET /health` over a new connection: the status and the JSON document.
pub async fn health(
    addr: std::net::SocketAddr,
    config: rustls::ClientConfig,
) -> (u16, serde_json::Value) {
    let mut connection = HttpsConnection::connect(addr, Arc::new(config))
        .await
        .expect("HTTPS connection");
    let response = connection
        .request("GET", "/health", None, b"", false)
        .await
        .expect("GET /health");
    let document = serde_json::from_slice(&response.body).expect("/health is JSON");
    (response.status, document)
}
