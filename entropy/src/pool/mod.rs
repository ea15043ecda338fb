//! The entropy pool: the handle the rest of qkms holds.
//!
//! - Seeds come from the seeding thread ([`seeder`]): health-tested credited samples, conditioned with
//!   min-entropy accounting. Instantiation takes 384 bits of full entropy (3s/2 for s = 256, SP 800-90C; the
//!   conditioner needs 448 credited bits for it) plus a 128-bit nonce (time and a counter: unique, as SP 800-90A
//!   8.6.7 asks) and a personalization string that never repeats across instantiations, processes and
//!   restarts ([`uniqueness`]); a reseed takes 256 bits (320 credited).
//! - DRBG instances are sharded: each thread sticks to one instance (chosen round-robin at its first draw), so
//!   with one instance per CPU (the default) threads rarely contend on a lock.
//! - An instance reseeds when its seed is older than the configured interval (generate calls or seconds), on
//!   [`EntropyPool::reseed`], and before every generate of a prediction-resistant draw.
//! - It fails closed: when a (re)seed fails, the pool enters the failed state and every draw on every instance
//!   errors (naming each credited source and its health state) until a seed succeeds again. Each draw in the
//!   failed state retries the seed, so recovery is automatic once an intermittently failing source passes its
//!   retest; a latched (persistent) failure needs [`EntropyPool::reset_source`].
//! - When a source enters a failure state (or is reset), every instance reseeds at its next draw, so that no
//!   instance keeps serving from a seed whose status no longer holds; [`EntropyPool::status`] says which sources
//!   fed the latest seed and whether it is quantum now (`quantum_now`), from what actually seeded, not from the
//!   configuration.

mod draw;
mod rng;
mod seeder;
mod shard;
mod snapshot;
mod sources;
mod uniqueness;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

pub use self::rng::{FailClosed, PoolRng, PoolTryRng};
pub use self::sources::{open_configured_source, open_source, TestedSource};

use self::seeder::Seeder;
use self::shard::Shard;
use self::uniqueness::Uniqueness;
use crate::config::EntropyConfig;
use crate::drbg::{DrbgMechanism, MAX_BYTES_PER_REQUEST};
use crate::error::EntropyError;
use crate::provenance::{unix_ms_now, Provenance, SeedRecord};
use crate::source::{EntropySource, SourceKind};
use crate::status::{PoolStatus, SourceStatus};

/// Entropy input at instantiation: 384 bits (3s/2, s = 256).
pub const INSTANTIATE_SEED_BYTES: usize = 48;
/// Entropy input at reseed: 256 bits (s).
pub const RESEED_SEED_BYTES: usize = 32;
/// Largest generate call; bigger draws are split.
pub const MAX_GENERATE_BYTES: usize = MAX_BYTES_PER_REQUEST;

/// How long an operator reset waits for the seeding thread.
const RESET_TIMEOUT: Duration = Duration::from_secs(30);

/// The pool handle: cheap to clone (an `Arc`), `Send + Sync`.
#[derive(Clone, Debug)]
pub struct EntropyPool {
    inner: Arc<PoolInner>,
}

#[derive(Debug)]
struct PoolInner {
    config: EntropyConfig,
    shards: Vec<Mutex<Shard>>,
    seeder: Seeder,
    /// Set when the last (re)seed failed; every draw then retries the seed before generating.
    failed: AtomicBool,
    failure: Mutex<Option<EntropyError>>,
    /// Boot id, pid and the persisted start counter: what makes every instantiation's input unique.
    uniqueness: Uniqueness,
    additional: AdditionalInput,
    /// The rustls providers, built once per pool and failure policy (see [`crate::tls`]): `[os-fallback, refuse]`.
    tls: [std::sync::OnceLock<crate::tls::PoolTls>; 2],
}

/// Uncredited additional input (`add_input`): folded into a running SHA-256 digest that every instance mixes in
/// as SP 800-90A additional input at its next generate, and that every seed absorbs without credit.
#[derive(Debug, Default)]
struct AdditionalInput {
    generation: AtomicU64,
    digest: Mutex<[u8; 32]>,
}

/// What one draw used, from which [`Provenance`] is built on demand.
pub(crate) struct DrawInfo {
    record: Arc<SeedRecord>,
    mechanism: DrbgMechanism,
    instance: u32,
    reseed_counter: u64,
    prediction_resistance: bool,
}

impl DrawInfo {
    fn provenance(self) -> Provenance {
        let quantum = self.record.quantum();
        Provenance {
            sources: self.record.sources.clone(),
            quantum,
            seed_epoch: self.record.epoch,
            seeded_at_unix_ms: self.record.seeded_at_unix_ms,
            conditioner: self.record.conditioner.clone(),
            drbg_mechanism: self.mechanism,
            drbg_instance: self.instance,
            reseed_counter: self.reseed_counter,
            prediction_resistance: self.prediction_resistance,
            generated_at_unix_ms: unix_ms_now(),
        }
    }
}

