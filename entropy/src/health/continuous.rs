//! The two SP 800-90B §4.4 continuous tests, each with two cutoffs: an intermittent one (fires first, the source
//! is quarantined and retested) and a persistent one (a lower alpha: the source is latched off).
//!
//! Each test reports a cutoff once per event: a run or window that reaches the intermittent cutoff reports it once,
//! and if it goes on to the persistent cutoff reports that once more.

/// What one sample did to a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestEvent {
    Pass,
    /// The intermittent cutoff was reached with this sample.
    Intermittent,
    /// The persistent cutoff was reached with this sample.
    Persistent,
}

fn event_for(count: u32, intermittent_cutoff: u32, persistent_cutoff: u32) -> TestEvent {
    if count == persistent_cutoff {
        TestEvent::Persistent
    } else if count == intermittent_cutoff {
        TestEvent::Intermittent
    } else {
        TestEvent::Pass
    }
}

/// 90B §4.4.1: counts runs of identical consecutive samples.
#[derive(Clone, Debug)]
pub struct RepetitionCountTest {
    intermittent_cutoff: u32,
    persistent_cutoff: u32,
    previous: Option<u8>,
    run: u32,
}

impl RepetitionCountTest {
    /// Cutoffs from [`rct_cutoff`](super::rct_cutoff); `persistent_cutoff >= intermittent_cutoff`.
    pub fn new(intermittent_cutoff: u32, persistent_cutoff: u32) -> Self {
        Self {
            intermittent_cutoff,
            persistent_cutoff,
            previous: None,
            run: 0,
        }
    }

    pub fn feed(&mut self, sample: u8) -> TestEvent {
        if self.previous == Some(sample) {
            self.run = self.run.saturating_add(1);
        } else {
            self.previous = Some(sample);
            self.run = 1;
        }
        event_for(self.run, self.intermittent_cutoff, self.persistent_cutoff)
    }

    /// Forgets the stream so far (after a gap in the stream or an operator reset).
    pub fn restart(&mut self) {
        self.previous = None;
        self.run = 0;
    }
}

/// 90B §4.4.2: in each window of `W` samples, counts how often the window's first sample occurs.
#[derive(Clone, Debug)]
pub struct AdaptiveProportionTest {
    window: u32,
    intermittent_cutoff: u32,
    persistent_cutoff: u32,
    first: u8,
    position: u32,
    count: u32,
}

impl AdaptiveProportionTest {
    /// Cutoffs from [`apt_cutoff`](super::apt_cutoff); `window >= 1`.
    pub fn new(window: u32, intermittent_cutoff: u32, persistent_cutoff: u32) -> Self {
        Self {
            window: window.max(1),
            intermittent_cutoff,
            persistent_cutoff,
            first: 0,
            position: 0,
            count: 0,
        }
    }

    /// Feeds one sample; the second value is true when this sample completed a window.
    pub fn feed(&mut self, sample: u8) -> (TestEvent, bool) {
        if self.position == 0 {
            self.first = sample;
            self.count = 1;
        } else if sample == self.first {
            self.count += 1;
        }
        let event = if self.position == 0 || sample == self.first {
            event_for(self.count, self.intermittent_cutoff, self.persistent_cutoff)
        } else {
            TestEvent::Pass
        };
        self.position += 1;
        let window_done = self.position == self.window;
        if window_done {
            self.position = 0;
        }
        (event, window_done)
    }

    /// Starts a fresh window at the next sample.
    pub fn restart(&mut self) {
        self.position = 0;
        self.count = 0;
    }

    pub fn window(&self) -> u32 {
        self.window
    }

    /// Samples of the window in progress seen so far.
    pub fn position(&self) -> u32 {
        self.position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rct_reports_each_cutoff_once_per_run() {
        let mut rct = RepetitionCountTest::new(3, 5);
        let events: Vec<_> = [7u8, 7, 7, 7, 7, 7, 1, 1, 1]
            .iter()
            .map(|&s| rct.feed(s))
            .collect();
        use TestEvent::*;
        assert_eq!(
            events,
            [
                Pass,
                Pass,
                Intermittent,
                Pass,
                Persistent,
                Pass,
                Pass,
                Pass,
                Intermittent
            ]
        );
    }

    #[test]
    fn apt_counts_the_first_sample_of_each_window() {
        let mut apt = AdaptiveProportionTest::new(4, 3, 4);
        let mut events = Vec::new();
        for s in [5u8, 5, 1, 5, /* window 2 */ 2, 2, 2, 2] {
            events.push(apt.feed(s));
        }
        use TestEvent::*;
        assert_eq!(
            events,
            [
                (Pass, false),
                (Pass, false),
                (Pass, false),
                (Intermittent, true),
                (Pass, false),
                (Pass, false),
                (Intermittent, false),
                (Persistent, true)
            ]
        );
    }
}
