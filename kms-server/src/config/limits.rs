//! `[limits]`: framing, per-message and admission limits and timeouts (every one with a documented default).

use std::time::Duration;

/// `[limits]`
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request message in bytes, header included; checked before the body is read. Default 16 MiB.
    pub max_message_size: usize,
    /// Deepest TTLV nesting accepted. Default 64.
    pub max_depth: usize,
    /// Most TTLV items in one request. Default 1,000,000.
    pub max_items: usize,
    /// Most simultaneous authenticated client connections (per listener); a connection that completes its
    /// handshake beyond it is closed. Default 4096.
    pub max_connections: usize,
    /// Most connections in their TLS handshake at once, server-wide; a new connection beyond it is closed at
    /// once, so unauthenticated peers can never hold the slots authenticated ones need. Default 256.
    pub max_handshakes: usize,
    /// Most connections in their TLS handshake at once from one IP address. Default 64 (a burst of connections
    /// from one host, say a backup appliance behind NAT, still gets in).
    pub max_handshakes_per_address: usize,
    /// Most bytes of requests being read or answered, server-wide: reserved once a message's header declares
    /// its length, before its body is read; a message that cannot reserve is read, dropped and answered with
    /// an error. At least max_message_size. Default 268435456 (256 MiB).
    pub max_pending_request_bytes: usize,
    /// Seconds a TLS handshake may take. Default 5.
    pub handshake_timeout_secs: u64,
    /// Seconds to receive a whole message once its first byte arrived. Default 30.
    pub read_timeout_secs: u64,
    /// Seconds a connection may sit idle between messages before it is closed. Default 300.
    pub idle_timeout_secs: u64,
    /// Seconds to write a response. Default 30.
    pub write_timeout_secs: u64,
    /// Most batch items in one request message; a longer batch is refused whole (Invalid Message). Default 1,000.
    pub max_batch_items: usize,
    /// Most answer bytes one request message may make the server build (a request's Maximum Response Size may
    /// lower it, never raise it): what a message asks for (RNG Retrieve's Data Length) is reserved before any
    /// item runs, and every answer is charged as it is made; an item over budget is answered Response Too
    /// Large. Default 64 MiB.
    pub max_response_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_message_size: ttlv::Limits::DEFAULT_MAX_MESSAGE_SIZE,
            max_depth: ttlv::Limits::DEFAULT_MAX_DEPTH,
            max_items: ttlv::Limits::DEFAULT_MAX_ITEMS,
            max_connections: 4096,
            max_handshakes: 256,
            max_handshakes_per_address: 64,
            max_pending_request_bytes: 256 * 1024 * 1024,
            handshake_timeout_secs: 5,
            read_timeout_secs: 30,
            idle_timeout_secs: 300,
            write_timeout_secs: 30,
            max_batch_items: Self::DEFAULT_MAX_BATCH_ITEMS,
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl LimitsConfig {
    /// See [`LimitsConfig::max_batch_items`].
    pub const DEFAULT_MAX_BATCH_ITEMS: usize = 1_000;
    /// See [`LimitsConfig::max_response_bytes`]: 64 MiB.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

    /// The TTLV decoding limits.
    pub fn ttlv(&self) -> ttlv::Limits {
        ttlv::Limits {
            max_message_size: self.max_message_size,
            max_depth: self.max_depth,
            max_items: self.max_items,
        }
    }

    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.handshake_timeout_secs)
    }

    pub fn read_timeout(&self) -> Duration {
        Duration::from_secs(self.read_timeout_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn write_timeout(&self) -> Duration {
        Duration::from_secs(self.write_timeout_secs)
    }
}
