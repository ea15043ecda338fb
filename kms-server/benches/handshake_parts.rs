//! The server-side pieces of a TLS handshake that qkms computes itself, one core, in the thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`, as `tls_handshake.rs`): ECDSA's k·G with our fixed-base table
//! (`crypto::ec_fixed_base`) against the curve crates' precomputed table, and the whole hedged P-256 signature
//! (RFC 6979 nonce with added bytes, k·G, inversion) ours against `ecdsa::hazmat`'s (the crate's table).
//! The X25519 function is measured in `entropy/benches/x25519.rs`.
//!
//! `cargo bench -p kms-server --bench handshake_parts`

use criterion::{criterion_group, criterion_main, Criterion};
use kms_server::crypto::{ec_fixed_base, ecdsa_hedged};
use p256::elliptic_curve::group::Group;
use sha2::{Digest, Sha256};
use std::hint::black_box;

#[path = "../../entropy/benches/support/thread_cpu_time.rs"]
mod thread_cpu_time;
use thread_cpu_time::ThreadCpuTime;

fn k_times_g(c: &mut Criterion<ThreadCpuTime>) {
    let k256 = p256::Scalar::from(0x1234_5678_9abc_def0u64)
        .invert()
        .unwrap();
    let k384 = p384::Scalar::from(0x1234_5678_9abc_def0u64)
        .invert()
        .unwrap();
    // Build the tables outside the measurement.
    ec_fixed_base::p256_table();
    ec_fixed_base::p384_table();
    let _ = p256::ProjectivePoint::mul_by_generator(&k256);
    let _ = p384::ProjectivePoint::mul_by_generator(&k384);
    let mut group = c.benchmark_group("k-times-g-cpu");
    group.bench_function("p256/qkms-table", |b| {
        b.iter(|| ec_fixed_base::p256_table().mul(black_box(&k256)))
    });
    group.bench_function("p256/crate-table", |b| {
        b.iter(|| p256::ProjectivePoint::mul_by_generator(black_box(&k256)))
    });
    group.bench_function("p384/qkms-table", |b| {
        b.iter(|| ec_fixed_base::p384_table().mul(black_box(&k384)))
    });
    group.bench_function("p384/crate-table", |b| {
        b.iter(|| p384::ProjectivePoint::mul_by_generator(black_box(&k384)))
    });
    group.finish();
}

fn hedged_signature(c: &mut Criterion<ThreadCpuTime>) {
    let secret = p256::SecretKey::from_slice(&[7u8; 32]).expect("a valid scalar");
    let digest = Sha256::digest(b"TLS 1.3, server CertificateVerify");
    let added = [0x5au8; 32];
    let mut group = c.benchmark_group("hedged-ecdsa-p256-cpu");
    group.bench_function("qkms (fixed-base table)", |b| {
        b.iter(|| {
            ecdsa_hedged::sign_p256_with_added_entropy(&secret, black_box(&digest), &added)
                .expect("sign")
        })
    });
    group.bench_function("ecdsa::hazmat (crate table)", |b| {
        let d = secret.to_nonzero_scalar();
        b.iter(|| {
            ecdsa::hazmat::sign_prehashed_rfc6979::<p256::NistP256, Sha256>(
                &d,
                black_box(&digest),
                &added,
            )
        })
    });
    group.finish();
}

fn cpu_time() -> Criterion<ThreadCpuTime> {
    Criterion::default().with_measurement(ThreadCpuTime)
}

criterion_group! {
    name = benches;
    config = cpu_time();
    targets = k_times_g, hedged_signature
}
criterion_main!(benches);
