//! `qkms bench`: a KMIP load generator. N mutual-TLS connections, each sending one request at a time for a
//! fixed duration; prints operations per second, throughput for RNG Retrieve, and latency percentiles.
//!
//! Requests are encoded once and resent byte for byte, and every response is decoded and checked (Result
//! Status Success on every batch item, and the byte count for RNG Retrieve), so the figures are for work the
//! server really did. Connections are opened before the clock starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask};
use kmip::client::{certificates_from_file, private_key_from_file, ClientConfig};
use kmip::enums::{CryptographicAlgorithm, ObjectType};
use kmip::payloads::{CreateRequest, GetRequest, RequestPayload, RngRetrieveRequest};
use kmip::{ProtocolVersion, RequestBatchItem, RequestMessage};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use ttlv::{tags, Item, Limits, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchOp {
    /// Get of one AES-256 key (created before the run).
    Get,
    /// Create of an AES-256 key (durable: acknowledged only once on disk).
    Create,
    /// RNG Retrieve of --rng-bytes bytes.
    Rng,
    /// Open the connections, prove each with one 16-byte RNG Retrieve, then hold them idle for --duration
    /// (for measuring the server's memory per idle connection).
    Idle,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The server's configuration (`qkms-server --init DIR` makes DIR/qkms.toml); the client bundle is taken
    /// from DIR/pki/.
    #[arg(long, conflicts_with_all = ["ca", "cert", "key"])]
    config: Option<PathBuf>,
    /// Server address host:port (default: the configuration's, else 127.0.0.1:5696).
    #[arg(long)]
    addr: Option<String>,
    /// Name the server certificate must carry (default: the host of the address).
    #[arg(long)]
    server_name: Option<String>,
    /// CA certificate (PEM).
    #[arg(long, requires_all = ["cert", "key"])]
    ca: Option<PathBuf>,
    /// Client certificate (PEM).
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long)]
    key: Option<PathBuf>,
    /// The operation to repeat.
    #[arg(long, value_enum)]
    op: BenchOp,
    /// Concurrent connections, each with one request in flight.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// How long to run: 10s, 500ms, 2m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Bytes per RNG Retrieve: 1M, 64K, 4096.
    #[arg(long, default_value = "1M", value_parser = parse_size)]
    rng_bytes: usize,
    /// KMIP protocol version of the requests (1.2 for PyKMIP's server, which lacks 2.1).
    #[arg(long, default_value = "2.1", value_parser = parse_version)]
    protocol: ProtocolVersion,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Setup(String),
    #[error("connection {connection}: {message}")]
    Run { connection: usize, message: String },
}

pub fn run(args: BenchArgs) -> Result<(), BenchError> {
    if args.connections == 0 {
        return Err(BenchError::Setup("--connections must be at least 1".into()));
    }
    let config = client_config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::Setup(format!("tokio runtime: {e}")))?;
    let report = runtime.block_on(bench(&args, config))?;
    report.print(&args);
    Ok(())
}

