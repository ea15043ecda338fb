//! The TLS lines of `/metrics`: completed handshakes by listener, key-exchange group and protocol version
//! (`crate::tls::handshakes`), and the TLS draws the entropy pool could not serve (served by the OS, not
//! quantum, or refused) under `[tls] on_entropy_failure`.

use std::fmt::Write as _;
use std::sync::Arc;

use entropy::tls::TlsRandomness;

use super::metrics::header;
use crate::tls::HandshakeCounters;

/// What the TLS lines are read from.
#[derive(Debug)]
pub struct TlsMetricsSource {
    pub handshakes: Arc<HandshakeCounters>,
    pub randomness: &'static TlsRandomness,
}

pub(super) fn render(out: &mut String, source: Option<&TlsMetricsSource>) {
    let Some(source) = source else {
        return;
    };
    header(
        out,
        "qkms_tls_handshakes_total",
        "counter",
        "Completed TLS handshakes, by listener, negotiated key-exchange group and protocol version.",
    );
    for sample in source.handshakes.samples() {
        let _ = writeln!(
            out,
            "qkms_tls_handshakes_total{{group=\"{}\",version=\"{}\",listener=\"{}\"}} {}",
            sample.group, sample.version, sample.listener, sample.count
        );
    }
    header(
        out,
        "qkms_tls_os_fallback_draws_total",
        "counter",
        "TLS random draws (handshake secrets included) served by the OS generator, not quantum, because the entropy pool failed closed.",
    );
    let _ = writeln!(
        out,
        "qkms_tls_os_fallback_draws_total {}",
        source.randomness.os_fallback_draws()
    );
    header(
        out,
        "qkms_tls_refused_draws_total",
        "counter",
        "TLS random draws refused because the entropy pool failed closed (each fails a handshake).",
    );
    let _ = writeln!(
        out,
        "qkms_tls_refused_draws_total {}",
        source.randomness.refused_draws()
    );
}
