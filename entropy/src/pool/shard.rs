//! One DRBG instance of the pool and its SP 800-90C bookkeeping (seed age, generate calls, counters).

use std::sync::Arc;
use std::time::Instant;

use crate::drbg::{CtrDrbg, Drbg, DrbgError, DrbgMechanism, HmacDrbgSha256, HmacDrbgSha512};
use crate::provenance::SeedRecord;
use crate::status::DrbgStatus;

/// A DRBG instance with the record of the seed its state descends from.
#[derive(Debug)]
pub(crate) struct Shard {
    pub index: u32,
    pub mechanism: DrbgMechanism,
    pub drbg: Option<Box<dyn Drbg>>,
    pub seed: Option<Arc<SeedRecord>>,
    pub seeded_at: Option<Instant>,
    /// Generate calls since the last (re)seed, as the pool's reseed policy counts them.
    pub generates_since_seed: u64,
    pub bytes_generated: u64,
    pub generate_calls: u64,
    pub reseeds: u64,
    pub instantiations: u64,
    /// The additional-input generation this instance has already mixed in.
    pub additional_seen: u64,
    /// The seeder's health generation when this instance was last seeded (a change means: reseed).
    pub health_generation: u64,
}

impl Shard {
    pub fn new(index: u32, mechanism: DrbgMechanism) -> Self {
        Self {
            index,
            mechanism,
            drbg: None,
            seed: None,
            seeded_at: None,
            generates_since_seed: 0,
            bytes_generated: 0,
            generate_calls: 0,
            reseeds: 0,
            instantiations: 0,
            additional_seen: 0,
            health_generation: 0,
        }
    }

    /// Instantiates the configured mechanism (entropy input, nonce, personalization per SP 800-90A).
    pub fn instantiate(
        &mut self,
        entropy_input: &[u8],
        nonce: &[u8],
        personalization: &[u8],
        record: Arc<SeedRecord>,
    ) -> Result<(), DrbgError> {
        let drbg: Box<dyn Drbg> = match self.mechanism {
            DrbgMechanism::CtrAes256 => {
                Box::new(CtrDrbg::instantiate(entropy_input, nonce, personalization)?)
            }
            DrbgMechanism::HmacSha256 => Box::new(HmacDrbgSha256::instantiate(
                entropy_input,
                nonce,
                personalization,
            )?),
            DrbgMechanism::HmacSha512 => Box::new(HmacDrbgSha512::instantiate(
                entropy_input,
                nonce,
                personalization,
            )?),
        };
        self.drbg = Some(drbg);
        self.instantiations += 1;
        self.mark_seeded(record);
        Ok(())
    }

    /// Reseeds the running instance.
    pub fn reseed(
        &mut self,
        entropy_input: &[u8],
        additional: &[u8],
        record: Arc<SeedRecord>,
    ) -> Result<(), DrbgError> {
        if let Some(drbg) = self.drbg.as_mut() {
            drbg.reseed(entropy_input, additional)?;
            self.reseeds += 1;
            self.mark_seeded(record);
        }
        Ok(())
    }

    fn mark_seeded(&mut self, record: Arc<SeedRecord>) {
        self.seed = Some(record);
        self.seeded_at = Some(Instant::now());
        self.generates_since_seed = 0;
    }

    /// Forgets the instance (after a panic while it was locked, its state may be half-updated).
    pub fn discard(&mut self) {
        self.drbg = None;
        self.seed = None;
        self.seeded_at = None;
    }

    pub fn status(&self) -> DrbgStatus {
        DrbgStatus {
            instance: self.index,
            mechanism: self.mechanism,
            seeded: self.drbg.is_some(),
            seed_epoch: self.seed.as_ref().map(|s| s.epoch),
            bytes_generated: self.bytes_generated,
            generate_calls: self.generate_calls,
            reseeds: self.reseeds,
            instantiations: self.instantiations,
            reseed_counter: self.drbg.as_ref().map_or(0, |d| d.reseed_counter()),
            seed_age_seconds: self.seeded_at.map(|t| t.elapsed().as_secs_f64()),
        }
    }
}
