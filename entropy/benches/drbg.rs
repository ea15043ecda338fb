//! DRBG generate throughput (bytes per second, one core) for 32 B, 4 KiB and 64 KiB requests.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entropy::drbg::{CtrDrbg, Drbg, HmacDrbgSha256, HmacDrbgSha512};

const REQUEST_SIZES: [usize; 3] = [32, 4 * 1024, 64 * 1024];

fn bench_generate(c: &mut Criterion, name: &str, mut drbg: Box<dyn Drbg>) {
    let mut group = c.benchmark_group(name);
    let mut out = vec![0u8; 64 * 1024];
    for size in REQUEST_SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("generate", size), &size, |b, &size| {
            b.iter(|| {
                drbg.generate(&mut out[..size], &[])
                    .expect("benchmark stays far below the reseed interval");
                criterion::black_box(&out[..size]);
            });
        });
    }
    group.finish();
}

fn drbg_throughput(c: &mut Criterion) {
    let entropy_input = [0x5au8; 48];
    let nonce = [0xa5u8; 16];
    bench_generate(
        c,
        "ctr_drbg_aes256",
        Box::new(CtrDrbg::instantiate(&entropy_input, &nonce, b"bench").unwrap()),
    );
    bench_generate(
        c,
        "hmac_drbg_sha256",
        Box::new(HmacDrbgSha256::instantiate(&entropy_input, &nonce, b"bench").unwrap()),
    );
    bench_generate(
        c,
        "hmac_drbg_sha512",
        Box::new(HmacDrbgSha512::instantiate(&entropy_input, &nonce, b"bench").unwrap()),
    );
}

criterion_group!(benches, drbg_throughput);
criterion_main!(benches);
