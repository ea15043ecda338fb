//! Per-core cost of the crypto primitives behind issue #5's targets (ECDSA P-256 Sign, AES-256-GCM 4 KiB
//! Encrypt), plus RSA signing and key-pair generation, and ECDSA's k·G table against the crates' own path. One thread; the pool is the default (OS fallback
//! source, CTR_DRBG), so every IV, nonce and key includes the pool's draw cost.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entropy::{EntropyConfig, EntropyPool};
use kms_server::crypto::ec_fixed_base::{p256_mul_generator, p384_mul_generator};
use kms_server::crypto::hash::{digest, HashAlgorithm};
use kms_server::crypto::keygen::{
    generate_aes_key, generate_key_pair, EcCurve, KeyPairSpec, PrivateKey,
};
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

/// ECDSA's k·G and the signing path before the fixed-base table (the `ecdsa` crate's `SigningKey`, which also
/// recomputes the public key on every call), kept as the reference the table is measured against.
fn ecdsa_reference(c: &mut Criterion) {
    use p256::ecdsa::signature::hazmat::RandomizedPrehashSigner;
    use p256::elliptic_curve::{ops::MulByGenerator, Field};
    let pool = pool();
    let mut group = c.benchmark_group("ecdsa-reference");
    group.throughput(Throughput::Elements(1));
    let k256 = pool
        .with_rng(|rng| p256::Scalar::random(rng))
        .expect("scalar");
    let k384 = pool
        .with_rng(|rng| p384::Scalar::random(rng))
        .expect("scalar");
    group.bench_function("p256-k-times-g/table", |b| {
        b.iter(|| p256_mul_generator(black_box(&k256)))
    });
    group.bench_function("p256-k-times-g/variable-base", |b| {
        b.iter(|| p256::ProjectivePoint::mul_by_generator(black_box(&k256)))
    });
    group.bench_function("p384-k-times-g/table", |b| {
        b.iter(|| p384_mul_generator(black_box(&k384)))
    });
    group.bench_function("p384-k-times-g/variable-base", |b| {
        b.iter(|| p384::ProjectivePoint::mul_by_generator(black_box(&k384)))
    });
    let PrivateKey::EcP256(p256_secret) =
        generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256)).expect("keygen")
    else {
        unreachable!("a P-256 spec gives a P-256 key")
    };
    let PrivateKey::EcP384(p384_secret) =
        generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P384)).expect("keygen")
    else {
        unreachable!("a P-384 spec gives a P-384 key")
    };
    // Same work as `sign` did before: hash, build a `SigningKey`, hedged RFC 6979 signature, DER.
    group.bench_function("ecdsa-p256-sha256/crate-signing-key", |b| {
        b.iter(|| {
            let prehash = digest(HashAlgorithm::Sha256, black_box(MESSAGE));
            let signing_key = p256::ecdsa::SigningKey::from(&p256_secret);
            let signature: p256::ecdsa::Signature = pool
                .with_rng(|rng| signing_key.sign_prehash_with_rng(rng, &prehash))
                .expect("pool")
                .expect("sign");
            signature.to_der()
        })
    });
    group.bench_function("ecdsa-p384-sha384/crate-signing-key", |b| {
        b.iter(|| {
            let prehash = digest(HashAlgorithm::Sha384, black_box(MESSAGE));
            let signing_key = p384::ecdsa::SigningKey::from(&p384_secret);
            let signature: p384::ecdsa::Signature = pool
                .with_rng(|rng| signing_key.sign_prehash_with_rng(rng, &prehash))
                .expect("pool")
                .expect("sign");
            signature.to_der()
        })
    });
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

criterion_group!(benches, signing, ecdsa_reference, aes_gcm, key_generation);
criterion_main!(benches);
