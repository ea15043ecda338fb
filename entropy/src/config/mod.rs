//! The entropy configuration: one struct, TOML-ready, every field with a documented default.
//!
//! ```toml
//! # No [[sources]] at all: the OS getrandom fallback (not quantum), which every status says.
//! # allow_replay_credit = true  # TEST ONLY: let `replay` recordings count as entropy (see below)
//! # state_file = "/var/lib/qkms/entropy.state"  # persisted instantiation counter (qkms-server sets it)
//! [[sources]]
//! kind = "char-device"          # char-device | https | rdseed | jitter | os | replay
//! id = "quantis0"
//! path = "/dev/qrandom0"
//! min_entropy_per_sample = 7.9  # H, the operator's assessment (ea_non_iid)
//! sample_bits = 8
//! quantum = true
//!
//!
//! [[sources]]
//! kind = "https"                # third party: uncredited (additional input) unless `credited = true`
//! id = "anu"
//! url = "https://qrng.example/API?type=uint8"
//! api_key = "..."               # sent as x-api-key
//! min_entropy_per_sample = 4.0
//! quantum = true
//!
//! [health]
//! intermittent_alpha = 30       # alpha = 2^-30: quarantine and retest
//! persistent_alpha = 60         # alpha = 2^-60: latch off until an operator resets
//!
//! [drbg]
//! mechanism = "CtrAes256"       # or "HmacSha256", "HmacSha512"
//! reseed_interval_generates = 65536
//! reseed_interval_seconds = 60
//! seed_timeout_ms = 5000
//! ```
//!
//! A `replay` source reads a recording from its first byte at every start, so two runs would seed from the same
//! bytes: it is never credited unless `allow_replay_credit = true` (documented as test-only, and logged as a
//! warning at every pool start), and every DRBG instantiation mixes unique data into its personalization
//! string anyway (see `pool::uniqueness`).

use std::path::{Path, PathBuf};

use crate::drbg::{DrbgMechanism, MAX_RESEED_INTERVAL};
use crate::error::EntropyError;
use crate::health::{Alpha, HealthConfig};
use crate::source::{SourceInfo, SourceKind};

/// Everything the pool needs to know. `EntropyConfig::default()` is the OS fallback with default DRBG settings.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntropyConfig {
    /// Entropy sources, tried in this order for credited entropy. Default: none, meaning the OS `getrandom`
    /// fallback (credited at 8 bits per byte, labelled "OS getrandom (not quantum)" everywhere).
    pub sources: Vec<SourceConfig>,
    /// SP 800-90B health-test thresholds shared by all sources.
    pub health: HealthThresholds,
    /// DRBG mechanism, sharding and reseeding.
    pub drbg: DrbgConfig,
    /// TEST ONLY. Default false: `replay` sources (recordings, which restart from their first byte at every
    /// start) are mixed in without credit. True lets them be credited (the pool logs a warning when it starts).
    pub allow_replay_credit: bool,
    /// Where the pool persists its instantiation counter (one small file, rewritten at every pool start) so
    /// that personalization strings never repeat across restarts. Default none: the personalization then
    /// relies on time, boot id, pid and a process-local counter. The server sets it to its data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_file: Option<PathBuf>,
}

/// One configured source.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub kind: SourceKind,
    /// Operator-facing identifier, unique in the configuration (device name, serial number, service name).
    pub id: String,
    /// Device or file path: required for `char-device` and `replay`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Service URL: required for `https`.
    #[serde(default)]
    pub url: Option<String>,
    /// API key sent to an `https` service (as its `x-api-key` header). Never shown in `Debug`.
    #[serde(default)]
    pub api_key: Option<String>,
    /// PEM file of the certificate authorities an `https` source trusts. Default: the Mozilla root program.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Assessed min-entropy per sample, H, in (0, sample_bits]. Default: 8 for `os`, otherwise required.
    #[serde(default)]
    pub min_entropy_per_sample: Option<f64>,
    /// Bits per sample, 1..=8. Default 8.
    #[serde(default = "default_sample_bits")]
    pub sample_bits: u8,
    /// Whether the noise is of quantum origin. Default false; only the operator says a source is quantum.
    #[serde(default)]
    pub quantum: bool,
    /// Whether the source's entropy counts towards seeds. Default: true, except `https` (a third party) which
    /// defaults to false and is then mixed in as uncredited additional input.
    #[serde(default)]
    pub credited: Option<bool>,
}

impl std::fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceConfig")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("path", &self.path)
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("ca_file", &self.ca_file)
            .field("min_entropy_per_sample", &self.min_entropy_per_sample)
            .field("sample_bits", &self.sample_bits)
            .field("quantum", &self.quantum)
            .field("credited", &self.credited)
            .finish()
    }
}

fn default_sample_bits() -> u8 {
    8
}

