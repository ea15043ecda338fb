//! Talking to the server: raw TTLV items over mutual TLS, exactly as the test case wrote them (the typed
//! `kmip` messages would normalise what a case deliberately sends).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kmip::client::{certificates_from_file, private_key_from_file, ClientConfig};
use kmip::transport::{self, TransportError};
use rustls::crypto::CryptoProvider;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use ttlv::{Item, Limits};

/// Why an exchange produced no response message.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("client configuration: {0}")]
    Config(String),
    #[error("connect to {address}: {error}")]
    Connect {
        address: String,
        error: std::io::Error,
    },
    #[error("TLS handshake with {address}: {error}")]
    Handshake {
        address: String,
        error: std::io::Error,
    },
    #[error("cannot encode the request: {0}")]
    Encode(#[from] ttlv::EncodeError),
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    #[error("the response is not valid TTLV: {0}")]
    Decode(#[from] ttlv::DecodeError),
    #[error("HTTPS: {0}")]
    Http(String),
    #[error("this case runs over HTTPS, and the server has no HTTPS listener configured ([https] enabled = true)")]
    NoHttpsListener,
}

/// Sends one request message and returns the response message. The runner drives this; tests implement it
/// without a network.
pub trait Exchange {
    fn exchange(&mut self, request: &Item) -> impl Future<Output = Result<Item, ExchangeError>>;
}

/// The client certificate bundle `qkms-server --init DIR` writes under `DIR/pki/`.
#[derive(Clone, Debug)]
pub struct ClientBundle {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl ClientBundle {
    /// `DIR/pki/ca.pem`, `DIR/pki/client.pem`, `DIR/pki/client.key`.
    pub fn in_init_dir(dir: &Path) -> Self {
        let pki = dir.join("pki");
        Self {
            ca: pki.join("ca.pem"),
            cert: pki.join("client.pem"),
            key: pki.join("client.key"),
        }
    }
}

/// Where the server is and how to authenticate to it.
#[derive(Clone, Debug)]
pub struct Target {
    /// `host:port`.
    pub address: String,
    /// The name the server certificate must carry; the host part of `address` by default.
    pub server_name: String,
    pub bundle: ClientBundle,
    /// Bound on connecting and on each exchange.
    pub timeout: Duration,
    /// `host:port` of the server's HTTPS listener, for the cases that run over HTTPS (MSGENC); `None` when it
    /// has none.
    pub https_address: Option<String>,
}

/// Keys under which a qkms configuration file may give the KMIP listen address, in any table.
const LISTEN_KEYS: &[&str] = &["listen", "kmip_listen", "listen_address", "address", "bind"];

impl Target {
    pub fn new(address: impl Into<String>, bundle: ClientBundle) -> Self {
        let address = address.into();
        Self {
            server_name: host_of(&address).to_owned(),
            address,
            bundle,
            timeout: Duration::from_secs(30),
            https_address: None,
        }
    }

    /// The target a `qkms-server --init DIR` set-up describes: the bundle beside `DIR/qkms.toml`, the address
    /// `listen` if given, else the one in the configuration file, else `127.0.0.1:5696`; the HTTPS listener's
    /// address from `[https]` when that says `enabled = true`.
    pub fn from_config(config: &Path, listen: Option<&str>) -> Result<Self, ExchangeError> {
        let dir = config.parent().unwrap_or(Path::new("."));
        let text = std::fs::read_to_string(config)
            .map_err(|e| ExchangeError::Config(format!("{}: {e}", config.display())))?;
        let table: toml::Table = text
            .parse()
            .map_err(|e| ExchangeError::Config(format!("{}: {e}", config.display())))?;
        let address = match listen {
            Some(address) => address.to_owned(),
            None => find_listen(&table).unwrap_or_else(|| "127.0.0.1:5696".to_owned()),
        };
        let mut target = Self::new(address, ClientBundle::in_init_dir(dir));
        target.https_address = https_listen(&table);
        Ok(target)
    }

    /// The rustls client configuration for this target, over `provider`.
    pub fn client_config(
        &self,
        provider: Arc<CryptoProvider>,
    ) -> Result<ClientConfig, ExchangeError> {
        let config_error = |e: kmip::client::ClientError| ExchangeError::Config(e.to_string());
        let ca = certificates_from_file(&self.bundle.ca).map_err(config_error)?;
        let certs = certificates_from_file(&self.bundle.cert).map_err(config_error)?;
        let key = private_key_from_file(&self.bundle.key).map_err(config_error)?;
        Ok(
            ClientConfig::new(&self.address, &self.server_name, ca, certs, key, provider)
                .map_err(config_error)?
                .with_timeout(self.timeout),
        )
    }
}

/// `[https] listen` when `[https] enabled = true`.
fn https_listen(table: &toml::Table) -> Option<String> {
    let https = table.get(HTTPS_TABLE)?.as_table()?;
    if https.get("enabled")?.as_bool()? {
        https.get("listen")?.as_str().map(str::to_owned)
    } else {
        None
    }
}

/// The table of the HTTPS listener, whose `listen` is not the KMIP TTLV address.
const HTTPS_TABLE: &str = "https";

/// The KMIP TTLV listen address: `[server] listen` if present, else a listen-like key in any other table.
fn find_listen(table: &toml::Table) -> Option<String> {
    let server = table
        .get("server")
        .and_then(toml::Value::as_table)
        .and_then(|server| server.get("listen"))
        .and_then(toml::Value::as_str);
    if let Some(listen) = server {
        return Some(listen.to_owned());
    }
    for (key, value) in table.iter().filter(|(key, _)| key.as_str() != HTTPS_TABLE) {
        match value {
            toml::Value::String(s) if LISTEN_KEYS.contains(&key.as_str()) && s.contains(':') => {
                return Some(s.clone())
            }
            toml::Value::Table(inner) => {
                if let Some(found) = find_listen(inner) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

/// `127.0.0.1` of `127.0.0.1:5696`, `::1` of `[::1]:5696`.
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// One mutual-TLS connection carrying raw TTLV messages.
pub struct TlsConnection {
    stream: TlsStream<TcpStream>,
    limits: Limits,
    timeout: Duration,
}

impl std::fmt::Debug for TlsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnection").finish_non_exhaustive()
    }
}

impl TlsConnection {
    /// Connects and completes the handshake.
    pub async fn connect(
        target: &Target,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, ExchangeError> {
        let stream = tokio::time::timeout(
            target.timeout,
            connect_tls(target, &target.address, provider, None),
        )
        .await
        .map_err(|_| ExchangeError::Transport(TransportError::Timeout(target.timeout)))??;
        Ok(Self {
            stream,
            limits: Limits::default(),
            timeout: target.timeout,
        })
    }
}

impl Exchange for TlsConnection {
    async fn exchange(&mut self, request: &Item) -> Result<Item, ExchangeError> {
        let bytes = ttlv::binary::encode(request)?;
        transport::write_message_timeout(&mut self.stream, &bytes, self.timeout).await?;
        let answer =
            transport::read_message_timeout(&mut self.stream, &self.limits, self.timeout).await?;
        Ok(ttlv::binary::decode_with(&answer, &self.limits)?)
    }
}

/// A TCP connection to `address` (Nagle off: KMIP is request/response) with the TLS handshake done, as `target`'s
/// client certificate, offering `alpn` when given. No time limit: callers put their own around it.
pub(crate) async fn connect_tls(
    target: &Target,
    address: &str,
    provider: Arc<CryptoProvider>,
    alpn: Option<&[u8]>,
) -> Result<TlsStream<TcpStream>, ExchangeError> {
    let config = target.client_config(provider)?;
    let mut rustls_config = config
        .rustls_config()
        .map_err(|e| ExchangeError::Config(e.to_string()))?;
    if let Some(protocol) = alpn {
        rustls_config.alpn_protocols = vec![protocol.to_vec()];
    }
    let connect_error = |error| ExchangeError::Connect {
        address: address.to_owned(),
        error,
    };
    let tcp = TcpStream::connect(address).await.map_err(connect_error)?;
    tcp.set_nodelay(true).map_err(connect_error)?;
    TlsConnector::from(Arc::new(rustls_config))
        .connect(config.server_name.clone(), tcp)
        .await
        .map_err(|error| ExchangeError::Handshake {
            address: address.to_owned(),
            error,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_the_address_without_port() {
        assert_eq!(host_of("127.0.0.1:5696"), "127.0.0.1");
        assert_eq!(host_of("[::1]:5696"), "::1");
        assert_eq!(host_of("localhost:1"), "localhost");
    }

    #[test]
    fn the_listen_address_is_found_in_any_table_and_overridable() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("qkms.toml");
        std::fs::write(
            &config,
            "[server]\nname = \"x\"\n[kmip]\nlisten = \"127.0.0.1:7000\"\n",
        )
        .unwrap();
        let target = Target::from_config(&config, None).unwrap();
        assert_eq!(target.address, "127.0.0.1:7000");
        assert_eq!(target.bundle.ca, dir.path().join("pki/ca.pem"));
        let target = Target::from_config(&config, Some("127.0.0.1:1")).unwrap();
        assert_eq!(target.address, "127.0.0.1:1");
        assert_eq!(target.https_address, None);
    }

    #[test]
    fn the_https_listener_is_taken_when_enabled_and_never_mistaken_for_the_kmip_address() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("qkms.toml");
        std::fs::write(
            &config,
            "[https]\nenabled = true\nlisten = \"127.0.0.1:8443\"\n[server]\nlisten = \"127.0.0.1:5696\"\n",
        )
        .unwrap();
        let target = Target::from_config(&config, None).unwrap();
        assert_eq!(target.address, "127.0.0.1:5696");
        assert_eq!(target.https_address.as_deref(), Some("127.0.0.1:8443"));
        std::fs::write(
            &config,
            "[https]\nenabled = false\nlisten = \"127.0.0.1:8443\"\n",
        )
        .unwrap();
        let target = Target::from_config(&config, None).unwrap();
        assert_eq!(target.address, "127.0.0.1:5696");
        assert_eq!(target.https_address, None);
    }
}
