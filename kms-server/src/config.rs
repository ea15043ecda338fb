//! The server configuration: one TOML file (`qkms.toml`), one struct, every option with a documented default.
//!
//! Relative paths in the file resolve against the file's own directory, so a set-up made by `--init DIR` can be
//! moved as a whole. [`Config::documented_toml`] writes the file `--init` creates, with every option commented.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use entropy::EntropyConfig;

use crate::store::Argon2Params;

mod documented_toml;
mod eaas;
mod limits;
mod reads_answered_after;
mod root_key;
mod store_kind;
pub use eaas::{EaasConfig, EaasLimits, EaasTenantLimits, EAAS_MAX_BYTES_PER_REQUEST};
pub use limits::LimitsConfig;
pub use reads_answered_after::ReadsAnsweredAfter;
pub use root_key::{HsmConfig, RootKeyConfig, RootKeyKind};
pub use store_kind::{StoreKind, DEFAULT_POOL_SIZE};

/// Loading or checking the configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: invalid configuration: {message}")]
    Parse { path: String, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole configuration file.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub tls: TlsConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub store: StoreConfig,
    /// The hash-chained audit log: where it lives and when it rotates.
    pub audit: AuditConfig,
    /// `[root_key]`: who holds the root key that wraps the store's data key (passphrase by default, or an HSM).
    pub root_key: RootKeyConfig,
    /// `[hsm]`: what the server does with the HSM named in `[root_key]` besides custody (seeding it).
    pub hsm: HsmConfig,
    /// The HTTPS listener (KMIP over HTTPS in TTLV, XML and JSON; /health; /metrics). Default off.
    pub https: HttpsConfig,
    /// `[eaas]`: entropy as a service on the HTTPS listener (signed random-bytes envelopes, usage, quotas).
    pub eaas: EaasConfig,
    /// Entropy sources, health-test thresholds and DRBG settings. Default: no sources, meaning the OS
    /// `getrandom` fallback (NOT quantum), which start-up, Query and every key's provenance say.
    pub entropy: EntropyConfig,
}

/// `[server]`
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// KMIP over TLS listen address. Default `127.0.0.1:5696` (the IANA KMIP port, loopback only).
    pub listen: String,
    /// Vendor Identification answered by Query. Default `qkms <version>`.
    pub vendor_identification: String,
    /// The largest RNG Retrieve a client may ask for, in bytes. Default 16 MiB.
    pub max_rng_retrieve: usize,
    /// Milliseconds the allocator keeps freed memory before returning it to the OS (see
    /// [`crate::allocator`]). Default 100; at most 10000.
    pub allocator_purge_delay_ms: u32,
    /// Whether the allocator's memory may be backed by transparent huge pages. Default false: a 2 MiB page stays
    /// resident while any part of it is in use (see [`crate::allocator`]).
    pub allocator_transparent_huge_pages: bool,
}

impl ServerConfig {
    /// The largest accepted `allocator_purge_delay_ms`.
    pub const MAX_ALLOCATOR_PURGE_DELAY_MS: u32 = 10_000;
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:5696".into(),
            vendor_identification: format!("qkms {}", env!("CARGO_PKG_VERSION")),
            max_rng_retrieve: 16 * 1024 * 1024,
            allocator_purge_delay_ms: 100,
            allocator_transparent_huge_pages: false,
        }
    }
}

/// `[tls]`
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM files of the CAs client certificates must chain to (at least one). Default `["pki/ca.pem"]`.
    pub ca_files: Vec<PathBuf>,
    /// The CA's private key, used only by `qkms-server issue-client`. Default `pki/ca.key`.
    pub ca_key: PathBuf,
    /// The server certificate chain (PEM, leaf first). Default `pki/server.pem`.
    pub certificate: PathBuf,
    /// The server private key (PEM, PKCS#8). Default `pki/server.key`.
    pub key: PathBuf,
    /// Extra DNS names or IP addresses for the server certificate `--init` makes (besides localhost,
    /// 127.0.0.1 and ::1). Default none.
    pub host_names: Vec<String>,
    /// While the entropy pool fails closed: handshakes draw from the OS generator (logged, counted as not
    /// quantum) or are refused. Default `os-fallback`.
    pub on_entropy_failure: entropy::tls::OnEntropyFailure,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            ca_files: vec![PathBuf::from("pki/ca.pem")],
            ca_key: PathBuf::from("pki/ca.key"),
            certificate: PathBuf::from("pki/server.pem"),
            key: PathBuf::from("pki/server.key"),
            host_names: Vec::new(),
            on_entropy_failure: entropy::tls::OnEntropyFailure::default(),
        }
    }
}

