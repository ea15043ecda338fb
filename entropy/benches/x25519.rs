//! The X25519 function on one core, in the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, as `drbg.rs`): the
//! TLS groups' computation (`entropy::tls::groups::x25519_function`, Edwards form, AVX-512 IFMA or AVX2 where
//! the CPU has it) against `x25519-dalek`'s Montgomery ladder, the base-point multiplication a key share costs,
//! and a server's whole side (public value and shared secret, separately and with one batched inversion).
//!
//! `cargo bench -p entropy --bench x25519`

use criterion::{criterion_group, criterion_main, Criterion};
use entropy::tls::groups::x25519_function::{public_and_shared, x25519};
use std::hint::black_box;

#[path = "support/thread_cpu_time.rs"]
mod thread_cpu_time;
use thread_cpu_time::ThreadCpuTime;

fn x25519_cases(c: &mut Criterion<ThreadCpuTime>) {
    let scalar = [0x4bu8; 32];
    // A peer's public value: some scalar times the base point (a point on the curve, as every honest share).
    let peer = x25519_dalek::x25519([0x2cu8; 32], x25519_dalek::X25519_BASEPOINT_BYTES);
    let mut group = c.benchmark_group("x25519-cpu");
    group.bench_function("shared-secret/edwards (qkms)", |b| {
        b.iter(|| x25519(black_box(scalar), black_box(peer)))
    });
    group.bench_function("shared-secret/montgomery-ladder (x25519-dalek)", |b| {
        b.iter(|| x25519_dalek::x25519(black_box(scalar), black_box(peer)))
    });
    // The Edwards path's parts: the conversion in (an inversion and a square root), the multiplication, the
    // conversion out (an inversion).
    let montgomery = curve25519_dalek::montgomery::MontgomeryPoint(peer);
    let edwards = montgomery
        .to_edwards(0)
        .expect("an honest share is on the curve");
    group.bench_function("parts/to-edwards", |b| {
        b.iter(|| black_box(montgomery).to_edwards(0))
    });
    group.bench_function("parts/edwards-mul-clamped", |b| {
        b.iter(|| black_box(edwards).mul_clamped(black_box(scalar)))
    });
    group.bench_function("parts/to-montgomery", |b| {
        b.iter(|| black_box(edwards).to_montgomery())
    });
    group.bench_function("public-value/base-point-table", |b| {
        b.iter(|| {
            curve25519_dalek::montgomery::MontgomeryPoint::mul_base_clamped(black_box(scalar))
        })
    });
    // A server's whole side: its public value and the shared secret.
    group.bench_function("server-side/separately", |b| {
        b.iter(|| {
            (
                curve25519_dalek::montgomery::MontgomeryPoint::mul_base_clamped(black_box(scalar)),
                x25519(black_box(scalar), black_box(peer)),
            )
        })
    });
    group.bench_function("server-side/together (one inversion)", |b| {
        b.iter(|| public_and_shared(black_box(scalar), black_box(peer)))
    });
    // Larger base-point tables (fewer additions, more entries to read in constant time), built once.
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::edwards::{EdwardsBasepointTableRadix32, EdwardsBasepointTableRadix64};
    use curve25519_dalek::traits::BasepointTable;
    let radix32 = EdwardsBasepointTableRadix32::create(&ED25519_BASEPOINT_POINT);
    let radix64 = EdwardsBasepointTableRadix64::create(&ED25519_BASEPOINT_POINT);
    group.bench_function("public-value/radix-32-table", |b| {
        b.iter(|| radix32.mul_base_clamped(black_box(scalar)).to_montgomery())
    });
    group.bench_function("public-value/radix-64-table", |b| {
        b.iter(|| radix64.mul_base_clamped(black_box(scalar)).to_montgomery())
    });
    group.finish();
}

fn cpu_time() -> Criterion<ThreadCpuTime> {
    Criterion::default().with_measurement(ThreadCpuTime)
}

criterion_group! {
    name = benches;
    config = cpu_time();
    targets = x25519_cases
}
criterion_main!(benches);
