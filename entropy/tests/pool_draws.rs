//! Draws from a working pool: sizes, provenance, reseed policy, additional input, status, rand_core and rustls.

use entropy::config::DrbgConfig;
use entropy::drbg::DrbgMechanism;
use entropy::provenance::OS_FALLBACK_LABEL;
use entropy::source::SourceKind;
use entropy::status::PoolState;
use entropy::{EntropyConfig, EntropyPool};
use p256::elliptic_curve::Generate;
use rand_core::Rng;

fn pool(drbg: DrbgConfig) -> EntropyPool {
    EntropyPool::new(EntropyConfig {
        drbg,
        ..EntropyConfig::default()
    })
    .unwrap()
}

#[test]
fn default_pool_runs_on_the_os_fallback_and_says_it_is_not_quantum() {
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    assert_eq!(pool.status().state, PoolState::Unseeded);
    let mut buf = [0u8; 64];
    let provenance = pool.fill(&mut buf).unwrap();
    assert_ne!(buf, [0u8; 64]);
    assert!(!provenance.quantum);
    assert_eq!(provenance.summary(), OS_FALLBACK_LABEL);
    assert_eq!(provenance.sources[0].kind, SourceKind::Os);
    assert!(
        provenance.sources[0].credited_bits >= 448,
        "instantiation needs 384 + 64 credited bits"
    );
    assert_eq!(provenance.drbg_mechanism, DrbgMechanism::CtrAes256);
    assert_eq!(provenance.seed_epoch, 1);
    let status = pool.status();
    assert!(status.os_fallback);
    assert_eq!(status.summary, OS_FALLBACK_LABEL);
    assert_eq!(status.state, PoolState::Ready);
    let json = serde_json::to_string(&provenance).unwrap();
    assert!(json.contains("\"quantum\":false"));
    assert!(provenance
        .kmip_attributes()
        .iter()
        .any(|(name, value)| name == "x-qkms-entropy-summary" && value == OS_FALLBACK_LABEL));
}

#[test]
fn large_draws_are_exact_and_split_into_64_kib_generates() {
    let pool = pool(DrbgConfig {
        instances: 1,
        ..DrbgConfig::default()
    });
    let mut big = vec![0u8; 200 * 1024 + 3];
    pool.fill(&mut big).unwrap();
    // Four generate calls: 64 + 64 + 64 + 8 KiB + 3 bytes.
    let drbg = &pool.status().drbgs[0];
    assert_eq!(drbg.generate_calls, 4);
    assert_eq!(drbg.bytes_generated, big.len() as u64);
    // The tail is filled too (no zero run at the end of the buffer).
    assert!(big[big.len() - 32..].iter().any(|&b| b != 0));
}

#[test]
fn reseeds_after_the_configured_number_of_generates() {
    let pool = pool(DrbgConfig {
        instances: 1,
        reseed_interval_generates: 3,
        ..DrbgConfig::default()
    });
    let mut buf = [0u8; 16];
    let epochs: Vec<u64> = (0..7)
        .map(|_| pool.fill(&mut buf).unwrap().seed_epoch)
        .collect();
    assert_eq!(epochs, [1, 1, 1, 2, 2, 2, 3]);
    assert_eq!(pool.status().drbgs[0].reseeds, 2);
}

#[test]
fn reseeds_on_request_and_for_prediction_resistance() {
    let pool = pool(DrbgConfig {
        instances: 1,
        ..DrbgConfig::default()
    });
    let mut buf = [0u8; 16];
    assert_eq!(pool.fill(&mut buf).unwrap().seed_epoch, 1);
    pool.reseed().unwrap();
    assert_eq!(pool.fill(&mut buf).unwrap().seed_epoch, 2);
    let provenance = pool.fill_prediction_resistant(&mut buf).unwrap();
    assert!(provenance.prediction_resistance);
    assert_eq!(provenance.seed_epoch, 3);
    assert_eq!(
        pool.fill_prediction_resistant(&mut buf).unwrap().seed_epoch,
        4
    );
}

#[test]
fn reseeds_when_the_seed_is_older_than_the_time_interval() {
    let pool = pool(DrbgConfig {
        instances: 1,
        reseed_interval_seconds: 1,
        ..DrbgConfig::default()
    });
    let mut buf = [0u8; 16];
    assert_eq!(pool.fill(&mut buf).unwrap().seed_epoch, 1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(pool.fill(&mut buf).unwrap().seed_epoch, 2);
}

#[test]
fn hmac_drbg_mechanism_is_used_when_configured() {
    let pool = pool(DrbgConfig {
        mechanism: DrbgMechanism::HmacSha256,
        ..DrbgConfig::default()
    });
    let provenance = pool.fill(&mut [0u8; 32]).unwrap();
    assert_eq!(provenance.drbg_mechanism, DrbgMechanism::HmacSha256);
}

#[test]
fn additional_input_is_accepted_and_recorded_in_later_seeds() {
    let pool = pool(DrbgConfig {
        instances: 1,
        ..DrbgConfig::default()
    });
    pool.fill(&mut [0u8; 16]).unwrap();
    pool.add_input(b"KMIP RNG Seed data from a client");
    pool.fill(&mut [0u8; 16]).unwrap();
    pool.reseed().unwrap();
    let status = pool.status();
    assert_eq!(status.drbgs[0].reseeds, 1);
    // The credit ledger is untouched by additional input: the source was read for the full 320 bits again.
    assert!(status.sources[0].samples_read >= 48 + 32);
}

#[test]
fn threads_draw_from_different_instances() {
    let pool = pool(DrbgConfig {
        instances: 2,
        ..DrbgConfig::default()
    });
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..10 {
                    pool.fill(&mut [0u8; 1024]).unwrap();
                }
            });
        }
    });
    let status = pool.status();
    assert!(status.drbgs.iter().all(|d| d.seeded), "{:?}", status.drbgs);
    assert_eq!(
        status.drbgs.iter().map(|d| d.bytes_generated).sum::<u64>(),
        40 * 1024
    );
}

#[test]
fn pool_rng_generates_a_p256_key() {
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let key = p256::SecretKey::try_generate_from_rng(&mut pool.try_rng()).unwrap();
    let other = pool.with_rng(p256::SecretKey::generate_from_rng).unwrap();
    assert_ne!(key.to_bytes(), other.to_bytes());
    let mut rng = pool.rng();
    assert_ne!(rng.next_u64(), rng.next_u64());
}

#[test]
fn with_rng_lets_unrelated_panics_through() {
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.with_rng(|_| panic!("not an entropy failure"))
    }));
    assert!(outcome.is_err());
}

#[test]
fn rustls_provider_draws_from_the_pool() {
    let pool = pool(DrbgConfig {
        instances: 1,
        ..DrbgConfig::default()
    });
    let provider = pool.rustls_provider();
    let before = pool.status().drbgs[0].bytes_generated;
    let mut random = [0u8; 32];
    provider.secure_random.fill(&mut random).unwrap();
    assert_eq!(pool.status().drbgs[0].bytes_generated, before + 32);
    assert!(
        std::sync::Arc::ptr_eq(&provider, &pool.rustls_provider()),
        "built once per pool"
    );
    // The provider is complete enough to build a client configuration.
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
}

#[test]
fn status_serialises_to_json() {
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    pool.fill(&mut [0u8; 8]).unwrap();
    let json = serde_json::to_value(pool.status()).unwrap();
    assert_eq!(json["state"], "ready");
    assert!(json["sources"][0]["samples_read"].as_u64().unwrap() > 0);
}
