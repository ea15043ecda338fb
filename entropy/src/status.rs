//! Live status of a pool, for the dashboard, `/metrics` and `qkms health`: serialisable snapshots.

use crate::drbg::DrbgMechanism;
use crate::health::{HealthState, HealthStatus};
use crate::source::SourceKind;

/// Whether the pool can serve draws right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PoolState {
    /// No instance has been seeded yet (seeding is lazy: the first draw seeds).
    Unseeded,
    /// The last (re)seed succeeded.
    Ready,
    /// The last (re)seed failed: every draw errors until a seed succeeds again (each draw retries).
    FailedClosed,
}

/// A snapshot of the whole pool.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoolStatus {
    pub state: PoolState,
    /// The error of the last failed seed, while `state` is `FailedClosed`.
    pub failure: Option<String>,
    /// True when no source is configured and the OS fallback seeds everything.
    pub os_fallback: bool,
    /// One line for humans: "OS getrandom (not quantum)" or the credited sources and whether any is quantum.
    pub summary: String,
    pub mechanism: DrbgMechanism,
    /// Seeds taken so far (the latest seed epoch).
    pub seed_epoch: u64,
    pub sources: Vec<SourceStatus>,
    pub drbgs: Vec<DrbgStatus>,
}

/// One source's live figures.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceStatus {
    pub id: String,
    pub kind: SourceKind,
    pub quantum: bool,
    pub credited: bool,
    pub min_entropy_per_sample: f64,
    /// Health-test snapshot (state, last failure, cutoffs, counters).
    pub health: HealthStatus,
    /// Health-tested samples delivered to the conditioner.
    pub samples_read: u64,
    /// Samples per second while reading (samples over the time spent inside reads).
    pub read_rate_samples_per_sec: f64,
    /// Reads that failed (health-test failures and I/O errors).
    pub failures: u64,
    pub last_error: Option<String>,
}

impl SourceStatus {
    pub fn state(&self) -> HealthState {
        self.health.state
    }
}

/// One DRBG instance's live figures.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DrbgStatus {
    pub instance: u32,
    pub mechanism: DrbgMechanism,
    pub seeded: bool,
    pub seed_epoch: Option<u64>,
    pub bytes_generated: u64,
    pub generate_calls: u64,
    /// Reseeds (not counting the instantiation).
    pub reseeds: u64,
    /// Instantiations (1 normally; more if an instance had to be rebuilt).
    pub instantiations: u64,
    /// The SP 800-90A reseed counter of the current state.
    pub reseed_counter: u64,
    /// Age of the current seed, in seconds.
    pub seed_age_seconds: Option<f64>,
}
