//! The pool fails closed: a stuck or glitching source stops every draw (with an error naming the source and its
//! health state), never weaker bytes; it recovers once the source passes its retest (or an operator resets a
//! latched source); a source too slow for a prediction-resistant reseed fails the draw within the timeout.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use entropy::config::DrbgConfig;
use entropy::health::HealthState;
use entropy::source::{EntropySource, SourceError, SourceInfo, SourceKind};
use entropy::status::PoolState;
use entropy::{EntropyConfig, EntropyError, EntropyPool};
use rand_core::{Rng, TryRng};

const HEALTHY: u8 = 0;
/// Constant bytes: trips the persistent Repetition Count cutoff (latched).
const STUCK: u8 = 1;
/// One run of 6 identical samples, then healthy again: trips only the intermittent cutoff (H = 8 bits at
/// alpha 2^-30 gives an RCT cutoff of 5; the persistent one, at 2^-60, is 9).
const GLITCH_ONCE: u8 = 2;
/// Each read takes 400 ms.
const SLOW: u8 = 3;

/// A test source whose behaviour the test switches while the pool runs. Reads at most 512 samples at a time
/// so that the health-tested wrapper buffers little and a change shows up within a few seeds.
#[derive(Debug)]
struct SwitchableSource {
    info: SourceInfo,
    mode: Arc<AtomicU8>,
}

impl SwitchableSource {
    fn boxed(id: &str, mode: Arc<AtomicU8>) -> Box<dyn EntropySource> {
        Box::new(Self {
            info: SourceInfo {
                id: id.to_owned(),
                kind: SourceKind::CharDevice,
                quantum: true,
                sample_bits: 8,
                min_entropy_per_sample: 8.0,
                credited: true,
            },
            mode,
        })
    }
}

impl EntropySource for SwitchableSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        let n = out.len().min(512);
        let out = &mut out[..n];
        match self.mode.load(Ordering::SeqCst) {
            STUCK => out.fill(0x42),
            GLITCH_ONCE => {
                getrandom::fill(out).unwrap();
                out[..6].fill(0x42);
                self.mode.store(HEALTHY, Ordering::SeqCst);
            }
            mode => {
                if mode == SLOW {
                    std::thread::sleep(Duration::from_millis(400));
                }
                getrandom::fill(out).unwrap();
            }
        }
        Ok(n)
    }
}

fn config(reseed_every_draw: bool) -> EntropyConfig {
    EntropyConfig {
        drbg: DrbgConfig {
            instances: 2,
            reseed_interval_generates: if reseed_every_draw { 1 } else { 65_536 },
            seed_timeout_ms: 150,
            ..DrbgConfig::default()
        },
        ..EntropyConfig::default()
    }
}

fn pool_with(mode: &Arc<AtomicU8>, reseed_every_draw: bool) -> EntropyPool {
    EntropyPool::with_sources(
        config(reseed_every_draw),
        vec![SwitchableSource::boxed("qrng-test", Arc::clone(mode))],
    )
    .unwrap()
}

/// Draws until the pool refuses (buffered samples that already passed the tests may still serve a few seeds).
fn draw_until_refused(pool: &EntropyPool) -> EntropyError {
    let mut buf = [0u8; 32];
    for _ in 0..500 {
        if let Err(error) = pool.fill(&mut buf) {
            return error;
        }
    }
    panic!("the pool kept serving draws from a failed source");
}

