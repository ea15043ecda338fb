//! Per-core cost of the crypto primitives behind issue #5's targets (ECDSA P-256 Sign, AES-256-GCM 4 KiB
//! Encrypt), plus RSA signing, decryption and key-pair generation, and ECDSA's k·G with the curve crates'
//! precomputed table against the variable-base multiplication. One thread; the pool is the default (OS fallback
//! source, CTR_DRBG), so every IV, nonce, blinding factor and key includes the pool's draw cost.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entropy::{EntropyConfig, EntropyPool};
use kms_server::crypto::asymmetric::{rsa_decrypt, rsa_encrypt, RsaEncryptionPadding};
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

/// ECDSA's k·G with the `p256`/`p384` 0.14 precomputed base-point tables (`Group::mul_by_generator`, what
/// `ecdsa::hazmat` signs with) against the variable-base multiplication, and the `ecdsa` crate's `SigningKey`
/// path (which also recomputes the public key on every call), kept as references.
fn ecdsa_reference(c: &mut Criterion) {
    use p256::ecdsa::signature::hazmat::RandomizedPrehashSigner;
    use p256::elliptic_curve::group::Group;
    use p256::elliptic_curve::Generate;
    let pool = pool();
    let mut group = c.benchmark_group("ecdsa-reference");
    group.throughput(Throughput::Elements(1));
    let k256 = p256::Scalar::try_generate_from_rng(&mut pool.try_rng()).expect("scalar");
    let k384 = p384::Scalar::try_generate_from_rng(&mut pool.try_rng()).expect("scalar");
    group.bench_function("p256-k-times-g/crate-table", |b| {
        b.iter(|| p256::ProjectivePoint::mul_by_generator(black_box(&k256)))
    });
    group.bench_function("p256-k-times-g/variable-base", |b| {
        b.iter(|| p256::ProjectivePoint::GENERATOR * black_box(k256))
    });
    group.bench_function("p384-k-times-g/crate-table", |b| {
        b.iter(|| p384::ProjectivePoint::mul_by_generator(black_box(&k384)))
    });
    group.bench_function("p384-k-times-g/variable-base", |b| {
        b.iter(|| p384::ProjectivePoint::GENERATOR * black_box(k384))
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
            let signature: p256::ecdsa::Signature = signing_key
                .sign_prehash_with_rng(&mut pool.try_rng(), &prehash)
                .expect("sign");
            signature.to_der()
        })
    });
    group.bench_function("ecdsa-p384-sha384/crate-signing-key", |b| {
        b.iter(|| {
            let prehash = digest(HashAlgorithm::Sha384, black_box(MESSAGE));
            let signing_key = p384::ecdsa::SigningKey::from(&p384_secret);
            let signature: p384::ecdsa::Signature = signing_key
                .sign_prehash_with_rng(&mut pool.try_rng(), &prehash)
                .expect("sign");
            signature.to_der()
        })
    });
    group.finish();
}

/// RSA decryption (blinded, constant-time private-key operation): PKCS#1 v1.5 with a valid padding and with a
/// wrong one (implicit rejection: the same work), and OAEP.
fn rsa_decryption(c: &mut Criterion) {
    let pool = pool();
    let mut group = c.benchmark_group("rsa-decrypt");
    group.throughput(Throughput::Elements(1));
    for bits in [2048usize, 3072] {
        let key = generate_key_pair(&pool, KeyPairSpec::Rsa { bits }).expect("keygen");
        let public = key.public_key();
        for (name, padding) in [
            ("pkcs1v15", RsaEncryptionPadding::Pkcs1v15),
            (
                "oaep-sha256",
                RsaEncryptionPadding::oaep(HashAlgorithm::Sha256),
            ),
        ] {
            let ciphertext = rsa_encrypt(&pool, &public, padding, &[7u8; 32]).expect("encrypt");
            group.bench_function(format!("rsa{bits}-{name}"), |b| {
                b.iter(|| {
                    rsa_decrypt(&pool, &key, padding, black_box(&ciphertext)).expect("decrypt")
                })
            });
        }
        let mut bad = rsa_encrypt(&pool, &public, RsaEncryptionPadding::Pkcs1v15, &[7u8; 32])
            .expect("encrypt");
        bad[bits / 16] ^= 1;
        group.bench_function(format!("rsa{bits}-pkcs1v15-bad-padding"), |b| {
            b.iter(|| {
                rsa_decrypt(&pool, &key, RsaEncryptionPadding::Pkcs1v15, black_box(&bad))
                    .expect("implicit rejection")
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

criterion_group!(
    benches,
    signing,
    ecdsa_reference,
    rsa_decryption,
    aes_gcm,
    key_generation
);
criterion_main!(benches);
