//! A source behind its health monitor: what the pool consumes.

use zeroize::Zeroize;

use super::{
    HealthConfig, HealthConfigError, HealthMonitor, HealthState, HealthStatus, HealthTestKind,
};
use crate::source::{EntropySource, SourceError, SourceInfo};

/// Raw samples are pulled from the inner source in chunks of this many bytes.
const READ_CHUNK: usize = 4096;

/// An [`EntropySource`] that yields only samples that passed the SP 800-90B health tests.
///
/// `read_samples` returns:
/// - samples of APT windows that passed while the source was healthy (start-up is run on the first call);
/// - `SourceError::HealthTest { state: IntermittentFailure, .. }` when a test fired: the source is quarantined and
///   the next call retests it (a fresh start-up test) and resumes if it passes;
/// - `SourceError::HealthTest { state: PersistentFailure, .. }` once latched, on every call until [`reset`](Self::reset);
/// - the inner source's own error, after which a fresh start-up test runs (the stream was interrupted).
///
/// Raw samples are tested in chunks of up to 4096. When a chunk raises a failure, every sample released from it
/// (and anything still buffered) is discarded, even windows that passed a retest later in the same chunk:
/// conservative, and simple to reason about.
pub struct HealthTestedSource<S = Box<dyn EntropySource>> {
    source: S,
    monitor: HealthMonitor,
    /// Released samples not yet handed out; `ready[ready_start..]` is pending delivery.
    ready: Vec<u8>,
    ready_start: usize,
    scratch: Vec<u8>,
}

impl<S: EntropySource> std::fmt::Debug for HealthTestedSource<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthTestedSource")
            .field("source", &self.source)
            .field("monitor", &self.monitor)
            .field("ready", &(self.ready.len() - self.ready_start))
            .finish()
    }
}

impl<S> Drop for HealthTestedSource<S> {
    fn drop(&mut self) {
        self.ready.zeroize();
        self.scratch.zeroize();
    }
}

impl<S: EntropySource> HealthTestedSource<S> {
    /// Health tests with the default alphas for the width and min-entropy the source's info states.
    pub fn new(source: S) -> Result<Self, HealthConfigError> {
        let config = HealthConfig::for_source(source.info());
        Self::with_config(source, config)
    }

    /// Health tests with an explicit configuration; its sample width must be the source's.
    pub fn with_config(source: S, config: HealthConfig) -> Result<Self, HealthConfigError> {
        let info = source.info();
        if config.sample_bits != info.sample_bits {
            return Err(HealthConfigError::SampleWidthMismatch {
                source_id: info.id.clone(),
                configured: config.sample_bits,
                actual: info.sample_bits,
            });
        }
        let monitor = HealthMonitor::new(config)?;
        Ok(Self {
            source,
            monitor,
            ready: Vec::new(),
            ready_start: 0,
            scratch: vec![0; READ_CHUNK],
        })
    }

    pub fn state(&self) -> HealthState {
        self.monitor.state()
    }

    /// State, cutoffs and counters, for status pages and metrics.
    pub fn status(&self) -> HealthStatus {
        self.monitor.status()
    }

    pub fn health_config(&self) -> &HealthConfig {
        self.monitor.config()
    }

    /// Operator action: clears a latched failure and starts a fresh start-up test.
    pub fn reset(&mut self) {
        self.withdraw_ready();
        self.monitor.reset();
    }

    pub fn inner(&self) -> &S {
        &self.source
    }

    /// Drops undelivered samples after a failure or reset, and tells the monitor they were not contributed.
    fn withdraw_ready(&mut self) {
        let undelivered = (self.ready.len() - self.ready_start) as u64;
        self.monitor.withdraw_released(undelivered);
        self.discard_ready();
    }

    fn discard_ready(&mut self) {
        self.ready.zeroize();
        self.ready.clear();
        self.ready_start = 0;
    }

    /// The error for a failure seen while processing: persistent if the source is now latched, else intermittent
    /// (even if a retest already passed within the same chunk), naming the test responsible.
    fn health_error(&self, first_failure: Option<HealthTestKind>) -> SourceError {
        let latched = self.monitor.state() == HealthState::PersistentFailure;
        SourceError::HealthTest {
            id: self.source.info().id.clone(),
            state: if latched {
                HealthState::PersistentFailure
            } else {
                HealthState::IntermittentFailure
            },
            test: if latched {
                self.monitor.status().last_failure
            } else {
                first_failure
            },
        }
    }
}

impl<S: EntropySource> EntropySource for HealthTestedSource<S> {
    fn info(&self) -> &SourceInfo {
        self.source.info()
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.monitor.state() == HealthState::PersistentFailure {
                self.withdraw_ready();
                return Err(self.health_error(None));
            }
            let available = self.ready.len() - self.ready_start;
            if available > 0 {
                let n = available.min(out.len());
                out[..n].copy_from_slice(&self.ready[self.ready_start..self.ready_start + n]);
                self.ready_start += n;
                if self.ready_start == self.ready.len() {
                    self.discard_ready();
                }
                return Ok(n);
            }
            let got = match self.source.read_samples(&mut self.scratch) {
                Ok(0) => {
                    return Err(SourceError::Failed {
                        id: self.source.info().id.clone(),
                        reason: "source returned no samples".to_owned(),
                    })
                }
                Ok(n) => n.min(self.scratch.len()),
                Err(err) => {
                    self.monitor.restart_after_gap();
                    return Err(err);
                }
            };
            self.discard_ready();
            let report = self.monitor.process(&self.scratch[..got], &mut self.ready);
            self.scratch[..got].zeroize();
            if report.failures > 0 {
                self.withdraw_ready();
                return Err(self.health_error(report.first_failure));
            }
        }
    }
}