static NEXT_THREAD_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's position in the round-robin over instances, assigned at its first draw.
    static THREAD_SLOT: Cell<Option<usize>> = const { Cell::new(None) };
}

fn thread_slot() -> usize {
    THREAD_SLOT.with(|slot| {
        slot.get().unwrap_or_else(|| {
            let assigned = NEXT_THREAD_SLOT.fetch_add(1, Ordering::Relaxed);
            slot.set(Some(assigned));
            assigned
        })
    })
}

impl EntropyPool {
    /// Builds a pool from a configuration: opens every source behind its health tests and starts the seeding
    /// thread. Seeding is lazy (the first draw on each instance seeds it), so this does not fail because a
    /// source is unhealthy right now, only because the configuration is invalid or a source cannot be opened.
    pub fn new(config: EntropyConfig) -> Result<Self, EntropyError> {
        let sources = sources::open_sources(&config)?;
        Self::start(config, sources)
    }

    /// Builds a pool over sources the caller supplies (own drivers, tests), each health-tested with the
    /// configuration's thresholds and described by its own [`SourceInfo`](crate::source::SourceInfo);
    /// `config.sources` is ignored.
    pub fn with_sources(
        config: EntropyConfig,
        sources: Vec<Box<dyn EntropySource>>,
    ) -> Result<Self, EntropyError> {
        let mut checked = config.clone();
        checked.sources.clear();
        checked.validate()?;
        if !config.allow_replay_credit {
            if let Some(replay) = sources
                .iter()
                .find(|s| s.info().kind == SourceKind::Replay && s.info().credited)
            {
                return Err(EntropyError::Config(format!(
                    "source {}: a replay recording cannot be credited (allow_replay_credit = true is for tests only)",
                    replay.info().id
                )));
            }
        }
        if !sources.iter().any(|s| s.info().credited) {
            return Err(EntropyError::Config(
                "no credited source among the supplied sources".into(),
            ));
        }
        let tested = sources::test_sources(sources, &config.health)?;
        Self::start(config, tested)
    }

    /// Builds a pool from the configuration's sources plus `extra` ones whose drivers live outside this crate
    /// (an HSM's generator, registered by the server), each behind the same health tests. An extra source counts
    /// towards seeds only if its own description says it is credited.
    pub fn with_extra_sources(
        config: EntropyConfig,
        extra: Vec<Box<dyn EntropySource>>,
    ) -> Result<Self, EntropyError> {
        let mut sources = sources::open_sources(&config)?;
        sources.extend(sources::test_sources(extra, &config.health)?);
        Self::start(config, sources)
    }

    fn start(config: EntropyConfig, sources: Vec<TestedSource>) -> Result<Self, EntropyError> {
        for source in sources
            .iter()
            .filter(|s| s.info().kind == SourceKind::Replay && s.info().credited)
        {
            tracing::warn!(
                source = %source.info().id,
                "TEST ONLY: allow_replay_credit credits a replay recording, which restarts from its first byte at \
                 every start; never run a production server like this"
            );
        }
        let uniqueness = Uniqueness::start(config.state_file.as_deref())?;
        let count = config.drbg.instance_count();
        let mechanism = config.drbg.mechanism;
        let shards = (0..count)
            .map(|i| Mutex::new(Shard::new(i as u32, mechanism)))
            .collect();
        let seeder = Seeder::start(sources)?;
        Ok(Self {
            inner: Arc::new(PoolInner {
                config,
                shards,
                seeder,
                failed: AtomicBool::new(false),
                failure: Mutex::new(None),
                uniqueness,
                additional: AdditionalInput::default(),
                tls: Default::default(),
            }),
        })
    }

    /// Fills `out` with DRBG output and says where its entropy came from. Draws above 64 KiB are served as
    /// several generate calls on the same instance. Fails closed: an error, never weaker bytes (on error the
    /// contents of `out` are unspecified and must not be used).
    pub fn fill(&self, out: &mut [u8]) -> Result<Provenance, EntropyError> {
        self.inner.draw(out, false).map(DrawInfo::provenance)
    }

    /// Like [`fill`](Self::fill), with prediction resistance: every generate call is preceded by a fresh reseed
    /// from the sources, and the draw fails if they cannot supply it within `drbg.seed_timeout_ms`.
    pub fn fill_prediction_resistant(&self, out: &mut [u8]) -> Result<Provenance, EntropyError> {
        self.inner.draw(out, true).map(DrawInfo::provenance)
    }

    /// [`fill`](Self::fill) without building a provenance record (the hot path behind [`PoolRng`] and TLS).
    pub fn try_fill(&self, out: &mut [u8]) -> Result<(), EntropyError> {
        self.inner.draw(out, false).map(|_| ())
    }

    /// Reseeds every instance now (reseed on request). Instances not yet instantiated are instantiated.
    pub fn reseed(&self) -> Result<(), EntropyError> {
        for shard in &self.inner.shards {
            let mut shard = self.inner.lock_shard(shard);
            self.inner.seed_shard(&mut shard)?;
        }
        Ok(())
    }

