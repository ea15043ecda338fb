//! Counters behind `GET /metrics`, rendered in the Prometheus text exposition format (version 0.0.4).
//!
//! Batch items are counted where every message passes, the dispatcher (see [`Metrics::counting`]), so both
//! listeners' traffic is counted; the counters are plain atomics indexed by operation code and result status,
//! so counting costs no lock on the request path. Entropy figures are read from the pool's live `status()` at
//! scrape time rather than mirrored here.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use entropy::PoolStatus;
use kmip::{Operation, OperationCode, ResponseMessage, ResultStatus};

use crate::listener::Dispatcher;
use crate::tenant::TenantId;
use crate::usage::TenantUsage;

mod pool_status;
use pool_status::render_entropy;

/// Slots for operation codes `0..=HIGHEST_OPERATION`; slot 0 holds items without a known operation.
const HIGHEST_OPERATION: usize = 0x3F;
const RESULT_STATUSES: [ResultStatus; 4] = [
    ResultStatus::Success,
    ResultStatus::OperationFailed,
    ResultStatus::OperationPending,
    ResultStatus::OperationUndone,
];

/// Server-wide request and connection counters.
#[derive(Debug)]
pub struct Metrics {
    /// `[operation slot][result status]` -> batch items answered.
    batch_items: Vec<[AtomicU64; 4]>,
    messages: AtomicU64,
    https_open_connections: AtomicU64,
    https_connections: AtomicU64,
    /// HTTP requests refused before KMIP could answer them (4xx), by status code.
    https_refused: [AtomicU64; 6],
    /// The HSM of `[root_key]`, whose seeding counters are shown.
    hsm: std::sync::OnceLock<Arc<hsm_bridge::Hsm>>,
    /// The TLS handshake counters and TLS randomness shown (`tls_metrics`).
    tls: std::sync::OnceLock<super::tls_metrics::TlsMetricsSource>,
}

/// The 4xx statuses counted in `https_refused`, in slot order.
const REFUSED_STATUSES: [u16; 6] = [400, 403, 404, 408, 413, 415];

impl Default for Metrics {
    fn default() -> Self {
        Self {
            batch_items: (0..=HIGHEST_OPERATION)
                .map(|_| Default::default())
                .collect(),
            messages: AtomicU64::new(0),
            https_open_connections: AtomicU64::new(0),
            https_connections: AtomicU64::new(0),
            https_refused: Default::default(),
            hsm: std::sync::OnceLock::new(),
            tls: std::sync::OnceLock::new(),
        }
    }
}

