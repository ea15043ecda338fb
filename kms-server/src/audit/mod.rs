//! Append-only, hash-chained audit log of every operation and every refused request: who, what, which objects
//! (named and touched), the result and why, when.
//!
//! Where it lives: append-only JSON-lines files (`[audit] path`, default `audit.log` next to the store), not a
//! sled tree, because
//! - an operator can verify it while the server runs (`qkms audit verify`): sled locks its database for one
//!   process, a file needs no lock to read;
//! - it is plain text that `tail -f`, `jq` and log shippers read, and that can be copied off the box for anchoring;
//! - its durability still rides on group commit: [`AuditLog::wait_durable`] shares `fdatasync`s among concurrent
//!   writers exactly as the store shares sled flushes.
//!
//! Fail closed: [`AuditLog::append`] and [`AuditLog::wait_durable`] report every failure (ENOSPC, EIO, a short
//! write, a rotation that cannot complete) as an error, and the dispatcher then acknowledges nothing of the
//! message (writes rolled back, reads refused). A failed append is cut back off the file, so the file stays a
//! sequence of complete records. [`AuditLog::health`] says whether the log is writable and since when it is not;
//! the log recovers by itself: the next append that succeeds (space freed) ends an append failure, the next sync
//! that succeeds ends a sync failure. While a sync failure lasts, appends first retry the sync, so read-only
//! messages (whose records are synced by the server's periodic sync, not per message) are refused too.
//!
//! Rotation: when a record would take the current file past `[audit] max_file_bytes`, the file is synced,
//! renamed `audit.log.000001` (then `.000002`, ... never reused, never overwritten) and a new `audit.log`
//! continues the chain: sequence numbers and previous hashes run on across files, so `verify` checks the whole
//! set and a missing file shows as a gap. qkms never deletes rotated files: archiving them is the operator's.
//!
//! Tamper evidence: each record carries the previous record's hash and a SHA-256 over its own canonical encoding
//! ([`record`]), and sequence numbers run 1, 2, 3...: editing, deleting, inserting or reordering a record breaks
//! the chain at that record. Truncating the end is only detectable against a copy of an earlier head hash, which
//! `verify` prints so that operators can anchor it elsewhere.
//!
//! Files are created mode 0600 and missing directories 0700, set explicitly whatever the umask.

mod files;
mod health;
mod record;
mod refusals;
mod verify;

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kmip::ResultReason;

pub use files::rotated_path;
pub use health::AuditHealth;
pub use record::{AuditRecord, CURRENT_VERSION, GENESIS_HASH};
pub use refusals::operation_name;
pub use verify::{verify, VerifyReport};

use crate::store::GroupCommit;
use crate::tenant::{Role, TenantId};
use health::{HealthTracker, Step};

/// The audit log's default file name, beside the store.
pub const AUDIT_LOG_FILE: &str = "audit.log";

/// The default size at which the current file is rotated: 64 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Longest `detail` kept in a record, in bytes (longer ones are cut, marked with their length).
const MAX_DETAIL_BYTES: usize = 1024;
/// Longest identifier kept in `targets` (a client may name any string; ours are 36 characters).
const MAX_TARGET_BYTES: usize = 256;
/// Most identifiers kept in `targets` of one record.
const MAX_TARGETS: usize = 16;

/// What the dispatcher records for one batch item.
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    pub tenant: &'a TenantId,
    pub role: Role,
    /// The operation's name as KMIP spells it in text encodings (`Create`, `Get`, `Locate`...).
    pub operation: &'a str,
    /// Unique Identifiers the operation produced or touched (created, read, modified, destroyed, located).
    pub objects: Vec<String>,
    /// Unique Identifiers the request named (its Unique Identifier fields, after ID Placeholder resolution),
    /// recorded whether or not the operation succeeded.
    pub targets: Vec<String>,
    /// `Ok` on success, else the Result Reason sent to the client.
    pub result: Result<(), ResultReason>,
    /// For a failure or refusal: the Result Message sent to the client. Never a secret: Result Messages are
    /// written by qkms and carry no key bytes, passphrases or plaintext (at most an identifier or a name the
    /// client itself sent).
    pub detail: Option<&'a str>,
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
    /// The chain is broken: the first record (by file and line) that fails, and why.
    #[error("audit log {} broken at line {line}{}: {reason}", file.display(), sequence.map(|s| format!(" (record {s})")).unwrap_or_default())]
    Broken {
        file: PathBuf,
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

    /// The cause without the file's path, for a Result Message sent to a client.
    pub fn cause(&self) -> &str {
        match self {
            Self::Io { message, .. } => message,
            Self::Head { reason, .. } | Self::Broken { reason, .. } => reason,
        }
    }
}

/// Settings of the log (`[audit]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditOptions {
    /// Rotate the current file before a record would take it past this size.
    pub max_file_bytes: u64,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// Where the next record goes.
