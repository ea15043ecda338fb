//! rustls drawing every handshake secret from the pool.
//!
//! [`EntropyPool::rustls_provider`](crate::EntropyPool::rustls_provider) (and `rustls_provider_with` for a
//! chosen [`OnEntropyFailure`]) returns a `CryptoProvider` built by [`provider_with_random`]: ring for the
//! ciphers, hashes, HMAC/HKDF and signature verification; the random source and the key-exchange groups our own.
//! What comes from where:
//! - **from the pool** (through one [`TlsRandomness`]): everything rustls asks `secure_random` for (hello
//!   randoms, session IDs, ticket keys and nonces, GREASE and padding), and the ephemeral secrets of every key
//!   exchange: X25519MLKEM768 (the ML-KEM-768 seed and encapsulation message, the X25519 scalar), X25519,
//!   secp256r1 and secp384r1 ([`groups`]). kms-server's ECDSA handshake signer hedges its RFC 6979 nonces with
//!   bytes from the same source.
//! - **not from the pool**: a server key that is not ECDSA P-256/P-384 (RSA) is signed by ring, whose RSA-PSS
//!   salt and blinding come from the OS; ring's own key-exchange groups are not offered.
//!
//! When the pool fails closed, [`OnEntropyFailure`] chooses between refusing the draw (the handshake fails)
//! and the OS generator, logged and counted ([`TlsRandomness::os_fallback_draws`]) as not quantum. Key
//! material, nonces and RNG Retrieve never take this path: they draw from the pool directly.
//!
//! rustls takes the random source and the groups as `&'static` references, so they are leaked once per pool
//! and policy (the pool caches its providers): a process-lifetime pool is never freed.

pub mod groups;
mod randomness;

use std::sync::Arc;

use rustls::crypto::{CryptoProvider, SecureRandom};

pub use randomness::{OnEntropyFailure, TlsRandomness};

use crate::pool::EntropyPool;

/// ring's default provider with `secure_random` and every key-exchange group drawing from `random`. For a
/// generator that is not a pool (the PKCS#11 module's thread-free one).
pub fn provider_with_random(random: &'static dyn SecureRandom) -> CryptoProvider {
    CryptoProvider {
        secure_random: random,
        kx_groups: groups::all_groups(random),
        ..rustls::crypto::ring::default_provider()
    }
}

/// A pool's TLS source and the provider over it. The pool builds one per policy and caches it.
#[derive(Debug)]
pub(crate) struct PoolTls {
    pub(crate) randomness: &'static TlsRandomness,
    pub(crate) provider: Arc<CryptoProvider>,
}

pub(crate) fn provider_for(pool: EntropyPool, on_failure: OnEntropyFailure) -> PoolTls {
    let randomness: &'static TlsRandomness =
        Box::leak(Box::new(TlsRandomness::new(pool, on_failure)));
    PoolTls {
        randomness,
        provider: Arc::new(provider_with_random(randomness)),
    }
}
