//! Per-tenant metering for the dashboard and `/metrics`: operations run (and failed), keys created, random
//! bytes served. Recorded once per batch item by the dispatcher into the server's own meter
//! ([`crate::state::ServerState::usage`]), so two servers in one process (tests) never mix their counts.
//!
//! Alone (sled), a node's counters are its own, in memory. Sharing a database, every node adds its counts to a
//! [`UsageLedger`] (PostgreSQL: `qkms_tenant_usage`): every batch item still only adds in memory (the hot path
//! never waits for the database), and [`UsageMeter::flush`] (every [`FLUSH_INTERVAL`] and at shutdown) adds the
//! counts since the last flush as one numbered batch and reads back every node's totals; the meter then shows
//! those totals plus what it has not flushed yet, so `/metrics` on any node shows the cluster's figures, at most
//! one flush interval behind the other nodes. A batch the database did not confirm is sent again, under the same
//! number, so it is added once.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::tenant::TenantId;

/// One tenant's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TenantUsage {
    /// Batch items run (successful or not).
    pub operations: u64,
    /// Batch items that failed.
    pub failed_operations: u64,
    /// Keys made from the entropy pool (Create, Re-Key).
    pub keys_created: u64,
    /// Bytes served by RNG Retrieve.
    pub random_bytes_served: u64,
}

impl TenantUsage {
    /// Adds `other`'s counters to these.
    pub fn merge(&mut self, other: &TenantUsage) {
        self.operations = self.operations.saturating_add(other.operations);
        self.failed_operations = self
            .failed_operations
            .saturating_add(other.failed_operations);
        self.keys_created = self.keys_created.saturating_add(other.keys_created);
        self.random_bytes_served = self
            .random_bytes_served
            .saturating_add(other.random_bytes_served);
    }

    fn add(&mut self, delta: UsageDelta) {
        self.operations = self.operations.saturating_add(1);
        self.failed_operations = self
            .failed_operations
            .saturating_add(u64::from(delta.failed));
        self.keys_created = self.keys_created.saturating_add(delta.keys_created);
        self.random_bytes_served = self
            .random_bytes_served
            .saturating_add(delta.random_bytes_served);
    }
}

/// What one batch item adds to its tenant's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageDelta {
    pub failed: bool,
    pub keys_created: u64,
    pub random_bytes_served: u64,
}

/// How often a meter on a shared database flushes its counts.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Counters per tenant, by tenant.
pub type UsageTable = BTreeMap<TenantId, TenantUsage>;

/// Where the counts of every node add up (the database the nodes share).
pub trait UsageLedger: Send + Sync {
    /// Adds `batch`, this node's `sequence`-th (a number it added already is not added again), and returns
    /// every tenant's totals afterwards. An empty batch only reads the totals.
    fn add(&self, sequence: u64, batch: &UsageTable) -> Result<UsageTable, String>;
}

/// Counters per tenant.
#[derive(Default)]
pub struct UsageMeter {
    /// Every count (alone), or the counts not flushed yet (with a ledger).
    tenants: Mutex<UsageTable>,
    ledger: Option<Shared>,
}

struct Shared {
    ledger: Box<dyn UsageLedger>,
    flushing: Mutex<Flushing>,
    /// Held by the flush under way (one at a time; `flushing` is not held while the ledger works).
    sending: Mutex<()>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Flushing> {
        self.flushing.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Flushing {
    /// The number of the last batch sent.
    sequence: u64,
    /// The batch being sent, or sent but not confirmed: sent again, with its number, before anything newer.
    unconfirmed: Option<UsageTable>,
    /// Every node's totals at the last flush.
    totals: UsageTable,
}

impl std::fmt::Debug for UsageMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageMeter")
            .field("shared", &self.ledger.is_some())
            .finish_non_exhaustive()
    }
}

fn merge_into(into: &mut UsageTable, from: &UsageTable) {
    for (tenant, usage) in from {
        into.entry(tenant.clone()).or_default().merge(usage);
    }
}

impl UsageMeter {
    /// A node's own counters, in memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters added up in `ledger` with every other node's.
    pub fn shared(ledger: Box<dyn UsageLedger>) -> Self {
        Self {
            tenants: Mutex::default(),
            ledger: Some(Shared {
                ledger,
                flushing: Mutex::default(),
                sending: Mutex::default(),
            }),
        }
    }

    /// Whether the counters are shared (and need [`Self::flush`]).
    pub fn is_shared(&self) -> bool {
        self.ledger.is_some()
    }

    /// Adds one batch item's usage.
    pub fn record(&self, tenant: &TenantId, delta: UsageDelta) {
        // Counters stay meaningful after a panic elsewhere: every update is a few additions.
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        // Look up before inserting: `entry` would need an owned key, an allocation on every batch item.
        match tenants.get_mut(tenant) {
            Some(usage) => usage.add(delta),
            None => tenants.entry(tenant.clone()).or_default().add(delta),
        }
    }

    /// One tenant's counters (zero if it has done nothing).
    pub fn tenant(&self, tenant: &TenantId) -> TenantUsage {
        self.snapshot().get(tenant).copied().unwrap_or_default()
    }

