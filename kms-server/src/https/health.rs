//! `GET /health`: whether the server can serve, from the entropy pool's live status. Each source says whether it
//! is quantum; the OS `getrandom` fallback is labelled NOT quantum in so many words, so that a monitoring system
//! (or a human reading the JSON) cannot mistake a classical set-up for a QRNG-backed one.

use entropy::health::HealthState;
use entropy::source::SourceKind;
use entropy::status::PoolState;
use entropy::PoolStatus;
use serde_json::{json, Value};

/// How the server stands, from its entropy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overall {
    /// The pool is seeded (or can seed) and every credited source passes its health tests.
    Ok,
    /// The pool serves, but some source is failing its health tests (quarantined or latched off).
    Degraded,
    /// The pool failed closed: key generation and RNG Retrieve fail until a healthy source can seed it.
    Failing,
}

impl Overall {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Degraded => "degraded",
            Self::Failing => "failing",
        }
    }
}

/// The overall state of a pool.
pub fn overall(status: &PoolStatus) -> Overall {
    if status.state == PoolState::FailedClosed {
        Overall::Failing
    } else if status.sources.iter().any(|s| {
        matches!(
            s.health.state,
            HealthState::IntermittentFailure | HealthState::PersistentFailure
        )
    }) {
        Overall::Degraded
    } else {
        Overall::Ok
    }
}

/// The kebab-case name of a source kind, as the configuration spells it.
pub fn kind_label(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::CharDevice => "char-device",
        SourceKind::Https => "https",
        SourceKind::Rdseed => "rdseed",
        SourceKind::Jitter => "jitter",
        SourceKind::Os => "os",
        SourceKind::Replay => "replay",
    }
}

/// A human label saying what kind of randomness a source gives.
fn randomness_label(kind: SourceKind, quantum: bool) -> &'static str {
    match (kind, quantum) {
        (SourceKind::Os, _) => "NOT QUANTUM: operating-system getrandom fallback",
        (_, true) => "quantum",
        (_, false) => "not quantum",
    }
}

/// The `/health` document.
pub fn document(status: &PoolStatus) -> Value {
    let quantum = status.sources.iter().any(|s| s.credited && s.quantum);
    let sources: Vec<Value> = status
        .sources
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "kind": kind_label(s.kind),
                "quantum": s.quantum,
                "randomness": randomness_label(s.kind, s.quantum),
                "credited": s.credited,
                "health": s.health.state,
                "last_failure": s.health.last_failure,
                "samples_read": s.samples_read,
                "failures": s.failures,
                "last_error": s.last_error,
            })
        })
        .collect();
    json!({
        "status": overall(status).name(),
        "entropy": {
            "state": status.state,
            "failure": status.failure,
            "quantum": quantum,
            "os_fallback": status.os_fallback,
            "summary": status.summary,
            "drbg": status.mechanism,
            "seed_epoch": status.seed_epoch,
            "sources": sources,
        },
    })
}

/// Adds the `hsm` part to a `/health` document: per HSM, the bytes seeded and the last success and failure. An HSM
/// that cannot be seeded does not change the overall status: keys are still made from the pool.
pub fn add_hsm(document: &mut Value, hsms: &[hsm_bridge::SeedStatus]) {
    if hsms.is_empty() {
        return;
    }
    let list: Vec<Value> = hsms
        .iter()
        .map(|s| {
            json!({
                "hsm": s.hsm,
                "seeded_bytes": s.bytes_seeded,
                "seedings": s.seedings,
                "last_seed_success_unix": s.last_success_unix,
                "seed_failures": s.failures,
                "seed_not_supported": s.not_supported,
                "last_error": s.last_error,
            })
        })
        .collect();
    document["hsm"] = Value::Array(list);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_fallback_is_labelled_not_quantum_and_healthy_pool_is_ok() {
        let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let mut bytes = [0u8; 32];
        pool.fill(&mut bytes).unwrap();
        let status = pool.status();
        let doc = document(&status);
        assert_eq!(doc["status"], "ok");
        assert_eq!(doc["entropy"]["quantum"], false);
        assert_eq!(doc["entropy"]["os_fallback"], true);
        let sources = doc["entropy"]["sources"].as_array().unwrap();
        assert!(!sources.is_empty(), "{doc}");
        for source in sources {
            assert_eq!(source["kind"], "os", "{doc}");
            assert!(
                source["randomness"]
                    .as_str()
                    .unwrap()
                    .starts_with("NOT QUANTUM"),
                "{doc}"
            );
        }
    }

    #[test]
    fn a_failed_closed_pool_is_failing_and_a_sick_source_degrades() {
        let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let mut status = pool.status();
        status.state = PoolState::FailedClosed;
        assert_eq!(overall(&status), Overall::Failing);
        let mut status = pool.status();
        let source = status
            .sources
            .first_mut()
            .expect("the OS fallback is a source");
        source.health.state = HealthState::IntermittentFailure;
        assert_eq!(overall(&status), Overall::Degraded);
    }
}
