//! KMIP over HTTPS for the MSGENC cases (KMIP Profiles 2.1 §6.3-6.5): each request is POSTed to `/kmip` in the
//! encoding the case's profile names, on one keep-alive HTTP/1.1 connection over mutual TLS, and the response
//! is read back in that encoding. A hand-written HTTP/1.1 client: one request at a time, Content-Length or
//! chunked responses, nothing else, which is all KMIP over HTTPS needs.

use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use ttlv::{Item, Limits, ReadOptions};

use crate::connection::{Exchange, ExchangeError, Target};

/// The path KMIP requests are POSTed to.
pub const KMIP_PATH: &str = "/kmip";
/// Longest response head (status line and headers) accepted.
const MAX_HEAD: usize = 16 * 1024;

/// How a case's messages travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Binary TTLV straight over mutual TLS (port 5696).
    Ttlv,
    /// Over HTTPS in this encoding.
    Https(HttpsEncoding),
}

/// A KMIP encoding over HTTPS, with its Content-Type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpsEncoding {
    Ttlv,
    Xml,
    Json,
}

impl HttpsEncoding {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Ttlv => "application/octet-stream",
            Self::Xml => "text/xml",
            Self::Json => "application/json",
        }
    }

    fn encode(self, item: &Item) -> Result<Vec<u8>, ExchangeError> {
        let text_error =
            |e: ttlv::TextError| ExchangeError::Http(format!("cannot encode the request: {e}"));
        Ok(match self {
            Self::Ttlv => ttlv::binary::encode(item)?,
            Self::Xml => ttlv::xml::to_string(item).map_err(text_error)?.into_bytes(),
            Self::Json => ttlv::json::to_string(item)
                .map_err(text_error)?
                .into_bytes(),
        })
    }

    fn decode(self, body: &[u8], limits: &Limits) -> Result<Item, ExchangeError> {
        let text = || {
            std::str::from_utf8(body)
                .map_err(|e| ExchangeError::Http(format!("the response body is not UTF-8: {e}")))
        };
        let text_error = |e: ttlv::TextError| {
            ExchangeError::Http(format!("the response is not a valid {self:?} message: {e}"))
        };
        match self {
            Self::Ttlv => Ok(ttlv::binary::decode_with(body, limits)?),
            Self::Xml => {
                ttlv::xml::from_str_with(text()?, ReadOptions::new(*limits)).map_err(text_error)
            }
            Self::Json => {
                ttlv::json::from_str_with(text()?, ReadOptions::new(*limits)).map_err(text_error)
            }
        }
    }
}

/// The transport a test-case file is meant for: the MSGENC profiles name theirs (HTTPS carrying TTLV, JSON or
/// XML); every other case runs over binary TTLV.
pub fn transport_for(file_name: &str) -> Transport {
    if file_name.starts_with("MSGENC-HTTPS-") {
        Transport::Https(HttpsEncoding::Ttlv)
    } else if file_name.starts_with("MSGENC-JSON-") {
        Transport::Https(HttpsEncoding::Json)
    } else if file_name.starts_with("MSGENC-XML-") {
        Transport::Https(HttpsEncoding::Xml)
    } else {
        Transport::Ttlv
    }
}

/// One keep-alive HTTPS connection carrying KMIP messages in one encoding.
pub struct HttpsConnection {
    stream: BufReader<TlsStream<TcpStream>>,
    encoding: HttpsEncoding,
    host: String,
    limits: Limits,
    timeout: Duration,
}

impl std::fmt::Debug for HttpsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsConnection")
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

impl HttpsConnection {
    /// Connects to `address` (the target's HTTPS listener) with the target's client certificate.
    pub async fn connect(
        target: &Target,
        address: &str,
        provider: Arc<CryptoProvider>,
        encoding: HttpsEncoding,
    ) -> Result<Self, ExchangeError> {
        let connect = crate::connection::connect_tls(target, address, provider, Some(b"http/1.1"));
        let stream = tokio::time::timeout(target.timeout, connect)
            .await
            .map_err(|_| ExchangeError::Http(format!("connecting to {address} timed out")))??;
        Ok(Self {
            stream: BufReader::new(stream),
            encoding,
            host: address.to_owned(),
            limits: Limits::default(),
            timeout: target.timeout,
        })
    }

    async fn round_trip(&mut self, body: &[u8]) -> Result<Vec<u8>, ExchangeError> {
        let head = format!(
            "POST {KMIP_PATH} HTTP/1.1\r\nHost: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n\r\n",
            self.host,
            self.encoding.content_type(),
            body.len()
        );
        let io = |e: std::io::Error| ExchangeError::Http(format!("HTTPS I/O: {e}"));
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes()).await.map_err(io)?;
        stream.write_all(body).await.map_err(io)?;
        stream.flush().await.map_err(io)?;
        let response = read_response(&mut self.stream, self.limits.max_message_size).await?;
        if response.status != 200 {
            return Err(ExchangeError::Http(format!(
                "HTTP {} from the server: {}",
                response.status,
                String::from_utf8_lossy(&response.body).trim()
            )));
        }
        let expected = self.encoding.content_type();
        if !response.content_type.as_deref().is_some_and(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(expected)
        }) {
            return Err(ExchangeError::Http(format!(
                "the response's Content-Type is {:?}, expected {expected}",
                response.content_type
            )));
        }
        Ok(response.body)
    }
}

