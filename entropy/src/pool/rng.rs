//! `rand_core` 0.6 over the pool, for libraries that take `impl RngCore + CryptoRng` (rsa, p256, ...).
//!
//! The problem: `RngCore::fill_bytes` (and `next_u32`/`next_u64`) cannot return an error, and key-generation
//! code calls them, not `try_fill_bytes`. A fail-closed pool must never hand out weaker bytes, and must not hand
//! out zeros or stale bytes either. So [`PoolRng::fill_bytes`] **panics** when the pool refuses the draw, with a
//! payload of type [`FailClosed`] carrying the [`EntropyError`]: the key generation is abandoned before any key
//! exists.
//!
//! Callers should not let that panic reach their thread's top: run key generation through
//! [`PoolRng::with_rng`] (or [`EntropyPool::with_rng`]), which catches exactly that panic with `catch_unwind` and
//! returns the error as a `Result`, and lets any other panic continue. Code that calls `try_fill_bytes` directly
//! gets the error without a panic. In a build with `panic = "abort"` the process aborts instead: still fail-closed.
//!
//! The standard panic hook runs before `catch_unwind` sees the panic, and used to print "thread panicked" and a
//! backtrace hint for every refusal that `with_rng` then turned into an ordinary error. The first `with_rng`
//! therefore installs a hook that stays silent for a [`FailClosed`] payload and hands every other panic to the
//! hook that was in place before.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use rand_core::{CryptoRng, RngCore};

use super::EntropyPool;
use crate::error::EntropyError;

/// A `rand_core` 0.6 `RngCore + CryptoRng` handle on a pool. Cheap to create and clone.
///
/// `fill_bytes`, `next_u32` and `next_u64` panic (payload [`FailClosed`]) when the pool fails closed; use
/// `try_fill_bytes` or [`PoolRng::with_rng`] to get the error instead.
#[derive(Clone, Debug)]
pub struct PoolRng {
    pool: EntropyPool,
}

/// The panic payload of a refused `fill_bytes`: the pool's error. [`PoolRng::with_rng`] turns it back into the
/// error.
#[derive(Debug)]
pub struct FailClosed(pub EntropyError);

impl PoolRng {
    pub(crate) fn new(pool: EntropyPool) -> Self {
        Self { pool }
    }

    /// Runs `f` with an RNG over `pool`; if the pool refuses a draw inside `f`, returns that error (the panic
    /// from `fill_bytes` is caught here). Other panics propagate unchanged.
    pub fn with_rng<T>(
        pool: &EntropyPool,
        f: impl FnOnce(&mut PoolRng) -> T,
    ) -> Result<T, EntropyError> {
        silence_fail_closed_panics();
        let mut rng = pool.rng();
        match panic::catch_unwind(AssertUnwindSafe(|| f(&mut rng))) {
            Ok(value) => Ok(value),
            Err(payload) => match payload.downcast::<FailClosed>() {
                Ok(fail_closed) => Err(fail_closed.0),
                Err(other) => panic::resume_unwind(other),
            },
        }
    }
}

/// Installs (once per process) a panic hook that prints nothing for a [`FailClosed`] payload, which
/// [`PoolRng::with_rng`] turns into an error, and delegates every other panic to the previous hook.
fn silence_fail_closed_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<FailClosed>().is_none() {
                previous(info);
            }
        }));
    });
}

impl EntropyPool {
    /// Runs `f` (typically a key generation) with a [`PoolRng`], turning a fail-closed refusal inside it into
    /// an error. See [`PoolRng::with_rng`].
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut PoolRng) -> T) -> Result<T, EntropyError> {
        PoolRng::with_rng(self, f)
    }
}

impl RngCore for PoolRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    /// Panics with a [`FailClosed`] payload rather than return bytes the pool did not vouch for.
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if let Err(error) = self.pool.try_fill(dest) {
            // Wipe whatever a partial draw left, then abandon the caller's computation.
            dest.fill(0);
            panic::panic_any(FailClosed(error));
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.pool.try_fill(dest).map_err(|error| {
            dest.fill(0);
            rand_core::Error::new(error)
        })
    }
}

impl CryptoRng for PoolRng {}
