//! Per-tenant metering for the dashboard and `/metrics`: operations run (and failed), keys created, random
//! bytes served. Recorded once per batch item by the dispatcher into the server's own meter
//! ([`crate::state::ServerState::usage`]), so two servers in one process (tests) never mix their counts.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

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

/// Counters per tenant.
#[derive(Debug, Default)]
pub struct UsageMeter {
    tenants: Mutex<BTreeMap<TenantId, TenantUsage>>,
}

impl UsageMeter {
    pub fn new() -> Self {
        Self::default()
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
        let tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        tenants.get(tenant).copied().unwrap_or_default()
    }

    /// Every tenant's counters, by tenant.
    pub fn snapshot(&self) -> BTreeMap<TenantId, TenantUsage> {
        self.tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
}