impl Exchange for HttpsConnection {
    async fn exchange(&mut self, request: &Item) -> Result<Item, ExchangeError> {
        let body = self.encoding.encode(request)?;
        let timeout = self.timeout;
        let answer = tokio::time::timeout(timeout, self.round_trip(&body))
            .await
            .map_err(|_| {
                ExchangeError::Http(format!("no HTTPS response within {} s", timeout.as_secs()))
            })??;
        self.encoding.decode(&answer, &self.limits)
    }
}

/// A response's status, Content-Type and body.
#[derive(Debug)]
struct HttpResponse {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

async fn read_response<R>(reader: &mut R, max_body: usize) -> Result<HttpResponse, ExchangeError>
where
    R: AsyncBufReadExt + Unpin,
{
    let status_line = read_line(reader).await?;
    let status = parse_status_line(&status_line)?;
    let mut content_type = None;
    let mut length = None;
    let mut chunked = false;
    let mut head_size = status_line.len();
    loop {
        let line = read_line(reader).await?;
        head_size += line.len();
        if head_size > MAX_HEAD {
            return Err(ExchangeError::Http("the response head is too long".into()));
        }
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ExchangeError::Http(format!(
                "malformed response header {line:?}"
            )));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-type" => content_type = Some(value.to_owned()),
            "content-length" => {
                length =
                    Some(value.parse::<usize>().map_err(|_| {
                        ExchangeError::Http(format!("bad Content-Length {value:?}"))
                    })?)
            }
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let body = if chunked {
        read_chunked(reader, max_body).await?
    } else {
        let length =
            length.ok_or_else(|| ExchangeError::Http("response without Content-Length".into()))?;
        if length > max_body {
            return Err(ExchangeError::Http(format!(
                "response body of {length} bytes is over the limit"
            )));
        }
        let mut body = vec![0u8; length];
        reader
            .read_exact(&mut body)
            .await
            .map_err(|e| ExchangeError::Http(format!("response body: {e}")))?;
        body
    };
    Ok(HttpResponse {
        status,
        content_type,
        body,
    })
}

async fn read_chunked<R>(reader: &mut R, max_body: usize) -> Result<Vec<u8>, ExchangeError>
where
    R: AsyncBufReadExt + Unpin,
{
    let mut body = Vec::new();
    loop {
        let line = read_line(reader).await?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ExchangeError::Http(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, then the empty line.
            while !read_line(reader).await?.is_empty() {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > max_body {
            return Err(ExchangeError::Http(
                "chunked response body is over the limit".into(),
            ));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .await
            .map_err(|e| ExchangeError::Http(format!("response chunk: {e}")))?;
        if !read_line(reader).await?.is_empty() {
            return Err(ExchangeError::Http("chunk not followed by CRLF".into()));
        }
    }
}

/// One CRLF-terminated line without its terminator.
async fn read_line<R>(reader: &mut R) -> Result<String, ExchangeError>
where
    R: AsyncBufReadExt + Unpin,
{
    let mut line = Vec::new();
    let n = reader
        .take(MAX_HEAD as u64)
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| ExchangeError::Http(format!("reading the response: {e}")))?;
    if n == 0 {
        return Err(ExchangeError::Http(
            "the server closed the connection".into(),
        ));
    }
    if !line.ends_with(b"\n") {
        return Err(ExchangeError::Http(
            "response line too long or cut off".into(),
        ));
    }
    line.pop();
    if line.ends_with(b"\r") {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| ExchangeError::Http("response head is not text".into()))
}

fn parse_status_line(line: &str) -> Result<u16, ExchangeError> {
    let mut parts = line.splitn(3, ' ');
    match (parts.next(), parts.next().and_then(|s| s.parse().ok())) {
        (Some(version), Some(status)) if version.starts_with("HTTP/1.") => Ok(status),
        _ => Err(ExchangeError::Http(format!("bad status line {line:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgenc_cases_go_over_https_in_their_encoding_and_others_over_ttlv() {
        assert_eq!(
            transport_for("MSGENC-HTTPS-M-1-21.xml"),
            Transport::Https(HttpsEncoding::Ttlv)
        );
        assert_eq!(
            transport_for("MSGENC-JSON-M-1-14.xml"),
            Transport::Https(HttpsEncoding::Json)
        );
        assert_eq!(
            transport_for("MSGENC-XML-M-1-21.xml"),
            Transport::Https(HttpsEncoding::Xml)
        );
        assert_eq!(transport_for("SKLC-M-1-21.xml"), Transport::Ttlv);
    }

    #[tokio::test]
    async fn content_length_and_chunked_responses_are_read() {
        let raw =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello";
        let response = read_response(&mut &raw[..], 100).await.unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"hello"[..])
        );
        assert_eq!(response.content_type.as_deref(), Some("application/json"));
        let raw = b"HTTP/1.1 413 Payload Too Large\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let response = read_response(&mut &raw[..], 100).await.unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (413, &b"abcde"[..])
        );
    }

    #[tokio::test]
    async fn malformed_or_oversized_responses_are_errors() {
        for raw in [
            &b"SMTP 220 hello\r\n\r\n"[..],
            &b"HTTP/1.1 200 OK\r\n\r\n"[..],
            &b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"[..],
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..],
            &b"HTTP/1.1 200 OK\r\nContent-Len"[..],
        ] {
            assert!(
                read_response(&mut &raw[..], 100).await.is_err(),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}
