//! Append-only, hash-chained audit log of every operation: who, what, which objects, the result, when.
//!
//! Where it lives: an append-only JSON-lines file (`audit.log`, [`AUDIT_LOG_FILE`], next to the store), not a
//! sled tree, because
//! - an operator can verify it while the server runs (`qkms audit verify`): sled locks its database for one
//!   process, a file needs no lock to read;
//! - it is plain text that `tail -f`, `jq` and log shippers read, and that can be copied off the box for anchoring;
//! - its durability still rides on group commit: [`AuditLog::wait_durable`] shares `fdatasync`s among concurrent
//!   writers exactly as the store shares sled flushes, so the dispatcher calls `audit.wait_durable()` and
//!   `store.wait_durable()` once per request message, after the items' records are appended and before the
//!   response is written: a Create's object and its audit record are both on disk before the client hears back.
//!
//! Tamper evidence: each record carries the previous record's hash and a SHA-256 over its own canonical encoding
//! ([`record`]), and sequence numbers run 1, 2, 3...: editing, deleting, inserting or reordering a record breaks
//! the chain at that record. Truncating the end is only detectable against a copy of an earlier head hash, which
//! `verify` prints so that operators can anchor it elsewhere.

mod record;
mod verify;

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use kmip::ResultReason;

pub use record::{AuditRecord, GENESIS_HASH};
pub use verify::{verify, VerifyReport};

use crate::store::GroupCommit;
use crate::tenant::{Role, TenantId};

/// The audit log's file name inside the server's data directory.
pub const AUDIT_LOG_FILE: &str = "audit.log";

/// What the dispatcher records for one batch item.
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    pub tenant: &'a TenantId,
    pub role: Role,
    /// The operation's name as KMIP spells it in text encodings (`Create`, `Get`, `Locate`...).
    pub operation: &'a str,
    /// Unique Identifiers the operation touched (created, read, modified, destroyed, located).
    pub objects: Vec<String>,
    /// `Ok` on success, else the Result Reason sent to the client.
    pub result: Result<(), ResultReason>,
    /// Seconds since the Unix epoch.
    pub time: i64,
}

/// Audit log failures.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {message}")]
    Io { path: PathBuf, message: String },
    /// The log cannot be continued: its last record is unreadable or altered.
    #[error("cannot continue audit log {path}: {reason} (run `qkms audit verify`)")]
    Head { path: PathBuf, reason: String },
    /// The chain is broken: the first record (by line) that fails, and why.
    #[error("audit log broken at line {line}{}: {reason}", sequence.map(|s| format!(" (record {s})")).unwrap_or_default())]
    Broken {
        line: u64,
        sequence: Option<u64>,
        reason: String,
    },
}

impl AuditError {
    fn io(path: &Path, context: &str, error: io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            message: format!("{context}: {error}"),
        }
    }
}

/// Where the next record goes.
#[derive(Debug)]
struct ChainHead {
    file: File,
    /// File length after the last complete record (a failed write is cut back to it).
    length: u64,
    next_sequence: u64,
    previous_hash: String,
}

/// The open audit log: appends are serialised (the chain is a sequence); syncs are shared (group commit).
pub struct AuditLog {
    path: PathBuf,
    head: Mutex<ChainHead>,
    /// A second handle on the same file so that syncing never waits for the append lock.
    sync_handle: File,
    commit: GroupCommit,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("commit", &self.commit.stats())
            .finish_non_exhaustive()
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Tenant => "tenant",
        Role::Operator => "operator",
    }
}

impl AuditLog {
    /// Opens (creating if absent) the log at `path` and continues its chain. A final line left incomplete by
    /// a crash mid-write (never acknowledged: its sync had not completed) is cut off; a last record whose own
    /// hash does not match is refused, as tampering to investigate.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let path = path.as_ref().to_owned();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| AuditError::io(&path, "cannot open", e))?;
        let tail = verify::recover_tail(&path, &file)?;
        let (next_sequence, previous_hash) = match tail.last {
            Some(last) => (last.sequence + 1, last.hash),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let sync_handle = file
            .try_clone()
            .map_err(|e| AuditError::io(&path, "cannot duplicate handle", e))?;
        Ok(Self {
            head: Mutex::new(ChainHead {
                file,
                length: tail.length,
                next_sequence,
                previous_hash,
            }),
            path,
            sync_handle,
            commit: GroupCommit::new(),
        })
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record (one `write` of one line; no sync: see [`AuditLog::wait_durable`]) and returns its
    /// sequence number.
    pub fn append(&self, entry: AuditEntry<'_>) -> Result<u64, AuditError> {
        // The head is only changed after a complete write; a panic elsewhere cannot leave it half-updated.
        let mut head = self.head.lock().unwrap_or_else(PoisonError::into_inner);
        let mut record = AuditRecord {
            sequence: head.next_sequence,
            time: entry.time,
            tenant: entry.tenant.0.clone(),
            role: role_name(entry.role).to_owned(),
            operation: entry.operation.to_owned(),
            objects: entry.objects,
            result: match entry.result {
                Ok(()) => "Success".to_owned(),
                Err(reason) => reason.name().to_owned(),
            },
            previous_hash: head.previous_hash.clone(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        let mut line = serde_json::to_vec(&record).map_err(|e| AuditError::Io {
            path: self.path.clone(),
            message: format!("cannot encode record: {e}"),
        })?;
        line.push(b'\n');
        if let Err(e) = head.file.write_all(&line) {
            // Cut a partial line back off so the chain stays intact for the next append.
            let _ = head.file.set_len(head.length);
            return Err(AuditError::io(&self.path, "cannot append", e));
        }
        head.length += line.len() as u64;
        head.next_sequence += 1;
        head.previous_hash = record.hash;
        drop(head);
        self.commit.record_write();
        Ok(record.sequence)
    }

    /// Returns once every record appended before this call is on disk; concurrent callers share one sync.
    pub fn wait_durable(&self) -> Result<(), AuditError> {
        self.commit
            .wait_durable(|| self.sync_handle.sync_data())
            .map_err(|e| AuditError::io(&self.path, "sync failed", e))
    }

    /// Appends and syncs so far.
    pub fn commit_stats(&self) -> crate::store::GroupCommitStats {
        self.commit.stats()
    }
}
