//! The per-source health state machine.
//!
//! Samples are released a whole APT window at a time, and only when the window passed both tests while the source
//! was healthy: the data of a failing window is discarded, never half-used. Start-up and every retest cover
//! `startup_samples` (rounded up to whole windows) of consecutive failure-free samples, which are discarded.
//!
//! An intermittent failure quarantines the source; the tests keep running on the following samples, so a run or a
//! window that goes on to the persistent cutoff latches the source off, as does the `max_intermittent_failures`-th
//! intermittent failure within `failure_span_samples`.

use std::collections::VecDeque;

use zeroize::Zeroize;

use super::continuous::{AdaptiveProportionTest, RepetitionCountTest, TestEvent};
use super::{
    HealthConfig, HealthConfigError, HealthCounters, HealthCutoffs, HealthState, HealthStatus,
    HealthTestKind,
};

/// What one [`HealthMonitor::process`] call saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessReport {
    /// Samples appended to the caller's output.
    pub released: usize,
    /// Failures (intermittent or persistent) raised during the call.
    pub failures: u32,
    /// The first failure raised during the call.
    pub first_failure: Option<HealthTestKind>,
}

/// Runs the SP 800-90B continuous and start-up tests on one source's raw samples.
#[derive(Clone)]
pub struct HealthMonitor {
    config: HealthConfig,
    cutoffs: HealthCutoffs,
    rct: RepetitionCountTest,
    apt: AdaptiveProportionTest,
    state: HealthState,
    /// Whether the window in progress started while healthy (only such windows may be released).
    window_releasable: bool,
    window_failed: bool,
    /// Samples of the window in progress, kept only while it may still be released.
    pending: Vec<u8>,
    startup_target: u64,
    startup_progress: u64,
    /// Sample indices (in `counters.samples_tested` terms) of recent intermittent failures.
    recent_failures: VecDeque<u64>,
    last_failure: Option<HealthTestKind>,
    counters: HealthCounters,
}

impl std::fmt::Debug for HealthMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pending window holds raw secret samples: never print it.
        f.debug_struct("HealthMonitor")
            .field("state", &self.state)
            .field("cutoffs", &self.cutoffs)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Drop for HealthMonitor {
    fn drop(&mut self) {
        self.pending.zeroize();
    }
}

impl HealthMonitor {
    /// A monitor in the start-up state, or the reason the configuration is refused.
    pub fn new(config: HealthConfig) -> Result<Self, HealthConfigError> {
        let cutoffs = config.cutoffs()?;
        let window = u64::from(cutoffs.apt_window);
        let startup_target = u64::from(config.startup_samples).div_ceil(window) * window;
        Ok(Self {
            rct: RepetitionCountTest::new(cutoffs.rct_intermittent, cutoffs.rct_persistent),
            apt: AdaptiveProportionTest::new(
                cutoffs.apt_window,
                cutoffs.apt_intermittent,
                cutoffs.apt_persistent,
            ),
            pending: Vec::with_capacity(cutoffs.apt_window as usize),
            config,
            cutoffs,
            state: HealthState::StartingUp,
            window_releasable: false,
            window_failed: false,
            startup_target,
            startup_progress: 0,
            recent_failures: VecDeque::new(),
            last_failure: None,
            counters: HealthCounters::default(),
        })
    }

    pub fn state(&self) -> HealthState {
        self.state
    }

    pub fn config(&self) -> &HealthConfig {
        &self.config
    }

    pub fn cutoffs(&self) -> HealthCutoffs {
        self.cutoffs
    }

    pub fn counters(&self) -> HealthCounters {
        self.counters
    }

    pub fn status(&self) -> HealthStatus {
        HealthStatus {
            state: self.state,
            last_failure: self.last_failure,
            cutoffs: self.cutoffs,
            counters: self.counters,
        }
    }

    /// Tests `samples` in order, appending the samples of every window that passed while healthy to `released`.
    /// While latched in `PersistentFailure`, samples are counted as discarded and not tested.
    pub fn process(&mut self, samples: &[u8], released: &mut Vec<u8>) -> ProcessReport {
        let mut report = ProcessReport::default();
        for &sample in samples {
            if self.state == HealthState::PersistentFailure {
                self.counters.samples_discarded += 1;
                continue;
            }
            self.counters.samples_tested += 1;
            if self.window_releasable && !self.window_failed {
                self.pending.push(sample);
            }
            let rct_event = self.rct.feed(sample);
            let (apt_event, window_done) = self.apt.feed(sample);
            self.handle(rct_event, HealthTestKind::RepetitionCount, &mut report);
            self.handle(apt_event, HealthTestKind::AdaptiveProportion, &mut report);
            if window_done {
                report.released += self.finish_window(released);
            } else if self.state == HealthState::PersistentFailure {
                // The latched window will never complete: account for its samples now.
                self.counters.samples_discarded += u64::from(self.apt.position());
            }
        }
        report
    }