#[derive(Debug)]
struct ChainHead {
    /// The current file; `None` after a rotation renamed it but could not create its successor (retried by the
    /// next append).
    file: Option<File>,
    /// File length after the last complete record.
    length: u64,
    /// A failed write left bytes past `length` that could not be cut off yet (retried before the next write).
    needs_cut: bool,
    next_sequence: u64,
    previous_hash: String,
    /// The number the next rotated file gets.
    next_rotation: u64,
}

/// The open audit log: appends are serialised (the chain is a sequence); syncs are shared (group commit).
pub struct AuditLog {
    path: PathBuf,
    options: AuditOptions,
    head: Mutex<ChainHead>,
    /// The current file for syncing, so that syncing never waits for the append lock (replaced on rotation).
    sync_handle: Mutex<Arc<File>>,
    commit: GroupCommit,
    health: HealthTracker,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("options", &self.options)
            .field("commit", &self.commit.stats())
            .field("health", &self.health.health())
            .finish_non_exhaustive()
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Tenant => "tenant",
        Role::Operator => "operator",
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The head and the sync handle are only replaced whole after a step completed; a panic elsewhere cannot leave
    // them half-updated.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The fields of one record before it is chained.
struct Fields {
    time: i64,
    tenant: String,
    role: String,
    operation: String,
    objects: Vec<String>,
    targets: Vec<String>,
    result: String,
    detail: Option<String>,
}

impl AuditLog {
    /// Opens the log at `path` with the default options; see [`AuditLog::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        Self::open_with(path, AuditOptions::default())
    }