/// How a verified client certificate names its tenant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TenantMapping {
    /// The tenant is the certificate's subject Common Name.
    #[default]
    SubjectCn,
    /// The tenant is looked up by the SHA-256 fingerprint of the certificate (DER) in `[auth.fingerprints]`;
    /// certificates not listed are refused.
    Fingerprint,
}

/// `[auth]`
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `subject-cn` or `fingerprint`. Default `subject-cn`.
    pub tenant_mapping: TenantMapping,
    /// Fingerprint mapping: SHA-256 of the client certificate as hex (colons and case ignored) -> tenant.
    /// Default empty.
    pub fingerprints: BTreeMap<String, String>,
    /// Tenants (after mapping) that also hold the operator role. Default none.
    pub operators: Vec<String>,
    /// The user-PIN file (PIN-guarded tenants, see `user_pin`). Default `user-pins.json` beside the store. With
    /// a PostgreSQL store the records are in the database; those of this file it lacks are copied in at start.
    pub user_pins: Option<PathBuf>,
}

/// `[https]`: KMIP over HTTPS (KMIP Profiles 2.1 §6.3-6.5 encodings) beside the TTLV listener, with the same
/// TLS configuration and client-certificate authentication, plus `GET /health` and `GET /metrics`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpsConfig {
    /// Whether the HTTPS listener runs. Default false: KMIP's mandatory transport is TTLV on 5696, and a second
    /// listening port should be an operator's decision.
    pub enabled: bool,
    /// HTTPS listen address (HOST:PORT, IP address host). Default `127.0.0.1:8443` (loopback only).
    pub listen: String,
}

impl Default for HttpsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: "127.0.0.1:8443".into(),
        }
    }
}

/// `[store]`
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Where objects live: `sled` (the database at `path`) or `postgres` (at `url`). Default `sled`.
    pub kind: StoreKind,
    /// The sled database directory. Default `store`.
    pub path: PathBuf,
    /// `postgres`: the database (`postgresql://USER@HOST:PORT/DATABASE`; keep the password out of it and in
    /// `password_file`). Default unset.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// `postgres`: file holding the database password (first line; mode 0600). Default unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// `postgres`: connections each node keeps open at most. Default 16.
    pub pool_size: usize,
    /// `postgres`: PEM file of the CA(s) of the database's certificate; when set TLS is required and the
    /// server's name checked (rustls). Default unset: no TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca_file: Option<PathBuf>,
    /// `postgres`: the node's object cache in MiB (sealed rows as Get read them); 0 turns it off. Default 32.
    pub object_cache_mb: u64,
    /// `postgres`: how often the node renews its cache lease and reads the change log, in ms. Default 5.
    pub object_cache_poll_ms: u64,
    /// `postgres`: how long a renewal keeps the node's cache lease, in ms. Default 5000.
    pub object_cache_lease_ms: u64,
    /// File holding the root-key passphrase (first line; keep it mode 0600). Default `root.pass`.
    pub passphrase_file: PathBuf,
    /// Deprecated: the audit log's path, now `[audit] path`. Still read (a file written by an earlier `--init`
    /// has it); setting both is an error. Default unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log: Option<PathBuf>,
    /// sled's page cache in MiB: the bound on the store's cached pages (the server's largest memory user).
    /// Default 16; between 1 and 65536.
    pub cache_mb: u64,
    /// argon2id cost for deriving the root key, used when the store is created (an existing store keeps the
    /// parameters it was created with). Default 64 MiB, 3 passes, 1 lane.
    pub argon2: Argon2Params,
}

impl StoreConfig {
    /// The default sled page cache, in MiB (see BENCHMARKS.md, "The sled store at scale").
    pub const DEFAULT_CACHE_MB: u64 = 16;
    /// The largest accepted `cache_mb` (64 GiB).
    pub const MAX_CACHE_MB: u64 = 65536;

