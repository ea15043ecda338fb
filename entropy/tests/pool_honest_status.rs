//! The status tells the truth about what seeds: with a quantum-labelled source latched off and the OS generator
//! seeding, `quantum_now` is false, `seeding_sources` names the OS source, and every new draw's provenance says
//! not quantum; an operator reset (start-up tests on fresh samples) brings the quantum source back, and the
//! status and provenance say quantum again once it seeds.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use entropy::config::{DrbgConfig, SourceConfig};
use entropy::health::HealthState;
use entropy::source::{EntropySource, OsSource, SourceError, SourceInfo, SourceKind};
use entropy::status::PoolState;
use entropy::{EntropyConfig, EntropyError, EntropyPool};

const HEALTHY: u8 = 0;
/// Constant bytes: trips the persistent Repetition Count cutoff (latched).
const STUCK: u8 = 1;

/// A quantum-labelled test source whose noise the test switches while the pool runs.
#[derive(Debug)]
struct SwitchableQrng {
    info: SourceInfo,
    mode: Arc<AtomicU8>,
}

impl EntropySource for SwitchableQrng {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        let n = out.len().min(512);
        if self.mode.load(Ordering::SeqCst) == STUCK {
            out[..n].fill(0x42);
        } else {
            getrandom::fill(&mut out[..n]).expect("getrandom");
        }
        Ok(n)
    }
}

/// A pool over the switchable quantum source (first, so it seeds while healthy) and the OS generator.
fn pool(mode: &Arc<AtomicU8>) -> EntropyPool {
    let qrng = SwitchableQrng {
        info: SourceInfo {
            id: "qrng".into(),
            kind: SourceKind::CharDevice,
            quantum: true,
            sample_bits: 8,
            min_entropy_per_sample: 8.0,
            credited: true,
        },
        mode: Arc::clone(mode),
    };
    let config = EntropyConfig {
        drbg: DrbgConfig {
            instances: 2,
            reseed_interval_generates: 1,
            ..DrbgConfig::default()
        },
        ..EntropyConfig::default()
    };
    EntropyPool::with_sources(config, vec![Box::new(qrng), Box::new(OsSource::new())]).unwrap()
}

fn assert_quantum(pool: &EntropyPool) {
    let provenance = pool.fill(&mut [0u8; 32]).unwrap();
    assert!(provenance.quantum, "{provenance:?}");
    let status = pool.status();
    assert!(status.quantum_now, "{status:#?}");
    assert_eq!(status.seeding_sources, ["qrng"]);
    assert!(
        status.summary.starts_with("quantum now"),
        "{}",
        status.summary
    );
    let qrng = &status.sources[0];
    assert!(qrng.quantum && qrng.contributing, "{qrng:#?}");
    assert!(!status.sources[1].contributing, "{:#?}", status.sources[1]);
}

#[test]
fn a_latched_quantum_source_is_not_reported_as_quantum_until_reset() {
    let mode = Arc::new(AtomicU8::new(HEALTHY));
    let pool = pool(&mode);
    assert_quantum(&pool);

    mode.store(STUCK, Ordering::SeqCst);
    // Buffered samples that passed their tests may serve a few more seeds; then the source latches.
    for _ in 0..500 {
        pool.fill(&mut [0u8; 32]).unwrap();
        if pool.status().sources[0].health.state == HealthState::PersistentFailure {
            break;
        }
    }
    // Every later draw comes from the OS generator, and everything says so.
    let provenance = pool.fill(&mut [0u8; 32]).unwrap();
    assert!(!provenance.quantum, "{provenance:?}");
    assert!(provenance
        .kmip_attributes()
        .contains(&("x-qkms-entropy-quantum".into(), "false".into())));
    let status = pool.status();
    assert_eq!(status.state, PoolState::Ready);
    assert!(!status.quantum_now, "{status:#?}");
    assert_eq!(status.seeding_sources, [OsSource::ID]);
    assert!(
        status.summary.starts_with("not quantum now"),
        "{}",
        status.summary
    );
    let qrng = &status.sources[0];
    assert_eq!(qrng.health.state, HealthState::PersistentFailure);
    assert!(
        qrng.quantum,
        "the kind's claim stays: it is a quantum device"
    );
    assert!(!qrng.contributing);
    assert!(status.sources[1].contributing);

    // A reset while the noise is still stuck: the start-up tests fail again and the OS keeps seeding.
    let after = pool.reset_source("qrng").unwrap();
    assert_ne!(after.health.state, HealthState::Healthy);
    assert!(!pool.status().quantum_now);
    assert!(!pool.fill(&mut [0u8; 32]).unwrap().quantum);

    // Healthy noise again; latched sources stay off until an operator resets them.
    mode.store(HEALTHY, Ordering::SeqCst);
    for _ in 0..20 {
        assert!(!pool.fill(&mut [0u8; 32]).unwrap().quantum);
    }
    let after = pool.reset_source("qrng").unwrap();
    assert_eq!(after.health.state, HealthState::Healthy);
    assert!(after.health.counters.operator_resets >= 2);
    assert_quantum(&pool);
}

