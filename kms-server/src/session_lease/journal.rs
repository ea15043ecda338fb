//! The lease journal: every lease held now, on disk before the first object of it is created, so that a server
//! crash leaves a list of what to destroy at the next start.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::LeaseKey;
use crate::tenant::TenantId;

#[derive(Debug)]
pub(super) struct Journal {
    path: PathBuf,
    leases: BTreeSet<LeaseKey>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    tenant: String,
    lease: String,
}

impl Journal {
    /// Reads `path` (a missing file is an empty journal).
    pub(super) fn open(path: &Path) -> Result<Self, String> {
        let entries: Vec<Entry> = match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Ok(Self {
            path: path.to_owned(),
            leases: entries
                .into_iter()
                .map(|e| (TenantId(e.tenant), e.lease))
                .collect(),
        })
    }

    pub(super) fn leases(&self) -> &BTreeSet<LeaseKey> {
        &self.leases
    }

    pub(super) fn add(&mut self, key: LeaseKey) -> Result<(), String> {
        let mut next = self.leases.clone();
        next.insert(key);
        self.write(next)
    }

    pub(super) fn remove(&mut self, key: &LeaseKey) -> Result<(), String> {
        let mut next = self.leases.clone();
        next.remove(key);
        self.write(next)
    }

    /// Replaces the file durably (0600 temporary file, fsync, rename, fsync of the directory), then the memory.
    fn write(&mut self, leases: BTreeSet<LeaseKey>) -> Result<(), String> {
        use std::os::unix::fs::OpenOptionsExt;
        let entries: Vec<Entry> = leases
            .iter()
            .map(|(tenant, lease)| Entry {
                tenant: tenant.0.clone(),
                lease: lease.clone(),
            })
            .collect();
        let text = serde_json::to_vec(&entries).map_err(|e| e.to_string())?;
        let temporary = self.path.with_extension("json.tmp");
        let io = |e: std::io::Error| format!("{}: {e}", self.path.display());
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(io)?;
        out.write_all(&text)
            .and_then(|()| out.sync_all())
            .map_err(io)?;
        std::fs::rename(&temporary, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        self.leases = leases;
        Ok(())
    }
}
