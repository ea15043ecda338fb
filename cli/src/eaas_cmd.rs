//! `qkms eaas fetch` and `qkms eaas verify`: entropy as a service from the command line.
//!
//! `fetch` sends a fresh random nonce (from this host's own entropy pool), verifies the answer completely (CA
//! chain, signature, nonce, freshness, and the chain link when `--previous` is given) and only then writes the
//! bytes and the envelope. `verify` checks a saved envelope later, against the data file and the previous
//! envelope of the same server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use kmip::client::{certificates_from_file, private_key_from_file, ClientConfig};

type Error = Box<dyn std::error::Error>;

#[derive(Debug, Args)]
pub struct EaasArgs {
    #[command(subcommand)]
    command: EaasCommand,
}

#[derive(Debug, Subcommand)]
enum EaasCommand {
    /// Fetch N random bytes in a signed envelope, verify it, write the bytes and the envelope.
    Fetch(FetchArgs),
    /// Verify a saved envelope: CA chain, signature, freshness, and optionally the data, nonce and chain link.
    Verify(VerifyArgs),
}

/// Where the server is and who the client is (shared by `fetch` and `qkms feed`).
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The server's configuration (its `[https] listen` address and `pki/` directory are used).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The HTTPS address, instead of the configured `[https] listen`.
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Client certificate (PEM). Default: DIR/pki/client.pem.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Client key (PEM). Default: DIR/pki/client.key.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The CA of the server and envelope certificates. Default: DIR/pki/ca.pem.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The name the server certificate must carry.
    #[arg(long, value_name = "NAME", default_value = "localhost")]
    pub server_name: String,
    /// Largest clock difference accepted, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub max_skew_secs: u64,
}

/// A connection ready to fetch: the address, TLS configuration, trust anchors and this host's own pool (for
/// nonces).
pub struct Connection {
    pub address: String,
    pub server_name: String,
    pub tls: Arc<rustls::ClientConfig>,
    pub ca_certificates: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub pool: entropy::EntropyPool,
    pub max_skew: Duration,
}

impl Connection {
    pub fn open(args: &ConnectionArgs) -> Result<Self, Error> {
        let dir = args.config.parent().unwrap_or(Path::new("."));
        let pki = dir.join("pki");
        let address = match &args.addr {
            Some(address) => address.clone(),
            None => crate::entropy_cmd::https_address(&args.config)?,
        };
        let cert = args.cert.clone().unwrap_or_else(|| pki.join("client.pem"));
        let key = args.key.clone().unwrap_or_else(|| pki.join("client.key"));
        let ca = args.ca.clone().unwrap_or_else(|| pki.join("ca.pem"));
        let ca_certificates = certificates_from_file(&ca)?;
        let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default())?;
        let client = ClientConfig::new(
            address.clone(),
            &args.server_name,
            ca_certificates.clone(),
            certificates_from_file(&cert)?,
            private_key_from_file(&key)?,
            pool.rustls_provider(),
        )?;
        Ok(Self {
            tls: Arc::new(client.rustls_config()?),
            address,
            server_name: args.server_name.clone(),
            ca_certificates,
            pool,
            max_skew: Duration::from_secs(args.max_skew_secs),
        })
    }

    /// Fetches `bytes` with a fresh 32-byte nonce and verifies the envelope completely (linking it to
    /// `previous` when given); returns it with its data.
    pub async fn fetch_verified(
        &self,
        bytes: u64,
        previous: Option<eaas::Envelope>,
    ) -> Result<(eaas::Envelope, eaas::Verified), Error> {
        let mut nonce = [0u8; 32];
        self.pool.fill(&mut nonce)?;
        let nonce = hex::encode(nonce);
        let envelope = eaas::fetch(
            Arc::clone(&self.tls),
            &self.address,
            &self.server_name,
            usize::try_from(bytes)?,
            &nonce,
        )
        .await?;
        let mut options =
            eaas::VerifyOptions::new(self.ca_certificates.clone()).expect_nonce(&nonce);
        options.max_skew = self.max_skew;
        options.previous = previous;
        let verified = eaas::verify(&envelope, &options)?;
        if verified.data.len() as u64 != bytes {
            return Err(format!(
                "asked for {bytes} bytes, the envelope holds {}",
                verified.data.len()
            )
            .into());
        }
        Ok((envelope, verified))
    }
}

#[derive(Debug, Args)]
struct FetchArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    /// How many random bytes.
    #[arg(long, value_name = "N")]
    bytes: u64,
    /// Where to write the bytes (only after the envelope verified).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Where to write the envelope (JSON).
    #[arg(long, value_name = "FILE")]
    envelope: PathBuf,
    /// The previous envelope of the same server: the new one must link to it.
    #[arg(long, value_name = "FILE")]
    previous: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The envelope (JSON).
    #[arg(long, value_name = "FILE")]
    envelope: PathBuf,
    /// The CA certificate (PEM) the envelope's certificate must chain to.
    #[arg(long, value_name = "FILE")]
    ca: PathBuf,
    /// The bytes written with the envelope: they must be its data.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// The same server's envelope just before this one.
    #[arg(long, value_name = "FILE")]
    previous: Option<PathBuf>,
    /// The nonce the request sent (hex).
    #[arg(long, value_name = "HEX")]
    nonce: Option<String>,
    /// Largest distance between the envelope's time and now, in seconds (a saved envelope is old: raise it).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    max_skew_secs: u64,
}

pub fn run(args: EaasArgs) -> Result<(), Error> {
    match args.command {
        EaasCommand::Fetch(args) => fetch(&args),
        EaasCommand::Verify(args) => verify(&args),
    }
}

pub fn read_envelope(path: &Path) -> Result<eaas::Envelope, Error> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    eaas::Envelope::from_json(&text).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn fetch(args: &FetchArgs) -> Result<(), Error> {
    let connection = Connection::open(&args.connection)?;
    let previous = args.previous.as_deref().map(read_envelope).transpose()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (envelope, verified) = runtime.block_on(connection.fetch_verified(args.bytes, previous))?;
    std::fs::write(&args.out, &verified.data)
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    std::fs::write(&args.envelope, envelope.to_json())
        .map_err(|e| format!("{}: {e}", args.envelope.display()))?;
    println!(
        "{} bytes from {} (sequence {}, {}), verified; provenance: {} ({})",
        verified.data.len(),
        envelope.server,
        envelope.sequence,
        envelope.time,
        if envelope.provenance.quantum {
            "quantum"
        } else {
            "not quantum"
        },
        envelope.provenance.sources.join(", ")
    );
    Ok(())
}

fn verify(args: &VerifyArgs) -> Result<(), Error> {
    let envelope = read_envelope(&args.envelope)?;
    let mut options = eaas::VerifyOptions::new(certificates_from_file(&args.ca)?);
    options.max_skew = Duration::from_secs(args.max_skew_secs);
    options.expected_nonce = args.nonce.clone();
    options.previous = args.previous.as_deref().map(read_envelope).transpose()?;
    options.data = args
        .data
        .as_deref()
        .map(|path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display())))
        .transpose()?;
    let verified = eaas::verify(&envelope, &options)?;
    println!(
        "valid: {} bytes from {} (tenant {}, sequence {}, {}), chain hash {}",
        verified.data.len(),
        envelope.server,
        envelope.tenant,
        envelope.sequence,
        envelope.time,
        verified.chain_hash
    );
    Ok(())
}
