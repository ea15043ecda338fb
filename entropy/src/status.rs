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
    /// True when the OS generator is the only credited source (no source configured: the OS fallback).
    pub os_fallback: bool,
    /// One line for humans: "OS getrandom (not quantum)", or "quantum now" / "not quantum now" and the sources
    /// seeding now. Follows `quantum_now`, never the configuration alone.
    pub summary: String,
    /// True only while the pool serves (not failed closed) and the latest seed and every seeded DRBG
    /// instance's current seed had credited input from a quantum source that passed its health tests, and at
    /// least one of those quantum sources still passes them now. A quantum source configured but latched off
    /// (the OS or another classical source seeding instead) makes this false.
    #[serde(default)]
    pub quantum_now: bool,
    /// Ids of the credited sources whose samples went into the latest seed and that still pass their health
    /// tests: the sources seeding now (in configured order).
    #[serde(default)]
    pub seeding_sources: Vec<String>,
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
    /// What the configuration claims for the source's noise (quantum origin or not): a claim about the kind of
    /// source, not about what seeds right now (see `contributing` and [`PoolStatus::quantum_now`]).
    pub quantum: bool,
    pub credited: bool,
    /// Whether its samples went into the pool's latest seed (credited, or mixed in without credit) and it
    /// still passes its health tests now.
    #[serde(default)]
    pub contributing: bool,
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
