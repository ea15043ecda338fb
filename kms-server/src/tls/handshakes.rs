//! Completed TLS handshakes by listener, negotiated key-exchange group and protocol version: the counters
//! behind `qkms_tls_handshakes_total` (rendered by `https::tls_metrics`). Operators see from them how many
//! clients negotiate the hybrid post-quantum group and how many still use a classical one.
//!
//! A fixed table of atomics (2 listeners x 5 groups x 2 versions), so counting takes no lock.

use std::sync::atomic::{AtomicU64, Ordering};

use rustls::{CommonState, NamedGroup, ProtocolVersion};

/// Which listener completed the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsListener {
    /// KMIP over TCP + TLS (`[server] listen`).
    Ttlv,
    /// The HTTPS listener (`[https]`).
    Https,
}

impl TlsListener {
    const ALL: [Self; 2] = [Self::Ttlv, Self::Https];

    pub fn name(self) -> &'static str {
        match self {
            Self::Ttlv => "ttlv",
            Self::Https => "https",
        }
    }
}

/// The groups the provider offers (`entropy::tls::groups`), and a slot for anything else.
const GROUPS: [(Option<NamedGroup>, &str); 5] = [
    (Some(NamedGroup::X25519MLKEM768), "X25519MLKEM768"),
    (Some(NamedGroup::X25519), "X25519"),
    (Some(NamedGroup::secp256r1), "secp256r1"),
    (Some(NamedGroup::secp384r1), "secp384r1"),
    (None, "other"),
];
const VERSIONS: [(ProtocolVersion, &str); 2] = [
    (ProtocolVersion::TLSv1_3, "TLSv1.3"),
    (ProtocolVersion::TLSv1_2, "TLSv1.2"),
];

/// One sample of [`HandshakeCounters::samples`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeSample {
    pub listener: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub count: u64,
}

/// Handshake counters shared by both listeners.
#[derive(Debug, Default)]
pub struct HandshakeCounters {
    /// `[listener][group][version]`.
    counts: [[[AtomicU64; VERSIONS.len()]; GROUPS.len()]; TlsListener::ALL.len()],
}

impl HandshakeCounters {
    /// Counts the completed handshake of `connection` on `listener`.
    pub fn record(&self, listener: TlsListener, connection: &CommonState) {
        let group = connection
            .negotiated_key_exchange_group()
            .map(|group| group.name());
        let group_slot = GROUPS
            .iter()
            .position(|(name, _)| name.is_some() && *name == group)
            .unwrap_or(GROUPS.len() - 1);
        // rustls here negotiates only TLS 1.3 or 1.2.
        let version_slot = match connection.protocol_version() {
            Some(ProtocolVersion::TLSv1_2) => 1,
            _ => 0,
        };
        let listener_slot = TlsListener::ALL
            .iter()
            .position(|l| *l == listener)
            .unwrap_or(0);
        self.counts[listener_slot][group_slot][version_slot].fetch_add(1, Ordering::Relaxed);
    }

    /// Every non-zero counter.
    pub fn samples(&self) -> Vec<HandshakeSample> {
        let mut samples = Vec::new();
        for (listener, groups) in TlsListener::ALL.iter().zip(&self.counts) {
            for ((_, group), versions) in GROUPS.iter().zip(groups) {
                for ((_, version), count) in VERSIONS.iter().zip(versions) {
                    let count = count.load(Ordering::Relaxed);
                    if count > 0 {
                        samples.push(HandshakeSample {
                            listener: listener.name(),
                            group,
                            version,
                            count,
                        });
                    }
                }
            }
        }
        samples
    }
}
