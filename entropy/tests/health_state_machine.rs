//! The health monitor's behaviour on synthetic streams: start-up, stuck / short-cycle / biased sources,
//! intermittent failure with retest and recovery, persistent failure latched until an operator reset.

use entropy::health::{
    HealthConfig, HealthConfigError, HealthState, HealthTestKind, HealthTestedSource,
};
use entropy::source::{EntropySource, SourceError, SourceInfo, SourceKind};

/// A source that plays a fixed byte sequence, then fails with `EndOfStream`.
#[derive(Debug)]
struct ScriptedSource {
    info: SourceInfo,
    data: Vec<u8>,
    position: usize,
    /// Most samples one read returns, to control how the health tests see the stream.
    max_read: usize,
}

impl ScriptedSource {
    fn new(data: Vec<u8>, sample_bits: u8, h: f64) -> Self {
        Self {
            info: SourceInfo {
                id: "scripted".into(),
                kind: SourceKind::Replay,
                quantum: false,
                sample_bits,
                min_entropy_per_sample: h,
                credited: true,
            },
            data,
            position: 0,
            max_read: usize::MAX,
        }
    }

    fn max_read(mut self, max_read: usize) -> Self {
        self.max_read = max_read;
        self
    }
}

impl EntropySource for ScriptedSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        let n = out
            .len()
            .min(self.data.len() - self.position)
            .min(self.max_read);
        if n == 0 {
            return Err(SourceError::EndOfStream {
                id: self.info.id.clone(),
            });
        }
        out[..n].copy_from_slice(&self.data[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// Deterministic uniform-looking bytes (xorshift64*), so failures are reproducible.
fn uniform(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Reads until the source fails; returns the samples delivered and the error.
fn drain(source: &mut impl EntropySource) -> (Vec<u8>, SourceError) {
    let mut out = Vec::new();
    let mut buf = [0u8; 700];
    loop {
        match source.read_samples(&mut buf) {
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, e),
        }
    }
}

fn health_state(err: &SourceError) -> Option<(HealthState, Option<HealthTestKind>)> {
    match err {
        SourceError::HealthTest { state, test, .. } => Some((*state, *test)),
        _ => None,
    }
}

#[test]
fn samples_flow_only_after_a_1024_sample_start_up() {
    let data = uniform(10 * 512 + 100, 1);
    let mut source = HealthTestedSource::new(ScriptedSource::new(data.clone(), 8, 8.0)).unwrap();
    assert_eq!(source.state(), HealthState::StartingUp);
    let (out, err) = drain(&mut source);
    assert!(matches!(err, SourceError::EndOfStream { .. }), "{err:?}");
    // Two start-up windows are discarded; the trailing partial window is never released.
    assert_eq!(out, data[1024..10 * 512]);
    let status = source.status();
    assert_eq!(status.counters.startup_passes, 1);
    assert_eq!(status.counters.samples_released, 8 * 512);
    assert_eq!(status.counters.stream_restarts, 1);
    // The end of the stream broke its continuity: the next samples would be start-up samples again.
    assert_eq!(source.state(), HealthState::StartingUp);
}

#[test]
fn a_stuck_source_is_quarantined_then_latched() {
    let mut data = uniform(4096, 2);
    data.extend(std::iter::repeat_n(0x5a, 4096));
    // Small reads, so the run reaches the intermittent cutoff (5) in one read and the persistent one (9) later.
    let mut source =
        HealthTestedSource::new(ScriptedSource::new(data, 8, 8.0).max_read(4)).unwrap();
    let mut buf = [0u8; 64];
    let mut delivered = 0;
    let err = loop {
        match source.read_samples(&mut buf) {
            Ok(n) => delivered += n,
            Err(e) => break e,
        }
    };
    assert_eq!(
        health_state(&err),
        Some((
            HealthState::IntermittentFailure,
            Some(HealthTestKind::RepetitionCount)
        ))
    );
    assert_eq!(
        delivered,
        4096 - 1024,
        "only windows before the stuck data are released"
    );
    let err = source.read_samples(&mut buf).unwrap_err();
    assert_eq!(
        health_state(&err),
        Some((
            HealthState::PersistentFailure,
            Some(HealthTestKind::RepetitionCount)
        ))
    );
    // Latched: every later call fails the same way, without reading.
    for _ in 0..3 {
        let err = source.read_samples(&mut buf).unwrap_err();
        assert_eq!(
            health_state(&err).map(|s| s.0),
            Some(HealthState::PersistentFailure)
        );
    }
    let counters = source.status().counters;
    assert_eq!(counters.rct_intermittent_failures, 1);
    assert_eq!(counters.rct_persistent_failures, 1);
}

#[test]
fn a_period_3_source_fails_the_adaptive_proportion_test() {
    let data: Vec<u8> = (0..8192).map(|i| [17u8, 99, 201][i % 3]).collect();
    let mut source = HealthTestedSource::new(ScriptedSource::new(data, 8, 4.0)).unwrap();
    let (out, err) = drain(&mut source);
    assert!(out.is_empty());
    assert_eq!(
        health_state(&err).map(|s| s.1),
        Some(Some(HealthTestKind::AdaptiveProportion))
    );
    let (_, err) = drain(&mut source);
    assert_eq!(
        health_state(&err).map(|s| s.0),
        Some(HealthState::PersistentFailure)
    );
    let counters = source.status().counters;
    assert_eq!(
        counters.rct_intermittent_failures, 0,
        "no value repeats back to back"
    );
    assert_eq!(counters.apt_persistent_failures, 1);
}

#[test]
fn a_biased_source_over_claiming_fails() {
    // 70% of samples are 0: about 0.5 bit of min-entropy, claimed as 4.
    let data: Vec<u8> = uniform(16384, 3)
        .into_iter()
        .map(|b| if b < 180 { 0 } else { b })
        .collect();
    let mut source = HealthTestedSource::new(ScriptedSource::new(data.clone(), 8, 4.0)).unwrap();
    let (out, err) = drain(&mut source);
    assert!(out.is_empty());
    assert!(health_state(&err).is_some(), "{err:?}");
    // Claimed honestly, the same stream passes.
    let mut honest = HealthTestedSource::new(ScriptedSource::new(data, 8, 0.4)).unwrap();
    let (out, err) = drain(&mut honest);
    assert!(matches!(err, SourceError::EndOfStream { .. }), "{err:?}");
    assert_eq!(out.len(), 16384 - 1024);
}

#[test]
fn an_intermittent_failure_discards_its_window_retests_and_resumes() {
    // H = 8: RCT cutoffs 5 (2^-30) and 9 (2^-60). A run of 6 is intermittent, not persistent.
    let mut data = uniform(3 * 512, 4);
    let failing_window = 3 * 512..4 * 512;
    let mut window = uniform(512, 5);
    window[100..106].fill(0xee);
    data.extend_from_slice(&window);
    data.extend(uniform(6 * 512, 6));
    // Reads of one window each, so the chunk-level discard does not hide the window-level behaviour.
    let mut source =
        HealthTestedSource::new(ScriptedSource::new(data.clone(), 8, 8.0).max_read(512)).unwrap();

    let (before, err) = drain(&mut source);
    assert_eq!(
        health_state(&err),
        Some((
            HealthState::IntermittentFailure,
            Some(HealthTestKind::RepetitionCount)
        ))
    );
    assert_eq!(before, data[1024..failing_window.start]);

    let (after, err) = drain(&mut source);
    assert!(matches!(err, SourceError::EndOfStream { .. }), "{err:?}");
    // The failing window and a fresh two-window start-up test are discarded, then samples flow again.
    assert_eq!(after, data[failing_window.end + 1024..]);
    let counters = source.status().counters;
    assert_eq!(
        (counters.rct_intermittent_failures, counters.startup_passes),
        (1, 2)
    );
    assert_eq!(counters.rct_persistent_failures, 0);
    assert_eq!(counters.samples_tested, data.len() as u64);
    assert_eq!(
        counters.samples_released + counters.samples_discarded,
        counters.samples_tested
    );
}

#[test]
fn a_failure_discards_everything_released_from_the_same_chunk() {
    // One read of the whole stream: windows before the failure, and windows that passed the retest after it,
    // arrive in the same chunk as the failure, so none of them is handed out.
    let mut data = uniform(5 * 512, 8);
    data[1600..1606].fill(0x42);
    data.extend(uniform(3 * 512, 9));
    let mut source = HealthTestedSource::new(ScriptedSource::new(data.clone(), 8, 8.0)).unwrap();
    let (out, err) = drain(&mut source);
    assert!(out.is_empty(), "{} samples escaped", out.len());
    assert!(health_state(&err).is_some(), "{err:?}");
    let counters = source.status().counters;
    assert_eq!(counters.samples_released, 0);
    assert_eq!(counters.samples_tested, data.len() as u64);
    assert_eq!(
        counters.startup_passes, 2,
        "the retest passed within the chunk"
    );
}

#[test]
fn repeated_intermittent_failures_latch_until_an_operator_reset() {
    let mut data = Vec::new();
    for seed in 0..3 {
        let mut chunk = uniform(4 * 512, 10 + seed);
        chunk[700..706].fill(0x11);
        data.extend(chunk);
    }
    data.extend(uniform(8 * 512, 20));
    let mut source =
        HealthTestedSource::new(ScriptedSource::new(data, 8, 8.0).max_read(512)).unwrap();
    let mut states = Vec::new();
    let mut buf = [0u8; 512];
    let last = loop {
        match source.read_samples(&mut buf) {
            Ok(_) => {}
            Err(e) => {
                let state = health_state(&e).map(|s| s.0);
                states.push(state);
                if state != Some(HealthState::IntermittentFailure) {
                    break e;
                }
            }
        }
    };
    assert_eq!(
        health_state(&last),
        Some((
            HealthState::PersistentFailure,
            Some(HealthTestKind::RepeatedIntermittent)
        )),
        "{states:?}"
    );
    assert_eq!(states.len(), 3);
    assert!(source.read_samples(&mut buf).is_err(), "latched");
    assert_eq!(source.status().counters.repeated_intermittent_failures, 1);

    source.reset();
    assert_eq!(source.state(), HealthState::StartingUp);
    let (out, err) = drain(&mut source);
    assert!(matches!(err, SourceError::EndOfStream { .. }), "{err:?}");
    assert!(
        !out.is_empty(),
        "the source contributes again after the reset and a new start-up"
    );
    let counters = source.status().counters;
    assert_eq!(counters.operator_resets, 1);
    assert_eq!(source.state(), HealthState::StartingUp, "stream ended");
}

#[test]
fn health_status_serialises_for_status_pages() {
    let source = HealthTestedSource::new(ScriptedSource::new(vec![], 8, 6.0)).unwrap();
    let json = serde_json::to_value(source.status()).unwrap();
    assert_eq!(json["state"], "starting-up");
    assert_eq!(json["counters"]["samples_tested"], 0);
    assert_eq!(json["cutoffs"]["apt_window"], 512);
    assert!(json["last_failure"].is_null());
}

#[test]
fn a_configuration_that_does_not_match_the_source_is_refused() {
    let config = HealthConfig::new(1, 0.5);
    let err =
        HealthTestedSource::with_config(ScriptedSource::new(vec![], 8, 6.0), config).unwrap_err();
    assert!(
        matches!(
            err,
            HealthConfigError::SampleWidthMismatch {
                configured: 1,
                actual: 8,
                ..
            }
        ),
        "{err:?}"
    );
    let err = HealthTestedSource::new(ScriptedSource::new(vec![], 1, 0.0178)).unwrap_err();
    assert!(
        matches!(err, HealthConfigError::AptNeverFires { .. }),
        "{err:?}"
    );
}

#[test]
fn boxed_sources_can_be_health_tested() {
    let boxed: Box<dyn EntropySource> = Box::new(ScriptedSource::new(uniform(4096, 7), 8, 8.0));
    let mut source: HealthTestedSource = HealthTestedSource::new(boxed).unwrap();
    let mut buf = [0u8; 100];
    assert_eq!(source.read_samples(&mut buf).unwrap(), 100);
    assert_eq!(source.info().id, "scripted");
    assert!(
        !format!("{source:?}").contains(&format!("{:?}", &buf[..8])),
        "Debug must not print samples"
    );
}
