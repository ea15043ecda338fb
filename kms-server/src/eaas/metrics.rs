//! The entropy-as-a-service lines of `/metrics`: envelopes and bytes served, refusals by reason, and bytes per
//! tenant (from the durable usage counters).

use std::sync::atomic::Ordering;

use super::EaasService;

impl EaasService {
    /// Prometheus lines for `/metrics` (blocking with a shared ledger: call it off the async workers).
    pub fn render_metrics(&self) -> String {
        let mut out = String::new();
        let c = &self.counters;
        out.push_str(
            "# HELP qkms_eaas_envelopes_total Signed random-bytes envelopes served by this node.\n",
        );
        out.push_str("# TYPE qkms_eaas_envelopes_total counter\n");
        out.push_str(&format!(
            "qkms_eaas_envelopes_total {}\n",
            c.envelopes.load(Ordering::Relaxed)
        ));
        out.push_str(
            "# HELP qkms_eaas_bytes_total Random bytes served in envelopes by this node.\n",
        );
        out.push_str("# TYPE qkms_eaas_bytes_total counter\n");
        out.push_str(&format!(
            "qkms_eaas_bytes_total {}\n",
            c.bytes.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP qkms_eaas_refused_total Envelope requests refused, by reason.\n");
        out.push_str("# TYPE qkms_eaas_refused_total counter\n");
        out.push_str(&format!(
            "qkms_eaas_refused_total{{reason=\"over_limit\"}} {}\n",
            c.refused_over_limit.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "qkms_eaas_refused_total{{reason=\"pool_failed\"}} {}\n",
            c.refused_pool.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP qkms_eaas_tenant_bytes_total Random bytes served per tenant (durable across restarts).\n");
        out.push_str("# TYPE qkms_eaas_tenant_bytes_total counter\n");
        // Every node's, with a shared ledger (blocking: a database read).
        let records = self.records(None).unwrap_or_else(|error| {
            tracing::warn!(%error, "entropy as a service: per-tenant bytes not in /metrics");
            Default::default()
        });
        for (tenant, record) in &records {
            out.push_str(&format!(
                "qkms_eaas_tenant_bytes_total{{tenant=\"{}\"}} {}\n",
                tenant.replace('\\', "\\\\").replace('"', "\\\""),
                record.total_bytes
            ));
        }
        out
    }
}
