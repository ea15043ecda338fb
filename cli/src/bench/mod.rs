//! `qkms bench`: a KMIP load generator. N mutual-TLS connections, each sending one request at a time for a
//! fixed duration; prints operations per second, throughput for RNG Retrieve, latency percentiles, and the CPU
//! time client and server spent per operation.
//!
//! Requests are encoded once and resent byte for byte; every response is read into the connection's reused
//! buffer and checked without building a tree (Result Status Success on every batch item, and the byte count
//! where one is known), so the figures are for work the server really did while the client stays cheap.
//! Connections are opened before the clock starts.

mod check;
mod connect;
mod hpke_key;
mod parse;
mod report;
mod requests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use kmip::ProtocolVersion;

use check::{check_response, Expect};
use connect::{Connection, Connector};
use parse::{parse_duration, parse_size, parse_version};
use report::{CpuUse, Report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchOp {
    /// Get of one AES-256 key (created before the run).
    Get,
    /// Create of an AES-256 key (durable: acknowledged only once on disk).
    Create,
    /// RNG Retrieve of --rng-bytes bytes.
    Rng,
    /// Sign 32 bytes with a --key-type key pair (created and activated before the run): ECDSA with SHA-256
    /// for P-256 and SHA-384 for P-384, PKCS#1 v1.5 with SHA-256 for RSA, pure ML-DSA for ML-DSA-65.
    Sign,
    /// Encrypt --data-bytes bytes with AES-256-GCM under one key (created before the run; IV from the server).
    Encrypt,
    /// Create Key Pair of the --key-type kind (durable).
    CreateKeyPair,
    /// Encapsulate to an ML-KEM-768 public key (pair created before the run); each answer registers the
    /// shared secret as a Secret Data (durable), as the provisional operation does.
    Encapsulate,
    /// Decapsulate one ML-KEM-768 ciphertext (made by an Encapsulate before the run); durable like Encapsulate.
    Decapsulate,
    /// Entropy as a service: `GET /v1/random?bytes=--rng-bytes` on the HTTPS listener (keep-alive), each answer
    /// a signed JSON envelope checked for status 200 and its length. The address is the configuration's
    /// `[https] listen` unless --addr is given. --octet-stream asks for raw bytes (envelope in a header);
    /// --hpke registers an X25519 public key first and asks for HPKE-encrypted envelopes (`&encrypt=`).
    Eaas,
    /// Open the connections, prove each with one 16-byte RNG Retrieve, then hold them idle for --duration
    /// (for measuring the server's memory per idle connection).
    Idle,
}

/// The key pair kind for `sign` and `create-key-pair`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyKind {
    /// EC P-256 (ECDSA).
    P256,
    /// EC P-384 (ECDSA).
    P384,
    /// RSA 2048 bits.
    Rsa2048,
    /// RSA 3072 bits.
    Rsa3072,
    /// ML-DSA-65 (FIPS 204; Sign is pure ML-DSA, hedged).
    MlDsa65,
    /// ML-KEM-768 (FIPS 203; for create-key-pair).
    MlKem768,
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
    /// Key pair kind for --op sign and --op create-key-pair.
    #[arg(long, value_enum, default_value = "p256")]
    key_type: KeyKind,
    /// Concurrent connections, each with one request in flight.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// How long to run: 10s, 500ms, 2m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Bytes per RNG Retrieve: 1M, 64K, 4096.
    #[arg(long, default_value = "1M", value_parser = parse_size)]
    rng_bytes: usize,
    /// Plaintext bytes per Encrypt: 4K, 1M.
    #[arg(long, default_value = "4K", value_parser = parse_size)]
    data_bytes: usize,
    /// KMIP protocol version of the requests (1.2 for PyKMIP's server, which lacks 2.1).
    #[arg(long, default_value = "2.1", value_parser = parse_version)]
    protocol: ProtocolVersion,
    /// Client threads driving the connections (1: one event loop, leaving the other cores to the server).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// The server's process id, to report the CPU time it spent per operation (Linux /proc).
    #[arg(long)]
    server_pid: Option<u32>,
    /// For --op eaas: `Accept: application/octet-stream` (raw bytes in the body, the envelope in a header).
    #[arg(long)]
    octet_stream: bool,
    /// For --op eaas: register an X25519 public key (KMIP over HTTPS, before the clock starts) and ask for every
    /// envelope HPKE-encrypted to it.
    #[arg(long)]
    hpke: bool,
    /// For --op sign and --op encrypt: make the key in the HSM with this token label (custom attribute
    /// `x-qkms-hsm`; the server needs `[hsm] hold_keys = true`), so every operation runs inside the HSM.
    #[arg(long, value_name = "TOKEN_LABEL")]
    hsm: Option<String>,
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
    if args.connections == 0 || args.client_threads == 0 {
        return Err(BenchError::Setup(
            "--connections and --client-threads must be at least 1".into(),
        ));
    }
    let config = connect::client_config(&args)?;
    let runtime = if args.client_threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.client_threads)
            .enable_all()
            .build()
    }
    .map_err(|e| BenchError::Setup(format!("tokio runtime: {e}")))?;
    let report = runtime.block_on(bench(&args, Connector::new(config)?))?;
    report.print(&args);
    Ok(())
}

