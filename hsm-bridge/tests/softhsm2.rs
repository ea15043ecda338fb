//! The bridge against a real SoftHSM2 token (Debian's `softhsm2`): root key creation and reuse, wrapping with
//! each mechanism, each start-up failure with its own error, seeding counters, and recovery when the token
//! disappears and comes back. SoftHSM2 is one instance per process, so these tests take turns (`TURN`).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use entropy::{EntropyConfig, EntropyPool};
use hsm_bridge::softhsm::SoftHsmToken;
use hsm_bridge::{Hsm, HsmError, MechanismChoice, SeedSettings, Seeder, WrapMechanism};

static TURN: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn pool() -> EntropyPool {
    EntropyPool::new(EntropyConfig::default()).unwrap()
}

fn token(dir: &tempfile::TempDir, label: &str) -> SoftHsmToken {
    let token = SoftHsmToken::create(dir.path(), label, "user-pin-5678").unwrap();
    token.activate();
    token
}

#[test]
fn root_key_is_generated_once_and_wraps_with_every_mechanism() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let token = token(&dir, "custody");
    let pool = pool();
    let data_key = [0x5Au8; 32];
    for (choice, expected, wrapped_len) in [
        (MechanismChoice::Auto, WrapMechanism::AesKeyWrapPad, 40),
        (MechanismChoice::AesKeyWrap, WrapMechanism::AesKeyWrap, 40),
        (MechanismChoice::AesGcm, WrapMechanism::AesGcm, 12 + 32 + 16),
    ] {
        let mut settings = token.settings();
        settings.mechanism = choice;
        settings.key_label = format!("root-{expected:?}");
        let hsm = Hsm::connect(settings).unwrap();
        let first = hsm.ensure_root_key(&pool).unwrap();
        assert!(first.created);
        assert_eq!(first.mechanism, expected);
        let again = hsm.ensure_root_key(&pool).unwrap();
        assert!(!again.created, "an existing key is used, not replaced");
        let wrapped = hsm.wrap_data_key(&data_key, &pool).unwrap();
        assert_eq!(wrapped.mechanism, expected);
        assert_eq!(wrapped.bytes.len(), wrapped_len);
        assert!(!wrapped.bytes.windows(8).any(|w| w == [0x5A; 8]));
        assert_eq!(*hsm.unwrap_data_key(&wrapped).unwrap(), data_key);
        // An altered wrapped key is refused by the HSM, with the reason.
        let mut altered = wrapped.clone();
        altered.bytes[20] ^= 1;
        match hsm.unwrap_data_key(&altered) {
            Err(HsmError::WrappedKeyRejected { .. }) => {}
            other => panic!("{expected:?}: {:?}", other.map(|_| ())),
        }
    }
    // The generated key is sensitive and never extractable: softhsm2-util's listing shows its flags.
    let listing = std::process::Command::new("pkcs11-tool")
        .args([
            "--module",
            hsm_bridge::softhsm::SOFTHSM2_MODULE,
            "--token-label",
            "custody",
        ])
        .args([
            "--login",
            "--pin",
            "user-pin-5678",
            "--list-objects",
            "--type",
            "secrkey",
        ])
        .env("SOFTHSM2_CONF", &token.conf)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    assert!(listing.contains("root-AesKeyWrapPad"), "{listing}");
    assert!(listing.contains("never extractable"), "{listing}");
    assert!(listing.contains("sensitive"), "{listing}");
}

#[test]
fn each_startup_failure_has_its_own_error() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let token = token(&dir, "failures");
    let pool = pool();

    let mut missing_module = token.settings();
    missing_module.module = "/usr/lib/no-such-hsm/libpkcs11.so".into();
    let error = Hsm::connect(missing_module).unwrap_err();
    assert!(matches!(error, HsmError::ModuleMissing { .. }), "{error}");
    assert!(error.to_string().contains("does not exist"), "{error}");

    let mut no_token = token.settings();
    no_token.token_label = "elsewhere".into();
    let error = Hsm::connect(no_token).unwrap_err();
    assert!(matches!(error, HsmError::TokenNotFound { .. }), "{error}");
    assert!(
        error.to_string().contains("\"failures\""),
        "lists the tokens present: {error}"
    );

    let wrong_pin = dir.path().join("wrong.pin");
    std::fs::write(&wrong_pin, "not-the-pin\n").unwrap();
    let mut bad_pin = token.settings();
    bad_pin.pin_file = wrong_pin;
    let error = Hsm::connect(bad_pin).unwrap_err();
    assert!(matches!(error, HsmError::WrongPin { .. }), "{error}");
    assert!(error.to_string().contains("CKR_PIN_INCORRECT"), "{error}");

    let hsm = Hsm::connect(token.settings()).unwrap();
    hsm.ensure_root_key(&pool).unwrap();
    let wrapped = hsm.wrap_data_key(&[1; 32], &pool).unwrap();
    drop(hsm);
    token
        .delete_secret_key(hsm_bridge::DEFAULT_KEY_LABEL)
        .unwrap();
    let hsm = Hsm::connect(token.settings()).unwrap();
    let error = hsm.unwrap_data_key(&wrapped).unwrap_err();
    assert!(matches!(error, HsmError::KeyNotFound { .. }), "{error}");
    assert!(error.to_string().contains("deleted"), "{error}");
}

