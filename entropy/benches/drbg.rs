//! DRBG generate throughput for 32 B, 4 KiB and 64 KiB requests, on one core.
//!
//! Each case is measured twice: in wall-clock time (criterion's default) and in the benchmark thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), which gives bytes per core-second even when other processes share the cores.

use criterion::measurement::Measurement;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entropy::drbg::{CtrDrbg, Drbg, HmacDrbgSha256, HmacDrbgSha512};

const REQUEST_SIZES: [usize; 3] = [32, 4 * 1024, 64 * 1024];

#[path = "support/thread_cpu_time.rs"]
mod thread_cpu_time;
use thread_cpu_time::ThreadCpuTime;

fn drbgs() -> Vec<(&'static str, Box<dyn Drbg>)> {
    let (entropy_input, nonce) = ([0x5au8; 48], [0xa5u8; 16]);
    vec![
        (
            "ctr_drbg_aes256",
            Box::new(CtrDrbg::instantiate(&entropy_input, &nonce, b"bench").unwrap()),
        ),
        (
            "hmac_drbg_sha256",
            Box::new(HmacDrbgSha256::instantiate(&entropy_input, &nonce, b"bench").unwrap()),
        ),
        (
            "hmac_drbg_sha512",
            Box::new(HmacDrbgSha512::instantiate(&entropy_input, &nonce, b"bench").unwrap()),
        ),
    ]
}

fn bench_generate<M: Measurement>(c: &mut Criterion<M>, clock: &str) {
    let mut out = vec![0u8; 64 * 1024];
    for (name, mut drbg) in drbgs() {
        let mut group = c.benchmark_group(format!("{name}/{clock}"));
        for size in REQUEST_SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::new("generate", size), &size, |b, &size| {
                b.iter(|| {
                    drbg.generate(&mut out[..size], &[])
                        .expect("benchmarks stay far below the reseed interval");
                    criterion::black_box(&out[..size]);
                });
            });
        }
        group.finish();
    }
}

fn wall_clock(c: &mut Criterion) {
    bench_generate(c, "wall");
}

fn thread_cpu(c: &mut Criterion<ThreadCpuTime>) {
    bench_generate(c, "cpu");
}

criterion_group!(wall, wall_clock);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = thread_cpu
}
criterion_main!(wall, cpu);