fn client_config(args: &BenchArgs) -> Result<ClientConfig, BenchError> {
    let setup = |e: kmip::client::ClientError| BenchError::Setup(e.to_string());
    let (address, ca, cert, key) = match (&args.config, &args.ca, &args.cert, &args.key) {
        (Some(config), _, _, _) => {
            let dir = config.parent().unwrap_or(Path::new("."));
            let address = match &args.addr {
                Some(a) => a.clone(),
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
        None => {
            let host = address
                .rsplit_once(':')
                .map_or(address.as_str(), |(h, _)| h);
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        }
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

/// `[server] listen` of a qkms configuration file, else the KMIP default.
fn listen_address(config: &Path) -> Result<String, BenchError> {
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

type Stream = TlsStream<TcpStream>;

struct Connector {
    connector: TlsConnector,
    config: ClientConfig,
}

impl Connector {
    async fn connect(&self) -> Result<Stream, String> {
        let tcp = TcpStream::connect(&self.config.address)
            .await
            .map_err(|e| format!("connect {}: {e}", self.config.address))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        self.connector
            .connect(self.config.server_name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))
    }
}

/// Sends `request` and checks the answer: every batch item Success; for RNG Retrieve, `rng_bytes` bytes.
/// Returns the response.
async fn exchange(
    stream: &mut Stream,
    request: &[u8],
    rng_bytes: Option<usize>,
) -> Result<Item, String> {
    let limits = Limits::default();
    kmip::transport::write_message(stream, request)
        .await
        .map_err(|e| e.to_string())?;
    let answer = kmip::transport::read_message(stream, &limits)
        .await
        .map_err(|e| e.to_string())?;
    let response = ttlv::binary::decode_with(&answer, &limits).map_err(|e| e.to_string())?;
    let items: Vec<&Item> = response.children_with(tags::BATCH_ITEM).collect();
    if items.is_empty() {
        return Err("response without batch items".into());
    }
    for item in &items {
        let status = item.child(tags::RESULT_STATUS).map(|s| &s.value);
        if status != Some(&Value::Enumeration(0)) {
            let message = item
                .child(tags::RESULT_MESSAGE)
                .map(|m| format!("{:?}", m.value))
                .unwrap_or_default();
            return Err(format!("operation failed: status {status:?} {message}"));
        }
        if let Some(expected) = rng_bytes {
            let data = item
                .child(tags::RESPONSE_PAYLOAD)
                .and_then(|p| p.child(tags::DATA));
            match data.map(|d| &d.value) {
                Some(Value::ByteString(bytes)) if bytes.len() == expected => {}
                other => {
                    return Err(format!(
                        "RNG Retrieve returned {other:?}, not {expected} bytes"
                    ))
                }
            }
        }
    }
    Ok(response)
}

fn encode(version: ProtocolVersion, payload: RequestPayload) -> Result<Vec<u8>, BenchError> {
    let message = RequestMessage::new(version, vec![RequestBatchItem::new(payload)]);
    ttlv::binary::encode(&message.to_ttlv()).map_err(|e| BenchError::Setup(format!("encode: {e}")))
}

fn create_aes_256() -> RequestPayload {
    let mut attributes = Attributes::new();
    attributes.push(Attribute::CryptographicAlgorithm(
        CryptographicAlgorithm::Aes,
    ));
    attributes.push(Attribute::CryptographicLength(256));
    attributes.push(Attribute::CryptographicUsageMask(
        CryptographicUsageMask::ENCRYPT | CryptographicUsageMask::DECRYPT,
    ));
    RequestPayload::Create(CreateRequest {
        object_type: ObjectType::SymmetricKey,
        attributes,
        protection_storage_masks: None,
    })
}

/// The request every connection repeats (for Get, a key is created first).
async fn prepare(args: &BenchArgs, connector: &Connector) -> Result<Vec<u8>, BenchError> {
    let setup = |message: String| BenchError::Setup(message);
    Ok(match args.op {
        BenchOp::Create => encode(args.protocol, create_aes_256())?,
        BenchOp::Idle => encode(
            args.protocol,
            RequestPayload::RngRetrieve(RngRetrieveRequest { data_length: 16 }),
        )?,
        BenchOp::Rng => {
            let length = i32::try_from(args.rng_bytes)
                .map_err(|_| setup(format!("--rng-bytes {} is too large", args.rng_bytes)))?;
            encode(
                args.protocol,
                RequestPayload::RngRetrieve(RngRetrieveRequest {
                    data_length: length,
                }),
            )?
        }
        BenchOp::Get => {
            let mut stream = connector.connect().await.map_err(setup)?;
            let create = encode(args.protocol, create_aes_256())?;
            let response = exchange(&mut stream, &create, None)
                .await
                .map_err(|e| setup(format!("creating the key to Get: {e}")))?;
            let uid = response
                .child(tags::BATCH_ITEM)
                .and_then(|i| i.child(tags::RESPONSE_PAYLOAD))
                .and_then(|p| p.child(tags::UNIQUE_IDENTIFIER))
                .and_then(|u| match &u.value {
                    Value::TextString(s) => Some(s.clone()),
                    _ => None,
                })
                .ok_or_else(|| setup("Create answered without a Unique Identifier".into()))?;
            encode(
                args.protocol,
                RequestPayload::Get(GetRequest {
                    unique_identifier: Some(uid),
                    ..GetRequest::default()
                }),
            )?
        }
    })
}

struct Report {
    elapsed: Duration,
    /// Per-request latencies, microseconds, sorted.
    latencies: Vec<u32>,
    bytes_per_op: Option<usize>,
}

async fn bench(args: &BenchArgs, config: ClientConfig) -> Result<Report, BenchError> {
    let rustls = config
        .rustls_config()
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let connector = Arc::new(Connector {
        connector: TlsConnector::from(Arc::new(rustls)),
        config,
    });
    let request = Arc::new(prepare(args, &connector).await?);
    let mut streams = Vec::with_capacity(args.connections);
    for connection in 0..args.connections {
        let stream = connector
            .connect()
            .await
            .map_err(|message| BenchError::Run {
                connection,
                message,
            })?;
        streams.push(stream);
    }
    if args.op == BenchOp::Idle {
        return hold_idle(args, streams, &request).await;
    }
    let rng_bytes = (args.op == BenchOp::Rng).then_some(args.rng_bytes);
    let start = Instant::now();
    let deadline = start + args.duration;
    let mut workers = Vec::with_capacity(streams.len());
    for (connection, mut stream) in streams.into_iter().enumerate() {
        let request = Arc::clone(&request);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                exchange(&mut stream, &request, rng_bytes)
                    .await
                    .map_err(|message| BenchError::Run {
                        connection,
                        message,
                    })?;
                latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            Ok::<_, BenchError>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for (connection, worker) in workers.into_iter().enumerate() {
        let done = worker.await.map_err(|e| BenchError::Run {
            connection,
            message: format!("worker stopped: {e}"),
        })??;
        latencies.extend(done);
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Ok(Report {
        elapsed,
        latencies,
        bytes_per_op: rng_bytes,
    })
}

/// Proves every connection with one request, then keeps them all open and silent for the duration.
async fn hold_idle(
    args: &BenchArgs,
    mut streams: Vec<Stream>,
    request: &[u8],
) -> Result<Report, BenchError> {
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(streams.len());
    for (connection, stream) in streams.iter_mut().enumerate() {
        let sent = Instant::now();
        exchange(stream, request, Some(16))
            .await
            .map_err(|message| BenchError::Run {
                connection,
                message,
            })?;
        latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    println!(
        "holding {} idle connections for {:?} (pid {})",
        streams.len(),
        args.duration,
        std::process::id()
    );
    tokio::time::sleep(args.duration).await;
    drop(streams);
    latencies.sort_unstable();
    Ok(Report {
        elapsed: start.elapsed(),
        latencies,
        bytes_per_op: None,
    })
}

impl Report {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies.len()) - 1;
        Duration::from_micros(u64::from(self.latencies[index]))
    }

    fn print(&self, args: &BenchArgs) {
        let ops = self.latencies.len();
        let seconds = self.elapsed.as_secs_f64();
        let rate = ops as f64 / seconds;
        println!(
            "{:?} x {} connection(s), {:.1} s, KMIP {}: {ops} operations, {rate:.0} ops/s",
            args.op, args.connections, seconds, args.protocol
        );
        if let Some(bytes) = self.bytes_per_op {
            let total = (bytes * ops) as f64;
            println!(
                "throughput: {:.1} MB/s ({:.2} GiB/s) with {bytes}-byte requests",
                total / seconds / 1e6,
                total / seconds / (1u64 << 30) as f64
            );
        }
        println!(
            "latency: p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
            self.percentile(50.0),
            self.percentile(90.0),
            self.percentile(99.0),
            self.percentile(100.0)
        );
    }
}

/// `10s`, `500ms`, `2m`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?} (try 10s, 500ms, 2m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown duration unit {unit:?} (ms, s, m)")),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("duration {text:?} must be positive"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `1M` (MiB), `64K` (KiB), or plain bytes.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, scale) = match text.char_indices().last() {
        Some((at, 'K' | 'k')) => (&text[..at], 1 << 10),
        Some((at, 'M' | 'm')) => (&text[..at], 1 << 20),
        _ => (text, 1),
    };
    let value: usize = number
        .parse()
        .map_err(|_| format!("invalid size {text:?} (try 1M, 64K, 4096)"))?;
    value
        .checked_mul(scale)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("size {text:?} must be positive and fit in memory"))
}

/// `2.1`, `1.4`, ...
fn parse_version(text: &str) -> Result<ProtocolVersion, String> {
    let (major, minor) = text
        .split_once('.')
        .ok_or_else(|| format!("invalid protocol version {text:?} (try 2.1)"))?;
    let parse = |s: &str| {
        s.parse::<i32>()
            .map_err(|_| format!("invalid protocol version {text:?}"))
    };
    Ok(ProtocolVersion::new(parse(major)?, parse(minor)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse_with_units() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5h").is_err());
        assert_eq!(parse_size("1M").unwrap(), 1 << 20);
        assert_eq!(parse_size("64K").unwrap(), 65536);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("0").is_err());
        assert!(parse_size("xM").is_err());
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let report = Report {
            elapsed: Duration::from_secs(1),
            latencies: (1..=100).collect(),
            bytes_per_op: None,
        };
        assert_eq!(report.percentile(50.0), Duration::from_micros(50));
        assert_eq!(report.percentile(99.0), Duration::from_micros(99));
        assert_eq!(report.percentile(100.0), Duration::from_micros(100));
    }

    #[test]
    fn requests_encode_in_both_protocol_families() {
        for version in [ProtocolVersion::new(1, 2), ProtocolVersion::new(2, 1)] {
            let bytes = encode(version, create_aes_256()).unwrap();
            let item = ttlv::binary::decode(&bytes).unwrap();
            assert_eq!(item.tag, tags::REQUEST_MESSAGE);
        }
    }
}
