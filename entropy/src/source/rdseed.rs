//! The x86 RDSEED instruction: output of the CPU's conditioned noise source, 8 bytes per successful step.
//!
//! Used only when both the kernel (`/proc/cpuinfo` flags) and CPUID report it: kernels clear the flag on CPUs whose
//! RDSEED is known broken, and we honour that. A step may report "not ready"; we retry a bounded number of times
//! and report starvation as a failure rather than spin. RDRAND (a DRBG output) is never used.
//!
//! Default assessment: 4 bits per byte, half of what the vendor claims, because RDSEED's raw noise cannot be
//! observed (its output is already conditioned) and the health tests can only catch gross failures on it.

use zeroize::Zeroize;

use super::{check_assessment, EntropySource, SourceError, SourceInfo, SourceKind};

/// Attempts per 64-bit step before the source reports starvation.
pub const RDSEED_MAX_ATTEMPTS: u32 = 1024;

const ID: &str = "cpu:rdseed";

/// Whether this machine offers RDSEED: `/proc/cpuinfo` lists `rdseed` and CPUID agrees.
pub fn rdseed_available() -> Result<(), String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo")
        .map_err(|e| format!("cannot read /proc/cpuinfo: {e}"))?;
    cpuinfo_lists_rdseed(&cpuinfo)?;
    cpu_reports_rdseed()
}

/// Whether every `flags` line of a `/proc/cpuinfo` text lists `rdseed`.
pub fn cpuinfo_lists_rdseed(cpuinfo: &str) -> Result<(), String> {
    let mut flag_lines = cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags"))
        .peekable();
    if flag_lines.peek().is_none() {
        return Err("/proc/cpuinfo has no flags line".to_owned());
    }
    if flag_lines.all(|line| line.split_whitespace().any(|f| f == "rdseed")) {
        Ok(())
    } else {
        Err(
            "the kernel does not list rdseed in /proc/cpuinfo (absent, or disabled as broken)"
                .to_owned(),
        )
    }
}

#[cfg(target_arch = "x86_64")]
fn cpu_reports_rdseed() -> Result<(), String> {
    if std::arch::is_x86_feature_detected!("rdseed") {
        Ok(())
    } else {
        Err("CPUID does not report rdseed".to_owned())
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_reports_rdseed() -> Result<(), String> {
    Err("RDSEED is an x86_64 instruction".to_owned())
}

/// RDSEED as an 8-bit-sample source.
#[derive(Debug)]
pub struct RdseedSource {
    info: SourceInfo,
}

impl RdseedSource {
    /// The source at the default assessment (4 bits per byte, credited, not quantum), if the machine has RDSEED.
    pub fn new() -> Result<Self, SourceError> {
        Self::with_min_entropy(4.0)
    }

    pub fn with_min_entropy(min_entropy_per_sample: f64) -> Result<Self, SourceError> {
        check_assessment(ID, 8, min_entropy_per_sample)?;
        rdseed_available().map_err(|reason| SourceError::Unavailable {
            id: ID.to_owned(),
            reason,
        })?;
        Ok(Self {
            info: SourceInfo {
                id: ID.to_owned(),
                kind: SourceKind::Rdseed,
                quantum: false,
                sample_bits: 8,
                min_entropy_per_sample,
                credited: true,
            },
        })
    }

    fn step(&self) -> Result<u64, SourceError> {
        for _ in 0..RDSEED_MAX_ATTEMPTS {
            if let Some(value) = rdseed_step() {
                return Ok(value);
            }
            std::hint::spin_loop();
        }
        Err(SourceError::Starved {
            id: self.info.id.clone(),
            attempts: RDSEED_MAX_ATTEMPTS,
        })
    }
}

/// One RDSEED attempt: `None` when the instruction reports not ready (CF = 0).
#[cfg(target_arch = "x86_64")]
fn rdseed_step() -> Option<u64> {
    let mut value = 0u64;
    // SAFETY: an `RdseedSource` exists only after `rdseed_available` confirmed CPUID (and the kernel) report the
    // rdseed feature, which is the intrinsic's only precondition; it writes to a valid local u64.
    #[allow(unsafe_code)]
    let ok = unsafe { core::arch::x86_64::_rdseed64_step(&mut value) };
    (ok == 1).then_some(value)
}

#[cfg(not(target_arch = "x86_64"))]
fn rdseed_step() -> Option<u64> {
    None
}

impl EntropySource for RdseedSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        for chunk in out.chunks_mut(8) {
            let mut bytes = self.step()?.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
            bytes.zeroize();
        }
        Ok(out.len())
    }
}
