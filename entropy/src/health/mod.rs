//! SP 800-90B §4.4 health tests, per source, on raw samples before conditioning.
//!
//! - [`HealthConfig`]: the assessed min-entropy and the two alphas; validation refuses configurations whose tests
//!   could never fire (APT cutoff above the window) or whose claim exceeds the sample width.
//! - [`HealthMonitor`]: runs the Repetition Count and Adaptive Proportion tests with a start-up test, quarantine
//!   and retest on intermittent failure, and a latched persistent failure that only [`HealthMonitor::reset`] clears.
//! - [`HealthTestedSource`]: an [`EntropySource`](crate::source::EntropySource) wrapper that yields only samples
//!   whose whole APT window passed. This is what the pool consumes.

mod continuous;
mod cutoff;
mod monitor;
mod tested_source;

pub use continuous::{AdaptiveProportionTest, RepetitionCountTest, TestEvent};
pub use cutoff::{apt_cutoff, apt_window, rct_cutoff, Alpha};
pub use monitor::{HealthMonitor, ProcessReport};
pub use tested_source::HealthTestedSource;

use crate::source::SourceInfo;

/// Minimum length of the start-up test (90B §4.3 item 9: at least 1024 consecutive samples).
pub const MIN_STARTUP_SAMPLES: u32 = 1024;

/// Where a source stands with its health tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthState {
    /// Running the start-up test; nothing is released yet.
    StartingUp,
    /// Tests pass; samples of passed windows are released.
    Healthy,
    /// Quarantined after an intermittent failure; a fresh start-up test runs on the following samples.
    IntermittentFailure,
    /// Latched off until an operator resets it.
    PersistentFailure,
}

/// Which test raised a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthTestKind {
    RepetitionCount,
    AdaptiveProportion,
    /// Too many intermittent failures within the configured span of samples.
    RepeatedIntermittent,
}

/// Health-test parameters for one source. `alpha = 2^-exponent` per test evaluation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HealthConfig {
    /// Bits per sample, 1..=8 (the APT window is 1024 for 1-bit samples, 512 otherwise).
    pub sample_bits: u8,
    /// Assessed min-entropy per sample, H, in (0, sample_bits].
    pub min_entropy_per_sample: f64,
    /// Alpha of the cutoffs that quarantine and retest. Default 2^-30 (chance alarms stay rare on fast sources).
    pub intermittent_alpha: Alpha,
    /// Alpha of the cutoffs that latch the source off. Default 2^-60. Must be no larger than `intermittent_alpha`.
    pub persistent_alpha: Alpha,
    /// Samples the start-up test (and each retest) covers, at least 1024; rounded up to whole APT windows.
    pub startup_samples: u32,
    /// This many intermittent failures within `failure_span_samples` latch a persistent failure. Default 3.
    pub max_intermittent_failures: u32,
    /// The span of samples over which intermittent failures are counted. Default 2^20.
    pub failure_span_samples: u64,
}

impl HealthConfig {
    /// Defaults for a source of the given sample width and assessed min-entropy.
    pub fn new(sample_bits: u8, min_entropy_per_sample: f64) -> Self {
        Self {
            sample_bits,
            min_entropy_per_sample,
            intermittent_alpha: Alpha::pow2(30.0).expect("2^-30 is a valid alpha"),
            persistent_alpha: Alpha::pow2(60.0).expect("2^-60 is a valid alpha"),
            startup_samples: MIN_STARTUP_SAMPLES,
            max_intermittent_failures: 3,
            failure_span_samples: 1 << 20,
        }
    }

    /// Defaults for the width and min-entropy the source's configuration states.
    pub fn for_source(info: &SourceInfo) -> Self {
        Self::new(info.sample_bits, info.min_entropy_per_sample)
    }