    /// Mixes in input without credit (KMIP RNG Seed data, an HSM's RNG output, ...). Every instance takes it as
    /// SP 800-90A additional input at its next generate; every later seed absorbs it too.
    pub fn add_input(&self, input: &[u8]) {
        let additional = &self.inner.additional;
        let mut digest = additional
            .digest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut hasher = Sha256::new();
        hasher.update(b"qkms additional input");
        hasher.update(*digest);
        hasher.update((input.len() as u64).to_be_bytes());
        hasher.update(input);
        *digest = hasher.finalize().into();
        additional.generation.fetch_add(1, Ordering::Release);
    }

    /// Operator action: clears source `id`'s health-test failure (latched or not) and its buffered samples, then
    /// reseeds every instance. The source contributes again only after its start-up tests pass on fresh
    /// samples (they run at that reseed); until then the other credited sources seed. Returns the source's
    /// status after the reseed (its health says whether the start-up tests passed). Unknown ids are refused
    /// with [`EntropyError::UnknownSource`]; a failing reseed leaves the pool failed closed as usual (see
    /// [`status`](Self::status)) without failing the reset.
    pub fn reset_source(&self, id: &str) -> Result<SourceStatus, EntropyError> {
        self.inner.seeder.reset_source(id, RESET_TIMEOUT)?;
        if let Err(error) = self.reseed() {
            tracing::warn!(source = %id, %error, "reseed after an operator reset failed");
        }
        self.status()
            .sources
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| EntropyError::UnknownSource(id.to_owned()))
    }

    /// An infallible `rand_core` 0.10 RNG over this pool, whose refusals panic (run it under
    /// [`with_rng`](Self::with_rng)). See [`PoolRng`].
    pub fn rng(&self) -> PoolRng {
        PoolRng::new(self.clone())
    }

    /// A fallible `rand_core` 0.10 RNG over this pool (for `rsa`, `ecdsa`, `elliptic-curve` key generation): a
    /// refusal is an [`EntropyError`]. See [`PoolTryRng`].
    pub fn try_rng(&self) -> PoolTryRng {
        PoolTryRng::new(self.clone())
    }

    /// The configuration the pool runs.
    pub fn config(&self) -> &EntropyConfig {
        &self.inner.config
    }

    /// A live snapshot: per source samples read, rate, health, failures and whether it feeds the seeds now; per
    /// instance bytes and reseeds; whether the pool is quantum now (from what seeded, not the configuration).
    pub fn status(&self) -> PoolStatus {
        let inner = &self.inner;
        let mut seeds = Vec::with_capacity(inner.shards.len());
        let drbgs: Vec<_> = inner
            .shards
            .iter()
            .map(|s| {
                let shard = inner.lock_shard(s);
                seeds.extend(shard.seed.clone());
                shard.status()
            })
            .collect();
        let failed = inner.failed.load(Ordering::Acquire);
        let failure = if failed {
            inner.failure_lock().as_ref().map(ToString::to_string)
        } else {
            None
        };
        snapshot::build(snapshot::Inputs {
            sources: inner.seeder.status(),
            last_seed: inner.seeder.last_seed(),
            instance_seeds: seeds,
            drbgs,
            failed,
            failure,
            mechanism: inner.config.drbg.mechanism,
        })
    }

    /// The rustls provider drawing every handshake secret from this pool, falling back to the OS generator
    /// (counted) while the pool fails closed (see [`crate::tls`]). Clients use this one.
    pub fn rustls_provider(&self) -> Arc<rustls::crypto::CryptoProvider> {
        self.rustls_provider_with(crate::tls::OnEntropyFailure::OsFallback)
    }

    /// The rustls provider drawing from this pool with the given policy for a pool that fails closed.
    pub fn rustls_provider_with(
        &self,
        on_failure: crate::tls::OnEntropyFailure,
    ) -> Arc<rustls::crypto::CryptoProvider> {
        Arc::clone(&self.tls(on_failure).provider)
    }

    /// The random source behind [`rustls_provider_with`](Self::rustls_provider_with)`(on_failure)`: its
    /// fallback and refusal counters, and the draws of kms-server's handshake signer.
    pub fn tls_randomness(
        &self,
        on_failure: crate::tls::OnEntropyFailure,
    ) -> &'static crate::tls::TlsRandomness {
        self.tls(on_failure).randomness
    }

    fn tls(&self, on_failure: crate::tls::OnEntropyFailure) -> &crate::tls::PoolTls {
        let slot = match on_failure {
            crate::tls::OnEntropyFailure::OsFallback => 0,
            crate::tls::OnEntropyFailure::Refuse => 1,
        };
        self.inner.tls[slot].get_or_init(|| crate::tls::provider_for(self.clone(), on_failure))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_handle_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<EntropyPool>();
    }
}
