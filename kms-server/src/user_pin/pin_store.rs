//! Where PIN records and their retry counters live: [`PinFile`] (one JSON file beside the store, the embedded
//! default) or the PostgreSQL database every node shares (`store::postgres::SharedPins`). The registry
//! ([`super::UserPins`]) holds the logic (argon2id, the verified-PIN cache, what to answer); a store only keeps
//! records and counts failures, each change durable before it returns.
//!
//! Failures are counted against the record that was checked (same salt and hash): a wrong PIN tried while an
//! operator replaces the PIN does not count against the new one, and a lock reached on another node in the
//! meantime is never undone by a right PIN checked here.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::registry::{PinError, PinRecord};
use crate::tenant::TenantId;

/// The records of PIN-guarded tenants, as one registry sees them.
pub trait PinStore: Send + Sync {
    /// Whether `tenant` is PIN-guarded. Called for every message of every tenant: cheap.
    fn guards(&self, tenant: &TenantId) -> bool;
    /// The tenant's record as it is now.
    fn get(&self, tenant: &TenantId) -> Result<Option<PinRecord>, PinError>;
    /// Counts one wrong PIN against `checked` (durably, before it returns): the failures now recorded, or
    /// `None` when the record is no longer `checked` or is locked already.
    fn add_failure(&self, tenant: &TenantId, checked: &PinRecord) -> Result<Option<u32>, PinError>;
    /// After a right PIN: clears the failures of `checked` unless it is locked (or replaced) meanwhile;
    /// whether the PIN may be accepted.
    fn clear_failures(&self, tenant: &TenantId, checked: &PinRecord) -> Result<bool, PinError>;
    /// An operator's unlock: the failures back to 0.
    fn reset(&self, tenant: &TenantId) -> Result<(), PinError>;
    /// Sets or replaces `tenant`'s record.
    fn set(&self, tenant: &TenantId, record: PinRecord) -> Result<(), PinError>;
    /// Every record, by tenant (`qkms store migrate` copies them).
    fn all(&self) -> Result<BTreeMap<String, PinRecord>, PinError>;
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileContents {
    tenants: BTreeMap<String, PinRecord>,
}

/// `user-pins.json`: read once, replaced whole (0600 temporary file, fsync, rename, fsync of the directory) at
/// every change.
pub struct PinFile {
    path: PathBuf,
    contents: Mutex<FileContents>,
}

impl std::fmt::Debug for PinFile {
    /// The path only: the records (hashes, salts) stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PinFile {
    /// Loads `path`; a missing file holds no record.
    pub fn open(path: &Path) -> Result<Self, PinError> {
        let contents = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| file_error(path, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileContents::default(),
            Err(e) => return Err(file_error(path, e)),
        };
        Ok(Self {
            path: path.to_owned(),
            contents: Mutex::new(contents),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, FileContents> {
        // The contents are replaced whole after each successful write: a panic elsewhere leaves them consistent.
        self.contents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` to a copy, writes it, then keeps it.
    fn change(
        &self,
        change: impl FnOnce(&mut FileContents) -> Result<(), PinError>,
    ) -> Result<(), PinError> {
        let mut contents = self.lock();
        let mut next = contents.clone();
        change(&mut next)?;
        write_file(&self.path, &next)?;
        *contents = next;
        Ok(())
    }
}

impl PinStore for PinFile {
    fn guards(&self, tenant: &TenantId) -> bool {
        self.lock().tenants.contains_key(&tenant.0)
    }

    fn get(&self, tenant: &TenantId) -> Result<Option<PinRecord>, PinError> {
        Ok(self.lock().tenants.get(&tenant.0).cloned())
    }

    fn add_failure(&self, tenant: &TenantId, checked: &PinRecord) -> Result<Option<u32>, PinError> {
        let mut counted = None;
        self.change(|contents| {
            if let Some(record) = contents.tenants.get_mut(&tenant.0) {
                if record.same_pin(checked) && record.failures < record.max_tries {
                    record.failures += 1;
                    counted = Some(record.failures);
                }
            }
            Ok(())
        })?;
        Ok(counted)
    }

    fn clear_failures(&self, tenant: &TenantId, checked: &PinRecord) -> Result<bool, PinError> {
        let current = self.lock().tenants.get(&tenant.0).cloned();
        match current {
            Some(record) if record.same_pin(checked) && record.failures < record.max_tries => {
                if record.failures != 0 {
                    self.change(|contents| {
                        if let Some(record) = contents.tenants.get_mut(&tenant.0) {
                            record.failures = 0;
                        }
                        Ok(())
                    })?;
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn reset(&self, tenant: &TenantId) -> Result<(), PinError> {
        self.change(|contents| match contents.tenants.get_mut(&tenant.0) {
            Some(record) => {
                record.failures = 0;
                Ok(())
            }
            None => Err(PinError::NoSuchTenant(tenant.0.clone())),
        })
    }

    fn set(&self, tenant: &TenantId, record: PinRecord) -> Result<(), PinError> {
        self.change(|contents| {
            contents.tenants.insert(tenant.0.clone(), record);
            Ok(())
        })
    }

    fn all(&self) -> Result<BTreeMap<String, PinRecord>, PinError> {
        Ok(self.lock().tenants.clone())
    }
}

/// Writes the records durably: a 0600 temporary file, fsync, rename over the old one, fsync of the directory.
fn write_file(path: &Path, contents: &FileContents) -> Result<(), PinError> {
    use std::os::unix::fs::OpenOptionsExt;
    let text = serde_json::to_vec_pretty(contents).map_err(|e| file_error(path, e))?;
    let temporary = path.with_extension("json.tmp");
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(|e| file_error(&temporary, e))?;
    out.write_all(&text)
        .and_then(|()| out.sync_all())
        .map_err(|e| file_error(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| file_error(path, e))?;
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| file_error(dir, e))?;
    }
    Ok(())
}

fn file_error(path: &Path, error: impl std::fmt::Display) -> PinError {
    PinError::File {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(salt: &str, failures: u32) -> PinRecord {
        PinRecord {
            salt: salt.into(),
            hash: "00".into(),
            memory_kib: 8,
            iterations: 1,
            max_tries: 2,
            failures,
        }
    }

    #[test]
    fn failures_count_against_the_checked_pin_and_never_past_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let file = PinFile::open(&dir.path().join("pins.json")).unwrap();
        let tenant = TenantId("t".into());
        let checked = record("aa", 0);
        file.set(&tenant, checked.clone()).unwrap();
        assert_eq!(file.add_failure(&tenant, &checked).unwrap(), Some(1));
        // A failure of a PIN that was replaced meanwhile does not count against the new one.
        assert_eq!(file.add_failure(&tenant, &record("bb", 0)).unwrap(), None);
        assert_eq!(file.add_failure(&tenant, &checked).unwrap(), Some(2));
        // Locked: no more counting, and a right PIN checked before the lock does not clear it.
        assert_eq!(file.add_failure(&tenant, &checked).unwrap(), None);
        assert!(!file.clear_failures(&tenant, &checked).unwrap());
        let reopened = PinFile::open(file.path()).unwrap();
        assert_eq!(reopened.get(&tenant).unwrap().unwrap().failures, 2);
        reopened.reset(&tenant).unwrap();
        assert!(reopened.clear_failures(&tenant, &checked).unwrap());
        assert!(matches!(
            reopened.reset(&TenantId("nobody".into())),
            Err(PinError::NoSuchTenant(_))
        ));
    }
}
