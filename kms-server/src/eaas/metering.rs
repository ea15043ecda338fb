//! Charging requests and reading the usage records: this node's meter (and state file), or the ledger the
//! nodes on one database share, behind the same calls.

use std::sync::atomic::Ordering;
use std::time::Instant;

use time::OffsetDateTime;

use super::usage::{self, OverLimit};
use super::{EaasService, Refusal};

impl EaasService {
    /// Checks the request's limits and charges it (to the shared ledger, when there is one).
    pub(super) fn charge(
        &self,
        tenant: &str,
        limits: crate::config::EaasLimits,
        bytes: u64,
        now: OffsetDateTime,
    ) -> Result<(), Refusal> {
        let over_limit = |refusal: OverLimit| {
            self.counters
                .refused_over_limit
                .fetch_add(1, Ordering::Relaxed);
            Refusal::OverLimit(refusal)
        };
        let Some(ledger) = &self.ledger else {
            return self
                .lock_meter()
                .admit(tenant, limits, bytes, now, Instant::now())
                .map_err(over_limit);
        };
        self.lock_meter()
            .admit_locally(tenant, limits, bytes, Instant::now())
            .map_err(over_limit)?;
        match ledger.charge(tenant, &usage::day_key(now), bytes, limits) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(hit)) => Err(over_limit(usage::quota_refusal(hit, limits, bytes, now))),
            Err(error) => Err(Refusal::State(error)),
        }
    }

    /// Takes back the charge of a request that was not served.
    pub(super) fn refund(&self, tenant: &str, bytes: u64, now: OffsetDateTime) {
        match &self.ledger {
            None => self.lock_meter().refund(tenant, bytes, now),
            Some(ledger) => {
                if let Err(error) = ledger.refund(tenant, &usage::day_key(now), bytes) {
                    tracing::error!(%error, tenant, bytes, "entropy as a service: a charge could not be refunded");
                }
            }
        }
    }

    /// Every tenant's record (or `tenant`'s only): the shared ledger's, or this node's.
    pub(super) fn records(
        &self,
        tenant: Option<&str>,
    ) -> Result<std::collections::BTreeMap<String, usage::TenantRecord>, String> {
        match &self.ledger {
            Some(ledger) => ledger.records(tenant),
            None => {
                let meter = self.lock_meter();
                Ok(meter
                    .records
                    .iter()
                    .filter(|(name, _)| tenant.is_none_or(|t| t == name.as_str()))
                    .map(|(name, record)| (name.clone(), record.clone()))
                    .collect())
            }
        }
    }

    /// `/v1/usage`: one tenant's record, or every tenant's (operators). Blocking with a shared ledger.
    pub fn usage(&self, tenant: Option<&str>) -> Result<serde_json::Value, String> {
        let records = self.records(tenant)?;
        Ok(match tenant {
            Some(tenant) => serde_json::json!({
                "tenant": tenant,
                "limits": self.config.limits_for(tenant),
                "usage": records.get(tenant).cloned().unwrap_or_default(),
            }),
            None => serde_json::json!({
                "tenants": records.iter().map(|(tenant, record)| (tenant.clone(), serde_json::json!({
                    "limits": self.config.limits_for(tenant),
                    "usage": record,
                }))).collect::<serde_json::Map<_, _>>(),
            }),
        })
    }
}
