//! Pool `fill` throughput at 64 KiB per draw, from 1 and 2 threads, on the default configuration (CTR_DRBG
//! AES-256, OS fallback source, one instance per CPU).

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use entropy::{EntropyConfig, EntropyPool};

const DRAW: usize = 64 * 1024;

fn fill_throughput(c: &mut Criterion) {
    let pool =
        EntropyPool::new(EntropyConfig::default()).expect("the default configuration is valid");
    let mut group = c.benchmark_group("pool_fill_64KiB");

    group.throughput(Throughput::Bytes(DRAW as u64));
    group.bench_function("1_thread", |b| {
        let mut buf = vec![0u8; DRAW];
        b.iter(|| {
            pool.try_fill(black_box(&mut buf))
                .expect("the OS fallback seeds")
        });
    });

    // Two threads each drawing `iters` times: throughput counts both threads' bytes.
    group.throughput(Throughput::Bytes(2 * DRAW as u64));
    group.bench_function("2_threads", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    let pool = pool.clone();
                    scope.spawn(move || {
                        let mut buf = vec![0u8; DRAW];
                        for _ in 0..iters {
                            pool.try_fill(black_box(&mut buf))
                                .expect("the OS fallback seeds");
                        }
                    });
                }
            });
            start.elapsed()
        });
    });
    group.finish();
}

criterion_group!(benches, fill_throughput);
criterion_main!(benches);
