//! Seeding the HSM's RNG with quantum randomness: pool output pushed in with `C_SeedRandom`, periodically (a
//! [`Seeder`] thread, which also checks that the token is still there) and before every key the bridge asks the
//! HSM to generate. Counters per HSM feed `/metrics`
//! and `/health`. A token that answers `CKR_RANDOM_SEED_NOT_SUPPORTED` is reported once (a warning naming the
//! token) and counted at every attempt; its RNG then runs on its own sources only.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cryptoki::error::RvError;
use entropy::pool::EntropyPool;
use zeroize::Zeroizing;

use crate::error::{rv_of, HsmError};
use crate::settings::SeedSettings;
use crate::Hsm;

/// Seeding counters of one HSM (lock-free except the last error text).
#[derive(Debug)]
pub(crate) struct SeedCounters {
    label: String,
    bytes: AtomicU64,
    seedings: AtomicU64,
    failures: AtomicU64,
    not_supported: AtomicU64,
    reported_not_supported: AtomicBool,
    /// Unix seconds of the last success; 0 = never.
    last_success: AtomicI64,
    last_error: Mutex<Option<String>>,
}

/// A snapshot of one HSM's seeding, for `/metrics` and `/health`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SeedStatus {
    /// The token label (the `hsm` label of the metrics).
    pub hsm: String,
    /// Pool bytes accepted by C_SeedRandom so far.
    pub bytes_seeded: u64,
    /// Successful C_SeedRandom calls.
    pub seedings: u64,
    /// Failed attempts (token unavailable, pool unavailable, or seeding refused).
    pub failures: u64,
    /// Of the failures, the token's CKR_RANDOM_SEED_NOT_SUPPORTED answers.
    pub not_supported: u64,
    /// Unix seconds of the last successful seeding.
    pub last_success_unix: Option<i64>,
    /// The last failure's message.
    pub last_error: Option<String>,
}

impl SeedCounters {
    pub(crate) fn new(label: &str) -> Self {
        Self {
            label: label.to_owned(),
            bytes: AtomicU64::new(0),
            seedings: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            not_supported: AtomicU64::new(0),
            reported_not_supported: AtomicBool::new(false),
            last_success: AtomicI64::new(0),
            last_error: Mutex::new(None),
        }
    }

