//! The operating system's `getrandom`: the non-quantum fallback.
//!
//! The kernel's output is a DRBG output, not raw noise: the health tests on it only catch a broken interface
//! (all zeros, a stuck buffer). It is credited at 8 bits per byte because the kernel's generator is
//! computationally full-entropy, but it is never labelled quantum.

use super::{EntropySource, SourceError, SourceInfo, SourceKind};

/// `getrandom(2)` as an entropy source. Labelled "OS getrandom (not quantum)".
#[derive(Debug)]
pub struct OsSource {
    info: SourceInfo,
}

impl OsSource {
    pub const ID: &'static str = "OS getrandom (not quantum)";

    /// The fallback, credited (it may seed on its own when no QRNG is healthy, if the pool allows that).
    pub fn new() -> Self {
        Self::with_credit(true)
    }

    /// The OS source, credited or mixed in as additional input only.
    pub fn with_credit(credited: bool) -> Self {
        Self {
            info: SourceInfo {
                id: Self::ID.to_owned(),
                kind: SourceKind::Os,
                quantum: false,
                sample_bits: 8,
                min_entropy_per_sample: 8.0,
                credited,
            },
        }
    }
}

impl Default for OsSource {
    fn default() -> Self {
        Self::new()
    }
}

impl EntropySource for OsSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        if out.is_empty() {
            return Ok(0);
        }
        getrandom::fill(out).map_err(|e| SourceError::Failed {
            id: self.info.id.clone(),
            reason: format!("getrandom failed: {e}"),
        })?;
        Ok(out.len())
    }
}