    /// Every tenant's counters, by tenant: with a ledger, every node's totals at the last flush plus what this
    /// node has not flushed yet.
    pub fn snapshot(&self) -> UsageTable {
        let Some(shared) = &self.ledger else {
            return self.lock_tenants().clone();
        };
        // Lock order: flushing, then tenants (as in flush).
        let flushing = shared.lock();
        let mut table = flushing.totals.clone();
        if let Some(unconfirmed) = &flushing.unconfirmed {
            merge_into(&mut table, unconfirmed);
        }
        merge_into(&mut table, &self.lock_tenants());
        table
    }

    /// Adds what this node counted since the last flush to the ledger and reads every node's totals (blocking:
    /// a database round trip, made without holding the lock [`Self::snapshot`] takes). Nothing to do without a
    /// ledger. A failure keeps the batch, sent again with its number at the next flush.
    pub fn flush(&self) -> Result<(), String> {
        let Some(shared) = &self.ledger else {
            return Ok(());
        };
        let _one_at_a_time = shared
            .sending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (sequence, batch) = {
            let mut flushing = shared.lock();
            if flushing.unconfirmed.is_none() {
                let batch = std::mem::take(&mut *self.lock_tenants());
                if !batch.is_empty() {
                    flushing.sequence += 1;
                    flushing.unconfirmed = Some(batch);
                }
            }
            let batch = flushing.unconfirmed.clone().unwrap_or_default();
            (flushing.sequence, batch)
        };
        let totals = shared.ledger.add(sequence, &batch)?;
        let mut flushing = shared.lock();
        flushing.totals = totals;
        flushing.unconfirmed = None;
        Ok(())
    }

    /// Flushes every [`FLUSH_INTERVAL`] until shutdown, then once more (nothing without a ledger).
    pub async fn flush_periodically(
        self: std::sync::Arc<Self>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        if !self.is_shared() {
            return;
        }
        let mut ticks = tokio::time::interval(FLUSH_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                _ = ticks.tick() => false,
                _ = shutdown.changed() => true,
            };
            let meter = std::sync::Arc::clone(&self);
            match tokio::task::spawn_blocking(move || meter.flush()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, "usage counters not added to the database yet (kept for the next flush)")
                }
                Err(error) => tracing::error!(%error, "usage flush task failed"),
            }
            if stopping {
                return;
            }
        }
    }

    fn lock_tenants(&self) -> std::sync::MutexGuard<'_, UsageTable> {
        self.tenants.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up_per_tenant() {
        let meter = UsageMeter::new();
        let a = TenantId("a".into());
        meter.record(
            &a,
            UsageDelta {
                keys_created: 1,
                ..UsageDelta::default()
            },
        );
        meter.record(
            &a,
            UsageDelta {
                failed: true,
                random_bytes_served: 32,
                ..UsageDelta::default()
            },
        );
        assert_eq!(
            meter.tenant(&a),
            TenantUsage {
                operations: 2,
                failed_operations: 1,
                keys_created: 1,
                random_bytes_served: 32
            }
        );
        assert_eq!(meter.tenant(&TenantId("b".into())), TenantUsage::default());
        assert_eq!(meter.snapshot().len(), 1);
    }

    /// A ledger in memory that fails when told to, as a database that went away.
    #[derive(Default)]
    struct MemoryLedger {
        added: Mutex<(UsageTable, Vec<u64>)>,
        failing: std::sync::atomic::AtomicBool,
    }

    impl UsageLedger for std::sync::Arc<MemoryLedger> {
        fn add(&self, sequence: u64, batch: &UsageTable) -> Result<UsageTable, String> {
            let mut added = self.added.lock().unwrap();
            if !batch.is_empty() && !added.1.contains(&sequence) {
                added.1.push(sequence);
                merge_into(&mut added.0, batch);
            }
            if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
                // Applied, but the answer is lost: the batch must be recognised when it comes again.
                return Err("connection lost".into());
            }
            Ok(added.0.clone())
        }
    }

    #[test]
    fn a_shared_meter_adds_each_batch_once_and_shows_the_totals() {
        let ledger = std::sync::Arc::new(MemoryLedger::default());
        let a = TenantId("a".into());
        // Another node's counts, already in the ledger.
        let mut other = UsageTable::new();
        other.insert(
            a.clone(),
            TenantUsage {
                operations: 10,
                ..TenantUsage::default()
            },
        );
        ledger.add(1_000, &other).unwrap();
        let meter = UsageMeter::shared(Box::new(std::sync::Arc::clone(&ledger)));
        meter.record(&a, UsageDelta::default());
        assert_eq!(
            meter.tenant(&a).operations,
            1,
            "not flushed yet: this node's count"
        );
        meter.flush().unwrap();
        assert_eq!(meter.tenant(&a).operations, 11);
        ledger
            .failing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        meter.record(&a, UsageDelta::default());
        assert!(meter.flush().is_err());
        meter.record(&a, UsageDelta::default());
        ledger
            .failing
            .store(false, std::sync::atomic::Ordering::SeqCst);
        meter.flush().unwrap();
        meter.flush().unwrap();
        assert_eq!(
            meter.tenant(&a).operations,
            13,
            "the unconfirmed batch was added once"
        );
        assert_eq!(ledger.added.lock().unwrap().0[&a].operations, 13);
    }
}
