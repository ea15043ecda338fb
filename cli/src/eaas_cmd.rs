//! `qkms eaas fetch` and `qkms eaas verify`: entropy as a service from the command line.
//!
//! `fetch` sends a fresh random nonce (from this host's own entropy pool), verifies the answer completely (CA
//! chain, signature, nonce, freshness, and the chain link when `--previous` is given) and only then writes the
//! bytes and the envelope. `verify` checks a saved envelope later, against the data file and the previous
//! envelope of the same server.
//!
//! `fetch --encrypt KEYID --decrypt-key FILE` asks for the bytes HPKE-encrypted to the X25519 public key the
//! tenant registered under KEYID, verifies the envelope, and writes the bytes decrypted with FILE (the PKCS#8
//! private key); `verify --decrypt-key FILE` opens a saved encrypted envelope to compare `--data` with it.

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
    /// Ask for HPKE-encrypted bytes: the key identifier on the server and the private key that opens them.
    pub recipient: Option<Recipient>,
}

/// The key pair of encrypted fetches: the identifier the tenant registered the public key under, and the
/// private key.
pub struct Recipient {
    pub key_id: String,
    pub key: Arc<eaas::hpke::X25519SecretKey>,
}

/// Reads an X25519 private key (PKCS#8, PEM or DER).
pub fn read_decryption_key(path: &Path) -> Result<Arc<eaas::hpke::X25519SecretKey>, Error> {
    let file = zeroize::Zeroizing::new(
        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
    );
    eaas::hpke::X25519SecretKey::from_pkcs8(&file)
        .map(Arc::new)
        .map_err(|e| {
            format!(
                "{}: not a PKCS#8 X25519 private key (openssl genpkey -algorithm X25519): {e}",
                path.display()
            )
            .into()
        })
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
            recipient: None,
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
        let tls = Arc::clone(&self.tls);
        let size = usize::try_from(bytes)?;
        let envelope = match &self.recipient {
            None => eaas::fetch(tls, &self.address, &self.server_name, size, &nonce).await?,
            Some(recipient) => {
                eaas::fetch_encrypted(
                    tls,
                    &self.address,
                    &self.server_name,
                    size,
                    &nonce,
                    &recipient.key_id,
                )
                .await?
            }
        };
        let mut options =
            eaas::VerifyOptions::new(self.ca_certificates.clone()).expect_nonce(&nonce);
        options.max_skew = self.max_skew;
        options.previous = previous;
        options.decryption_key = self.recipient.as_ref().map(|r| Arc::clone(&r.key));
        // An encrypted answer to a plain request, or the reverse, is not what was asked for.
        match (&envelope.encryption, &self.recipient) {
            (Some(encryption), None) => {
                return Err(format!(
                    "the server encrypted the bytes to {:?} though none was asked",
                    encryption.key
                )
                .into())
            }
            (None, Some(recipient)) => {
                return Err(format!(
                    "the server sent the bytes unencrypted though encryption to {:?} was asked",
                    recipient.key_id
                )
                .into())
            }
            (Some(encryption), Some(recipient)) if encryption.key != recipient.key_id => {
                return Err(format!(
                    "the bytes are encrypted to {:?}, not the {:?} asked for",
                    encryption.key, recipient.key_id
                )
                .into())
            }
            _ => {}
        }
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
    /// Ask for the bytes HPKE-encrypted to the X25519 public key registered (KMIP Register) under this
    /// Unique Identifier.
    #[arg(long, value_name = "KEYID", requires = "decrypt_key")]
    encrypt: Option<String>,
    /// The X25519 private key (PKCS#8 PEM or DER) that decrypts them; the decrypted bytes are written.
    #[arg(long, value_name = "FILE", requires = "encrypt")]
    decrypt_key: Option<PathBuf>,
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
    /// The X25519 private key (PKCS#8 PEM or DER) of an encrypted envelope: `--data` is compared with the
    /// decrypted bytes.
    #[arg(long, value_name = "FILE")]
    decrypt_key: Option<PathBuf>,
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
    let mut connection = Connection::open(&args.connection)?;
    if let (Some(key_id), Some(path)) = (&args.encrypt, &args.decrypt_key) {
        connection.recipient = Some(Recipient {
            key_id: key_id.clone(),
            key: read_decryption_key(path)?,
        });
    }
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
        "{} bytes from {} (sequence {}, {}), verified{}; provenance: {} ({})",
        verified.data.len(),
        envelope.server,
        envelope.sequence,
        envelope.time,
        match &envelope.encryption {
            Some(encryption) => format!(", HPKE-decrypted (key {})", encryption.key),
            None => String::new(),
        },
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
    options.decryption_key = args
        .decrypt_key
        .as_deref()
        .map(read_decryption_key)
        .transpose()?;
    let verified = eaas::verify(&envelope, &options)?;
    println!(
        "valid: {} {} from {} (tenant {}, sequence {}, {}), chain hash {}",
        verified.data.len(),
        match (&envelope.encryption, verified.sealed) {
            (None, _) => "bytes".to_owned(),
            (Some(e), true) => format!("bytes HPKE-encrypted to key {} (not decrypted)", e.key),
            (Some(e), false) => format!("bytes, HPKE-decrypted (key {})", e.key),
        },
        envelope.server,
        envelope.tenant,
        envelope.sequence,
        envelope.time,
        verified.chain_hash
    );
    Ok(())
}
