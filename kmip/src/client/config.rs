//! Client configuration and PEM loading.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use ttlv::Limits;

use super::ClientError;
use crate::version::ProtocolVersion;

/// Everything a [`super::Client`] needs to reach a server over mutual TLS.
pub struct ClientConfig {
    /// `host:port` to connect to.
    pub address: String,
    /// The name the server certificate must carry (DNS name or IP address).
    pub server_name: ServerName<'static>,
    /// Trust anchors for the server certificate.
    pub ca_certificates: Vec<CertificateDer<'static>>,
    /// The client certificate chain (leaf first) presented to the server; required.
    pub client_certificates: Vec<CertificateDer<'static>>,
    pub client_key: PrivateKeyDer<'static>,
    /// The crypto provider for TLS. Its randomness is the caller's (qkms passes the entropy pool's provider).
    pub provider: Arc<CryptoProvider>,
    /// The version requests are sent in. Default 2.1.
    pub protocol_version: ProtocolVersion,
    /// Bounds on responses read. Default [`Limits::default`].
    pub limits: Limits,
    /// Bound on connecting, and on each request/response exchange. Default 30 s.
    pub timeout: Duration,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("address", &self.address)
            .field("server_name", &self.server_name)
            .field("ca_certificates", &self.ca_certificates.len())
            .field("client_certificates", &self.client_certificates.len())
            .field("client_key", &"[REDACTED]")
            .field("protocol_version", &self.protocol_version)
            .field("limits", &self.limits)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A configuration with the defaults above; `server_name` is checked here.
    pub fn new(
        address: impl Into<String>,
        server_name: &str,
        ca_certificates: Vec<CertificateDer<'static>>,
        client_certificates: Vec<CertificateDer<'static>>,
        client_key: PrivateKeyDer<'static>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, ClientError> {
        let server_name = ServerName::try_from(server_name.to_owned()).map_err(|e| {
            ClientError::Config(format!("invalid server name {server_name:?}: {e}"))
        })?;
        if client_certificates.is_empty() {
            return Err(ClientError::Config(
                "a client certificate is required (mutual TLS)".into(),
            ));
        }
        if ca_certificates.is_empty() {
            return Err(ClientError::Config(
                "at least one CA certificate is required".into(),
            ));
        }
        Ok(Self {
            address: address.into(),
            server_name,
            ca_certificates,
            client_certificates,
            client_key,
            provider,
            protocol_version: ProtocolVersion::V2_1,
            limits: Limits::default(),
            timeout: Duration::from_secs(30),
        })
    }

    pub fn with_protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.protocol_version = version;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The rustls configuration: the caller's provider, its default protocol versions, the CA roots and the
    /// client certificate.
    pub fn rustls_config(&self) -> Result<rustls::ClientConfig, ClientError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in &self.ca_certificates {
            roots
                .add(cert.clone())
                .map_err(|e| ClientError::Config(format!("invalid CA certificate: {e}")))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(ClientError::Tls)?
            .with_root_certificates(roots)
            .with_client_auth_cert(
                self.client_certificates.clone(),
                self.client_key.clone_key(),
            )
            .map_err(ClientError::Tls)?;
        Ok(config)
    }
}

/// Every certificate in PEM text.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let mut reader = pem;
    let certs = rustls_pemfile::certs(&mut reader)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientError::Config(format!("invalid PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(ClientError::Config("no certificate found in PEM".into()));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in PEM text.
pub fn private_key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>, ClientError> {
    let mut reader = pem;
    rustls_pemfile::private_key(&mut reader)
        .map_err(|e| ClientError::Config(format!("invalid PEM private key: {e}")))?
        .ok_or_else(|| ClientError::Config("no private key found in PEM".into()))
}

/// [`certificates_from_pem`] of a file.
pub fn certificates_from_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let pem =
        std::fs::read(path).map_err(|e| ClientError::Config(format!("{}: {e}", path.display())))?;
    certificates_from_pem(&pem)
}

/// [`private_key_from_pem`] of a file.
pub fn private_key_from_file(path: &Path) -> Result<PrivateKeyDer<'static>, ClientError> {
    let pem = zeroize::Zeroizing::new(
        std::fs::read(path).map_err(|e| ClientError::Config(format!("{}: {e}", path.display())))?,
    );
    private_key_from_pem(&pem)
}