#[test]
fn refuses_every_draw_while_the_only_source_is_stuck_and_names_it() {
    let mode = Arc::new(AtomicU8::new(HEALTHY));
    let pool = pool_with(&mode, true);
    let mut buf = [0u8; 64];
    pool.fill(&mut buf).unwrap();

    mode.store(STUCK, Ordering::SeqCst);
    let error = draw_until_refused(&pool);
    let EntropyError::NoHealthySource { sources, .. } = &error else {
        panic!("unexpected error {error}")
    };
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].id, "qrng-test");
    assert_eq!(sources[0].health, Some(HealthState::PersistentFailure));
    let message = error.to_string();
    assert!(
        message.contains("qrng-test") && message.contains("PersistentFailure"),
        "{message}"
    );

    // Every later draw fails too, from any thread (so on any instance), through every interface.
    buf.fill(0);
    assert!(pool.fill(&mut buf).is_err());
    assert_eq!(
        buf, [0u8; 64],
        "a refused draw must not have produced output"
    );
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| assert!(pool.fill(&mut [0u8; 16]).is_err()));
        }
    });
    assert!(pool.fill_prediction_resistant(&mut [0u8; 16]).is_err());
    assert!(pool.try_rng().try_fill_bytes(&mut [0u8; 16]).is_err());
    let caught = pool.with_rng(|rng| rng.next_u64());
    assert!(
        matches!(caught, Err(EntropyError::NoHealthySource { .. })),
        "{caught:?}"
    );
    // TLS randomness falls back to the OS generator under the default `[tls] on_entropy_failure = "os-fallback"`
    // (counted as not quantum) so clients can still connect and read existing keys; the key-material paths above
    // stay refused. `tests/tls_groups.rs` covers the `refuse` policy.
    let mut tls_random = [0u8; 32];
    pool.rustls_provider()
        .secure_random
        .fill(&mut tls_random)
        .expect("TLS randomness falls back to the OS generator");
    assert_ne!(tls_random, [0u8; 32]);
    let status = pool.status();
    assert_eq!(status.state, PoolState::FailedClosed);
    assert!(status.failure.unwrap().contains("qrng-test"));
    assert_eq!(
        status.sources[0].health.state,
        HealthState::PersistentFailure
    );
    assert!(status.sources[0].failures > 0);

    // A latched source stays off even when its noise is fine again, until an operator resets it.
    mode.store(HEALTHY, Ordering::SeqCst);
    assert!(pool.fill(&mut buf).is_err());
    pool.reset_source("qrng-test").unwrap();
    pool.fill(&mut buf).unwrap();
    assert_ne!(buf, [0u8; 64]);
    assert_eq!(pool.status().state, PoolState::Ready);
}

#[test]
fn recovers_automatically_once_an_intermittent_failure_passes_retest() {
    let mode = Arc::new(AtomicU8::new(HEALTHY));
    let pool = pool_with(&mode, true);
    pool.fill(&mut [0u8; 32]).unwrap();

    mode.store(GLITCH_ONCE, Ordering::SeqCst);
    let error = draw_until_refused(&pool);
    let EntropyError::NoHealthySource { sources, .. } = &error else {
        panic!("unexpected error {error}")
    };
    assert_eq!(sources[0].health, Some(HealthState::IntermittentFailure));

    // No operator action: the next draw retests the source, which passes, and the pool serves again.
    let provenance = pool.fill(&mut [0u8; 32]).unwrap();
    assert!(provenance.quantum);
    assert_eq!(provenance.sources[0].id, "qrng-test");
    assert_eq!(pool.status().state, PoolState::Ready);
}

#[test]
fn an_unreseedable_pool_refuses_even_instances_that_are_still_fresh() {
    let mode = Arc::new(AtomicU8::new(HEALTHY));
    let pool = pool_with(&mode, false);
    pool.fill(&mut [0u8; 32]).unwrap();
    mode.store(STUCK, Ordering::SeqCst);
    // Force reseeds (on request) until the buffered good samples run out and a reseed fails.
    let mut failed = false;
    for _ in 0..500 {
        if pool.reseed().is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed, "reseeding from a stuck source kept succeeding");
    // The instance was seeded moments ago and is far from its reseed interval, yet the pool refuses.
    assert!(pool.fill(&mut [0u8; 32]).is_err());
}

#[test]
fn prediction_resistance_fails_closed_when_the_source_is_too_slow() {
    let mode = Arc::new(AtomicU8::new(HEALTHY));
    let pool = pool_with(&mode, false);
    pool.fill(&mut [0u8; 32]).unwrap();
    mode.store(SLOW, Ordering::SeqCst);
    let mut buf = [0u8; 32];
    for _ in 0..500 {
        let started = Instant::now();
        match pool.fill_prediction_resistant(&mut buf) {
            Ok(provenance) => assert!(provenance.prediction_resistance),
            Err(error) => {
                assert!(
                    matches!(
                        error,
                        EntropyError::SeedTimeout {
                            timeout_ms: 150,
                            ..
                        }
                    ),
                    "{error}"
                );
                assert!(
                    started.elapsed() < Duration::from_secs(2),
                    "waited {:?}",
                    started.elapsed()
                );
                return;
            }
        }
    }
    panic!("prediction-resistant draws kept succeeding from a source slower than the timeout");
}