    /// Operator action: clears every failure, including a latched persistent one, and starts a fresh start-up
    /// test. Counters are kept.
    pub fn reset(&mut self) {
        self.counters.operator_resets += 1;
        self.recent_failures.clear();
        self.last_failure = None;
        self.restart_tests();
    }

    /// The sample stream was interrupted (the source returned an error): the tests' view of consecutive samples
    /// is broken, so the window in progress is dropped and a fresh start-up test runs. A latched persistent
    /// failure stays latched.
    pub fn restart_after_gap(&mut self) {
        if self.state != HealthState::PersistentFailure {
            self.counters.stream_restarts += 1;
            self.restart_tests();
        }
    }

    /// The consumer threw away `samples` that this monitor had released (they came with a failure): count them
    /// as discarded, so `samples_released` stays what the source actually contributed.
    pub fn withdraw_released(&mut self, samples: u64) {
        let samples = samples.min(self.counters.samples_released);
        self.counters.samples_released -= samples;
        self.counters.samples_discarded += samples;
    }

    fn restart_tests(&mut self) {
        if self.state != HealthState::PersistentFailure {
            // A latched monitor already counted its last window.
            self.counters.samples_discarded += u64::from(self.apt.position());
        }
        self.rct.restart();
        self.apt.restart();
        self.discard_pending();
        self.window_failed = false;
        self.window_releasable = false;
        self.startup_progress = 0;
        self.state = HealthState::StartingUp;
    }

    fn handle(&mut self, event: TestEvent, test: HealthTestKind, report: &mut ProcessReport) {
        let persistent = match event {
            TestEvent::Pass => return,
            TestEvent::Intermittent => false,
            TestEvent::Persistent => true,
        };
        report.failures += 1;
        report.first_failure.get_or_insert(test);
        self.last_failure = Some(test);
        self.window_failed = true;
        self.discard_pending();
        self.startup_progress = 0;
        if self.state == HealthState::PersistentFailure {
            return;
        }
        match (test, persistent) {
            (HealthTestKind::RepetitionCount, false) => {
                self.counters.rct_intermittent_failures += 1
            }
            (HealthTestKind::AdaptiveProportion, false) => {
                self.counters.apt_intermittent_failures += 1
            }
            (HealthTestKind::RepetitionCount, true) => self.counters.rct_persistent_failures += 1,
            (HealthTestKind::AdaptiveProportion, true) => {
                self.counters.apt_persistent_failures += 1
            }
            (HealthTestKind::RepeatedIntermittent, _) => {}
        }
        if persistent {
            self.latch();
            return;
        }
        self.state = HealthState::IntermittentFailure;
        let now = self.counters.samples_tested;
        self.recent_failures.push_back(now);
        while self
            .recent_failures
            .front()
            .is_some_and(|&at| now - at >= self.config.failure_span_samples)
        {
            self.recent_failures.pop_front();
        }
        if self.recent_failures.len() >= self.config.max_intermittent_failures as usize {
            self.counters.repeated_intermittent_failures += 1;
            self.last_failure = Some(HealthTestKind::RepeatedIntermittent);
            self.latch();
        }
    }

    fn latch(&mut self) {
        self.state = HealthState::PersistentFailure;
        self.discard_pending();
    }

    /// Closes the window that just completed; returns how many samples it released.
    fn finish_window(&mut self, released: &mut Vec<u8>) -> usize {
        let window = self.cutoffs.apt_window as usize;
        let mut count = 0;
        if self.window_failed || self.state == HealthState::PersistentFailure {
            self.counters.samples_discarded += window as u64;
            self.discard_pending();
        } else if self.state == HealthState::Healthy && self.window_releasable {
            released.extend_from_slice(&self.pending);
            count = self.pending.len();
            self.counters.samples_released += count as u64;
            self.discard_pending();
        } else {
            // A clean start-up or retest window.
            self.counters.samples_discarded += window as u64;
            self.startup_progress += window as u64;
            if self.startup_progress >= self.startup_target {
                self.state = HealthState::Healthy;
                self.counters.startup_passes += 1;
            }
        }
        self.window_failed = false;
        self.window_releasable = self.state == HealthState::Healthy;
        count
    }

    fn discard_pending(&mut self) {
        self.pending.zeroize();
        self.pending.clear();
    }
}
