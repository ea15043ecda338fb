//! The public beacon: a signed pulse every `beacon_interval_secs`, chained by output, with a precommitment to
//! the next pulse's local random value (NIST Randomness Beacon 2.0 style; format in the `eaas` crate).
//!
//! Pulses are kept one file per pulse under `beacon_dir` (`<index>.json`, written atomically); the last pulse
//! and the next local random value live in the state file, written durably *before* the pulse's file, so a
//! kill -9 between the two is repaired at start (the file is rewritten from the state) and a published
//! precommitment is always honoured.

use std::io::Write;
use std::path::{Path, PathBuf};

use eaas::Pulse;

/// Where pulse files live.
#[derive(Debug)]
pub struct PulseFiles {
    dir: PathBuf,
}

impl PulseFiles {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
        }
    }

    fn path(&self, index: u64) -> PathBuf {
        self.dir.join(format!("{index}.json"))
    }

    /// Writes a pulse's file (atomically; an existing file of the same pulse is replaced by the same content).
    pub fn write(&self, pulse: &Pulse) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(pulse.index);
        let temporary = path.with_extension("json.new");
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(pulse.to_json().as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()
    }

    /// The pulse of `index`, if published.
    pub fn read(&self, index: u64) -> std::io::Result<Option<Pulse>> {
        match std::fs::read(self.path(index)) {
            Ok(bytes) => Pulse::from_json(&bytes)
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}