#[test]
fn seeding_pushes_pool_bytes_and_counts_them() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let token = token(&dir, "seeded");
    let pool = pool();
    let hsm = Arc::new(Hsm::connect(token.settings()).unwrap());
    assert_eq!(hsm.seed_status().last_success_unix, None);
    hsm.seed(&pool, 48).unwrap();
    let status = hsm.seed_status();
    assert_eq!(
        (status.hsm.as_str(), status.bytes_seeded, status.seedings),
        ("seeded", 48, 1)
    );
    assert!(status.last_success_unix.is_some());
    // Key generation seeds first.
    hsm.ensure_root_key(&pool).unwrap();
    assert_eq!(hsm.seed_status().seedings, 2);
    // The periodic seeder.
    let settings = SeedSettings {
        enabled: true,
        bytes: 32,
        interval_secs: 1,
    };
    let seeder = Seeder::start(Arc::clone(&hsm), pool.clone(), settings).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while hsm.seed_status().seedings < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(seeder);
    let status = hsm.seed_status();
    assert!(status.seedings >= 4, "{status:?}");
    assert_eq!(status.failures, 0, "{status:?}");
    assert!(SeedSettings {
        bytes: 8,
        ..settings
    }
    .validate()
    .is_err());
}

#[test]
fn a_token_that_disappears_fails_clearly_and_is_found_again_when_it_returns() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let token = token(&dir, "wandering");
    let pool = pool();
    let hsm = Hsm::connect(token.settings()).unwrap();
    hsm.ensure_root_key(&pool).unwrap();
    let wrapped = hsm.wrap_data_key(&[7; 32], &pool).unwrap();
    let data_key = hsm.unwrap_data_key(&wrapped).unwrap();

    let aside = token.remove().unwrap();
    let error = hsm.unwrap_data_key(&wrapped).unwrap_err();
    eprintln!("token removed: {error}");
    assert!(matches!(error, HsmError::Unavailable { .. }), "{error}");
    assert!(hsm.seed(&pool, 32).is_err());
    assert!(hsm.seed_status().failures >= 1);
    // What was unwrapped before stays usable: it is ours, in memory.
    assert_eq!(*data_key, [7; 32]);

    token.restore(&aside).unwrap();
    assert_eq!(*hsm.unwrap_data_key(&wrapped).unwrap(), [7; 32]);
    hsm.seed(&pool, 32).unwrap();
    assert!(hsm.seed_status().last_error.is_none());
}