    /// The page cache in bytes.
    pub fn cache_bytes(&self) -> u64 {
        self.cache_mb * 1024 * 1024
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Sled,
            path: PathBuf::from("store"),
            url: String::new(),
            password_file: None,
            pool_size: store_kind::default_pool_size(),
            tls_ca_file: None,
            object_cache_mb: store_kind::DEFAULT_OBJECT_CACHE_MB,
            object_cache_poll_ms: store_kind::DEFAULT_OBJECT_CACHE_POLL_MS,
            object_cache_lease_ms: store_kind::DEFAULT_OBJECT_CACHE_LEASE_MS,
            passphrase_file: PathBuf::from("root.pass"),
            audit_log: None,
            cache_mb: Self::DEFAULT_CACHE_MB,
            argon2: Argon2Params::default(),
        }
    }
}

/// `[audit]`
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// The audit log's current file (JSON lines, hash-chained; `qkms audit verify` checks it and its rotated
    /// files). Default `audit.log`, beside the store.
    pub path: PathBuf,
    /// Before a record would take the current file past this many bytes, the file is renamed `<path>.000001`
    /// (then `.000002`, ...) and a new one continues the chain. Rotated files are never deleted by qkms.
    /// Default 67108864 (64 MiB); at least 4096.
    pub max_file_bytes: u64,
    /// PostgreSQL store only: the name of this node's audit chain in the database. Stable across restarts for
    /// one chain per node; two live nodes never share one (the second refuses to start). Default: this host's
    /// name and the KMIP listen address, `HOST/ADDRESS:PORT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// PostgreSQL store only: what a message that changed nothing waits for before its answer. Default
    /// `spooled`.
    pub answer_reads_after: ReadsAnsweredAfter,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from(crate::audit::AUDIT_LOG_FILE),
            max_file_bytes: crate::audit::DEFAULT_MAX_FILE_BYTES,
            node_id: None,
            answer_reads_after: ReadsAnsweredAfter::default(),
        }
    }
}

impl AuditConfig {
    /// The smallest `max_file_bytes` accepted: a few records per file.
    pub const MIN_FILE_BYTES: u64 = 4096;

    /// Longest `node_id` accepted.
    pub const MAX_NODE_ID_BYTES: usize = 200;

    /// The node id of this node's chain in the database: `[audit] node_id`, else derived from `listen`.
    pub fn node_id(&self, listen: &str) -> String {
        self.node_id
            .clone()
            .unwrap_or_else(|| crate::audit::default_node_id(listen))
    }

    /// The log's options.
    pub fn options(&self) -> crate::audit::AuditOptions {
        crate::audit::AuditOptions {
            max_file_bytes: self.max_file_bytes,
        }
    }
}