/// Keeps the open-connections gauge up while it lives.
#[derive(Debug)]
pub struct OpenConnection(Arc<Metrics>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0
            .https_open_connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Wraps `dispatcher` so that every response it makes is counted.
    pub fn counting(metrics: &Arc<Self>, dispatcher: Dispatcher) -> Dispatcher {
        let metrics = Arc::clone(metrics);
        Arc::new(move |caller, request| {
            let response = dispatcher(caller, request);
            metrics.record(&response);
            response
        })
    }

    /// Counts a response message and its batch items.
    pub fn record(&self, response: &ResponseMessage) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        for item in &response.items {
            let slot = item
                .operation
                .and_then(OperationCode::known)
                .map_or(0, |op| op.to_u32() as usize);
            let slot = if slot > HIGHEST_OPERATION { 0 } else { slot };
            let status = RESULT_STATUSES
                .iter()
                .position(|s| *s == item.result_status)
                .unwrap_or(1);
            self.batch_items[slot][status].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts an HTTPS connection (after its TLS handshake) for as long as the guard lives.
    pub fn open_connection(self: &Arc<Self>) -> OpenConnection {
        self.https_connections.fetch_add(1, Ordering::Relaxed);
        self.https_open_connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(Arc::clone(self))
    }

    /// Counts an HTTP request refused with `status` before KMIP could answer it.
    pub fn refused(&self, status: u16) {
        if let Some(slot) = REFUSED_STATUSES.iter().position(|s| *s == status) {
            self.https_refused[slot].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Shows `hsm`'s seeding counters from now on (the first HSM given; the server has one).
    pub fn watch_hsm(&self, hsm: Arc<hsm_bridge::Hsm>) {
        let _ = self.hsm.set(hsm);
    }

    /// Shows the TLS handshake counters and TLS randomness counters from now on (the first given).
    pub fn watch_tls(&self, source: super::tls_metrics::TlsMetricsSource) {
        let _ = self.tls.set(source);
    }

    /// The seeding status of the watched HSMs.
    pub fn hsm_status(&self) -> Vec<hsm_bridge::SeedStatus> {
        self.hsm
            .get()
            .map(|hsm| hsm.seed_status())
            .into_iter()
            .collect()
    }

    /// The Prometheus text exposition of these counters, of `entropy` and of each tenant's `usage`.
    pub fn render(&self, entropy: &PoolStatus, usage: &BTreeMap<TenantId, TenantUsage>) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "qkms_kmip_messages_total",
            "counter",
            "KMIP response messages made by the dispatcher (both listeners).",
        );
        let _ = writeln!(
            out,
            "qkms_kmip_messages_total {}",
            self.messages.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "qkms_kmip_batch_items_total",
            "counter",
            "KMIP batch items answered, by operation and result status.",
        );
        for (slot, statuses) in self.batch_items.iter().enumerate() {
            for (status, count) in RESULT_STATUSES.iter().zip(statuses) {
                let count = count.load(Ordering::Relaxed);
                if count == 0 {
                    continue;
                }
                let operation = u32::try_from(slot)
                    .ok()
                    .and_then(Operation::from_u32)
                    .map_or("unknown", Operation::name);
                let _ = writeln!(
                    out,
                    "qkms_kmip_batch_items_total{{operation=\"{}\",result=\"{}\"}} {count}",
                    escape(operation),
                    status.name()
                );
            }
        }
        header(
            &mut out,
            "qkms_https_open_connections",
            "gauge",
            "HTTPS connections open now (past the TLS handshake).",
        );
        let _ = writeln!(
            out,
            "qkms_https_open_connections {}",
            self.https_open_connections.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "qkms_https_connections_total",
            "counter",
            "HTTPS connections accepted (past the TLS handshake).",
        );
        let _ = writeln!(
            out,
            "qkms_https_connections_total {}",
            self.https_connections.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "qkms_https_refused_requests_total",
            "counter",
            "HTTPS requests refused before KMIP could answer, by HTTP status.",
        );
        for (status, count) in REFUSED_STATUSES.iter().zip(&self.https_refused) {
            let _ = writeln!(
                out,
                "qkms_https_refused_requests_total{{status=\"{status}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        render_entropy(&mut out, entropy);
        super::tls_metrics::render(&mut out, self.tls.get());
        super::hsm_metrics::render(&mut out, &self.hsm_status());
        render_usage(&mut out, usage);
        out
    }
}

/// A per-tenant counter family: metric name, help text, and the meter field it shows.
type UsageFamily = (&'static str, &'static str, fn(&TenantUsage) -> u64);

/// One counter family per meter field, one sample per tenant: what an operator bills and watches per client.
fn render_usage(out: &mut String, usage: &BTreeMap<TenantId, TenantUsage>) {
    let families: [UsageFamily; 4] = [
        (
            "qkms_tenant_operations_total",
            "KMIP batch items run for the tenant (successful or not).",
            |u| u.operations,
        ),
        (
            "qkms_tenant_failed_operations_total",
            "KMIP batch items of the tenant that failed.",
            |u| u.failed_operations,
        ),
        (
            "qkms_tenant_keys_created_total",
            "Keys generated from the entropy pool for the tenant (a key pair counts two).",
            |u| u.keys_created,
        ),
        (
            "qkms_tenant_random_bytes_served_total",
            "Bytes of RNG Retrieve output served to the tenant.",
            |u| u.random_bytes_served,
        ),
    ];
    for (name, help, field) in families {
        header(out, name, "counter", help);
        for (tenant, counters) in usage {
            let _ = writeln!(
                out,
                "{name}{{tenant=\"{}\"}} {}",
                escape(&tenant.0),
                field(counters)
            );
        }
    }
}

pub(super) fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the exposition format wants it: backslash, double quote and newline escaped.
pub(super) fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::{ProtocolVersion, ResponseBatchItem, ResultReason};

    fn pool_status() -> PoolStatus {
        let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let mut bytes = [0u8; 100];
        pool.fill(&mut bytes).unwrap();
        pool.status()
    }

    #[test]
    fn batch_items_are_counted_by_operation_and_result() {
        let metrics = Metrics::default();
        let failed = ResponseBatchItem::failure(
            Some(Operation::Get.into()),
            ResultReason::ItemNotFound,
            "no such object",
        );
        let unknown = ResponseBatchItem::failure(None, ResultReason::InvalidMessage, "bad");
        metrics.record(&ResponseMessage::new(
            ProtocolVersion::V2_1,
            0,
            vec![failed.clone(), failed, unknown],
        ));
        let text = metrics.render(&pool_status(), &BTreeMap::new());
        assert!(text.contains("qkms_kmip_messages_total 1\n"), "{text}");
        assert!(
            text.contains(
                "qkms_kmip_batch_items_total{operation=\"Get\",result=\"OperationFailed\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "qkms_kmip_batch_items_total{operation=\"unknown\",result=\"OperationFailed\"} 1\n"
            ),
            "{text}"
        );
        assert!(!text.contains("operation=\"Create\""), "{text}");
    }

    #[test]
    fn open_connections_follow_the_guards() {
        let metrics = Arc::new(Metrics::default());
        let first = metrics.open_connection();
        let second = metrics.open_connection();
        drop(first);
        let text = metrics.render(&pool_status(), &BTreeMap::new());
        assert!(text.contains("qkms_https_open_connections 1\n"), "{text}");
        assert!(text.contains("qkms_https_connections_total 2\n"), "{text}");
        drop(second);
        assert!(metrics
            .render(&pool_status(), &BTreeMap::new())
            .contains("qkms_https_open_connections 0\n"));
    }

    #[test]
    fn usage_is_one_sample_per_tenant_with_the_name_escaped() {
        let meter = crate::usage::UsageMeter::new();
        let quoted = TenantId("acme \"eu\"".into());
        meter.record(
            &quoted,
            crate::usage::UsageDelta {
                failed: false,
                keys_created: 2,
                random_bytes_served: 0,
            },
        );
        meter.record(
            &TenantId("b".into()),
            crate::usage::UsageDelta {
                failed: true,
                keys_created: 0,
                random_bytes_served: 4096,
            },
        );
        let text = Metrics::default().render(&pool_status(), &meter.snapshot());
        for expected in [
            "qkms_tenant_keys_created_total{tenant=\"acme \\\"eu\\\"\"} 2\n",
            "qkms_tenant_keys_created_total{tenant=\"b\"} 0\n",
            "qkms_tenant_failed_operations_total{tenant=\"b\"} 1\n",
            "qkms_tenant_random_bytes_served_total{tenant=\"b\"} 4096\n",
            "qkms_tenant_operations_total{tenant=\"acme \\\"eu\\\"\"} 1\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn entropy_figures_come_from_the_pool_status() {
        let text = Metrics::default().render(&pool_status(), &BTreeMap::new());
        assert!(text.contains("qkms_entropy_os_fallback 1\n"), "{text}");
        assert!(text.contains("qkms_entropy_pool_ready 1\n"), "{text}");
        assert!(text.contains("qkms_entropy_quantum_seeding 0\n"), "{text}");
        assert!(
            text.contains(&format!(
                "qkms_entropy_source_contributing{{source=\"{}\"}} 1\n",
                entropy::source::OsSource::ID
            )),
            "{text}"
        );
        let drawn: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("qkms_entropy_bytes_drawn_total "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(drawn >= 100, "{text}");
        assert!(
            text.contains("qkms_entropy_health_test_failures_total{source="),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