#[test]
fn a_pool_made_key_lives_in_the_hsm_non_extractable_and_encrypts_there() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let token = token(&dir, "held");
    let pool = pool();
    let hsm = Hsm::connect(token.settings()).unwrap();
    let key = hsm.create_held_aes_key(&pool, "tenant-key", 256).unwrap();
    assert_eq!(key.origin, hsm_bridge::held::ORIGIN_POOL_UNWRAPPED);
    assert!(hsm.create_held_aes_key(&pool, "odd", 100).is_err());

    let (iv, aad) = ([9u8; 12], b"header");
    let sealed = hsm
        .held_encrypt_gcm(&key, &iv, aad, b"attack at dawn")
        .unwrap();
    assert_eq!(sealed.len(), 14 + 16);
    assert_eq!(
        &**hsm.held_decrypt_gcm(&key, &iv, aad, &sealed).unwrap(),
        b"attack at dawn"
    );
    let mut altered = sealed.clone();
    altered[0] ^= 1;
    assert!(hsm.held_decrypt_gcm(&key, &iv, aad, &altered).is_err());

    // The key is a sensitive, non-extractable token object: pkcs11-tool sees its flags, not its value. (Not
    // CKA_NEVER_EXTRACTABLE: its value existed outside the HSM, in qkms's memory, when the pool made it.)
    let listing = std::process::Command::new("pkcs11-tool")
        .args([
            "--module",
            hsm_bridge::softhsm::SOFTHSM2_MODULE,
            "--token-label",
            "held",
        ])
        .args([
            "--login",
            "--pin",
            "user-pin-5678",
            "--list-objects",
            "--type",
            "secrkey",
        ])
        .env("SOFTHSM2_CONF", &token.conf)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    assert!(listing.contains("tenant-key"), "{listing}");
    assert!(listing.contains("Access:     sensitive"), "{listing}");
    assert!(!listing.contains("extractable"), "{listing}");
    let read_value = std::process::Command::new("pkcs11-tool")
        .args([
            "--module",
            hsm_bridge::softhsm::SOFTHSM2_MODULE,
            "--token-label",
            "held",
        ])
        .args([
            "--login",
            "--pin",
            "user-pin-5678",
            "--read-object",
            "--type",
            "secrkey",
        ])
        .args(["--label", "tenant-key"])
        .env("SOFTHSM2_CONF", &token.conf)
        .output()
        .unwrap();
    assert!(!read_value.status.success(), "the value cannot be read out");

    hsm.destroy_held_key(&key).unwrap();
    match hsm.held_encrypt_gcm(&key, &iv, aad, b"x") {
        Err(HsmError::KeyNotFound { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_ec_pair_is_generated_in_the_seeded_hsm_and_signs_there() {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use sha2::Digest;
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let token = token(&dir, "held-pairs");
    let pool = pool();
    let hsm = Hsm::connect(token.settings()).unwrap();
    let before = hsm.seed_status().seedings;
    let pair = hsm
        .create_held_ec_key_pair(&pool, "signer", hsm_bridge::HeldCurve::P256)
        .unwrap();
    assert_eq!(
        hsm.seed_status().seedings,
        before + 1,
        "seeded before generating"
    );
    assert_eq!(pair.origin, hsm_bridge::held_pair::ORIGIN_HSM_SEEDED);
    let digest = sha2::Sha256::digest(b"signed inside the HSM");
    let signature = hsm.held_sign_ecdsa(&pair, &digest).unwrap();
    // The HSM's signature verifies in software under the public point it gave.
    let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(&pair.public_point).unwrap();
    let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
    public.verify_prehash(&digest, &signature).unwrap();
    let other = sha2::Sha256::digest(b"something else");
    assert!(public.verify_prehash(&other, &signature).is_err());

    let pair384 = hsm
        .create_held_ec_key_pair(&pool, "signer-384", hsm_bridge::HeldCurve::P384)
        .unwrap();
    let digest384 = sha2::Sha384::digest(b"p-384");
    let signature = hsm.held_sign_ecdsa(&pair384, &digest384).unwrap();
    let public = p384::ecdsa::VerifyingKey::from_sec1_bytes(&pair384.public_point).unwrap();
    public
        .verify_prehash(
            &digest384,
            &p384::ecdsa::Signature::from_slice(&signature).unwrap(),
        )
        .unwrap();

    // The private key is sensitive and was never extractable.
    let listing = std::process::Command::new("pkcs11-tool")
        .args([
            "--module",
            hsm_bridge::softhsm::SOFTHSM2_MODULE,
            "--token-label",
            "held-pairs",
        ])
        .args([
            "--login",
            "--pin",
            "user-pin-5678",
            "--list-objects",
            "--type",
            "privkey",
        ])
        .env("SOFTHSM2_CONF", &token.conf)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    assert!(listing.contains("never extractable"), "{listing}");

    hsm.destroy_held_key_pair(&pair).unwrap();
    assert!(matches!(
        hsm.held_sign_ecdsa(&pair, &digest),
        Err(HsmError::KeyNotFound { .. })
    ));
}

#[test]
fn the_hsm_generator_is_an_uncredited_health_tested_pool_source_named_by_model_and_serial() {
    use entropy::source::{EntropySource, SourceKind};
    use hsm_bridge::{HsmRngSource, RngSourceSettings};
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let token = token(&dir, "rng");
    let hsm = Arc::new(Hsm::connect(token.settings()).unwrap());
    let who = hsm.identity().unwrap();
    let settings = RngSourceSettings {
        enabled: true,
        ..RngSourceSettings::default()
    };
    let mut source = HsmRngSource::new(Arc::clone(&hsm), &settings).unwrap();
    let info = source.info().clone();
    assert_eq!(info.kind, SourceKind::Pkcs11);
    assert!(!info.credited && !info.quantum, "{info:?}");
    for part in [&who.manufacturer, &who.model, &who.serial, &who.label] {
        assert!(
            !part.is_empty() && info.id.contains(part.as_str()),
            "{} in {info:?}",
            part
        );
    }
    let mut samples = [0u8; 64];
    assert_eq!(source.read_samples(&mut samples).unwrap(), 64);
    assert!(samples.windows(2).any(|w| w[0] != w[1]));

    // In the pool beside the OS source: health-tested, mixed into seeds without credit.
    let pool =
        EntropyPool::with_extra_sources(EntropyConfig::default(), vec![Box::new(source)]).unwrap();
    let mut drawn = [0u8; 32];
    pool.fill(&mut drawn).unwrap();
    let status = pool.status();
    let listed = status
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::Pkcs11)
        .expect("the HSM source is listed");
    assert!(!listed.credited);
    assert!(listed.samples_read > 0, "{listed:?}");
    assert!(listed.contributing, "{listed:?}");
}