    /// Opens (creating if absent, with its directory) the log whose current file is `path` and continues its
    /// chain from the newest record: the current file's last, or the newest rotated file's when the current file
    /// is empty or missing. A final line left incomplete by a crash mid-write (never acknowledged: its sync had
    /// not completed) is cut off; a last record whose own hash does not match is refused, as tampering.
    pub fn open_with(path: impl AsRef<Path>, options: AuditOptions) -> Result<Self, AuditError> {
        let path = path.as_ref().to_owned();
        let directory = files::directory_of(&path);
        files::create_private_dir(directory)
            .map_err(|e| AuditError::io(&path, "cannot create its directory", e))?;
        let rotated = files::rotated_files(&path)
            .map_err(|e| AuditError::io(&path, "cannot list the rotated files", e))?;
        let file =
            files::open_append(&path).map_err(|e| AuditError::io(&path, "cannot open", e))?;
        let mut tail = verify::recover_tail(&path, &file, true)?;
        if tail.last.is_none() {
            if let Some((_, newest)) = rotated.last() {
                let rotated_file =
                    File::open(newest).map_err(|e| AuditError::io(newest, "cannot open", e))?;
                tail.last = verify::recover_tail(newest, &rotated_file, false)?.last;
            }
        }
        let (next_sequence, previous_hash) = match tail.last {
            Some(last) => (last.sequence + 1, last.hash),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let sync_handle = file
            .try_clone()
            .map_err(|e| AuditError::io(&path, "cannot duplicate handle", e))?;
        Ok(Self {
            head: Mutex::new(ChainHead {
                file: Some(file),
                length: tail.length,
                needs_cut: false,
                next_sequence,
                previous_hash,
                next_rotation: rotated.last().map_or(1, |(number, _)| number + 1),
            }),
            path,
            options,
            sync_handle: Mutex::new(Arc::new(sync_handle)),
            commit: GroupCommit::new(),
            health: HealthTracker::default(),
        })
    }

    /// The current file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `Ok`, or what fails and since when.
    pub fn health(&self) -> AuditHealth {
        self.health.health()
    }

    /// Appends one record (one `write` of one line; no sync: see [`AuditLog::wait_durable`]) and returns its
    /// sequence number. Any failure is returned, the file left ending in a complete record, and the health
    /// state set until an append succeeds again.
    pub fn append(&self, entry: AuditEntry<'_>) -> Result<u64, AuditError> {
        self.append_fields(Fields {
            time: entry.time,
            tenant: entry.tenant.0.clone(),
            role: role_name(entry.role).to_owned(),
            operation: entry.operation.to_owned(),
            objects: entry.objects,
            targets: entry.targets,
            result: match entry.result {
                Ok(()) => "Success".to_owned(),
                Err(reason) => reason.name().to_owned(),
            },
            detail: entry.detail.map(str::to_owned),
        })
    }

    fn append_fields(&self, fields: Fields) -> Result<u64, AuditError> {
        if self.health.sync_failing() {
            // Records appended now could not be made durable either: retry the sync first.
            self.wait_durable()?;
        }
        let mut head = lock(&self.head);
        let mut targets = fields.targets;
        targets.truncate(MAX_TARGETS);
        let mut record = AuditRecord {
            version: CURRENT_VERSION,
            sequence: head.next_sequence,
            time: fields.time,
            tenant: fields.tenant,
            role: fields.role,
            operation: fields.operation,
            objects: fields.objects,
            targets: targets
                .iter()
                .map(|t| record::bounded(t, MAX_TARGET_BYTES))
                .collect(),
            result: fields.result,
            detail: fields.detail.map(|d| record::bounded(&d, MAX_DETAIL_BYTES)),
            previous_hash: head.previous_hash.clone(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        let mut line = serde_json::to_vec(&record).map_err(|e| AuditError::Io {
            path: self.path.clone(),
            message: format!("cannot encode record: {e}"),
        })?;
        line.push(b'\n');
        let written = self.write_line(&mut head, &line);
        if written.is_ok() {
            head.next_sequence += 1;
            head.previous_hash = record.hash;
        }
        drop(head);
        match written {
            Ok(()) => {
                self.health.succeeded(Step::Append);
                self.commit.record_write();
                Ok(record.sequence)
            }
            Err(error) => {
                tracing::debug!(%error, "audit log append failed");
                self.health.failed(Step::Append, error.cause().to_owned());
                Err(error)
            }
        }
    }

    /// Writes one complete line at the end of the current file (rotating first when it would grow past the
    /// limit), or leaves the file as it was.
    fn write_line(&self, head: &mut ChainHead, line: &[u8]) -> Result<(), AuditError> {
        let io = |context: &str, e| AuditError::io(&self.path, context, e);
        if head.needs_cut {
            if let Some(file) = &head.file {
                file.set_len(head.length)
                    .map_err(|e| io("cannot cut back a partial record", e))?;
            }
            head.needs_cut = false;
        }
        let full = head.length > 0 && head.length + line.len() as u64 > self.options.max_file_bytes;
        if full {
            self.rotate(head)?;
        }
        if head.file.is_none() {
            self.start_new_file(head)?;
        }
        let Some(file) = head.file.as_mut() else {
            return Err(io(
                "no current file",
                io::Error::other("rotation incomplete"),
            ));
        };
        if let Err(error) = file.write_all(line) {
            // ENOSPC, EIO or a short write: cut the partial line back off so the file ends in a complete record.
            if file.set_len(head.length).is_err() {
                head.needs_cut = true;
            }
            return Err(io("cannot append", error));
        }
        head.length += line.len() as u64;
        Ok(())
    }

    /// Closes off the current file: synced (its records durable before it is renamed), renamed to the next
    /// rotated name (never over an existing file), the directory synced, then a new current file started.
    fn rotate(&self, head: &mut ChainHead) -> Result<(), AuditError> {
        if let Some(file) = &head.file {
            file.sync_data()
                .map_err(|e| AuditError::io(&self.path, "cannot sync before rotating", e))?;
            let rotated = files::rotated_path(&self.path, head.next_rotation);
            if rotated.exists() {
                return Err(AuditError::io(
                    &rotated,
                    "cannot rotate",
                    io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        "refusing to overwrite a rotated file",
                    ),
                ));
            }
            std::fs::rename(&self.path, &rotated)
                .map_err(|e| AuditError::io(&self.path, "cannot rotate", e))?;
            head.file = None;
            head.length = 0;
            head.next_rotation += 1;
            tracing::info!(rotated = %rotated.display(), "audit log rotated");
        }
        self.start_new_file(head)
    }

    /// Creates the current file after a rotation; its records continue the chain. An empty file left by an
    /// earlier attempt that failed after creating it is taken over; one with content is not ours to continue.
    fn start_new_file(&self, head: &mut ChainHead) -> Result<(), AuditError> {
        let io = |context: &str, e| AuditError::io(&self.path, context, e);
        let file =
            files::open_append(&self.path).map_err(|e| io("cannot create after rotating", e))?;
        let length = file
            .metadata()
            .map_err(|e| io("cannot stat after rotating", e))?
            .len();
        if length != 0 {
            return Err(io(
                "cannot continue after rotating",
                io::Error::other("a non-empty file appeared in its place"),
            ));
        }
        files::sync_dir(files::directory_of(&self.path))
            .map_err(|e| io("cannot sync its directory after rotating", e))?;
        let sync_handle = file
            .try_clone()
            .map_err(|e| io("cannot duplicate handle", e))?;
        *lock(&self.sync_handle) = Arc::new(sync_handle);
        head.file = Some(file);
        head.length = 0;
        Ok(())
    }

    /// Returns once every record appended before this call is on disk; concurrent callers share one sync. A
    /// failure is returned and kept in the health state until a sync succeeds.
    pub fn wait_durable(&self) -> Result<(), AuditError> {
        let synced = self.commit.wait_durable(|| {
            let file = Arc::clone(&lock(&self.sync_handle));
            file.sync_data()
        });
        match synced {
            Ok(()) => {
                self.health.succeeded(Step::Sync);
                Ok(())
            }
            Err(error) => {
                let error = AuditError::io(&self.path, "cannot sync", error);
                tracing::debug!(%error, "audit log sync failed");
                self.health.failed(Step::Sync, error.cause().to_owned());
                Err(error)
            }
        }
    }

    /// Appends and syncs so far.
    pub fn commit_stats(&self) -> crate::store::GroupCommitStats {
        self.commit.stats()
    }
}

#[cfg(test)]
mod tests;
