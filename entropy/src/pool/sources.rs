//! Opening the configured sources, each behind its SP 800-90B health tests.

use crate::config::{EntropyConfig, HealthThresholds, SourceConfig};
use crate::error::EntropyError;
use crate::health::HealthTestedSource;
use crate::source::{
    CharDeviceConfig, CharDeviceSource, EntropySource, HttpsSource, HttpsSourceConfig,
    JitterSource, OsSource, RdseedSource, ReplaySource, SourceError, SourceInfo, SourceKind,
    TrustRoots,
};

/// A source as the pool runs it: health-tested, described by the operator's configuration.
pub type TestedSource = HealthTestedSource<Box<dyn EntropySource>>;

/// A source under the operator's description: the configuration, not the driver, says what the source is called,
/// whether it is quantum and whether it is credited.
#[derive(Debug)]
struct Described {
    info: SourceInfo,
    inner: Box<dyn EntropySource>,
}

impl EntropySource for Described {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        self.inner.read_samples(out)
    }
}

fn setup_error(config: &SourceConfig, error: impl std::fmt::Display) -> EntropyError {
    EntropyError::SourceSetup {
        id: config.id.clone(),
        reason: error.to_string(),
    }
}

/// Opens one configured source behind its health tests (start-up tests run on its first read).
pub fn open_source(
    config: &SourceConfig,
    thresholds: &HealthThresholds,
) -> Result<TestedSource, EntropyError> {
    let info = config.info()?;
    let health = config.health_config(thresholds)?;
    let h = info.min_entropy_per_sample;
    let inner: Box<dyn EntropySource> = match config.kind {
        SourceKind::Os => Box::new(OsSource::with_credit(info.credited)),
        SourceKind::CharDevice => {
            let mut device = CharDeviceConfig::new(config.required_path()?, config.quantum, h);
            device.sample_bits = config.sample_bits;
            device.credited = info.credited;
            Box::new(CharDeviceSource::open(&device).map_err(|e| setup_error(config, e))?)
        }
        SourceKind::Replay => Box::new(
            ReplaySource::open(config.required_path()?, config.sample_bits, h)
                .map_err(|e| setup_error(config, e))?,
        ),
        SourceKind::Rdseed => {
            Box::new(RdseedSource::with_min_entropy(h).map_err(|e| setup_error(config, e))?)
        }
        SourceKind::Jitter => {
            Box::new(JitterSource::with_min_entropy(h).map_err(|e| setup_error(config, e))?)
        }
        SourceKind::Pkcs11 => {
            return Err(setup_error(
                config,
                "an HSM's generator is not an [[entropy.sources]] entry: name the HSM in [root_key] and set \
                 [hsm.rng] enabled = true",
            ))
        }
        SourceKind::Https => {
            let url = config
                .url
                .clone()
                .ok_or_else(|| setup_error(config, "`url` is required for https"))?;
            let mut service = HttpsSourceConfig::new(url);
            if let Some(key) = &config.api_key {
                service = service.with_api_key("x-api-key", key.as_str());
            }
            if let Some(ca_file) = &config.ca_file {
                service.trust = TrustRoots::PemFile(ca_file.clone());
            }
            service.quantum = info.quantum;
            service.min_entropy_per_sample = h;
            service.credited = info.credited;
            Box::new(HttpsSource::new(service).map_err(|e| setup_error(config, e))?)
        }
    };
    let described: Box<dyn EntropySource> = Box::new(Described { info, inner });
    HealthTestedSource::with_config(described, health).map_err(|e| setup_error(config, e))
}

/// Opens every source the configuration runs (the OS fallback when none is configured).
pub fn open_sources(config: &EntropyConfig) -> Result<Vec<TestedSource>, EntropyError> {
    config.validate()?;
    config
        .effective_sources()
        .iter()
        .map(|source| open_source(source, &config.health))
        .collect()
}

/// Opens the configured source `id` alone, health-tested, for reading its raw samples (`qkms random --raw`).
pub fn open_configured_source(
    config: &EntropyConfig,
    id: &str,
) -> Result<TestedSource, EntropyError> {
    // Reading one source's raw samples seeds nothing: an uncredited recording may be read too.
    config.validate_sources_and_drbg()?;
    let source = config
        .effective_sources()
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| EntropyError::UnknownSource(id.to_owned()))?;
    open_source(&source, &config.health)
}

/// Puts user-supplied sources (tests, embedders with their own drivers) behind health tests with the shared
/// thresholds and each source's own description.
pub fn test_sources(
    sources: Vec<Box<dyn EntropySource>>,
    thresholds: &HealthThresholds,
) -> Result<Vec<TestedSource>, EntropyError> {
    sources
        .into_iter()
        .map(|source| {
            let info = source.info().clone();
            let mut config = SourceConfig::new(info.kind, info.id.clone());
            config.sample_bits = info.sample_bits;
            config.min_entropy_per_sample = Some(info.min_entropy_per_sample);
            let health = config.health_config(thresholds)?;
            HealthTestedSource::with_config(source, health).map_err(|e| setup_error(&config, e))
        })
        .collect()
}
