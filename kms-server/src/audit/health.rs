//! Whether the audit log can be written, for `/health` and for the dispatcher's refusals.
//!
//! Two conditions are tracked apart because different successes end them: a failed append (disk full, EIO,
//! short write, a rotation that could not be completed) ends with the next append that succeeds; a failed sync
//! ends with the next sync that succeeds (a later append alone proves nothing about the disk).

use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

/// The audit log's condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditHealth {
    /// Records are appended and synced.
    Ok,
    /// Records cannot be appended or synced: operations are refused until this clears by itself.
    Failing {
        /// What fails, with the operating system's reason (e.g. "cannot append: No space left on device").
        message: String,
        /// When the condition started (the first failure of a run of failures).
        since: SystemTime,
    },
}

/// Which step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    Append,
    Sync,
}

#[derive(Debug, Default)]
struct Conditions {
    append: Option<(String, SystemTime)>,
    sync: Option<(String, SystemTime)>,
}

impl Conditions {
    fn slot(&mut self, step: Step) -> &mut Option<(String, SystemTime)> {
        match step {
            Step::Append => &mut self.append,
            Step::Sync => &mut self.sync,
        }
    }
}

/// The current failures, if any.
#[derive(Debug, Default)]
pub(super) struct HealthTracker {
    conditions: Mutex<Conditions>,
}

impl HealthTracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Conditions> {
        // Two plain fields replaced whole: a panicking holder cannot leave them half-written.
        self.conditions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that `step` failed; the condition's start stays that of its first failure.
    pub fn failed(&self, step: Step, message: String) {
        let mut conditions = self.lock();
        let slot = conditions.slot(step);
        match slot {
            Some((current, _)) => *current = message,
            None => {
                tracing::error!(%message, "audit log failing: operations are refused until it can be written");
                *slot = Some((message, SystemTime::now()));
            }
        }
    }

    /// Records that `step` succeeded, ending its condition.
    pub fn succeeded(&self, step: Step) {
        let mut conditions = self.lock();
        if let Some((message, since)) = conditions.slot(step).take() {
            let seconds = since.elapsed().map_or(0, |d| d.as_secs());
            tracing::warn!(%message, seconds, "audit log writable again");
        }
    }

    /// Whether a sync failed and has not succeeded since.
    pub fn sync_failing(&self) -> bool {
        self.lock().sync.is_some()
    }

    pub fn health(&self) -> AuditHealth {
        let conditions = self.lock();
        let failing: Vec<&(String, SystemTime)> = [&conditions.append, &conditions.sync]
            .into_iter()
            .flatten()
            .collect();
        match failing.iter().map(|(_, since)| *since).min() {
            None => AuditHealth::Ok,
            Some(since) => AuditHealth::Failing {
                message: failing
                    .iter()
                    .map(|(message, _)| message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                since,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_condition_ends_with_a_success_of_its_own_step() {
        let tracker = HealthTracker::default();
        assert_eq!(tracker.health(), AuditHealth::Ok);
        tracker.failed(Step::Append, "disk full".into());
        let AuditHealth::Failing { since, .. } = tracker.health() else {
            panic!("failing after a failed append");
        };
        tracker.failed(Step::Append, "still full".into());
        tracker.failed(Step::Sync, "EIO".into());
        assert_eq!(
            tracker.health(),
            AuditHealth::Failing {
                message: "still full; EIO".into(),
                since
            }
        );
        tracker.succeeded(Step::Append);
        assert!(tracker.sync_failing());
        assert!(
            matches!(tracker.health(), AuditHealth::Failing { message, .. } if message == "EIO")
        );
        tracker.succeeded(Step::Sync);
        assert_eq!(tracker.health(), AuditHealth::Ok);
    }
}