impl SourceConfig {
    /// A source of `kind` with the defaults above; set `path`/`url`/H as the kind needs.
    pub fn new(kind: SourceKind, id: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
            path: None,
            url: None,
            api_key: None,
            ca_file: None,
            min_entropy_per_sample: None,
            sample_bits: default_sample_bits(),
            quantum: false,
            credited: None,
        }
    }

    /// The OS `getrandom` fallback: credited, 8 bits per byte, not quantum.
    pub fn os_fallback() -> Self {
        Self {
            min_entropy_per_sample: Some(8.0),
            ..Self::new(SourceKind::Os, crate::source::OsSource::ID)
        }
    }

    /// Whether this source's entropy is credited (see the field's default).
    pub fn is_credited(&self) -> bool {
        self.credited.unwrap_or(self.kind != SourceKind::Https)
    }

    /// The assessed H, with the `os` default applied.
    pub fn min_entropy(&self) -> Result<f64, EntropyError> {
        match (self.min_entropy_per_sample, self.kind) {
            (Some(h), _) => Ok(h),
            (None, SourceKind::Os) => Ok(8.0),
            (None, _) => Err(EntropyError::Config(format!(
                "source {}: min_entropy_per_sample (H) is required for {:?} sources",
                self.id, self.kind
            ))),
        }
    }

    /// The description the source is known by in status and provenance.
    pub fn info(&self) -> Result<SourceInfo, EntropyError> {
        Ok(SourceInfo {
            id: self.id.clone(),
            kind: self.kind,
            quantum: self.quantum,
            sample_bits: self.sample_bits,
            min_entropy_per_sample: self.min_entropy()?,
            credited: self.is_credited(),
        })
    }

    /// The health-test configuration for this source under the shared thresholds.
    pub fn health_config(
        &self,
        thresholds: &HealthThresholds,
    ) -> Result<HealthConfig, EntropyError> {
        let mut health = HealthConfig::new(self.sample_bits, self.min_entropy()?);
        health.intermittent_alpha = thresholds.intermittent()?;
        health.persistent_alpha = thresholds.persistent()?;
        health
            .cutoffs()
            .map_err(|e| EntropyError::Config(format!("source {}: {e}", self.id)))?;
        Ok(health)
    }

    fn path_required(&self) -> Result<&Path, EntropyError> {
        self.path.as_deref().ok_or_else(|| {
            EntropyError::Config(format!(
                "source {}: `path` is required for {:?}",
                self.id, self.kind
            ))
        })
    }

    /// The configured path, for kinds that need one.
    pub fn required_path(&self) -> Result<&Path, EntropyError> {
        self.path_required()
    }
}

/// Health-test alphas shared by all sources, as exponents: alpha = 2^-exponent.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthThresholds {
    /// Cutoffs that quarantine a source and retest it (recovery is automatic once the retest passes).
    /// Default 30 (alpha = 2^-30): chance alarms stay rare even on fast sources.
    pub intermittent_alpha: f64,
    /// Cutoffs that latch a source off until an operator resets it. Default 60 (alpha = 2^-60).
    pub persistent_alpha: f64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            intermittent_alpha: 30.0,
            persistent_alpha: 60.0,
        }
    }
}

impl HealthThresholds {
    fn intermittent(&self) -> Result<Alpha, EntropyError> {
        Alpha::pow2(self.intermittent_alpha)
            .map_err(|e| EntropyError::Config(format!("health.intermittent_alpha: {e}")))
    }

    fn persistent(&self) -> Result<Alpha, EntropyError> {
        Alpha::pow2(self.persistent_alpha)
            .map_err(|e| EntropyError::Config(format!("health.persistent_alpha: {e}")))
    }
}

/// DRBG mechanism, sharding and the SP 800-90C reseed policy.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrbgConfig {
    /// SP 800-90A mechanism. Default CTR_DRBG with AES-256 and the derivation function.
    pub mechanism: DrbgMechanism,
    /// DRBG instances (shards); each thread sticks to one, so threads rarely contend on a lock.
    /// Default 0 = one per available CPU.
    pub instances: usize,
    /// Reseed an instance after this many generate calls. Default 65,536 (at most 4 GiB at 64 KiB per call).
    pub reseed_interval_generates: u64,
    /// Reseed an instance when its seed is this many seconds old. Default 60.
    pub reseed_interval_seconds: u64,
    /// How long a draw that needs a (re)seed waits for the sources before failing closed. Default 5000 ms.
    pub seed_timeout_ms: u64,
}

impl Default for DrbgConfig {
    fn default() -> Self {
        Self {
            mechanism: DrbgMechanism::CtrAes256,
            instances: 0,
            reseed_interval_generates: 65_536,
            reseed_interval_seconds: 60,
            seed_timeout_ms: 5_000,
        }
    }
}

