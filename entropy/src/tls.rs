//! rustls drawing its randomness from the pool.
//!
//! [`EntropyPool::rustls_provider`](crate::EntropyPool::rustls_provider) returns ring's default
//! `CryptoProvider` with `secure_random` replaced by the pool. What that covers, honestly:
//! - **from the pool**: everything rustls itself asks `secure_random` for: the client and server hello randoms,
//!   session IDs, session ticket keys and ticket nonces, TLS 1.3 PSK binders' randomness, padding/GREASE values;
//! - **not from the pool**: ring draws from its own `SystemRandom` (the OS `getrandom`) inside its primitives:
//!   the ephemeral (EC)DHE key-exchange private keys (X25519, P-256, P-384), ECDSA signing nonces, and RSA-PSS
//!   salts and blinding. rustls' ring provider offers no hook to change that. The handshake's forward secrecy
//!   therefore rests on the OS generator, not on the QRNG, and qkms says so rather than claiming otherwise.
//!
//! When the pool fails closed, TLS protocol randomness falls back to the OS generator (`getrandom`), logged as
//! "not quantum" on every such draw (rate-limited). Why: those values (hello randoms, session IDs, ticket keys) are
//! not key material, ring already takes the handshake's ephemeral keys from the OS, and a server that cannot
//! complete a handshake while its QRNG is down would also lock clients out of reading existing keys and operators
//! out of diagnosing the failure. Key material, nonces and RNG Retrieve still fail closed: they draw from the pool
//! directly, never through this fallback.
//!
//! rustls takes the random source as `&'static dyn SecureRandom`, so the pool handle behind it is leaked once
//! per pool (the pool caches the provider): that pool is then never freed, which suits a process-lifetime pool.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustls::crypto::{CryptoProvider, GetRandomFailed, SecureRandom};

use crate::pool::EntropyPool;

/// A rustls `SecureRandom` over the pool, falling back to the OS generator (labelled) while the pool fails
/// closed; only when both fail is the draw refused (`GetRandomFailed`), failing the handshake.
#[derive(Debug)]
pub struct PoolSecureRandom {
    pool: EntropyPool,
    os_fallback_draws: AtomicU64,
}

impl PoolSecureRandom {
    pub fn new(pool: EntropyPool) -> Self {
        Self {
            pool,
            os_fallback_draws: AtomicU64::new(0),
        }
    }

    /// How many TLS draws the OS generator served because the pool had failed closed.
    pub fn os_fallback_draws(&self) -> u64 {
        self.os_fallback_draws.load(Ordering::Relaxed)
    }
}

impl SecureRandom for PoolSecureRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        let Err(error) = self.pool.try_fill(buf) else {
            return Ok(());
        };
        let draws = self.os_fallback_draws.fetch_add(1, Ordering::Relaxed) + 1;
        if draws.is_power_of_two() {
            tracing::warn!(
                %error,
                fallback_draws = draws,
                "TLS protocol randomness from OS getrandom (not quantum): the entropy pool failed closed"
            );
        }
        getrandom::fill(buf).map_err(|os_error| {
            tracing::error!(%error, %os_error, "TLS randomness refused: the pool and the OS generator both failed");
            buf.fill(0);
            GetRandomFailed
        })
    }
}

/// ring's default provider with `secure_random` drawing from `pool`. Leaks one small handle (see the module
/// documentation); the pool calls this once and caches the result.
pub(crate) fn provider_for(pool: EntropyPool) -> Arc<CryptoProvider> {
    let secure_random: &'static PoolSecureRandom = Box::leak(Box::new(PoolSecureRandom::new(pool)));
    Arc::new(CryptoProvider {
        secure_random,
        ..rustls::crypto::ring::default_provider()
    })
}
