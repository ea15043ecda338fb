//! SP 800-90B §4.4 cutoff formulas against the worked examples, and refusal of configurations that cannot work.

use entropy::health::{apt_cutoff, apt_window, rct_cutoff, Alpha, HealthConfig, HealthConfigError};

fn alpha(exponent: f64) -> Alpha {
    Alpha::pow2(exponent).unwrap()
}

#[test]
fn repetition_count_cutoffs_match_the_examples() {
    for (h, exponent, expected) in [
        (1.0, 20.0, 21),
        (1.0, 30.0, 31),
        (1.0, 40.0, 41),
        (8.0, 20.0, 4),
        (8.0, 30.0, 5),
        (8.0, 40.0, 6),
        (0.5, 20.0, 41),
        (0.5, 30.0, 61),
        (0.5, 40.0, 81),
    ] {
        assert_eq!(
            rct_cutoff(h, alpha(exponent)).unwrap(),
            expected,
            "H={h} alpha=2^-{exponent}"
        );
    }
}

#[test]
fn adaptive_proportion_cutoffs_match_the_examples() {
    for (h, window, expected) in [
        (1.0, 1024, 589),
        (0.5, 512, 410),
        (8.0, 512, 13),
        (4.0, 512, 62),
    ] {
        assert_eq!(
            apt_cutoff(window, h, alpha(20.0)).unwrap(),
            expected,
            "H={h} W={window}"
        );
    }
}

#[test]
fn adaptive_proportion_cutoffs_at_small_alphas_are_exact() {
    // Values from an independent log-space binomial tail computation (W trials).
    for (h, window, exponent, expected) in [
        (1.0, 1024, 30.0, 609),
        (1.0, 1024, 60.0, 652),
        (8.0, 512, 30.0, 16),
        (8.0, 512, 60.0, 25),
        (4.0, 512, 60.0, 91),
    ] {
        assert_eq!(
            apt_cutoff(window, h, alpha(exponent)).unwrap(),
            expected,
            "H={h} W={window} 2^-{exponent}"
        );
    }
}

#[test]
fn windows_are_1024_for_binary_and_512_otherwise() {
    assert_eq!(apt_window(1), 1024);
    for bits in 2..=8 {
        assert_eq!(apt_window(bits), 512);
    }
}

#[test]
fn a_cutoff_beyond_the_window_is_refused() {
    // biased-random-bits at its assessed H: the APT could never fire.
    let mut config = HealthConfig::new(1, 0.0178);
    config.intermittent_alpha = alpha(20.0);
    config.persistent_alpha = alpha(20.0);
    match config.cutoffs() {
        Err(HealthConfigError::AptNeverFires { cutoff, window, .. }) => {
            assert_eq!(window, 1024);
            assert!(cutoff > 1024, "cutoff {cutoff}");
        }
        other => panic!("expected AptNeverFires, got {other:?}"),
    }
}

#[test]
fn entropy_outside_the_sample_width_is_refused() {
    assert!(matches!(
        HealthConfig::new(1, 1.5).cutoffs(),
        Err(HealthConfigError::EntropyExceedsSampleWidth { .. })
    ));
    assert!(matches!(
        HealthConfig::new(8, 8.01).cutoffs(),
        Err(HealthConfigError::EntropyExceedsSampleWidth { .. })
    ));
    for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                HealthConfig::new(8, h).cutoffs(),
                Err(HealthConfigError::NonPositiveEntropy { .. })
            ),
            "H={h}"
        );
    }
    assert!(matches!(
        HealthConfig::new(0, 0.5).cutoffs(),
        Err(HealthConfigError::InvalidSampleWidth { .. })
    ));
    assert!(matches!(
        HealthConfig::new(9, 0.5).cutoffs(),
        Err(HealthConfigError::InvalidSampleWidth { .. })
    ));
}

#[test]
fn other_unusable_settings_are_refused() {
    let mut config = HealthConfig::new(8, 4.0);
    config.persistent_alpha = alpha(20.0);
    assert!(matches!(
        config.cutoffs(),
        Err(HealthConfigError::PersistentAlphaLarger { .. })
    ));

    let mut config = HealthConfig::new(8, 4.0);
    config.startup_samples = 1023;
    assert!(matches!(
        config.cutoffs(),
        Err(HealthConfigError::StartupTooShort { samples: 1023 })
    ));

    let mut config = HealthConfig::new(8, 4.0);
    config.max_intermittent_failures = 0;
    assert!(matches!(
        config.cutoffs(),
        Err(HealthConfigError::InvalidFailureLimit { .. })
    ));

    assert!(matches!(
        Alpha::pow2(0.5),
        Err(HealthConfigError::InvalidAlpha { .. })
    ));
}

#[test]
fn default_configuration_uses_2_pow_30_and_2_pow_60() {
    let cutoffs = HealthConfig::new(8, 8.0).cutoffs().unwrap();
    assert_eq!((cutoffs.rct_intermittent, cutoffs.rct_persistent), (5, 9));
    assert_eq!((cutoffs.apt_intermittent, cutoffs.apt_persistent), (16, 25));
    assert_eq!(cutoffs.apt_window, 512);
}

#[test]
fn alpha_serialises_as_its_exponent() {
    let config = HealthConfig::new(8, 7.5);
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["intermittent_alpha"], 30.0);
    let back: HealthConfig = serde_json::from_value(json).unwrap();
    assert_eq!(back, config);
    let mut bad = serde_json::to_value(&config).unwrap();
    bad["persistent_alpha"] = serde_json::json!(-4.0);
    assert!(serde_json::from_value::<HealthConfig>(bad).is_err());
}
