//! Connections to the server under test: the mutual-TLS client configuration (from a qkms set-up or from
//! explicit PEM files) and one framed request/response exchange per call, reusing the connection's buffer.

use std::path::{Path, PathBuf};

use kmip::client::{certificates_from_file, private_key_from_file, ClientConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use ttlv::Limits;

use super::{BenchArgs, BenchError};

/// The client bundle and address from `--config DIR/qkms.toml` or from `--addr/--ca/--cert/--key`.
pub fn client_config(args: &BenchArgs) -> Result<ClientConfig, BenchError> {
    let setup = |e: kmip::client::ClientError| BenchError::Setup(e.to_string());
    let (address, ca, cert, key) = match (&args.config, &args.ca, &args.cert, &args.key) {
        (Some(config), _, _, _) => {
            let dir = config.parent().unwrap_or(Path::new("."));
            let address = match &args.addr {
                Some(a) => a.clone(),
                None if args.op == super::BenchOp::Eaas => {
                    crate::entropy_cmd::https_address(config)
                        .map_err(|e| BenchError::Setup(e.to_string()))?
                }
                None => listen_address(config)?,
            };
            let pki = dir.join("pki");
            (
                address,
                pki.join("ca.pem"),
                pki.join("client.pem"),
                pki.join("client.key"),
            )
        }
        (None, Some(ca), Some(cert), Some(key)) => (
            args.addr
                .clone()
                .ok_or_else(|| BenchError::Setup("--addr is required with --ca".into()))?,
            ca.clone(),
            cert.clone(),
            key.clone(),
        ),
        _ => {
            return Err(BenchError::Setup(
                "give --config DIR/qkms.toml, or --addr with --ca, --cert and --key".into(),
            ))
        }
    };
    let server_name = match &args.server_name {
        Some(name) => name.clone(),
        None => host_of(&address).to_owned(),
    };
    let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default())
        .map_err(|e| BenchError::Setup(format!("entropy pool: {e}")))?;
    let config = ClientConfig::new(
        address,
        &server_name,
        certificates_from_file(&ca).map_err(setup)?,
        certificates_from_file(&cert).map_err(setup)?,
        private_key_from_file(&key).map_err(setup)?,
        pool.rustls_provider(),
    )
    .map_err(setup)?
    .with_protocol_version(args.protocol);
    Ok(config)
}

/// The host part of `host:port` (brackets of an IPv6 literal removed).
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// `[server] listen` of a qkms configuration file, else the KMIP default.
fn listen_address(config: &PathBuf) -> Result<String, BenchError> {
    let text = std::fs::read_to_string(config)
        .map_err(|e| BenchError::Setup(format!("{}: {e}", config.display())))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| BenchError::Setup(format!("{}: {e}", config.display())))?;
    Ok(table
        .get("server")
        .and_then(|s| s.get("listen"))
        .and_then(|l| l.as_str())
        .unwrap_or("127.0.0.1:5696")
        .to_owned())
}

/// Opens mutual-TLS connections to the server.
pub struct Connector {
    connector: TlsConnector,
    config: ClientConfig,
}

impl Connector {
    pub fn new(config: ClientConfig) -> Result<Self, BenchError> {
        let rustls = config
            .rustls_config()
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        Ok(Self {
            connector: TlsConnector::from(std::sync::Arc::new(rustls)),
            config,
        })
    }

    pub async fn connect(&self) -> Result<Connection, String> {
        let tcp = TcpStream::connect(&self.config.address)
            .await
            .map_err(|e| format!("connect {}: {e}", self.config.address))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let stream = self
            .connector
            .connect(self.config.server_name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))?;
        Ok(Connection {
            stream,
            response: Vec::new(),
            limits: Limits::default(),
        })
    }
}

/// One open connection and the buffer its responses are read into (kept between exchanges).
pub struct Connection {
    stream: TlsStream<TcpStream>,
    response: Vec<u8>,
    limits: Limits,
}

impl Connection {
    /// Sends one HTTP/1.1 request and reads one response (headers, then Content-Length bytes of body) into the
    /// connection's buffer; refuses any status but 200, quoting the body.
    pub async fn exchange_http(&mut self, request: &[u8]) -> Result<&[u8], String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.stream
            .flush()
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.response.clear();
        let mut chunk = [0u8; 16 * 1024];
        let (head_end, total) = loop {
            if let Some(end) = self.response.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.response[..end]).to_ascii_lowercase();
                if !head.starts_with("http/1.1 200") {
                    let mut rest = vec![0u8; 4096];
                    let n = self.stream.read(&mut rest).await.unwrap_or(0);
                    return Err(format!(
                        "{} {}",
                        head.lines().next().unwrap_or(""),
                        String::from_utf8_lossy(&[&self.response[end..], &rest[..n]].concat())
                    ));
                }
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse::<usize>().ok())
                    .ok_or("an answer without Content-Length")?;
                break (end + 4, end + 4 + length);
            }
            let n = self
                .stream
                .read(&mut chunk)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
            self.response.extend_from_slice(&chunk[..n]);
        };
        let have = self.response.len();
        if have < total {
            self.response.resize(total, 0);
            self.stream
                .read_exact(&mut self.response[have..])
                .await
                .map_err(|e| format!("read: {e}"))?;
        }
        Ok(&self.response[head_end..total])
    }

    /// Sends one encoded request and reads one whole response message; returns its bytes (header included),
    /// valid until the next exchange.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<&[u8], String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.stream
            .flush()
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut header = [0u8; 8];
        self.stream
            .read_exact(&mut header)
            .await
            .map_err(|e| format!("read: {e}"))?;
        let total = ttlv::binary::message_length_with(&header, &self.limits)
            .map_err(|e| format!("response header: {e}"))?;
        // Only growth is zero-filled: a run of same-size responses reads into the same bytes.
        self.response.resize(total, 0);
        self.response[..8].copy_from_slice(&header);
        self.stream
            .read_exact(&mut self.response[8..])
            .await
            .map_err(|e| format!("read: {e}"))?;
        Ok(&self.response)
    }
}
