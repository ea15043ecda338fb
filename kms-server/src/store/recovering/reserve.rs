//! The space reserve: a file of known size in the store's directory (same file system), deleted when the disk
//! fills so that sled has room to be reopened, and re-created, with as much again written and deleted as a
//! probe, before writes are accepted again.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The reserve file kept in the store's directory (sled ignores files it does not know).
pub const RESERVE_FILE: &str = "qkms-space-reserve";
/// The probe file written (and deleted) to check that space came back.
const PROBE_FILE: &str = "qkms-space-probe";

#[derive(Debug)]
pub(super) struct SpaceReserve {
    dir: PathBuf,
    bytes: u64,
}

impl SpaceReserve {
    pub(super) fn new(dir: &Path, bytes: u64) -> Self {
        Self {
            dir: dir.to_owned(),
            bytes,
        }
    }

    /// Writes the reserve file unless it is already whole.
    pub(super) fn write(&self) -> io::Result<()> {
        let path = self.dir.join(RESERVE_FILE);
        if fs::metadata(&path).is_ok_and(|m| m.len() == self.bytes) {
            return Ok(());
        }
        self.write_file_of_reserve_size(&path).inspect_err(|_| {
            let _ = fs::remove_file(&path);
        })
    }

    /// Proves that as much again as the reserve fits: writes, syncs and deletes a probe file.
    pub(super) fn probe_headroom(&self) -> io::Result<()> {
        let path = self.dir.join(PROBE_FILE);
        let written = self.write_file_of_reserve_size(&path);
        let removed = fs::remove_file(&path);
        written?;
        removed
    }

    fn write_file_of_reserve_size(&self, path: &Path) -> io::Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        let chunk = vec![0u8; 64 * 1024];
        let mut left = self.bytes;
        while left > 0 {
            let n = usize::try_from(left.min(chunk.len() as u64)).unwrap_or(chunk.len());
            file.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        file.sync_all()
    }

    /// Deletes the reserve, giving its space to the store.
    pub(super) fn release(&self) {
        if let Err(error) = fs::remove_file(self.dir.join(RESERVE_FILE)) {
            if error.kind() != io::ErrorKind::NotFound {
                tracing::warn!(%error, "cannot delete the store's space reserve");
            }
        }
    }
}
