//! CPU timing jitter, jitterentropy-style: time a memory-walking loop with the monotonic clock and emit the low
//! 8 bits of each measured duration (in nanoseconds) as one sample.
//!
//! The samples are the raw deltas' low bits, unconditioned, so the health tests run on the noise itself.
//!
//! Assessment assumption (the default H): 1 bit of min-entropy per 8-bit sample. jitterentropy's own analysis
//! credits about 1/3 bit per (folded) timing delta; our deltas keep 8 low bits of a nanosecond count whose
//! variation spans many units on the machines we target (a loop of cache-missing accesses takes hundreds of
//! nanoseconds and varies by tens). Measured on the development VM (AMD EPYC, 2 cores; clock steps of ~10 ns):
//! 10^6 samples in 1.1 s, all 256 low-byte values seen, most-common-value estimate 3.3 bits per sample (an IID
//! estimate, an upper bound for the non-IID case). 1 bit leaves a wide margin. Operators who need a real figure record samples and run NIST `ea_non_iid`.
//! The constructor refuses a clock too coarse to show jitter.

use std::hint::black_box;
use std::time::Instant;

use zeroize::Zeroize;

use super::{check_assessment, EntropySource, SourceError, SourceInfo, SourceKind};

const ID: &str = "cpu:jitter";
/// 1 MiB of u64: larger than typical L1/L2, so accesses miss unpredictably.
const MEMORY_WORDS: usize = 128 * 1024;
/// Memory accesses per timed sample.
const ACCESSES_PER_SAMPLE: usize = 64;
/// Samples taken by the constructor's clock check.
const CLOCK_CHECK_SAMPLES: usize = 512;

/// Timing-jitter noise from the CPU and memory system.
pub struct JitterSource {
    info: SourceInfo,
    memory: Vec<u64>,
    /// Walk state: where the next access goes, driven by previous timings and the memory contents.
    state: u64,
}

impl std::fmt::Debug for JitterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitterSource")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Drop for JitterSource {
    fn drop(&mut self) {
        // The walk state and memory are mixed with the timings, i.e. with the samples.
        self.memory.zeroize();
        self.state.zeroize();
    }
}

impl JitterSource {
    /// The source at the default assessment (1 bit per 8-bit sample, credited, not quantum).
    pub fn new() -> Result<Self, SourceError> {
        Self::with_min_entropy(1.0)
    }

    pub fn with_min_entropy(min_entropy_per_sample: f64) -> Result<Self, SourceError> {
        check_assessment(ID, 8, min_entropy_per_sample)?;
        let mut source = Self {
            info: SourceInfo {
                id: ID.to_owned(),
                kind: SourceKind::Jitter,
                quantum: false,
                sample_bits: 8,
                min_entropy_per_sample,
                credited: true,
            },
            memory: (0..MEMORY_WORDS as u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect(),
            state: 0x243F_6A88_85A3_08D3,
        };
        source.check_clock()?;
        Ok(source)
    }

    /// Refuses a clock that does not resolve the loop's variation: all deltas equal, or one low byte dominating.
    fn check_clock(&mut self) -> Result<(), SourceError> {
        let mut counts = [0u32; 256];
        let mut distinct_deltas = std::collections::BTreeSet::new();
        for _ in 0..CLOCK_CHECK_SAMPLES {
            let delta = self.timed_walk();
            distinct_deltas.insert(delta);
            counts[(delta & 0xff) as usize] += 1;
        }
        let most_common = counts.iter().copied().max().unwrap_or(0) as usize;
        if distinct_deltas.len() < 4 || most_common * 2 > CLOCK_CHECK_SAMPLES {
            return Err(SourceError::Unavailable {
                id: self.info.id.clone(),
                reason: format!(
                    "clock too coarse for jitter: {} distinct timings, most common low byte {most_common} of {}",
                    distinct_deltas.len(),
                    CLOCK_CHECK_SAMPLES
                ),
            });
        }
        Ok(())
    }

    /// One timed run of the memory walk; returns its duration in nanoseconds.
    fn timed_walk(&mut self) -> u64 {
        let start = Instant::now();
        let mut state = self.state;
        for _ in 0..ACCESSES_PER_SAMPLE {
            // xorshift step for the next address, mixed with the word found there and written back.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = (state as usize) % MEMORY_WORDS;
            let word = black_box(self.memory[index]);
            self.memory[index] = word.rotate_left(7) ^ state;
            state = state.wrapping_add(word);
        }
        let delta = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.state = black_box(state ^ delta);
        delta
    }
}

impl EntropySource for JitterSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        for sample in out.iter_mut() {
            *sample = (self.timed_walk() & 0xff) as u8;
        }
        Ok(out.len())
    }
}
