//! The pool's status snapshot, built from what actually seeded rather than from the configuration.
//!
//! A source is `contributing` when its samples went into the latest seed and it still passes its health tests;
//! the pool is `quantum_now` only when, on top of serving (not failed closed), the latest seed and every DRBG
//! instance's current seed had credited input from a healthy quantum source and one such source still passes its
//! tests. A quantum device that is configured but latched off therefore never makes the status say "quantum".

use std::sync::Arc;

use crate::drbg::DrbgMechanism;
use crate::health::HealthState;
use crate::provenance::{kind_name, SeedRecord, OS_FALLBACK_LABEL};
use crate::source::SourceKind;
use crate::status::{DrbgStatus, PoolState, PoolStatus, SourceStatus};

/// What the pool hands over for one snapshot.
pub(super) struct Inputs {
    /// The seeding thread's per-source figures (`contributing` is filled in here).
    pub sources: Vec<SourceStatus>,
    /// The latest successful seed.
    pub last_seed: Option<Arc<SeedRecord>>,
    /// The seed record behind each seeded DRBG instance.
    pub instance_seeds: Vec<Arc<SeedRecord>>,
    pub drbgs: Vec<DrbgStatus>,
    /// Whether the pool is failed closed, and the error of the seed that failed.
    pub failed: bool,
    pub failure: Option<String>,
    pub mechanism: DrbgMechanism,
}

pub(super) fn build(inputs: Inputs) -> PoolStatus {
    let Inputs {
        mut sources,
        last_seed,
        instance_seeds,
        drbgs,
        failed,
        failure,
        mechanism,
    } = inputs;
    let state = if failed {
        PoolState::FailedClosed
    } else if drbgs.iter().any(|d| d.seeded) {
        PoolState::Ready
    } else {
        PoolState::Unseeded
    };
    let last_seed = last_seed.filter(|_| !failed);
    for source in &mut sources {
        source.contributing = source.health.state == HealthState::Healthy
            && last_seed.as_ref().is_some_and(|r| r.fed_by(&source.id));
    }
    let seeding_sources: Vec<String> = sources
        .iter()
        .filter(|s| s.contributing && s.credited)
        .map(|s| s.id.clone())
        .collect();
    let quantum_still_healthy = sources
        .iter()
        .any(|s| s.contributing && s.credited && s.quantum);
    let quantum_now = quantum_still_healthy
        && last_seed.as_ref().is_some_and(|r| r.quantum())
        && instance_seeds.iter().all(|r| r.quantum());
    // From the sources the pool runs (a pool built `with_sources` has no configured ones).
    let os_fallback = sources
        .iter()
        .filter(|s| s.credited)
        .all(|s| s.kind == SourceKind::Os);
    let summary = summary(&sources, os_fallback, quantum_now, state);
    PoolStatus {
        state,
        failure: if failed { failure } else { None },
        os_fallback,
        summary,
        quantum_now,
        seeding_sources,
        mechanism,
        seed_epoch: drbgs.iter().filter_map(|d| d.seed_epoch).max().unwrap_or(0),
        sources,
        drbgs,
    }
}

/// The status's one line: the OS fallback label, or whether the pool is quantum now and which sources seed it.
fn summary(
    sources: &[SourceStatus],
    os_fallback: bool,
    quantum_now: bool,
    state: PoolState,
) -> String {
    if os_fallback {
        return OS_FALLBACK_LABEL.to_owned();
    }
    let label = if quantum_now {
        "quantum now"
    } else {
        "not quantum now"
    };
    let seeding: Vec<String> = sources
        .iter()
        .filter(|s| s.contributing && s.credited)
        .map(|s| {
            let origin = match (s.kind, s.quantum) {
                (SourceKind::Os, _) => "OS getrandom, not quantum",
                (_, true) => "quantum",
                (_, false) => "not quantum",
            };
            format!("{} ({}, {origin})", s.id, kind_name(s.kind))
        })
        .collect();
    let failing: Vec<String> = sources
        .iter()
        .filter(|s| {
            matches!(
                s.health.state,
                HealthState::IntermittentFailure | HealthState::PersistentFailure
            )
        })
        .map(|s| format!("{} {:?}", s.id, s.health.state))
        .collect();
    let mut line = if seeding.is_empty() {
        match state {
            PoolState::Unseeded => format!("{label}: no seed taken yet"),
            _ => format!("{label}: no source is seeding"),
        }
    } else {
        format!("{label}: seeding from {}", seeding.join(", "))
    };
    if !failing.is_empty() {
        line.push_str(&format!("; failing: {}", failing.join(", ")));
    }
    line
}