impl Config {
    /// Reads `path` and resolves its relative paths against the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        Self::from_toml(&text, base).map_err(|e| match e {
            ConfigError::Invalid(message) => ConfigError::Parse {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })
    }

    /// Parses TOML text, resolving relative paths against `base_dir`, and checks it.
    pub fn from_toml(text: &str, base_dir: &Path) -> Result<Self, ConfigError> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if let Some(old) = config.store.audit_log.take() {
            if config.audit.path != AuditConfig::default().path {
                return Err(ConfigError::Invalid(
                    "the audit log's path is set twice: keep [audit] path and remove [store] audit_log".into(),
                ));
            }
            config.audit.path = old;
        }
        config.resolve_paths(base_dir);
        config.validate()?;
        Ok(config)
    }

    /// Makes every relative path absolute under `base_dir`.
    pub fn resolve_paths(&mut self, base_dir: &Path) {
        let resolve = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base_dir.join(&*path);
            }
        };
        self.tls.ca_files.iter_mut().for_each(resolve);
        resolve(&mut self.tls.ca_key);
        resolve(&mut self.tls.certificate);
        resolve(&mut self.tls.key);
        resolve(&mut self.store.path);
        resolve(&mut self.store.passphrase_file);
        self.store.password_file.iter_mut().for_each(resolve);
        self.store.tls_ca_file.iter_mut().for_each(resolve);
        resolve(&mut self.audit.path);
        resolve(&mut self.root_key.pin_file);
        resolve(&mut self.eaas.signing_certificate);
        resolve(&mut self.eaas.signing_key);
        resolve(&mut self.eaas.state_file);
        resolve(&mut self.eaas.beacon_dir);
        self.auth.user_pins.iter_mut().for_each(resolve);
        if !self.root_key.module.as_os_str().is_empty() {
            resolve(&mut self.root_key.module);
        }
        for source in &mut self.entropy.sources {
            source.path.iter_mut().for_each(resolve);
            source.ca_file.iter_mut().for_each(resolve);
        }
    }

    /// Checks what serde cannot: non-empty CA list, sane limits, a parseable listen address, fingerprints.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        self.eaas.validate().map_err(ConfigError::Invalid)?;
        self.store.validate_kind()?;
        if self.tls.ca_files.is_empty() {
            return invalid(
                "tls.ca_files must name at least one CA file (client certificates are required)",
            );
        }
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "server.listen {:?} is not HOST:PORT with an IP address host",
                self.server.listen
            )));
        }
        if self.https.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "https.listen {:?} is not HOST:PORT with an IP address host",
                self.https.listen
            )));
        }
        let limits = &self.limits;
        if limits.max_message_size < 64 {
            return invalid("limits.max_message_size must be at least 64 bytes");
        }
        if limits.max_depth == 0 || limits.max_items == 0 || limits.max_connections == 0 {
            return invalid("limits.max_depth, max_items and max_connections must be positive");
        }
        if limits.max_handshakes == 0 || limits.max_handshakes_per_address == 0 {
            return invalid(
                "limits.max_handshakes and max_handshakes_per_address must be positive",
            );
        }
        if limits.max_pending_request_bytes < limits.max_message_size {
            return invalid(
                "limits.max_pending_request_bytes must be at least limits.max_message_size (else a message of \
                 the maximum size could never be read)",
            );
        }
        if limits.max_batch_items == 0 {
            return invalid("limits.max_batch_items must be positive");
        }
        if limits.max_response_bytes < 4096 {
            return invalid("limits.max_response_bytes must be at least 4096 bytes");
        }
        if [
            limits.handshake_timeout_secs,
            limits.read_timeout_secs,
            limits.idle_timeout_secs,
            limits.write_timeout_secs,
        ]
        .contains(&0)
        {
            return invalid("limits: timeouts must be at least 1 second");
        }
        if self.audit.max_file_bytes < AuditConfig::MIN_FILE_BYTES {
            return Err(ConfigError::Invalid(format!(
                "audit.max_file_bytes must be at least {} bytes",
                AuditConfig::MIN_FILE_BYTES
            )));
        }
        if let Some(id) = &self.audit.node_id {
            if id.trim().is_empty()
                || id.len() > AuditConfig::MAX_NODE_ID_BYTES
                || id.chars().any(char::is_control)
            {
                return Err(ConfigError::Invalid(format!(
                    "audit.node_id {id:?} must be 1 to {} bytes of printable text",
                    AuditConfig::MAX_NODE_ID_BYTES
                )));
            }
        }
        if self.server.allocator_purge_delay_ms > ServerConfig::MAX_ALLOCATOR_PURGE_DELAY_MS {
            return Err(ConfigError::Invalid(format!(
                "server.allocator_purge_delay_ms must be at most {}",
                ServerConfig::MAX_ALLOCATOR_PURGE_DELAY_MS
            )));
        }
        if !(1..=StoreConfig::MAX_CACHE_MB).contains(&self.store.cache_mb) {
            return Err(ConfigError::Invalid(format!(
                "store.cache_mb must be between 1 and {}",
                StoreConfig::MAX_CACHE_MB
            )));
        }
        for fingerprint in self.auth.fingerprints.keys() {
            if crate::auth::normalise_fingerprint(fingerprint).is_none() {
                return Err(ConfigError::Invalid(format!(
                    "auth.fingerprints: {fingerprint:?} is not a SHA-256 fingerprint (64 hex digits)"
                )));
            }
        }
        if self.root_key.kind == RootKeyKind::Pkcs11 && !self.root_key.names_hsm() {
            return invalid(
                "root_key.kind = \"pkcs11\" needs root_key.module and root_key.token_label",
            );
        }
        if self.root_key.key_label.is_empty() {
            return invalid("root_key.key_label must not be empty");
        }
        if self.hsm.rng.enabled && !self.root_key.names_hsm() {
            return invalid(
                "hsm.rng.enabled = true needs root_key.module and root_key.token_label",
            );
        }
        let h = self.hsm.rng.min_entropy_per_sample;
        if !(h > 0.0 && h <= 8.0) {
            return invalid(
                "hsm.rng.min_entropy_per_sample must be more than 0 and at most 8 (bits per byte)",
            );
        }
        if self.hsm.hold_keys && !self.root_key.names_hsm() {
            return invalid("hsm.hold_keys = true needs root_key.module and root_key.token_label");
        }
        self.hsm
            .seed
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.entropy
            .validate()
            .map_err(|e| ConfigError::Invalid(format!("entropy: {e}")))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
