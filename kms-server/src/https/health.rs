//! `GET /health`: whether the server can serve, from the entropy pool's live status and the audit log's.
//! `entropy.quantum` is the pool's `quantum_now`: true only while a healthy quantum source is actually feeding
//! the seeds, never merely because one is configured; `entropy.seeding_sources` names the sources seeding now.
//! Each source says what its kind claims (`quantum`) and, separately, whether it is `contributing`; the OS
//! `getrandom` fallback is labelled NOT quantum in so many words, so that a monitoring system (or a human reading
//! the JSON) cannot mistake a classical set-up, or a latched-off QRNG, for a QRNG-backed one. An audit log that
//! cannot be written makes the server refuse every operation (it fails closed), so it makes the status `failing`
//! (HTTP 503) with an `audit` section saying what fails and since when. The `store` section says whether the
//! store's disk is full (writes refused, reads work: `degraded`) or the store could not be reopened (`failing`).

use entropy::health::HealthState;
use entropy::source::SourceKind;
use entropy::status::PoolState;
use entropy::PoolStatus;
use serde_json::{json, Value};

use crate::audit::AuditHealth;
use crate::store::StoreCondition;

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
        SourceKind::Pkcs11 => "pkcs11",
    }
}

/// A human label saying what kind of randomness a source gives, and for a quantum device whether it gives any now.
fn randomness_label(kind: SourceKind, quantum: bool, contributing: bool) -> &'static str {
    match (kind, quantum, contributing) {
        (SourceKind::Os, _, _) => "NOT QUANTUM: operating-system getrandom fallback",
        (_, true, true) => "quantum",
        (_, true, false) => "quantum device, NOT contributing now",
        (_, false, _) => "not quantum",
    }
}

/// The state of the whole server: the entropy pool's, made `Failing` by an audit log that cannot be written.
pub fn overall_with_audit(status: &PoolStatus, audit: &AuditHealth) -> Overall {
    match audit {
        AuditHealth::Failing { .. } => Overall::Failing,
        AuditHealth::Ok => overall(status),
    }
}

/// The `audit` section: `state` ok or failing; when failing, what fails (`failure`) and since when (`since`,
/// RFC 3339, and `since_unix`). The file's path is not shown (the server's log has it).
pub fn audit_document(audit: &AuditHealth) -> Value {
    match audit {
        AuditHealth::Ok => json!({ "state": "ok" }),
        AuditHealth::Failing { message, since } => {
            let since = time::OffsetDateTime::from(*since);
            json!({
                "state": "failing",
                "failure": format!("the audit log cannot be written: {message}; operations are refused until it can"),
                "since": since
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                "since_unix": since.unix_timestamp(),
            })
        }
    }
}

/// The state of the whole server once the store's condition is known: a full disk degrades it (reads work,
/// writes are refused until space is freed), a store that cannot be reopened makes it failing.
pub fn overall_with_store(overall: Overall, store: &StoreCondition) -> Overall {
    match store {
        StoreCondition::Failing { .. } => Overall::Failing,
        StoreCondition::DiskFull { .. } if overall == Overall::Ok => Overall::Degraded,
        _ => overall,
    }
}

/// Adds the `store` section to a `/health` document and sets its `status` to `overall`: `state` ok, full or
/// failing; when not ok, what fails (`failure`) and since when (`since`, `since_unix`). No path is shown.
pub fn with_store(mut document: Value, overall: Overall, store: &StoreCondition) -> Value {
    let section = match store {
        StoreCondition::Ok => json!({ "state": "ok" }),
        StoreCondition::DiskFull { since, .. } => json!({
            "state": "full",
            "failure": "the disk holding the object store is full: writes are refused until space is freed; \
                        reads work",
            "since": rfc3339(*since),
            "since_unix": time::OffsetDateTime::from(*since).unix_timestamp(),
        }),
        StoreCondition::Failing { since, .. } => json!({
            "state": "failing",
            "failure": "the object store failed and could not be reopened yet (see the server's log)",
            "since": rfc3339(*since),
            "since_unix": time::OffsetDateTime::from(*since).unix_timestamp(),
        }),
    };
    document["status"] = overall.name().into();
    document["store"] = section;
    document
}

fn rfc3339(at: std::time::SystemTime) -> String {
    time::OffsetDateTime::from(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The `/health` document.
pub fn document(status: &PoolStatus, audit: &AuditHealth) -> Value {
    let sources: Vec<Value> = status
        .sources
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "kind": kind_label(s.kind),
                "quantum": s.quantum,
                "randomness": randomness_label(s.kind, s.quantum, s.contributing),
                "credited": s.credited,
                "contributing": s.contributing,
                "health": s.health.state,
                "last_failure": s.health.last_failure,
                "samples_read": s.samples_read,
                "failures": s.failures,
                "last_error": s.last_error,
            })
        })
        .collect();
    json!({
        "status": overall_with_audit(status, audit).name(),
        "audit": audit_document(audit),
        "entropy": {
            "state": status.state,
            "failure": status.failure,
            "quantum": status.quantum_now,
            "seeding_sources": status.seeding_sources,
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
        let doc = document(&status, &AuditHealth::Ok);
        assert_eq!(doc["status"], "ok");
        assert_eq!(doc["entropy"]["quantum"], false);
        assert_eq!(doc["entropy"]["os_fallback"], true);
        assert_eq!(
            doc["entropy"]["seeding_sources"],
            serde_json::json!([entropy::source::OsSource::ID])
        );
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
    fn an_audit_log_that_cannot_be_written_makes_the_server_failing() {
        let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let status = pool.status();
        let audit = AuditHealth::Failing {
            message: "cannot append: No space left on device (os error 28)".into(),
            since: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
        };
        assert_eq!(overall_with_audit(&status, &audit), Overall::Failing);
        let doc = document(&status, &audit);
        assert_eq!(doc["status"], "failing");
        assert_eq!(doc["audit"]["state"], "failing");
        assert_eq!(doc["audit"]["since"], "2023-11-14T22:13:20Z");
        assert!(doc["audit"]["failure"]
            .as_str()
            .unwrap()
            .contains("the audit log cannot be written"));
        assert_eq!(document(&status, &AuditHealth::Ok)["audit"]["state"], "ok");
    }

    #[test]
    fn a_full_store_disk_degrades_and_a_store_that_cannot_reopen_fails() {
        let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let status = pool.status();
        let since = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let full = StoreCondition::DiskFull {
            since,
            cause: "No space left on device".into(),
        };
        let overall = overall_with_store(Overall::Ok, &full);
        assert_eq!(overall, Overall::Degraded);
        let doc = with_store(document(&status, &AuditHealth::Ok), overall, &full);
        assert_eq!(doc["status"], "degraded");
        assert_eq!(doc["store"]["state"], "full");
        assert_eq!(doc["store"]["since"], "2023-11-14T22:13:20Z");
        assert!(doc["store"]["failure"].as_str().unwrap().contains("disk"));
        let failing = StoreCondition::Failing {
            since,
            cause: "EIO".into(),
        };
        assert_eq!(overall_with_store(Overall::Ok, &failing), Overall::Failing);
        assert_eq!(
            overall_with_store(Overall::Failing, &full),
            Overall::Failing
        );
        let ok = with_store(
            document(&status, &AuditHealth::Ok),
            Overall::Ok,
            &StoreCondition::Ok,
        );
        assert_eq!(ok["store"]["state"], "ok");
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
