//! `rand_core` 0.10 over the pool, in its two forms: [`PoolTryRng`] (`TryRng + TryCryptoRng`, the error is the
//! pool's [`EntropyError`]) for libraries that take `impl TryCryptoRng` and pass the error on (`rsa`, `ecdsa`,
//! `elliptic-curve`'s `Generate::try_generate_from_rng`), and [`PoolRng`] (the infallible `Rng + CryptoRng`) for
//! libraries that only take an infallible RNG (`ed25519-dalek`'s `SigningKey::generate`).
//!
//! The problem with the infallible form: `Rng::fill_bytes` (and `next_u32`/`next_u64`) cannot return an error. A
//! fail-closed pool must never hand out weaker bytes, and must not hand out zeros or stale bytes either. So
//! [`PoolRng`]'s draws **panic** when the pool refuses, with a payload of type [`FailClosed`] carrying the
//! [`EntropyError`]: the key generation is abandoned before any key exists.
//!
//! Callers should not let that panic reach their thread's top: run key generation through
//! [`PoolRng::with_rng`] (or [`EntropyPool::with_rng`]), which catches exactly that panic with `catch_unwind` and
//! returns the error as a `Result`, and lets any other panic continue. Code that can take a fallible RNG should use
//! [`EntropyPool::try_rng`] and get the error without a panic. In a build with `panic = "abort"` the process aborts
//! instead: still fail-closed.
//!
//! The previous generation's adapter (`rand_core` 0.6 `RngCore`) is gone: since the move to the rand_core 0.10
//! generation nothing in the workspace takes one.
//!
//! The standard panic hook runs before `catch_unwind` sees the panic, and used to print "thread panicked" and a
//! backtrace hint for every refusal that `with_rng` then turned into an ordinary error. The first `with_rng`
//! therefore installs a hook that stays silent for a [`FailClosed`] payload and hands every other panic to the
//! hook that was in place before.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use rand_core::{Infallible, TryCryptoRng, TryRng};

use super::EntropyPool;
use crate::error::EntropyError;

/// An infallible `rand_core` 0.10 `Rng + CryptoRng` handle on a pool. Cheap to create and clone.
///
/// Every draw panics (payload [`FailClosed`]) when the pool fails closed; run it under [`PoolRng::with_rng`] to
/// get the error instead, or use [`PoolTryRng`].
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

impl TryRng for PoolRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0u8; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0u8; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// Panics with a [`FailClosed`] payload rather than return bytes the pool did not vouch for.
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        if let Err(error) = self.pool.try_fill(dest) {
            // Wipe whatever a partial draw left, then abandon the caller's computation.
            dest.fill(0);
            panic::panic_any(FailClosed(error));
        }
        Ok(())
    }
}

impl TryCryptoRng for PoolRng {}

/// A fallible `rand_core` 0.10 `TryRng + TryCryptoRng` handle on a pool: a refused draw is the pool's
/// [`EntropyError`], with the destination wiped. Cheap to create and clone.
#[derive(Clone, Debug)]
pub struct PoolTryRng {
    pool: EntropyPool,
}

impl PoolTryRng {
    pub(crate) fn new(pool: EntropyPool) -> Self {
        Self { pool }
    }
}

impl TryRng for PoolTryRng {
    type Error = EntropyError;

    fn try_next_u32(&mut self) -> Result<u32, EntropyError> {
        let mut bytes = [0u8; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, EntropyError> {
        let mut bytes = [0u8; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), EntropyError> {
        self.pool.try_fill(dest).inspect_err(|_| dest.fill(0))
    }
}

impl TryCryptoRng for PoolTryRng {}
