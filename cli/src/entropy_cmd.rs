//! `qkms entropy reset --config DIR/qkms.toml --source ID`: asks a running server to reset an entropy source
//! whose health tests latched it off, over the server's HTTPS listener (`POST /v1/entropy/sources/{id}/reset`),
//! with an operator's client certificate.
//!
//! One request over mutual TLS, written by hand (HTTP/1.1, `Connection: close`, response read to the end): the
//! CLI already speaks TLS with `tokio-rustls` for `bench`, and one fixed request does not justify an HTTP
//! client dependency. The server answers JSON; its `error` field becomes this command's error message.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use kmip::client::{certificates_from_file, private_key_from_file, ClientConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest the whole exchange may take (a reset reruns start-up tests and reseeds; the server waits up to
/// 30 s for its seeding thread).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest response read.
const MAX_RESPONSE: usize = 1 << 20;

#[derive(Debug, Args)]
pub struct EntropyArgs {
    #[command(subcommand)]
    command: EntropyCommand,
}

#[derive(Debug, Subcommand)]
enum EntropyCommand {
    /// Reset a latched entropy source: the server clears its health-test failure, reruns the start-up tests on
    /// fresh samples before the source may contribute again, reseeds, and records the reset in its audit log.
    Reset(ResetArgs),
}

#[derive(Debug, Args)]
struct ResetArgs {
    /// The server's configuration (its `[https] listen` address and `pki/` directory are used).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The source id, as `/health` and the configuration name it.
    #[arg(long, value_name = "ID")]
    source: String,
    /// The HTTPS address, instead of the configured `[https] listen`.
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
    /// The operator's client certificate (PEM). Default: DIR/pki/client.pem.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The operator's client key (PEM). Default: DIR/pki/client.key.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// The CA that signed the server certificate. Default: DIR/pki/ca.pem.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The name the server certificate must carry. Default: localhost.
    #[arg(long, value_name = "NAME", default_value = "localhost")]
    server_name: String,
}

type Error = Box<dyn std::error::Error>;

pub fn run(args: EntropyArgs) -> Result<(), Error> {
    match args.command {
        EntropyCommand::Reset(args) => reset(&args),
    }
}

fn reset(args: &ResetArgs) -> Result<(), Error> {
    let dir = args.config.parent().unwrap_or(Path::new("."));
    let pki = dir.join("pki");
    let address = match &args.addr {
        Some(address) => address.clone(),
        None => https_address(&args.config)?,
    };
    let cert = args.cert.clone().unwrap_or_else(|| pki.join("client.pem"));
    let key = args.key.clone().unwrap_or_else(|| pki.join("client.key"));
    let ca = args.ca.clone().unwrap_or_else(|| pki.join("ca.pem"));
    let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default())?;
    let client = ClientConfig::new(
        address.clone(),
        &args.server_name,
        certificates_from_file(&ca)?,
        certificates_from_file(&cert)?,
        private_key_from_file(&key)?,
        pool.rustls_provider(),
    )?;
    let tls = Arc::new(client.rustls_config()?);
    let path = format!("/v1/entropy/sources/{}/reset", percent_encode(&args.source));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, body) = runtime.block_on(async {
        tokio::time::timeout(
            EXCHANGE_TIMEOUT,
            post(&address, &args.server_name, tls, &path),
        )
        .await
        .map_err(|_| format!("no answer from {address} within {EXCHANGE_TIMEOUT:?}"))?
    })?;
    let json: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        format!(
            "HTTP {status} from {address}, not JSON ({e}): {}",
            String::from_utf8_lossy(&body).trim()
        )
    })?;
    if status != 200 {
        let message = json["error"].as_str().unwrap_or("no error message");
        return Err(format!("HTTP {status}: {message}").into());
    }
    println!(
        "reset {}: health {}, {}",
        json["source"].as_str().unwrap_or(&args.source),
        json["health"],
        if json["contributing"] == true {
            "contributing"
        } else {
            "not contributing yet"
        }
    );
    println!(
        "entropy: {}",
        json["entropy"]["summary"].as_str().unwrap_or("")
    );
    Ok(())
}

/// `[https] listen` of a qkms configuration file (an unspecified host becomes loopback); refuses when the
/// configuration has the HTTPS listener disabled.
pub(crate) fn https_address(config: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(config).map_err(|e| format!("{}: {e}", config.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", config.display()))?;
    let https = table.get("https");
    if https
        .and_then(|h| h.get("enabled"))
        .and_then(|e| e.as_bool())
        != Some(true)
    {
        return Err(format!(
            "{}: the HTTPS listener is disabled ([https] enabled = false); enable it to reset sources, or give --addr",
            config.display()
        )
        .into());
    }
    let listen = https
        .and_then(|h| h.get("listen"))
        .and_then(|l| l.as_str())
        .unwrap_or("127.0.0.1:8443");
    Ok(listen
        .replacen("0.0.0.0:", "127.0.0.1:", 1)
        .replacen("[::]:", "[::1]:", 1))
}

/// Percent-encodes everything but unreserved characters (RFC 3986 2.3), for a path segment.
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One `POST path` with an empty body; returns the status and the body.
async fn post(
    address: &str,
    server_name: &str,
    tls: Arc<rustls::ClientConfig>,
    path: &str,
) -> Result<(u16, Vec<u8>), Error> {
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connect {address}: {e}"))?;
    let name = rustls::pki_types::ServerName::try_from(server_name.to_owned())?;
    let mut stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake with {address}: {e}"))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {server_name}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    let mut response = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => {
                response.extend_from_slice(&chunk[..n]);
                if response.len() > MAX_RESPONSE {
                    return Err("the response exceeds 1 MiB".into());
                }
            }
            // A server closing without close_notify after a complete response is fine.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {
                break
            }
            Err(e) => return Err(format!("read from {address}: {e}").into()),
        }
    }
    parse_response(&response)
}

/// Status and body of an HTTP/1.1 response framed by Content-Length (or by the connection's end).
fn parse_response(response: &[u8]) -> Result<(u16, Vec<u8>), Error> {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the server closed the connection before a complete response")?;
    let head = std::str::from_utf8(&response[..end]).map_err(|_| "response head not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or("malformed status line")?;
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    let body = &response[end + 4..];
    let body = match length {
        Some(length) if length <= body.len() => &body[..length],
        Some(_) => return Err("the response body is shorter than its Content-Length".into()),
        None => body,
    };
    Ok((status, body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ids_are_percent_encoded() {
        assert_eq!(
            percent_encode("OS getrandom (not quantum)"),
            "OS%20getrandom%20%28not%20quantum%29"
        );
        assert_eq!(percent_encode("qrng-0.a_b~"), "qrng-0.a_b~");
        assert_eq!(percent_encode("a/b"), "a%2Fb");
    }

    #[test]
    fn responses_are_read_by_content_length() {
        let (status, body) =
            parse_response(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\n{}xx").unwrap();
        assert_eq!((status, body.as_slice()), (403, b"{}".as_slice()));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
    }
}
