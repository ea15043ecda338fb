//! The OS fallback (labelled non-quantum) and the replay source used with recorded samples.

use std::path::PathBuf;

use entropy::health::{HealthState, HealthTestedSource};
use entropy::source::{EntropySource, OsSource, ReplaySource, SourceError, SourceKind};

fn sample_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/entropy-samples")
        .join(name)
}

#[test]
fn the_os_source_says_it_is_not_quantum() {
    let mut source = OsSource::new();
    let info = source.info().clone();
    assert_eq!(info.kind, SourceKind::Os);
    assert!(!info.quantum);
    assert_eq!(info.id, "OS getrandom (not quantum)");
    assert!(!OsSource::with_credit(false).info().credited);
    let mut a = [0u8; 64];
    let mut b = [0u8; 64];
    assert_eq!(source.read_samples(&mut a).unwrap(), 64);
    assert_eq!(source.read_samples(&mut b).unwrap(), 64);
    assert_ne!(a, b);
    let mut tested = HealthTestedSource::new(source).unwrap();
    assert_eq!(tested.read_samples(&mut a).unwrap(), 64);
    assert_eq!(tested.state(), HealthState::Healthy);
}

#[test]
fn replay_delivers_the_file_then_fails_at_its_end() {
    let path = sample_file("truerand_8bit.bin");
    let expected = std::fs::read(&path).unwrap();
    let mut source = ReplaySource::open(&path, 8, 7.2339).unwrap();
    assert_eq!(source.info().kind, SourceKind::Replay);
    assert!(!source.info().credited && !source.info().quantum);
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    let err = loop {
        match source.read_samples(&mut buf) {
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => break e,
        }
    };
    assert_eq!(out, expected);
    assert!(matches!(err, SourceError::EndOfStream { .. }), "{err:?}");
}

#[test]
fn looping_replay_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three.bin");
    std::fs::write(&path, [1, 0, 1]).unwrap();
    let mut source = ReplaySource::open(&path, 1, 0.5).unwrap().looping(true);
    let mut out = Vec::new();
    let mut buf = [0u8; 2];
    for _ in 0..5 {
        let n = source.read_samples(&mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(out, [1, 0, 1, 1, 0, 1, 1, 0]);

    let empty = dir.path().join("empty.bin");
    std::fs::write(&empty, []).unwrap();
    let mut source = ReplaySource::open(&empty, 8, 1.0).unwrap().looping(true);
    assert!(matches!(
        source.read_samples(&mut buf),
        Err(SourceError::EndOfStream { .. })
    ));
}

#[test]
fn replay_refuses_samples_wider_than_declared_and_bad_assessments() {
    let path = sample_file("truerand_8bit.bin");
    let mut source = ReplaySource::open(&path, 1, 0.5).unwrap();
    let err = source.read_samples(&mut [0u8; 4096]).unwrap_err();
    assert!(matches!(err, SourceError::Failed { .. }), "{err:?}");
    assert!(matches!(
        ReplaySource::open(&path, 8, 0.0),
        Err(SourceError::InvalidConfig { .. })
    ));
    assert!(matches!(
        ReplaySource::open(&path, 0, 0.5),
        Err(SourceError::InvalidConfig { .. })
    ));
    assert!(matches!(
        ReplaySource::open(&sample_file("missing.bin"), 8, 1.0),
        Err(SourceError::Io { .. })
    ));
}

#[test]
fn the_ring_oscillator_recording_runs_healthy_through_the_wrapper() {
    let source = ReplaySource::open(&sample_file("ringOsc-nist.bin"), 1, 0.1264).unwrap();
    let mut tested = HealthTestedSource::new(source).unwrap();
    let mut total = 0usize;
    let mut buf = vec![0u8; 10_000];
    let err = loop {
        match tested.read_samples(&mut buf) {
            Ok(n) => total += n,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, SourceError::EndOfStream { .. }), "{err:?}");
    // 976 whole windows of 1024, the first one the start-up test.
    assert_eq!(total, 975 * 1024);
    let counters = tested.status().counters;
    assert_eq!(counters.samples_tested, 1_000_000);
    assert_eq!(
        counters.rct_intermittent_failures + counters.apt_intermittent_failures,
        0
    );
}
