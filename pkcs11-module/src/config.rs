//! The module's configuration: one TOML file named by `QKMS_PKCS11_CONFIG`, loaded once by C_Initialize.
//!
//! ```toml
//! server = "127.0.0.1:5696"        # KMIP over mutual TLS (required)
//! server_name = "localhost"        # name the server certificate must carry (default: the host of `server`)
//! ca = "pki/ca.pem"                # trust anchors for the server certificate (required)
//! timeout_seconds = 30             # connect and per-request bound (default 30)
//! pool_size = 4                    # idle connections kept per token (default 4)
//!
//! [[token]]                        # one slot and token per identity (tenant); at least one
//! label = "qkms default"           # CKA token label, at most 32 bytes (default "qkms <n>")
//! certificate = "pki/pkcs11.pem"   # the machine identity (PEM, unencrypted, 0600): used before C_Login
//! key = "pki/pkcs11.key"
//! user_pin = "server"              # the server checks the user PIN (what `qkms-server --init` writes)
//! # or: pkcs12 = "pki/client.p12"  # identity as a PKCS#12 bundle whose password is the user PIN (older design)
//! ```
//! Relative paths are taken from the configuration file's directory.
//!
//! **`user_pin = "server"`** (the default set-up): the certificate authenticates the machine, so public objects
//! and random numbers work before C_Login; C_Login sends the PIN to the server as a KMIP Username and Password
//! credential, and every request after it carries the PIN, which the server checks (argon2id hash, retry
//! counter: CKR_PIN_INCORRECT, then CKR_PIN_LOCKED) before private objects can be used.
//! **A PKCS#12 identity** instead: C_Login decrypts the bundle with the PIN (a wrong PIN fails the bundle's
//! integrity MAC: CKR_PIN_INCORRECT), and nothing reaches the server before it; the server never sees the PIN.
//! **A PEM identity without `user_pin`** has no PIN: its token does not require login and C_Login answers
//! CKR_USER_PIN_NOT_INITIALIZED.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::{Pkcs11Error, Result};

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "QKMS_PKCS11_CONFIG";
/// Longest token label (CK_TOKEN_INFO.label is 32 bytes, blank padded).
pub const MAX_LABEL: usize = 32;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    server: String,
    server_name: Option<String>,
    ca: PathBuf,
    timeout_seconds: Option<u64>,
    pool_size: Option<usize>,
    #[serde(default)]
    token: Vec<RawToken>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    label: Option<String>,
    pkcs12: Option<PathBuf>,
    certificate: Option<PathBuf>,
    key: Option<PathBuf>,
    /// `"server"`: the server checks the user PIN (PEM identity only).
    user_pin: Option<String>,
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct ModuleConfig {
    pub server: String,
    pub server_name: String,
    pub ca_certificates: Vec<CertificateDer<'static>>,
    pub timeout: Duration,
    pub pool_size: usize,
    pub tokens: Vec<TokenConfig>,
}

/// One identity: a slot and its token.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    pub label: String,
    pub credentials: Credentials,
    /// The server checks the user PIN (`user_pin = "server"`).
    pub server_pin: bool,
}

/// How a token authenticates to the server.
#[derive(Clone)]
pub enum Credentials {
    /// PEM certificate chain and key, usable without login.
    Pem(Identity),
    /// A PKCS#12 bundle, unlocked by the user PIN at C_Login.
    Pkcs12 { path: PathBuf, bundle: Vec<u8> },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pem(_) => f.write_str("Pem([REDACTED])"),
            Self::Pkcs12 { path, .. } => write!(f, "Pkcs12({})", path.display()),
        }
    }
}

/// A client certificate chain and its private key (zeroized on drop, redacted in `Debug`).
pub struct Identity {
    pub certificates: Vec<CertificateDer<'static>>,
    key_der: Zeroizing<Vec<u8>>,
    key_kind: KeyKind,
}

#[derive(Clone, Copy)]
enum KeyKind {
    Pkcs8,
    Pkcs1,
    Sec1,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self {
            certificates: self.certificates.clone(),
            key_der: self.key_der.clone(),
            key_kind: self.key_kind,
        }
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("certificates", &self.certificates.len())
            .field("key", &"[REDACTED]")
            .finish()
    }
}

impl Identity {
    /// The key in the form rustls takes.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        let der = self.key_der.to_vec();
        match self.key_kind {
            KeyKind::Pkcs8 => PrivateKeyDer::Pkcs8(der.into()),
            KeyKind::Pkcs1 => PrivateKeyDer::Pkcs1(der.into()),
            KeyKind::Sec1 => PrivateKeyDer::Sec1(der.into()),
        }
    }

    fn from_pem_files(certificate: &Path, key: &Path) -> Result<Self> {
        let certificates = read_certificates(certificate)?;
        let pem = Zeroizing::new(read(key)?);
        let parsed = rustls_pemfile::private_key(&mut pem.as_slice())
            .map_err(|e| config_error(key, e))?
            .ok_or_else(|| config_error(key, "no unencrypted private key in this PEM file"))?;
        let (key_kind, der) = match &parsed {
            PrivateKeyDer::Pkcs8(k) => (KeyKind::Pkcs8, k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => (KeyKind::Pkcs1, k.secret_pkcs1_der()),
            PrivateKeyDer::Sec1(k) => (KeyKind::Sec1, k.secret_sec1_der()),
            _ => return Err(config_error(key, "unsupported private key format")),
        };
        Ok(Self {
            certificates,
            key_der: Zeroizing::new(der.to_vec()),
            key_kind,
        })
    }

    /// Decrypts a PKCS#12 bundle with `password`. `None` when the password is wrong (the MAC or the key's
    /// decryption fails); an error when the bundle is malformed or holds no key with a certificate.
    pub fn from_pkcs12(bundle: &[u8], password: &str) -> Result<Option<Self>> {
        use p12_keystore::error::Error as P12Error;
        use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
        let store = match KeyStore::from_pkcs12(bundle, password, Pkcs12ImportPolicy::Strict) {
            Ok(store) => store,
            Err(P12Error::MacError(_) | P12Error::UnpadError) => return Ok(None),
            Err(other) => return Err(Pkcs11Error::Config(format!("PKCS#12 bundle: {other}"))),
        };
        let (_, chain) = store.private_key_chain().ok_or_else(|| {
            Pkcs11Error::Config("PKCS#12 bundle holds no private key with its certificate".into())
        })?;
        let certificates: Vec<CertificateDer<'static>> = chain
            .certs()
            .iter()
            .map(|c| CertificateDer::from(c.as_der().to_vec()))
            .collect();
        if certificates.is_empty() {
            return Err(Pkcs11Error::Config(
                "PKCS#12 bundle has no certificate".into(),
            ));
        }
        Ok(Some(Self {
            certificates,
            key_der: Zeroizing::new(chain.key().as_der().to_vec()),
            key_kind: KeyKind::Pkcs8,
        }))
    }
}

