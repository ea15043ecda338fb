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
//!
//! With a PostgreSQL store (several nodes on one database) the records go to the database instead, one chain per
//! node, same record format and hash, same fail-closed contract (`database`); no file is written then.
//! [`AuditLog::wait_written`] is what a read-only message waits for: nothing for the file log (its append
//! already reached the page cache), a commit for the database.

mod commit_queue;
mod database;
mod file_log;
mod files;
mod health;
mod record;
mod refusals;
mod spool;
mod spool_shipping;
mod verify;
mod verify_database;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kmip::ResultReason;

pub use database::default_node_id;
pub use files::rotated_path;
pub use health::AuditHealth;
pub use record::{AuditRecord, CURRENT_VERSION, GENESIS_HASH};
pub use refusals::operation_name;
pub use spool::spool_dir_of;
pub use verify::{verify, VerifyReport};
pub use verify_database::{verify_database, DatabaseReport, NodeReport};

use crate::tenant::{Role, TenantId};
use database::{DatabaseLog, Level};
use file_log::FileLog;
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
#[derive(Clone, Debug, thiserror::Error)]
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
    /// The log in the database cannot be written or read (the database's own words).
    #[error("audit log in the database {database}: {message}")]
    Database { database: String, message: String },
    /// A node's chain in the database is broken: the node, the first sequence that fails, and why.
    #[error(
        "audit chain of node {node:?} in the database broken at sequence {sequence}: {reason}"
    )]
    ChainBroken {
        node: String,
        sequence: u64,
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
            Self::Io { message, .. } | Self::Database { message, .. } => message,
            Self::Head { reason, .. }
            | Self::Broken { reason, .. }
            | Self::ChainBroken { reason, .. } => reason,
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

/// Where the records go.
enum Sink {
    File(FileLog),
    Database(Arc<DatabaseLog>),
}

/// The open audit log: in files, or (PostgreSQL store) in the database. Appends are serialised (the chain is a
/// sequence); making them durable is shared among concurrent callers (group commit).
pub struct AuditLog {
    sink: Sink,
    health: HealthTracker,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("AuditLog");
        match &self.sink {
            Sink::File(file) => out
                .field("path", &file.path())
                .field("commit", &file.commit.stats()),
            Sink::Database(database) => out.field("database", database),
        };
        out.field("health", &self.health.health()).finish()
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

impl Fields {
    /// The record with these fields at `sequence` after `previous_hash`, hashed.
    fn chain(self, sequence: u64, previous_hash: String) -> AuditRecord {
        let mut targets = self.targets;
        targets.truncate(MAX_TARGETS);
        let mut record = AuditRecord {
            version: CURRENT_VERSION,
            sequence,
            time: self.time,
            tenant: self.tenant,
            role: self.role,
            operation: self.operation,
            objects: self.objects,
            targets: targets
                .iter()
                .map(|t| record::bounded(t, MAX_TARGET_BYTES))
                .collect(),
            result: self.result,
            detail: self.detail.map(|d| record::bounded(&d, MAX_DETAIL_BYTES)),
            previous_hash,
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        record
    }
}

impl AuditLog {
    /// Opens the log at `path` with the default options; see [`AuditLog::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        Self::open_with(path, AuditOptions::default())
    }

    /// Opens (creating if absent, with its directory) the file log whose current file is `path` and continues
    /// its chain from the newest record (see `file_log`).
    pub fn open_with(path: impl AsRef<Path>, options: AuditOptions) -> Result<Self, AuditError> {
        Ok(Self {
            sink: Sink::File(FileLog::open(path.as_ref(), options)?),
            health: HealthTracker::default(),
        })
    }

    /// The log of this node in the database of `store` (PostgreSQL store): claims the chain of `node_id` (refused
    /// while another live process holds it) and continues it (see `database`). With `spool_dir` (node-local,
    /// see [`spool_dir_of`]) every record is spooled there first and read-only messages do not wait for a commit.
    pub fn open_in_database(
        store: &crate::store::postgres::PgStore,
        node_id: &str,
        spool_dir: Option<&Path>,
    ) -> Result<Self, AuditError> {
        Ok(Self {
            sink: Sink::Database(DatabaseLog::open(store, node_id, spool_dir)?),
            health: HealthTracker::default(),
        })
    }

    /// The current file (`None` for a log in the database).
    pub fn path(&self) -> Option<&Path> {
        match &self.sink {
            Sink::File(file) => Some(file.path()),
            Sink::Database(_) => None,
        }
    }

    /// `Ok`, or what fails and since when.
    pub fn health(&self) -> AuditHealth {
        self.health.health()
    }

    /// Appends one record and returns its sequence number: to the file (one `write` of one line, no sync), or
    /// to the queue of records the next commit writes to the database. It is durable after
    /// [`AuditLog::wait_durable`]; for a log in the database it is written only after [`AuditLog::wait_written`]
    /// (or `wait_durable`). Any failure is returned, the chain left where it was, and the health state set until
    /// an append succeeds again.
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
        let appended = match &self.sink {
            Sink::File(file) => {
                if self.health.sync_failing() {
                    // Records appended now could not be made durable either: retry the sync first.
                    self.wait_durable()?;
                }
                file.append(|sequence, previous| fields.chain(sequence, previous))
            }
            Sink::Database(database) => {
                database.append(|sequence, previous| fields.chain(sequence, previous))
            }
        };
        match appended {
            Ok(sequence) => {
                self.health.succeeded(Step::Append);
                Ok(sequence)
            }
            Err(error) => {
                tracing::debug!(%error, "audit log append failed");
                self.health.failed(Step::Append, error.cause().to_owned());
                Err(error)
            }
        }
    }

    /// Returns once every record appended before this call is durable (file: synced; database: committed with
    /// its WAL flushed); concurrent callers share one sync or commit. A failure is returned and kept in the
    /// health state until a sync (commit) succeeds.
    pub fn wait_durable(&self) -> Result<(), AuditError> {
        let done = match &self.sink {
            Sink::File(file) => file.wait_durable(),
            Sink::Database(database) => database.wait(Level::Durable),
        };
        self.note_commit(done)
    }

    /// Returns once every record appended before this call is written where a crash of this process cannot
    /// lose it: at once for the file log (the append wrote it to the kernel's page cache) and for a spooled
    /// database log (the append wrote it to the spool) unless its backlog is long; for the database without a
    /// spool (or with a long backlog), once committed (with
    /// `synchronous_commit` off when no durable record is waiting: a read's record). What the dispatcher waits
    /// for before answering a message that changed nothing.
    pub fn wait_written(&self) -> Result<(), AuditError> {
        match &self.sink {
            Sink::Database(database) if database.reads_wait() => {
                self.note_commit(database.wait(Level::Written))
            }
            // The append wrote the record to the file log or to the database log's spool.
            _ => Ok(()),
        }
    }

    /// Whether [`AuditLog::wait_written`] may wait (for a database commit): callers on an async worker then call it
    /// off the worker.
    pub fn written_needs_a_wait(&self) -> bool {
        matches!(&self.sink, Sink::Database(database) if database.reads_wait())
    }

    /// The server's periodic task: makes read records durable soon (file: sync; database: durable commit of
    /// anything queued), and for the database keeps this node's claim on its chain alive.
    pub fn tick(&self) -> Result<(), AuditError> {
        let done = match &self.sink {
            Sink::File(file) => file.wait_durable(),
            Sink::Database(database) => database.tick(),
        };
        self.note_commit(done)
    }

    fn note_commit(&self, done: Result<(), AuditError>) -> Result<(), AuditError> {
        match done {
            Ok(()) => {
                self.health.succeeded(Step::Sync);
                Ok(())
            }
            Err(error) => {
                tracing::debug!(%error, "audit log sync failed");
                self.health.failed(Step::Sync, error.cause().to_owned());
                Err(error)
            }
        }
    }

    /// Appends and syncs (database: commits) so far.
    pub fn commit_stats(&self) -> crate::store::GroupCommitStats {
        match &self.sink {
            Sink::File(file) => file.commit.stats(),
            Sink::Database(database) => database.stats(),
        }
    }
}

#[cfg(test)]
mod tests;
