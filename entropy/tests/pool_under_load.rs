//! Seeding under load: many threads drawing while the pool starts, with every draw reseeding, on both cores
//! kept busy. Every seed request is answered: none fails with "the seeding thread dropped the request" (a
//! request that expired in the queue used to be dropped unanswered), and requests that really run out of time
//! fail with a timeout that names the sources, after which the pool serves again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use entropy::config::DrbgConfig;
use entropy::source::{EntropySource, SourceError, SourceInfo, SourceKind};
use entropy::{EntropyConfig, EntropyError, EntropyPool};

const THREADS: usize = 32;

/// Keeps every core busy until dropped.
struct Burners {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Burners {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let threads = (0..cores)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 1u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                        std::hint::black_box(x);
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Draws on `THREADS` threads at once, all starting together; returns every error seen.
fn draw_concurrently(pool: &EntropyPool, draws_per_thread: usize) -> Vec<EntropyError> {
    let barrier = Arc::new(std::sync::Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let pool = pool.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let mut errors = Vec::new();
                let mut buf = [0u8; 48];
                for _ in 0..draws_per_thread {
                    if let Err(error) = pool.fill(&mut buf) {
                        errors.push(error);
                    }
                }
                errors
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().expect("a drawing thread panicked"))
        .collect()
}

#[test]
fn every_draw_succeeds_while_many_threads_start_the_pool_under_load() {
    let _burners = Burners::start();
    for _ in 0..5 {
        let config = EntropyConfig {
            drbg: DrbgConfig {
                instances: 2,
                reseed_interval_generates: 1,
                ..DrbgConfig::default()
            },
            ..EntropyConfig::default()
        };
        let pool = EntropyPool::new(config).unwrap();
        let errors = draw_concurrently(&pool, 50);
        assert!(errors.is_empty(), "{:?}", &errors[..errors.len().min(3)]);
    }
}

/// A credited source that takes 2 ms per read.
#[derive(Debug)]
struct SlowSource(SourceInfo);

impl EntropySource for SlowSource {
    fn info(&self) -> &SourceInfo {
        &self.0
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        std::thread::sleep(Duration::from_millis(2));
        let n = out.len().min(4096);
        getrandom::fill(&mut out[..n]).expect("getrandom");
        Ok(n)
    }
}

#[test]
fn requests_that_expire_in_the_queue_are_answered_with_a_timeout() {
    let _burners = Burners::start();
    let config = EntropyConfig {
        drbg: DrbgConfig {
            instances: 4,
            reseed_interval_generates: 1,
            seed_timeout_ms: 5,
            ..DrbgConfig::default()
        },
        ..EntropyConfig::default()
    };
    let source = SlowSource(SourceInfo {
        id: "slow".into(),
        kind: SourceKind::CharDevice,
        quantum: false,
        sample_bits: 8,
        min_entropy_per_sample: 8.0,
        credited: true,
    });
    let pool = EntropyPool::with_sources(config, vec![Box::new(source)]).unwrap();
    let errors = draw_concurrently(&pool, 20);
    assert!(
        !errors.is_empty(),
        "a 5 ms timeout under this load must expire some seeds"
    );
    for error in &errors {
        assert!(
            matches!(error, EntropyError::SeedTimeout { timeout_ms: 5, sources } if sources[0].id == "slow"),
            "{error}"
        );
    }
    // Once the load is gone the pool serves again (the seeding thread survived).
    let mut served = false;
    for _ in 0..200 {
        if pool.fill(&mut [0u8; 16]).is_ok() {
            served = true;
            break;
        }
    }
    assert!(served, "the pool never recovered");
}
