//! The node's persisted entropy-as-a-service state: chain head, sequence reservation, usage counters.
//!
//! One small JSON file, replaced atomically (write a sibling, fsync it, rename over, fsync the directory), so a
//! kill -9 at any moment leaves the old or the new state. Sequence numbers are reserved in blocks: the file
//! names the first number not yet reserved, and is written (durably) before any number of a new block is
//! served, so a number is never served twice, even after a crash; a crash skips the rest of the block.
//! The file is mode 0600: it holds the beacon's next local random value, secret until its pulse.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::usage::TenantRecord;

/// What the file holds.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PersistedState {
    /// The node the state belongs to (its signing key's id): a state file copied to another node is refused.
    pub server: String,
    /// The first sequence number not yet reserved.
    pub sequence_reserved_until: u64,
    /// The chain hash of the last envelope recorded (at the last write; after a crash, possibly not the last
    /// served).
    pub previous: String,
    /// Usage per tenant.
    pub usage: BTreeMap<String, TenantRecord>,
    /// The last beacon pulse published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beacon_last: Option<eaas::Pulse>,
    /// The next pulse's local random value, hex: secret until that pulse is published (the file is 0600).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub beacon_pending: String,
    /// Whether that value came from a seed with healthy quantum input.
    pub beacon_pending_quantum: bool,
}

/// Reading or writing the state file failed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StateFileError {
    pub path: String,
    pub message: String,
}

/// The file's path and the atomic replace.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
        }
    }

    fn error(&self, message: impl std::fmt::Display) -> StateFileError {
        StateFileError {
            path: self.path.display().to_string(),
            message: message.to_string(),
        }
    }

    /// The state, or an empty one when the file does not exist yet.
    pub fn load(&self) -> Result<PersistedState, StateFileError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| self.error(format!("unreadable: {e}")))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PersistedState::default()),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Replaces the file durably.
    pub fn store(&self, state: &PersistedState) -> Result<(), StateFileError> {
        let text = serde_json::to_vec(state).map_err(|e| self.error(e))?;
        let temporary = self.path.with_extension("state.new");
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temporary)?;
            file.write_all(&text)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)?;
            if let Some(dir) = self.path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| self.error(e))
    }
}
