//! Per-core cost of the crypto primitives behind issue #5's targets (ECDSA P-256 Sign, AES-256-GCM 4 KiB
//! Encrypt), plus RSA signing and key-pair generation. One thread; the pool is the default (OS fallback
//! source, CTR_DRBG), so every IV, nonce and key includes the pool's draw cost.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entropy::{EntropyConfig, EntropyPool};
use kms_server::crypto::hash::HashAlgorithm;
use kms_server::crypto::keygen::{generate_aes_key, generate_key_pair, EcCurve, KeyPairSpec};
use kms_server::crypto::signature::{sign, SignInput, SignatureAlgorithm};
use kms_server::crypto::symmetric::{aes_gcm_encrypt, GCM_DEFAULT_TAG_LEN};

const MESSAGE: &[u8] = b"a KMIP Sign request's data, a few dozen bytes long";

fn pool() -> EntropyPool {
    EntropyPool::new(EntropyConfig::default()).expect("default pool starts")
}

fn signing(c: &mut Criterion) {
    let pool = pool();
    let mut group = c.benchmark_group("sign");
    group.throughput(Throughput::Elements(1));
    let cases = [
        (
            "ecdsa-p256-sha256",
            KeyPairSpec::Ec(EcCurve::P256),
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
        ),
        (
            "ecdsa-p384-sha384",
            KeyPairSpec::Ec(EcCurve::P384),
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
        ),
        (
            "rsa2048-pkcs1v15-sha256",
            KeyPairSpec::Rsa { bits: 2048 },
            SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256),
        ),
        (
            "rsa3072-pkcs1v15-sha256",
            KeyPairSpec::Rsa { bits: 3072 },
            SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256),
        ),
        (
            "rsa2048-pss-sha256",
            KeyPairSpec::Rsa { bits: 2048 },
            SignatureAlgorithm::RsaPss(HashAlgorithm::Sha256),
        ),
    ];
    for (name, spec, algorithm) in cases {
        let key = generate_key_pair(&pool, spec).expect("keygen");
        group.bench_function(name, |b| {
            b.iter(|| {
                sign(&pool, &key, algorithm, SignInput::Data(black_box(MESSAGE))).expect("sign")
            })
        });
    }
    group.finish();
}

fn aes_gcm(c: &mut Criterion) {
    let pool = pool();
    let key = generate_aes_key(&pool, 256).expect("AES key");
    let plaintext = vec![0x5au8; 4096];
    let mut group = c.benchmark_group("aes-256-gcm-encrypt");
    group.throughput(Throughput::Bytes(plaintext.len() as u64));
    group.bench_function(BenchmarkId::new("4KiB", "iv-from-pool"), |b| {
        b.iter(|| {
            aes_gcm_encrypt(
                &pool,
                &key,
                None,
                b"",
                black_box(&plaintext),
                GCM_DEFAULT_TAG_LEN,
            )
            .expect("encrypt")
        })
    });
    let iv = [7u8; 12];
    group.bench_function(BenchmarkId::new("4KiB", "iv-given"), |b| {
        b.iter(|| {
            aes_gcm_encrypt(
                &pool,
                &key,
                Some(&iv),
                b"",
                black_box(&plaintext),
                GCM_DEFAULT_TAG_LEN,
            )
            .expect("encrypt")
        })
    });
    group.finish();
}

fn key_generation(c: &mut Criterion) {
    let pool = pool();
    let mut group = c.benchmark_group("keygen");
    group.throughput(Throughput::Elements(1));
    for (name, spec) in [
        ("p256", KeyPairSpec::Ec(EcCurve::P256)),
        ("p384", KeyPairSpec::Ec(EcCurve::P384)),
    ] {
        // `public_key()` included: EC public points are computed on demand; Create Key Pair needs both halves.
        group.bench_function(name, |b| {
            b.iter(|| generate_key_pair(&pool, spec).expect("keygen").public_key())
        });
    }
    group.sample_size(10);
    group.bench_function("rsa2048", |b| {
        b.iter(|| generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 2048 }).expect("keygen"))
    });
    group.finish();
}

criterion_group!(benches, signing, aes_gcm, key_generation);
criterion_main!(benches);