    fn set_last_error(&self, message: Option<String>) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = message;
    }

    /// Counts one seeding attempt; the first CKR_RANDOM_SEED_NOT_SUPPORTED is logged, every one is counted.
    /// Returns whether this call logged it.
    fn record(&self, result: &Result<(), HsmError>, bytes: usize) -> bool {
        match result {
            Ok(()) => {
                self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
                self.seedings.fetch_add(1, Ordering::Relaxed);
                self.last_success.store(unix_now(), Ordering::Relaxed);
                self.set_last_error(None);
                false
            }
            Err(error) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.set_last_error(Some(error.to_string()));
                let HsmError::SeedNotSupported { token } = error else {
                    return false;
                };
                self.not_supported.fetch_add(1, Ordering::Relaxed);
                if self.reported_not_supported.swap(true, Ordering::Relaxed) {
                    return false;
                }
                tracing::warn!(token = %token, "HSM token does not accept C_SeedRandom \
                    (CKR_RANDOM_SEED_NOT_SUPPORTED): its RNG runs on its own sources only; further refusals are \
                    counted, not logged");
                true
            }
        }
    }

    fn snapshot(&self) -> SeedStatus {
        let last = self.last_success.load(Ordering::Relaxed);
        SeedStatus {
            hsm: self.label.clone(),
            bytes_seeded: self.bytes.load(Ordering::Relaxed),
            seedings: self.seedings.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            not_supported: self.not_supported.load(Ordering::Relaxed),
            last_success_unix: (last != 0).then_some(last),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Hsm {
    /// Draws `bytes` bytes from the pool and pushes them into the HSM's RNG. Counted either way.
    pub fn seed(&self, pool: &EntropyPool, bytes: usize) -> Result<(), HsmError> {
        let result = self.seed_inner(pool, bytes);
        self.seed.record(&result, bytes);
        result
    }

    /// The periodic round: checks the token is still there (an emulated token's RNG may keep answering after
    /// the token itself is gone), then seeds it. Counted like [`Hsm::seed`].
    pub fn check_and_seed(&self, pool: &EntropyPool, bytes: usize) -> Result<(), HsmError> {
        let result = self
            .check_token()
            .and_then(|()| self.seed_inner(pool, bytes));
        self.seed.record(&result, bytes);
        result
    }

    fn seed_inner(&self, pool: &EntropyPool, bytes: usize) -> Result<(), HsmError> {
        let mut seed = Zeroizing::new(vec![0u8; bytes]);
        pool.try_fill(&mut seed)?;
        self.with_connection("C_SeedRandom", |c| {
            c.session().seed_random(&seed).map_err(|e| match rv_of(&e) {
                Some(RvError::RandomSeedNotSupported) | Some(RvError::RandomNoRng) => {
                    HsmError::SeedNotSupported {
                        token: self.settings.token_label.clone(),
                    }
                }
                _ => self.call_error("C_SeedRandom", e),
            })
        })
    }

    /// Seeds before a key generation; a failure is logged (and counted) but does not stop the generation.
    pub(crate) fn seed_before_generation(&self, pool: &EntropyPool) {
        if let Err(error) = self.seed(pool, SeedSettings::default().bytes) {
            if !matches!(error, HsmError::SeedNotSupported { .. }) {
                tracing::warn!(%error, "could not seed the HSM before key generation");
            }
        }
    }

    /// This HSM's seeding counters.
    pub fn seed_status(&self) -> SeedStatus {
        self.seed.snapshot()
    }
}

/// The periodic seeding thread of one HSM; stops (and is joined) when dropped.
#[derive(Debug)]
pub struct Seeder {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Seeder {
    /// Seeds `hsm` now and then every `settings.interval_secs`, `settings.bytes` bytes each time.
    pub fn start(
        hsm: Arc<Hsm>,
        pool: EntropyPool,
        settings: SeedSettings,
    ) -> Result<Self, HsmError> {
        settings.validate()?;
        let (stop, stopped) = mpsc::channel::<()>();
        let interval = Duration::from_secs(settings.interval_secs);
        let thread = std::thread::Builder::new()
            .name(format!("hsm-seed-{}", hsm.label()))
            .spawn(move || loop {
                if let Err(error) = hsm.check_and_seed(&pool, settings.bytes) {
                    if !matches!(error, HsmError::SeedNotSupported { .. }) {
                        tracing::warn!(%error, "periodic HSM seeding failed");
                    }
                }
                match stopped.recv_timeout(interval) {
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            })
            .map_err(|e| HsmError::Settings(format!("cannot start the HSM seeding thread: {e}")))?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Seeder {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_refusing_seeds_is_reported_once_and_counted_every_time() {
        let counters = SeedCounters::new("no-seed");
        let refused = || -> Result<(), HsmError> {
            Err(HsmError::SeedNotSupported {
                token: "no-seed".into(),
            })
        };
        assert!(
            counters.record(&refused(), 64),
            "the first refusal is reported"
        );
        assert!(!counters.record(&refused(), 64), "later ones are not");
        assert!(!counters.record(&Ok(()), 64));
        let status = counters.snapshot();
        assert_eq!(
            (
                status.failures,
                status.not_supported,
                status.bytes_seeded,
                status.seedings
            ),
            (2, 2, 64, 1)
        );
        assert!(
            status.last_error.is_none(),
            "a success clears the last error"
        );
        assert!(!counters.record(&refused(), 64));
        let status = counters.snapshot();
        assert_eq!(status.not_supported, 3);
        assert!(status
            .last_error
            .unwrap()
            .contains("CKR_RANDOM_SEED_NOT_SUPPORTED"));
    }
}