impl ModuleConfig {
    /// Loads the file named by `QKMS_PKCS11_CONFIG`.
    pub fn from_env() -> Result<Self> {
        let path = std::env::var_os(CONFIG_ENV).ok_or_else(|| {
            Pkcs11Error::Config(format!(
                "{CONFIG_ENV} is not set: it must name the module's TOML configuration file"
            ))
        })?;
        Self::from_file(Path::new(&path))
    }

    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| config_error(path, e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, base).map_err(|e| match e {
            Pkcs11Error::Config(text) => Pkcs11Error::Config(format!("{}: {text}", path.display())),
            other => other,
        })
    }

    /// Parses configuration text; relative paths are resolved against `base`.
    pub fn from_toml(text: &str, base: &Path) -> Result<Self> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| Pkcs11Error::Config(e.to_string()))?;
        let server_name = match raw.server_name {
            Some(name) => name,
            None => host_of(&raw.server)?,
        };
        let ca_certificates = read_certificates(&base.join(&raw.ca))?;
        if raw.token.is_empty() {
            return Err(Pkcs11Error::Config(
                "at least one [[token]] (an identity: pkcs12, or certificate and key) is required"
                    .into(),
            ));
        }
        let timeout = Duration::from_secs(raw.timeout_seconds.unwrap_or(30).clamp(1, 3600));
        let pool_size = raw.pool_size.unwrap_or(4).clamp(1, 64);
        let tokens = raw
            .token
            .into_iter()
            .enumerate()
            .map(|(i, t)| token(t, i, base))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            server: raw.server,
            server_name,
            ca_certificates,
            timeout,
            pool_size,
            tokens,
        })
    }
}

fn token(raw: RawToken, index: usize, base: &Path) -> Result<TokenConfig> {
    let label = raw.label.unwrap_or_else(|| format!("qkms {}", index + 1));
    if label.len() > MAX_LABEL {
        return Err(Pkcs11Error::Config(format!(
            "token label {label:?} is longer than {MAX_LABEL} bytes"
        )));
    }
    let server_pin = match raw.user_pin.as_deref() {
        None => false,
        Some("server") if raw.pkcs12.is_none() => true,
        Some(other) => {
            return Err(Pkcs11Error::Config(format!(
                "token {label:?}: user_pin = {other:?}: the only value is \"server\", with `certificate` and `key`"
            )))
        }
    };
    let credentials = match (raw.pkcs12, raw.certificate, raw.key) {
        (Some(p12), None, None) => {
            let path = base.join(p12);
            let bundle = read(&path)?;
            Credentials::Pkcs12 { path, bundle }
        }
        (None, Some(cert), Some(key)) => {
            Credentials::Pem(Identity::from_pem_files(&base.join(cert), &base.join(key))?)
        }
        _ => {
            return Err(Pkcs11Error::Config(format!(
                "token {label:?}: give either `pkcs12`, or both `certificate` and `key`"
            )))
        }
    };
    Ok(TokenConfig {
        label,
        credentials,
        server_pin,
    })
}

fn host_of(server: &str) -> Result<String> {
    let host = match server.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        _ => {
            return Err(Pkcs11Error::Config(format!(
                "server {server:?} must be host:port"
            )))
        }
    };
    Ok(host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| config_error(path, e))
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read(path)?;
    let certificates = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| config_error(path, e))?;
    if certificates.is_empty() {
        return Err(config_error(path, "no PEM certificate in this file"));
    }
    Ok(certificates)
}

fn config_error(path: &Path, error: impl std::fmt::Display) -> Pkcs11Error {
    Pkcs11Error::Config(format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_are_named() {
        let error =
            ModuleConfig::from_toml("server = \"127.0.0.1:1\"", Path::new("/")).unwrap_err();
        assert!(error.to_string().contains("ca"), "{error}");
    }

    #[test]
    fn unreadable_ca_is_reported_with_its_path() {
        let text =
            "server = \"127.0.0.1:1\"\nca = \"/nonexistent/ca.pem\"\n[[token]]\npkcs12 = \"x\"\n";
        let error = ModuleConfig::from_toml(text, Path::new("/")).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn server_name_defaults_to_the_host() {
        assert_eq!(host_of("localhost:5696").unwrap(), "localhost");
        assert_eq!(host_of("[::1]:5696").unwrap(), "::1");
        assert!(host_of("localhost").is_err());
    }
}
