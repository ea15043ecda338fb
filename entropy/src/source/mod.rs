//! Entropy sources: one module per kind, one trait.
//!
//! A source yields raw noise samples, one sample per byte (the low `sample_bits` bits), before any health test
//! or conditioning, and describes itself so every draw can say where its entropy came from.

use std::fmt;

pub mod char_device;
pub mod https;
pub mod jitter;
pub mod os;
pub mod rdseed;
pub mod replay;

pub use char_device::{CharDeviceConfig, CharDeviceSource};
pub use https::{HttpsDataFormat, HttpsError, HttpsSource, HttpsSourceConfig, TrustRoots};
pub use jitter::JitterSource;
pub use os::OsSource;
pub use rdseed::RdseedSource;
pub use replay::ReplaySource;

use crate::health::{HealthState, HealthTestKind};

/// What kind of physical or logical source a [`SourceInfo`] describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A character device, FIFO or tty: Quantis `/dev/qrandom0`, `/dev/hwrng`, serial/USB QRNGs.
    CharDevice,
    /// An upstream HTTPS entropy service speaking a JSON API.
    Https,
    /// The x86 RDSEED instruction.
    Rdseed,
    /// CPU timing jitter.
    Jitter,
    /// The operating system's `getrandom`: the non-quantum fallback.
    Os,
    /// A recorded raw-sample file, replayed.
    Replay,
    /// An HSM's own generator (PKCS#11 C_GenerateRandom). Its driver lives in `hsm-bridge` (a PKCS#11 client,
    /// which this crate does not depend on) and is registered by the server through [`EntropySource`]
    /// ([`crate::EntropyPool::with_extra_sources`]); it cannot be named in `[[entropy.sources]]`.
    Pkcs11,
}

/// What a source is, as configured by the operator.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceInfo {
    /// Operator-facing identifier: device path, serial number, URL, file name.
    pub id: String,
    pub kind: SourceKind,
    /// Whether the noise is of quantum origin. Only the operator's configuration of a QRNG sets this.
    pub quantum: bool,
    /// Bits per sample, 1..=8; each byte a source yields carries one sample in its low bits.
    pub sample_bits: u8,
    /// Min-entropy per sample (H) the operator assessed for this source.
    pub min_entropy_per_sample: f64,
    /// Whether the source's entropy counts towards seeds; an uncredited source is mixed in as additional input.
    pub credited: bool,
}

/// A source could not deliver samples.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("source {id}: I/O error: {source}")]
    Io {
        id: String,
        #[source]
        source: std::io::Error,
    },
    #[error("source {id}: end of stream")]
    EndOfStream { id: String },
    #[error("source {id}: {reason}")]
    Failed { id: String, reason: String },
    /// The source does not exist on this machine (device absent, CPU feature missing or disabled by the kernel).
    #[error("source {id}: unavailable: {reason}")]
    Unavailable { id: String, reason: String },
    /// The operator's configuration of the source cannot work.
    #[error("source {id}: invalid configuration: {reason}")]
    InvalidConfig { id: String, reason: String },
    /// A hardware generator kept reporting "not ready" past the retry bound.
    #[error("source {id}: starved: no sample after {attempts} attempts")]
    Starved { id: String, attempts: u32 },
    /// The HTTPS service answered with an error or with something other than the configured shape.
    #[error("source {id}: {error}")]
    Https {
        id: String,
        #[source]
        error: HttpsError,
    },
    /// The SP 800-90B health tests refuse the source's samples: the state says whether a retry retests
    /// (`IntermittentFailure`) or the source is latched off until an operator resets it (`PersistentFailure`).
    #[error("source {id}: health test failure ({test:?}), state {state:?}")]
    HealthTest {
        id: String,
        state: HealthState,
        test: Option<HealthTestKind>,
    },
}

/// A raw noise source.
pub trait EntropySource: Send + fmt::Debug {
    /// What this source is.
    fn info(&self) -> &SourceInfo;

    /// Fills `out` with raw samples (one per byte), returning how many were written (at least one unless `out` is
    /// empty). A source that cannot deliver returns an error rather than fewer or weaker samples.
    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError>;
}

impl<S: EntropySource + ?Sized> EntropySource for Box<S> {
    fn info(&self) -> &SourceInfo {
        (**self).info()
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        (**self).read_samples(out)
    }
}

/// Checks an operator-assessed (sample width, min-entropy) pair: 1..=8 bits, 0 < H <= width.
pub(crate) fn check_assessment(
    id: &str,
    sample_bits: u8,
    min_entropy_per_sample: f64,
) -> Result<(), SourceError> {
    if !(1..=8).contains(&sample_bits) {
        return Err(SourceError::InvalidConfig {
            id: id.to_owned(),
            reason: format!("sample width {sample_bits} bits is outside 1..=8"),
        });
    }
    if !(min_entropy_per_sample > 0.0 && min_entropy_per_sample <= f64::from(sample_bits)) {
        return Err(SourceError::InvalidConfig {
            id: id.to_owned(),
            reason: format!(
                "min-entropy {min_entropy_per_sample} bits per sample is outside (0, {sample_bits}]"
            ),
        });
    }
    Ok(())
}
