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
//! rustls takes the random source as `&'static dyn SecureRandom`, so the pool handle behind it is leaked once
//! per pool (the pool caches the provider): that pool is then never freed, which suits a process-lifetime pool.

use std::sync::Arc;

use rustls::crypto::{CryptoProvider, GetRandomFailed, SecureRandom};

use crate::pool::EntropyPool;

/// A rustls `SecureRandom` over the pool. A refused draw is `GetRandomFailed`: the handshake fails closed.
#[derive(Debug)]
pub struct PoolSecureRandom {
    pool: EntropyPool,
}

impl PoolSecureRandom {
    pub fn new(pool: EntropyPool) -> Self {
        Self { pool }
    }
}

impl SecureRandom for PoolSecureRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.pool.try_fill(buf).map_err(|error| {
            tracing::error!(%error, "TLS randomness refused: the entropy pool failed closed");
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
