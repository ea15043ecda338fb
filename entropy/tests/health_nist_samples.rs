//! The health tests on NIST's SP 800-90B sample files, as `tests/data/entropy-samples/README.md` prescribes.

use std::path::PathBuf;

use entropy::health::{
    AdaptiveProportionTest, Alpha, HealthConfig, HealthConfigError, HealthMonitor, HealthState,
    RepetitionCountTest, TestEvent,
};

fn samples(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/entropy-samples")
        .join(name);
    let data = std::fs::read(&path).unwrap();
    assert_eq!(data.len(), 1_000_000, "{}", path.display());
    data
}

fn config_at_2_pow_20(sample_bits: u8, h: f64) -> HealthConfig {
    let mut config = HealthConfig::new(sample_bits, h);
    config.intermittent_alpha = Alpha::pow2(20.0).unwrap();
    config.persistent_alpha = Alpha::pow2(20.0).unwrap();
    config
}

/// Runs both tests over the whole stream, continuing after each failure; returns (RCT, APT) failure counts.
fn failures(data: &[u8], sample_bits: u8, h: f64) -> (u32, u32) {
    let cutoffs = config_at_2_pow_20(sample_bits, h).cutoffs().unwrap();
    let mut rct = RepetitionCountTest::new(cutoffs.rct_intermittent, cutoffs.rct_persistent);
    let mut apt = AdaptiveProportionTest::new(
        cutoffs.apt_window,
        cutoffs.apt_intermittent,
        cutoffs.apt_persistent,
    );
    let (mut rct_failures, mut apt_failures) = (0, 0);
    for &s in data {
        if rct.feed(s) != TestEvent::Pass {
            rct_failures += 1;
        }
        if apt.feed(s).0 != TestEvent::Pass {
            apt_failures += 1;
        }
    }
    (rct_failures, apt_failures)
}

/// The whole file through a monitor at alpha 2^-20: it starts up, never fails, and releases everything after
/// the start-up windows.
fn assert_monitor_passes(data: &[u8], sample_bits: u8, h: f64) {
    let mut monitor = HealthMonitor::new(config_at_2_pow_20(sample_bits, h)).unwrap();
    let mut released = Vec::new();
    let report = monitor.process(data, &mut released);
    assert_eq!(report.failures, 0, "H={h}: {:?}", monitor.status());
    assert_eq!(monitor.state(), HealthState::Healthy);
    let window = monitor.cutoffs().apt_window as usize;
    let startup = 1024usize.div_ceil(window) * window;
    let complete = data.len() / window * window;
    assert_eq!(released.len(), complete - startup);
    assert_eq!(&released[..], &data[startup..complete]);
    let counters = monitor.counters();
    assert_eq!(counters.samples_tested, data.len() as u64);
    assert_eq!(counters.startup_passes, 1);
}

#[test]
fn ring_oscillator_passes_at_its_assessed_entropy() {
    let data = samples("ringOsc-nist.bin");
    assert_eq!(failures(&data, 1, 0.1264), (0, 0));
    assert_monitor_passes(&data, 1, 0.1264);
}

#[test]
fn truerand_1bit_passes_at_its_assessed_entropy() {
    let data = samples("truerand_1bit.bin");
    assert_eq!(failures(&data, 1, 0.8297), (0, 0));
    assert_monitor_passes(&data, 1, 0.8297);
}

#[test]
fn truerand_8bit_passes_at_its_assessed_entropy() {
    // 90B takes the lower of H_original (7.8651) and the bitstring estimate (7.2339) as the assessed entropy.
    let data = samples("truerand_8bit.bin");
    assert_eq!(failures(&data, 8, 7.2339), (0, 0));
    assert_monitor_passes(&data, 8, 7.2339);
}

#[test]
fn truerand_8bit_at_h_original_has_one_chance_alarm_and_recovers() {
    // At H = 7.8651 the APT cutoff is 13 and the window at offset 904704 holds its first value (47) exactly 13
    // times: one alarm in 1953 windows, a chance event the 2^-20 alpha allows (B counts the first sample itself,
    // as 90B §4.4.2 specifies). The monitor quarantines, retests and resumes.
    let data = samples("truerand_8bit.bin");
    assert_eq!(failures(&data, 8, 7.8651), (0, 1));
    let window = &data[904_704..904_704 + 512];
    assert_eq!(window.iter().filter(|&&s| s == window[0]).count(), 13);

    let mut config = config_at_2_pow_20(8, 7.8651);
    config.persistent_alpha = Alpha::pow2(40.0).unwrap();
    let mut monitor = HealthMonitor::new(config).unwrap();
    let mut released = Vec::new();
    let report = monitor.process(&data, &mut released);
    assert_eq!(report.failures, 1);
    assert_eq!(
        report.first_failure,
        Some(entropy::health::HealthTestKind::AdaptiveProportion)
    );
    assert_eq!(monitor.state(), HealthState::Healthy);
    let counters = monitor.counters();
    assert_eq!(counters.apt_intermittent_failures, 1);
    assert_eq!(counters.startup_passes, 2);
    // Lost: the start-up windows, the failing window and the retest windows.
    assert_eq!(released.len(), 1953 * 512 - 2 * 512 - 512 - 2 * 512);
    // At the default alpha (2^-30) the same claim passes without alarm.
    assert_monitor_passes_default(&data, 8, 7.8651);
}

fn assert_monitor_passes_default(data: &[u8], sample_bits: u8, h: f64) {
    let mut monitor = HealthMonitor::new(HealthConfig::new(sample_bits, h)).unwrap();
    let mut released = Vec::new();
    assert_eq!(monitor.process(data, &mut released).failures, 0);
    assert_eq!(monitor.state(), HealthState::Healthy);
}

#[test]
fn lower_entropy_claims_pass_too() {
    let data = samples("truerand_1bit.bin");
    assert_eq!(failures(&data, 1, 0.5), (0, 0));
    let data = samples("ringOsc-nist.bin");
    assert_eq!(failures(&data, 1, 0.1), (0, 0));
}

#[test]
fn ring_oscillator_over_claimed_at_one_bit_fails_many_times() {
    let data = samples("ringOsc-nist.bin");
    let (rct, apt) = failures(&data, 1, 1.0);
    // Over the 976 windows: 8257 runs reach the RCT cutoff of 21, 53 windows reach the APT cutoff of 589.
    assert!(rct >= 1000, "RCT failures {rct}");
    assert!(apt >= 20, "APT failures {apt}");
}

#[test]
fn biased_bits_over_claimed_at_half_a_bit_fail_many_times() {
    let data = samples("biased-random-bits.bin");
    let (rct, apt) = failures(&data, 1, 0.5);
    assert!(rct >= 100, "RCT failures {rct}");
    assert!(apt >= 100, "APT failures {apt}");
}

#[test]
fn over_claimed_source_is_latched_off_by_the_monitor() {
    let data = samples("ringOsc-nist.bin");
    let mut monitor = HealthMonitor::new(HealthConfig::new(1, 1.0)).unwrap();
    let mut released = Vec::new();
    monitor.process(&data, &mut released);
    assert_eq!(monitor.state(), HealthState::PersistentFailure);
    assert!(
        released.is_empty(),
        "an over-claimed source released {} samples",
        released.len()
    );
}

#[test]
fn biased_bits_at_their_assessed_entropy_are_a_refused_configuration() {
    let err = HealthMonitor::new(config_at_2_pow_20(1, 0.0178)).unwrap_err();
    assert!(
        matches!(err, HealthConfigError::AptNeverFires { window: 1024, .. }),
        "{err:?}"
    );
}