async fn bench(args: &BenchArgs, connector: Connector) -> Result<Report, BenchError> {
    let prepared = requests::prepare(args, &connector).await?;
    let mut connections = Vec::with_capacity(args.connections);
    for connection in 0..args.connections {
        let opened = connector
            .connect()
            .await
            .map_err(|message| BenchError::Run {
                connection,
                message,
            })?;
        connections.push(opened);
    }
    if args.op == BenchOp::Idle {
        return hold_idle(args, connections, &prepared.request, prepared.expect).await;
    }
    let server = args.server_pid.map(|pid| pid.to_string());
    let cpu_now = |pid: &str| report::process_cpu_seconds(pid).ok();
    let load_before = report::load_average();
    let (client_before, server_before) = (cpu_now("self"), server.as_deref().and_then(cpu_now));
    let start = Instant::now();
    let deadline = start + args.duration;
    let request: Arc<[u8]> = prepared.request.into();
    let mut workers = Vec::with_capacity(connections.len());
    for (connection, stream) in connections.into_iter().enumerate() {
        workers.push(tokio::spawn(repeat(
            connection,
            stream,
            Arc::clone(&request),
            prepared.expect,
            deadline,
        )));
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
    let spent = |before: Option<f64>, pid: Option<&str>| Some(cpu_now(pid?)? - before?);
    let cpu = CpuUse {
        client: spent(client_before, Some("self")),
        server: spent(server_before, server.as_deref()),
        load_before,
        load_after: report::load_average(),
    };
    latencies.sort_unstable();
    Ok(Report {
        elapsed,
        latencies,
        bytes_per_op: match prepared.expect {
            Expect::DataBytes(bytes) if args.op == BenchOp::Rng => Some(bytes),
            Expect::HttpOk => Some(args.rng_bytes),
            _ => None,
        },
        cpu,
    })
}

/// One connection's loop: send, read, check, note the latency, until the deadline.
async fn repeat(
    connection: usize,
    mut stream: Connection,
    request: Arc<[u8]>,
    expect: Expect,
    deadline: Instant,
) -> Result<Vec<u32>, BenchError> {
    let failed = |message| BenchError::Run {
        connection,
        message,
    };
    let mut latencies = Vec::with_capacity(1 << 16);
    loop {
        let sent = Instant::now();
        if sent >= deadline {
            return Ok(latencies);
        }
        match expect {
            Expect::HttpOk => {
                stream.exchange_http(&request).await.map_err(failed)?;
            }
            _ => {
                let response = stream.exchange(&request).await.map_err(failed)?;
                check_response(response, expect).map_err(failed)?;
            }
        }
        latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
}

/// Proves every connection with one request, then keeps them all open and silent for the duration.
async fn hold_idle(
    args: &BenchArgs,
    mut connections: Vec<Connection>,
    request: &[u8],
    expect: Expect,
) -> Result<Report, BenchError> {
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(connections.len());
    for (connection, stream) in connections.iter_mut().enumerate() {
        let sent = Instant::now();
        let failed = |message| BenchError::Run {
            connection,
            message,
        };
        let response = stream.exchange(request).await.map_err(failed)?;
        check_response(response, expect).map_err(failed)?;
        latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    println!(
        "holding {} idle connections for {:?} (pid {})",
        connections.len(),
        args.duration,
        std::process::id()
    );
    tokio::time::sleep(args.duration).await;
    drop(connections);
    latencies.sort_unstable();
    Ok(Report {
        elapsed: start.elapsed(),
        latencies,
        bytes_per_op: None,
        cpu: CpuUse::default(),
    })
}