    /// Computes the cutoffs, refusing configurations that cannot work.
    pub fn cutoffs(&self) -> Result<HealthCutoffs, HealthConfigError> {
        let h = self.min_entropy_per_sample;
        if !(1..=8).contains(&self.sample_bits) {
            return Err(HealthConfigError::InvalidSampleWidth {
                sample_bits: self.sample_bits,
            });
        }
        if !(h > 0.0 && h.is_finite()) {
            return Err(HealthConfigError::NonPositiveEntropy {
                min_entropy_per_sample: h,
            });
        }
        if h > f64::from(self.sample_bits) {
            return Err(HealthConfigError::EntropyExceedsSampleWidth {
                min_entropy_per_sample: h,
                sample_bits: self.sample_bits,
            });
        }
        if self.persistent_alpha.exponent() < self.intermittent_alpha.exponent() {
            return Err(HealthConfigError::PersistentAlphaLarger {
                intermittent_exponent: self.intermittent_alpha.exponent(),
                persistent_exponent: self.persistent_alpha.exponent(),
            });
        }
        if self.startup_samples < MIN_STARTUP_SAMPLES {
            return Err(HealthConfigError::StartupTooShort {
                samples: self.startup_samples,
            });
        }
        if self.max_intermittent_failures == 0 || self.failure_span_samples == 0 {
            return Err(HealthConfigError::InvalidFailureLimit {
                failures: self.max_intermittent_failures,
                span: self.failure_span_samples,
            });
        }
        let window = apt_window(self.sample_bits);
        let apt = |alpha: Alpha| -> Result<u32, HealthConfigError> {
            let cutoff = apt_cutoff(window, h, alpha)?;
            if cutoff > window {
                Err(HealthConfigError::AptNeverFires {
                    cutoff,
                    window,
                    alpha_exponent: alpha.exponent(),
                })
            } else {
                Ok(cutoff)
            }
        };
        Ok(HealthCutoffs {
            apt_window: window,
            rct_intermittent: rct_cutoff(h, self.intermittent_alpha)?,
            rct_persistent: rct_cutoff(h, self.persistent_alpha)?,
            apt_intermittent: apt(self.intermittent_alpha)?,
            apt_persistent: apt(self.persistent_alpha)?,
        })
    }
}

/// The cutoffs a validated [`HealthConfig`] yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HealthCutoffs {
    pub apt_window: u32,
    pub rct_intermittent: u32,
    pub rct_persistent: u32,
    pub apt_intermittent: u32,
    pub apt_persistent: u32,
}

/// A health-test configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HealthConfigError {
    #[error("sample width {sample_bits} bits is outside 1..=8")]
    InvalidSampleWidth { sample_bits: u8 },
    #[error("min-entropy per sample must be positive and finite, got {min_entropy_per_sample}")]
    NonPositiveEntropy { min_entropy_per_sample: f64 },
    #[error("min-entropy {min_entropy_per_sample} bits per sample exceeds the {sample_bits}-bit sample width")]
    EntropyExceedsSampleWidth {
        min_entropy_per_sample: f64,
        sample_bits: u8,
    },
    #[error("alpha 2^-{exponent} is not usable: the exponent must be in [1, 1024]")]
    InvalidAlpha { exponent: f64 },
    #[error("persistent alpha 2^-{persistent_exponent} is larger than intermittent alpha 2^-{intermittent_exponent}")]
    PersistentAlphaLarger {
        intermittent_exponent: f64,
        persistent_exponent: f64,
    },
    #[error("adaptive proportion cutoff {cutoff} exceeds the window {window} at alpha 2^-{alpha_exponent}: the test could never fire")]
    AptNeverFires {
        cutoff: u32,
        window: u32,
        alpha_exponent: f64,
    },
    #[error("repetition count cutoff overflows for H = {min_entropy_per_sample} at alpha 2^-{alpha_exponent}")]
    RctCutoffTooLarge {
        min_entropy_per_sample: f64,
        alpha_exponent: f64,
    },
    #[error("start-up test of {samples} samples is shorter than the required 1024")]
    StartupTooShort { samples: u32 },
    #[error("persistent-failure limit of {failures} intermittent failures within {span} samples is not usable")]
    InvalidFailureLimit { failures: u32, span: u64 },
    #[error("health configuration says {configured}-bit samples, the source {source_id} gives {actual}-bit samples")]
    SampleWidthMismatch {
        source_id: String,
        configured: u8,
        actual: u8,
    },
}

/// Running totals for status pages and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HealthCounters {
    pub samples_tested: u64,
    /// Samples of windows that passed while healthy: what the source contributed.
    pub samples_released: u64,
    /// Samples not released: start-up and retest windows, failed windows, partial windows cut off by a stream
    /// gap, a reset or a latch, and samples seen while latched. `samples_tested + samples seen while latched =
    /// samples_released + samples_discarded + the samples of the window in progress`.
    pub samples_discarded: u64,
    pub rct_intermittent_failures: u64,
    pub apt_intermittent_failures: u64,
    pub rct_persistent_failures: u64,
    pub apt_persistent_failures: u64,
    /// Persistent failures latched because intermittent failures repeated too often.
    pub repeated_intermittent_failures: u64,
    pub startup_passes: u64,
    pub operator_resets: u64,
    /// Restarts of the start-up test because the sample stream was interrupted (a source error).
    pub stream_restarts: u64,
}

/// A snapshot of one source's health, serialisable for status pages and metrics.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HealthStatus {
    pub state: HealthState,
    pub last_failure: Option<HealthTestKind>,
    pub cutoffs: HealthCutoffs,
    pub counters: HealthCounters,
}
