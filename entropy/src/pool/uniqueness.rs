//! Data that makes every DRBG instantiation unique, even when its entropy input repeats.
//!
//! Why: a `replay` recording (or a broken device that repeats itself after a restart) can hand two runs of the
//! pool the same entropy input. SP 800-90A lets the nonce and personalization string carry what differs; here
//! every instantiation's personalization string holds the boot id (`/proc/sys/kernel/random/boot_id`), the
//! process id, the wall-clock time in nanoseconds, the pool's persisted start counter and a process-wide
//! instantiation counter, so identical entropy input cannot give identical output across restarts, processes or
//! pools. The nonce (time in ns and the counter) stays as SP 800-90A 8.6.7 asks.
//!
//! The persisted counter lives in `EntropyConfig::state_file` when one is given: read at pool start, the next
//! value written to a temporary file, synced and renamed over it before the pool serves anything. Without a
//! state file, time, boot id, pid and the process-local counter still differ between runs.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::EntropyError;

/// Instantiations in this process, across every pool (two pools in one process never share a value).
static PROCESS_INSTANTIATIONS: AtomicU64 = AtomicU64::new(0);

const BOOT_ID_FILE: &str = "/proc/sys/kernel/random/boot_id";

/// The per-pool part of the unique data, fixed when the pool starts.
#[derive(Debug)]
pub(crate) struct Uniqueness {
    /// The kernel's boot id (empty where the kernel has none).
    boot_id: Vec<u8>,
    pid: u32,
    /// This pool start's value of the persisted counter (0 without a state file).
    start_counter: u64,
}

/// What one instantiation gets: its nonce and personalization string.
pub(crate) struct InstantiationInput {
    pub nonce: [u8; 16],
    pub personalization: Vec<u8>,
}

impl Uniqueness {
    /// Reads the boot id and, with a state file, takes the next persisted start counter (durably).
    pub fn start(state_file: Option<&Path>) -> Result<Self, EntropyError> {
        let boot_id = std::fs::read(BOOT_ID_FILE)
            .map(|mut id| {
                id.retain(|b| !b.is_ascii_whitespace());
                id
            })
            .unwrap_or_default();
        let start_counter = match state_file {
            Some(path) => next_persisted_counter(path)?,
            None => 0,
        };
        Ok(Self {
            boot_id,
            pid: std::process::id(),
            start_counter,
        })
    }

    /// The persisted counter value this pool start took.
    #[cfg(test)]
    pub fn start_counter(&self) -> u64 {
        self.start_counter
    }

    /// Nonce and personalization for instantiating DRBG instance `instance`; `additional` is the pool's running
    /// additional-input digest.
    pub fn next(&self, instance: u32, additional: &[u8; 32]) -> InstantiationInput {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let sequence = PROCESS_INSTANTIATIONS.fetch_add(1, Ordering::Relaxed);
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&(nanos as u64).to_be_bytes());
        nonce[8..].copy_from_slice(&sequence.to_be_bytes());
        let mut personalization = Vec::with_capacity(128);
        personalization.extend_from_slice(b"qkms entropy pool instance ");
        personalization.extend_from_slice(&instance.to_be_bytes());
        personalization.extend_from_slice(&self.pid.to_be_bytes());
        personalization.extend_from_slice(&(self.boot_id.len() as u32).to_be_bytes());
        personalization.extend_from_slice(&self.boot_id);
        personalization.extend_from_slice(&nanos.to_be_bytes());
        personalization.extend_from_slice(&self.start_counter.to_be_bytes());
        personalization.extend_from_slice(&sequence.to_be_bytes());
        personalization.extend_from_slice(additional);
        InstantiationInput {
            nonce,
            personalization,
        }
    }
}

/// Reads the counter in `path` (absent: 0), stores the next value durably and returns it.
fn next_persisted_counter(path: &Path) -> Result<u64, EntropyError> {
    let fail = |what: &str, error: &dyn std::fmt::Display| {
        EntropyError::Config(format!(
            "entropy state file {}: {what}: {error}",
            path.display()
        ))
    };
    let previous = match std::fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|e| fail("not a counter", &e))?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
        Err(error) => return Err(fail("cannot read", &error)),
    };
    let next = previous
        .checked_add(1)
        .ok_or_else(|| fail("counter exhausted", &previous))?;
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temporary)
        .map_err(|e| fail("cannot write", &e))?;
    writeln!(file, "{next}").map_err(|e| fail("cannot write", &e))?;
    file.sync_all().map_err(|e| fail("cannot sync", &e))?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(|e| fail("cannot replace", &e))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(dir) = std::fs::File::open(parent) {
            dir.sync_all()
                .map_err(|e| fail("cannot sync its directory", &e))?;
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_persisted_counter_increases_at_every_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entropy.state");
        let first = Uniqueness::start(Some(&path)).unwrap().start_counter();
        let second = Uniqueness::start(Some(&path)).unwrap().start_counter();
        assert_eq!((first, second), (1, 2));
        std::fs::write(&path, "garbage").unwrap();
        assert!(Uniqueness::start(Some(&path)).is_err());
    }

    #[test]
    fn personalization_differs_between_instantiations() {
        let uniqueness = Uniqueness::start(None).unwrap();
        let a = uniqueness.next(0, &[0; 32]);
        let b = uniqueness.next(0, &[0; 32]);
        assert_ne!(a.personalization, b.personalization);
        assert_ne!(a.nonce, b.nonce);
    }
}