#[test]
fn reset_refuses_an_unknown_source() {
    let pool = pool(&Arc::new(AtomicU8::new(HEALTHY)));
    assert!(matches!(
        pool.reset_source("no-such-source"),
        Err(EntropyError::UnknownSource(id)) if id == "no-such-source"
    ));
}

#[test]
fn the_os_fallback_is_never_quantum_now() {
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    pool.fill(&mut [0u8; 16]).unwrap();
    let status = pool.status();
    assert!(!status.quantum_now);
    assert_eq!(status.seeding_sources, [OsSource::ID]);
    assert!(status.sources[0].contributing);
}

/// A configured replay recording of good random bytes, quantum-labelled.
fn replay_config(dir: &std::path::Path, allow: bool) -> EntropyConfig {
    let recording = dir.join("recording.bin");
    if !recording.exists() {
        let mut bytes = vec![0u8; 1 << 16];
        getrandom::fill(&mut bytes).unwrap();
        std::fs::write(&recording, bytes).unwrap();
    }
    let mut source = SourceConfig::new(SourceKind::Replay, "recording");
    source.path = Some(recording);
    source.min_entropy_per_sample = Some(8.0);
    source.quantum = true;
    EntropyConfig {
        sources: vec![source],
        allow_replay_credit: allow,
        drbg: DrbgConfig {
            instances: 1,
            ..DrbgConfig::default()
        },
        ..EntropyConfig::default()
    }
}

#[test]
fn a_replay_recording_is_uncredited_unless_allowed_for_tests() {
    let dir = tempfile::tempdir().unwrap();
    let refused = EntropyPool::new(replay_config(dir.path(), false)).unwrap_err();
    assert!(
        refused.to_string().contains("allow_replay_credit"),
        "{refused}"
    );

    // Beside a credited source, it is mixed in without credit and never makes the pool quantum.
    let mut config = replay_config(dir.path(), false);
    config.sources.push(SourceConfig::os_fallback());
    let pool = EntropyPool::new(config).unwrap();
    let provenance = pool.fill(&mut [0u8; 32]).unwrap();
    assert!(!provenance.quantum);
    let recording = provenance
        .sources
        .iter()
        .find(|s| s.id == "recording")
        .expect("the recording is mixed in");
    assert!(!recording.credited && recording.credited_bits == 0);
    let status = pool.status();
    assert!(!status.sources[0].credited);
    assert!(!status.quantum_now);
    assert_eq!(status.seeding_sources, [OsSource::ID]);
}

#[test]
fn two_restarts_on_the_same_recording_give_different_output() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("entropy.state");
    let run = |state: Option<&std::path::Path>| {
        let mut config = replay_config(dir.path(), true);
        config.state_file = state.map(ToOwned::to_owned);
        let pool = EntropyPool::new(config).unwrap();
        let mut out = [0u8; 64];
        let provenance = pool.fill(&mut out).unwrap();
        // Credited only because the test-only switch is on; every run reads the recording from its start.
        assert!(provenance.sources[0].credited && provenance.quantum);
        out
    };
    let first = run(Some(&state_file));
    let second = run(Some(&state_file));
    assert_ne!(
        first, second,
        "identical entropy input gave identical output"
    );
    assert_eq!(std::fs::read_to_string(&state_file).unwrap().trim(), "2");
    // Without a state file, time, boot id, pid and the process counter still differ.
    assert_ne!(run(None), run(None));
}
