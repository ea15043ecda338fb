//! The one random source behind a TLS provider: rustls' `SecureRandom` (hello randoms, session IDs, ticket
//! keys) and every ephemeral key-exchange secret of the groups in [`super::groups`] draw from it, and
//! kms-server's handshake signer takes its hedging bytes from it too.
//!
//! While the pool fails closed, [`OnEntropyFailure`] decides: refuse the draw (the handshake fails with an
//! alert) or serve it from the OS generator, logged (rate-limited) and counted here as not quantum.

use std::sync::atomic::{AtomicU64, Ordering};

use rustls::crypto::{GetRandomFailed, SecureRandom};

use crate::pool::EntropyPool;

/// What TLS randomness does while the pool fails closed (`[tls] on_entropy_failure`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OnEntropyFailure {
    /// Draw from the OS generator (`getrandom`), logged and counted as not quantum: handshakes keep working,
    /// with exactly the strength they had before qkms took their secrets from the pool. The default, so that
    /// operators can still reach `/health` and the source-reset endpoint while a QRNG is down.
    #[default]
    OsFallback,
    /// Refuse the draw: every new TLS handshake fails until the pool recovers.
    Refuse,
}

impl OnEntropyFailure {
    /// The configuration spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::OsFallback => "os-fallback",
            Self::Refuse => "refuse",
        }
    }
}

/// The pool as a rustls `SecureRandom`, with the failure policy applied and counted.
#[derive(Debug)]
pub struct TlsRandomness {
    pool: EntropyPool,
    on_failure: OnEntropyFailure,
    os_fallback_draws: AtomicU64,
    refused_draws: AtomicU64,
}

impl TlsRandomness {
    pub fn new(pool: EntropyPool, on_failure: OnEntropyFailure) -> Self {
        Self {
            pool,
            on_failure,
            os_fallback_draws: AtomicU64::new(0),
            refused_draws: AtomicU64::new(0),
        }
    }

    /// The policy this source applies while the pool fails closed.
    pub fn on_failure(&self) -> OnEntropyFailure {
        self.on_failure
    }

    /// How many TLS draws the OS generator served (not quantum) because the pool had failed closed.
    pub fn os_fallback_draws(&self) -> u64 {
        self.os_fallback_draws.load(Ordering::Relaxed)
    }

    /// How many TLS draws were refused (each fails a handshake).
    pub fn refused_draws(&self) -> u64 {
        self.refused_draws.load(Ordering::Relaxed)
    }

    fn refuse(&self, buf: &mut [u8]) -> GetRandomFailed {
        buf.fill(0);
        let refused = self.refused_draws.fetch_add(1, Ordering::Relaxed) + 1;
        if refused.is_power_of_two() {
            tracing::warn!(
                refused_draws = refused,
                "TLS handshake refused: the entropy pool failed closed ([tls] on_entropy_failure = \"refuse\")"
            );
        }
        GetRandomFailed
    }
}

impl SecureRandom for TlsRandomness {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        let Err(error) = self.pool.try_fill(buf) else {
            return Ok(());
        };
        if self.on_failure == OnEntropyFailure::Refuse {
            return Err(self.refuse(buf));
        }
        let draws = self.os_fallback_draws.fetch_add(1, Ordering::Relaxed) + 1;
        if draws.is_power_of_two() {
            tracing::warn!(
                %error,
                fallback_draws = draws,
                "TLS randomness (handshake secrets included) from OS getrandom, not quantum: the entropy pool failed closed"
            );
        }
        getrandom::fill(buf).map_err(|os_error| {
            tracing::error!(%error, %os_error, "TLS randomness refused: the pool and the OS generator both failed");
            self.refuse(buf)
        })
    }
}