impl DrbgConfig {
    /// The number of instances to run: `instances`, or one per available CPU when 0.
    pub fn instance_count(&self) -> usize {
        if self.instances > 0 {
            self.instances
        } else {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
        }
    }
}

/// Most DRBG instances a pool may run.
pub const MAX_INSTANCES: usize = 1024;

impl EntropyConfig {
    /// Parses and validates a TOML document.
    pub fn from_toml_str(text: &str) -> Result<Self, EntropyError> {
        let config: Self = toml::from_str(text).map_err(|e| EntropyError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, EntropyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EntropyError::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml_str(&text).map_err(|e| match e {
            EntropyError::Config(reason) => {
                EntropyError::Config(format!("{}: {reason}", path.display()))
            }
            other => other,
        })
    }

    /// The sources the pool will run: the configured ones, or the OS fallback when none is configured. A
    /// `replay` source comes back uncredited unless `allow_replay_credit` is set.
    pub fn effective_sources(&self) -> Vec<SourceConfig> {
        if self.sources.is_empty() {
            return vec![SourceConfig::os_fallback()];
        }
        let mut sources = self.sources.clone();
        for source in &mut sources {
            if source.kind == SourceKind::Replay {
                source.credited = Some(self.allow_replay_credit && source.is_credited());
            }
        }
        sources
    }

    /// The ids of credited `replay` sources (non-empty only under `allow_replay_credit`): what the pool warns
    /// about at start.
    pub fn credited_replay_sources(&self) -> Vec<String> {
        self.effective_sources()
            .into_iter()
            .filter(|s| s.kind == SourceKind::Replay && s.is_credited())
            .map(|s| s.id)
            .collect()
    }

    /// Whether this configuration runs on the OS fallback alone (no configured source).
    pub fn is_os_fallback(&self) -> bool {
        self.sources.is_empty()
    }

    /// Checks everything that can be checked without opening a source.
    pub fn validate(&self) -> Result<(), EntropyError> {
        self.validate_sources_and_drbg()?;
        self.validate_credit()
    }

    /// The checks of [`validate`](Self::validate) except that some source is credited: enough to read one source's
    /// raw samples (`qkms random --raw`, e.g. of an uncredited recording), which seeds nothing.
    pub fn validate_sources_and_drbg(&self) -> Result<(), EntropyError> {
        let sources = self.effective_sources();
        let mut ids = std::collections::HashSet::new();
        for source in &sources {
            if source.id.trim().is_empty() {
                return Err(EntropyError::Config("a source has an empty id".into()));
            }
            if !ids.insert(source.id.as_str()) {
                return Err(EntropyError::Config(format!(
                    "source id {:?} appears twice",
                    source.id
                )));
            }
            source.health_config(&self.health)?;
            match source.kind {
                SourceKind::CharDevice | SourceKind::Replay => {
                    source.path_required()?;
                }
                SourceKind::Https if source.url.is_none() => {
                    return Err(EntropyError::Config(format!(
                        "source {}: `url` is required for https",
                        source.id
                    )));
                }
                _ => {}
            }
        }
        self.validate_drbg()
    }

    /// At least one source is credited, and no replay recording is credited without `allow_replay_credit`.
    fn validate_credit(&self) -> Result<(), EntropyError> {
        let sources = self.effective_sources();
        for source in &self.sources {
            if source.kind == SourceKind::Replay
                && source.credited == Some(true)
                && !self.allow_replay_credit
            {
                return Err(EntropyError::Config(format!(
                    "source {}: a replay recording restarts from its first byte at every start and cannot be \
                     credited (allow_replay_credit = true is for tests only)",
                    source.id
                )));
            }
        }
        if !sources.iter().any(SourceConfig::is_credited) {
            return Err(EntropyError::Config(
                "no credited source: at least one source must be credited to seed the DRBGs (replay \
                 recordings are uncredited unless allow_replay_credit = true, for tests only)"
                    .into(),
            ));
        }
        Ok(())
    }

    fn validate_drbg(&self) -> Result<(), EntropyError> {
        let drbg = &self.drbg;
        if drbg.instances > MAX_INSTANCES {
            return Err(EntropyError::Config(format!(
                "drbg.instances {} exceeds {MAX_INSTANCES}",
                drbg.instances
            )));
        }
        if drbg.reseed_interval_generates == 0
            || drbg.reseed_interval_generates > MAX_RESEED_INTERVAL
        {
            return Err(EntropyError::Config(format!(
                "drbg.reseed_interval_generates {} is outside 1..={MAX_RESEED_INTERVAL}",
                drbg.reseed_interval_generates
            )));
        }
        if drbg.reseed_interval_seconds == 0 {
            return Err(EntropyError::Config(
                "drbg.reseed_interval_seconds must be at least 1".into(),
            ));
        }
        if drbg.seed_timeout_ms == 0 {
            return Err(EntropyError::Config(
                "drbg.seed_timeout_ms must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
