//! Drawing from one DRBG instance of the pool: lock it (a poisoned lock discards the half-updated state),
//! reseed it when its interval, a prediction-resistant draw or a source's changed health says so, then generate
//! in requests the mechanism allows; seeding an instance from the seeding thread's material, failing closed.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::seeder::SeedMaterial;
use super::shard::Shard;
use super::{
    thread_slot, DrawInfo, PoolInner, INSTANTIATE_SEED_BYTES, MAX_GENERATE_BYTES, RESEED_SEED_BYTES,
};
use crate::drbg::DrbgError;
use crate::error::EntropyError;

impl PoolInner {
    /// Locks an instance. After a panic while it was held, its DRBG state may be half-updated: it is discarded
    /// and re-instantiated from fresh entropy at the next draw.
    pub(super) fn lock_shard<'a>(&self, shard: &'a Mutex<Shard>) -> MutexGuard<'a, Shard> {
        shard.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            guard.discard();
            shard.clear_poison();
            guard
        })
    }

    pub(super) fn failure_lock(&self) -> MutexGuard<'_, Option<EntropyError>> {
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn additional_digest(&self) -> [u8; 32] {
        *self
            .additional
            .digest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn draw(
        &self,
        out: &mut [u8],
        prediction_resistance: bool,
    ) -> Result<DrawInfo, EntropyError> {
        let index = thread_slot() % self.shards.len();
        let mut shard = self.lock_shard(&self.shards[index]);
        if out.is_empty() {
            // An empty draw still checks that the pool could serve one: it reports the failed state.
            self.prepare(&mut shard, prediction_resistance)?;
            return Self::draw_info(&shard, prediction_resistance);
        }
        let mut info = None;
        for chunk in out.chunks_mut(MAX_GENERATE_BYTES) {
            info = Some(self.generate(&mut shard, chunk, prediction_resistance)?);
        }
        info.ok_or(EntropyError::NotSeeded)
    }

    /// (Re)seeds `shard` when it has no instance yet, its seed is stale under the reseed policy, the pool is in
    /// the failed state, or prediction resistance is asked for.
    pub(super) fn prepare(
        &self,
        shard: &mut Shard,
        prediction_resistance: bool,
    ) -> Result<(), EntropyError> {
        let policy = &self.config.drbg;
        let stale = shard.generates_since_seed >= policy.reseed_interval_generates
            || shard
                .seeded_at
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(policy.reseed_interval_seconds));
        if shard.drbg.is_none()
            || stale
            || prediction_resistance
            || self.failed.load(Ordering::Acquire)
            || shard.health_generation != self.seeder.health_generation()
        {
            self.seed_shard(shard)?;
        }
        Ok(())
    }

    pub(super) fn draw_info(
        shard: &Shard,
        prediction_resistance: bool,
    ) -> Result<DrawInfo, EntropyError> {
        let record = shard.seed.clone().ok_or(EntropyError::NotSeeded)?;
        let reseed_counter = shard.drbg.as_ref().map_or(0, |d| d.reseed_counter());
        Ok(DrawInfo {
            record,
            mechanism: shard.mechanism,
            instance: shard.index,
            reseed_counter,
            prediction_resistance,
        })
    }

    /// One generate call, (re)seeding first when the policy, the failed state or prediction resistance asks.
    pub(super) fn generate(
        &self,
        shard: &mut Shard,
        chunk: &mut [u8],
        prediction_resistance: bool,
    ) -> Result<DrawInfo, EntropyError> {
        self.prepare(shard, prediction_resistance)?;
        let generation = self.additional.generation.load(Ordering::Acquire);
        let additional = if generation != shard.additional_seen && !prediction_resistance {
            shard.additional_seen = generation;
            Some(self.additional_digest())
        } else {
            None
        };
        let additional_input: &[u8] = additional.as_ref().map_or(&[], |d| d.as_slice());
        let drbg = shard.drbg.as_mut().ok_or(EntropyError::NotSeeded)?;
        match drbg.generate(chunk, additional_input) {
            Err(DrbgError::ReseedRequired) => {
                self.seed_shard(shard)?;
                let drbg = shard.drbg.as_mut().ok_or(EntropyError::NotSeeded)?;
                drbg.generate(chunk, additional_input)?;
            }
            other => other?,
        }
        shard.generates_since_seed += 1;
        shard.generate_calls += 1;
        shard.bytes_generated += chunk.len() as u64;
        Self::draw_info(shard, prediction_resistance)
    }

    /// Instantiates or reseeds `shard` from a fresh seed; records the pool's failed state either way.
    pub(super) fn seed_shard(&self, shard: &mut Shard) -> Result<(), EntropyError> {
        let timeout = Duration::from_millis(self.config.drbg.seed_timeout_ms);
        let instantiate = shard.drbg.is_none();
        let seed_bytes = if instantiate {
            INSTANTIATE_SEED_BYTES
        } else {
            RESEED_SEED_BYTES
        };
        let additional = self.additional_digest();
        // Read before seeding: a source failing during this seed moves it again, and the next draw reseeds.
        let generation = self.seeder.health_generation();
        let result = self
            .seeder
            .seed(seed_bytes, additional, timeout)
            .and_then(|material| {
                self.apply_seed(shard, &material, &additional)?;
                Ok(())
            });
        match &result {
            Ok(()) => {
                shard.health_generation = generation;
                if self.failed.swap(false, Ordering::AcqRel) {
                    tracing::info!("entropy pool recovered: seeding succeeded again");
                }
                *self.failure_lock() = None;
            }
            Err(error) => {
                if !self.failed.swap(true, Ordering::AcqRel) {
                    tracing::error!(%error, "entropy pool failed closed");
                }
                *self.failure_lock() = Some(error.clone());
            }
        }
        result
    }

    pub(super) fn apply_seed(
        &self,
        shard: &mut Shard,
        material: &SeedMaterial,
        additional: &[u8; 32],
    ) -> Result<(), EntropyError> {
        let record = Arc::clone(&material.record);
        if shard.drbg.is_none() {
            let input = self.uniqueness.next(shard.index, additional);
            shard.instantiate(&material.seed, &input.nonce, &input.personalization, record)?;
            shard.additional_seen = self.additional.generation.load(Ordering::Acquire);
        } else {
            shard.reseed(&material.seed, additional, record)?;
        }
        Ok(())
    }
}
