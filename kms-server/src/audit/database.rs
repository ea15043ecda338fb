//! The audit log in the database (PostgreSQL store): this node's chain in `qkms_audit`, one row per record
//! holding the same JSON text as a line of the file log, so that hashing and verification are shared.
//!
//! Why in the database: nodes are stateless; their audit belongs where their objects are, backed up and
//! replicated with them, and checked in one place (`qkms audit verify --config` reads every node's chain).
//! No file log is written on such a node: the database is the log.
//!
//! Group commit, as the file log's group fsync: appends only chain the record and queue it (in memory, bounded);
//! a waiter becomes the leader of one commit that writes every free queued record in ONE statement (see
//! `store::postgres::audit_table`); one commit is in flight at a time (see [`MAX_IN_FLIGHT`]), and waiters whose records are
//! taken wait for them (`commit_queue` keeps the books). A message that changed something
//! waits for a durable commit; a read-only message only for its records to be committed (`synchronous_commit`
//! off for a commit carrying only such records: visible at once, flushed within PostgreSQL's WAL writer delay,
//! or by the next durable commit, which flushes the WAL up to itself). A failed commit keeps its records queued,
//! in order (the next commit retries them, skipping any the failed one did store), so the chain never has a gap;
//! every waiter that may have had records in it is answered with the failure, and the dispatcher refuses its
//! message.
//!
//! With the node-local spool (`[audit] answer_reads_after = "spooled"`, the default; see `spool`), every record
//! is also appended to a file in the node's directory before it is queued, a read-only message is answered at
//! once (a crash of this process cannot lose its record), and a committer thread of the log commits what no
//! waiter takes, one commit at a time, so reads' records reach the database in large groups without anyone
//! waiting. The next start commits whatever the spool holds beyond the database's head before anything else.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use super::commit_queue::CommitQueue;
use super::record::{AuditRecord, GENESIS_HASH};
use super::spool::{remove_segments, Spool};
use super::spool_shipping::ship_spooled;
use super::{lock, AuditError};
use crate::store::postgres::{Appended, AuditTable, ClaimedChain, PgStore};
use crate::store::GroupCommitStats;

/// Records queued and not yet committed, at most: past this (a database away for long while requests keep
/// coming), appends fail and requests are refused rather than memory growing.
const MAX_QUEUED: usize = 100_000;
/// Records written by one commit, at most (more wait for the next).
pub(super) const MAX_PER_COMMIT: usize = 5_000;
/// Commits of this node in flight at once, at most. One: every commit also moves this node's claim row (heartbeat,
/// head sequence), so PostgreSQL runs a node's commits one after another anyway, each holding that row's lock until
/// its WAL flush; several in flight only split the queued records into smaller commits waiting on each other. One
/// at a time, each commit takes every record queued while the previous one ran (PostgreSQL one node, durable Create
/// at 16 connections, same runs: 6,634/s and 3,957/s with one, 4,750/s and 1,855/s with four; BENCHMARKS.md).
const MAX_IN_FLIGHT: usize = 1;
/// The periodic task refreshes the claim's heartbeat at least this often (well inside the lease).
const HEARTBEAT: Duration = Duration::from_secs(2);
/// The committer thread looks at the queue at least this often (it is woken when records arrive while it waits).
const COMMITTER_IDLE: Duration = Duration::from_millis(200);
/// After a failed commit, the committer thread waits this long before it tries again (waiters still lead their
/// own commits meanwhile).
const COMMITTER_BACKOFF: Duration = Duration::from_millis(100);
/// Spooled records not yet committed, at most, before read-only messages wait for their commit again: the
/// database then sets the pace (two nodes flooding one database with reads' records outran it on two cores), and
/// the queue stays far below [`MAX_QUEUED`], so reads slow down instead of being refused.
const SPOOL_BACKLOG: u64 = 20_000;
/// The committer thread waits this long before each commit: under a flood of reads each commit then carries the
/// records of this interval (hundreds), not of one round trip (a few dozen), which divides the database's and this
/// process's cost per statement among more records (PostgreSQL's CPU per Get's record 10.2 -> 4.5 µs with 5 ms;
/// 20 ms gave no more). Waiters (messages that changed something) still lead their own commits at once.
const COMMITTER_GATHER: Duration = Duration::from_millis(5);

/// What a waiter needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Level {
    /// Committed (visible in the database; a crash of this process cannot lose it).
    Written,
    /// Committed with the WAL flushed.
    Durable,
}

/// The chain's head and the commits' bookkeeping, under one lock.
#[derive(Debug)]
struct Queue {
    next_sequence: u64,
    previous_hash: String,
    commits: CommitQueue,
    /// A waiter wants a durable commit.
    durable_wanted: bool,
    /// Commits started so far; the last that failed and why.
    rounds: u64,
    failed: Option<(u64, AuditError)>,
    last_commit: Instant,
    appended: u64,
    finished: u64,
    /// The node-local spool every record goes to first (`None`: read-only messages wait for their commit).
    spool: Option<Spool>,
    /// The committer thread waits for records (append wakes it).
    committer_idle: bool,
    /// Spool segments the database holds all of, for the committer thread to delete (see `spool`).
    removable: Vec<std::path::PathBuf>,
}

/// This node's chain in the database.
pub(super) struct DatabaseLog {
    table: AuditTable,
    queue: Mutex<Queue>,
    committed: Condvar,
    /// Wakes the committer thread.
    work: Condvar,
    /// Records are spooled: a read-only message needs no commit before its answer.
    spooled: bool,
    /// Spooled records not yet committed (read without the queue's lock by every read-only message).
    backlog: AtomicU64,
}

impl fmt::Debug for DatabaseLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseLog")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// This machine's host name (for the default node id and the claim's owner).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The node id used when `[audit] node_id` is not set: this host's name and the KMIP listen address
/// (`HOST/ADDRESS:PORT`), distinct for nodes on different hosts or ports.
pub fn default_node_id(listen: &str) -> String {
    format!("{}/{listen}", host_name())
}

pub(super) fn database_error(table: &AuditTable, error: impl fmt::Display) -> AuditError {
    AuditError::Database {
        database: table.describe().to_owned(),
        message: error.to_string(),
    }
}

impl DatabaseLog {
    /// Claims `node_id`'s chain and continues it from its last record, which must match its own hash and the
    /// head the claim row recorded (else the chain was altered or cut: refused, as the file log refuses an
    /// altered last line).
    ///
    /// With `spool_dir`, records are spooled there first (see the module comment): whatever the spool holds past
    /// the database's head is committed now, after checking that it continues the chain, and a committer thread
    /// is started.
    pub(super) fn open(
        store: &PgStore,
        node_id: &str,
        spool_dir: Option<&Path>,
    ) -> Result<Arc<Self>, AuditError> {
        let database = || store.describe().to_owned();
        let ClaimedChain {
            table,
            last,
            head_sequence: head,
        } = store
            .claim_audit_chain(node_id, &host_name())
            .map_err(|e| AuditError::Database {
                database: database(),
                message: e.to_string(),
            })?;
        let refuse = |reason: String| AuditError::ChainBroken {
            node: node_id.to_owned(),
            sequence: head,
            reason: format!("{reason}; cannot continue the chain (run `qkms audit verify`)"),
        };
        let (next_sequence, previous_hash) = match last {
            None if head == 0 => (1, GENESIS_HASH.to_owned()),
            None => {
                return Err(refuse(format!(
                    "the chain reached sequence {head} but holds no records"
                )))
            }
            Some((sequence, text)) => {
                let record: AuditRecord = serde_json::from_str(&text)
                    .map_err(|e| refuse(format!("the last record does not parse: {e}")))?;
                if record.sequence != sequence
                    || record.check_shape().is_err()
                    || record.compute_hash() != record.hash
                {
                    return Err(refuse(format!(
                        "the last record (sequence {sequence}) does not match its hash: the chain was altered"
                    )));
                }
                if sequence != head {
                    return Err(refuse(format!(
                        "the chain reached sequence {head} but ends at {sequence}: records were deleted"
                    )));
                }
                (sequence + 1, record.hash)
            }
        };
        let (mut next_sequence, mut previous_hash) = (next_sequence, previous_hash);
        let spool = match spool_dir {
            None => None,
            Some(dir) => {
                let (mut spool, found) = Spool::open(dir, node_id)?;
                let shipped = ship_spooled(&table, node_id, &spool, found, head, &previous_hash)?;
                if let Some((last, hash)) = shipped {
                    tracing::warn!(node_id, from = next_sequence, to = last, spool = %spool.dir().display(),
                        "audit log: records of an earlier run found in the spool only, committed to the database");
                    next_sequence = last + 1;
                    previous_hash = hash;
                }
                remove_segments(spool.committed_through(next_sequence - 1));
                Some(spool)
            }
        };
        tracing::info!(node_id, database = %store.describe(), next_sequence, spooled = spool.is_some(), "audit log: this node's chain in the database");
        let spooled = spool.is_some();
        let log = Arc::new(Self {
            table,
            work: Condvar::new(),
            spooled,
            backlog: AtomicU64::new(0),
            queue: Mutex::new(Queue {
                spool,
                committer_idle: false,
                removable: Vec::new(),
                next_sequence,
                previous_hash,
                commits: CommitQueue::new(next_sequence - 1),
                durable_wanted: false,
                rounds: 0,
                failed: None,
                last_commit: Instant::now(),
                appended: 0,
                finished: 0,
            }),
            committed: Condvar::new(),
        });
        if spooled {
            let weak = Arc::downgrade(&log);
            std::thread::Builder::new()
                .name("audit-committer".into())
                .spawn(move || commit_what_nobody_waits_for(weak))
                .map_err(|e| {
                    database_error(&log.table, format!("cannot start the committer: {e}"))
                })?;
        }
        Ok(log)
    }

    /// Whether a read-only message waits for its records' commit: always without a spool; with one, only while
    /// more than [`SPOOL_BACKLOG`] spooled records wait for the database.
    pub(super) fn reads_wait(&self) -> bool {
        !self.spooled || self.backlog.load(Ordering::Relaxed) > SPOOL_BACKLOG
    }

    /// Chains the record `build` makes and queues it.
    pub(super) fn append(
        &self,
        build: impl FnOnce(u64, String) -> AuditRecord,
    ) -> Result<u64, AuditError> {
        let mut queue = lock(&self.queue);
        if queue.commits.len() >= MAX_QUEUED {
            return Err(database_error(
                &self.table,
                format!("{MAX_QUEUED} records wait for the database already"),
            ));
        }
        let record = build(queue.next_sequence, queue.previous_hash.clone());
        let text = serde_json::to_string(&record)
            .map_err(|e| database_error(&self.table, format!("cannot encode record: {e}")))?;
        let sequence = queue.next_sequence;
        if let Some(spool) = queue.spool.as_mut() {
            spool.append(sequence, &text)?;
        }
        if queue.committer_idle {
            self.work.notify_one();
        }
        queue.commits.push(text);
        queue.next_sequence += 1;
        self.note_backlog(&queue);
        queue.previous_hash = record.hash;
        queue.appended += 1;
        Ok(record.sequence)
    }

    /// Returns once every record appended before the call is committed at `level`, leading a commit (up to
    /// [`MAX_IN_FLIGHT`] at once) or waiting for those under way.
    pub(super) fn wait(&self, level: Level) -> Result<(), AuditError> {
        let mut queue = lock(&self.queue);
        let target = queue.next_sequence - 1;
        let entered = queue.rounds;
        loop {
            let reached = match level {
                Level::Written => queue.commits.written(),
                Level::Durable => queue.commits.durable(),
            };
            if reached >= target {
                return Ok(());
            }
            if let Some((round, error)) = &queue.failed {
                // A commit that started after this call (it may have carried its records) failed.
                if *round > entered {
                    return Err(error.clone());
                }
            }
            let durable = level == Level::Durable || queue.durable_wanted;
            let room = queue.commits.in_flight() < MAX_IN_FLIGHT;
            // Records to take, or (for a durable wait whose records were committed without a flush) a flush
            // once nothing else is in flight.
            if room && (queue.commits.has_free() || (durable && queue.commits.in_flight() == 0)) {
                queue = self.commit_round(queue, durable);
                continue;
            }
            if level == Level::Durable {
                queue.durable_wanted = true;
            }
            queue = self
                .committed
                .wait(queue)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn note_backlog(&self, queue: &Queue) {
        let backlog = queue.next_sequence - 1 - queue.commits.written();
        self.backlog.store(backlog, Ordering::Relaxed);
    }

    /// The periodic task: commits anything queued, durably, and heartbeats when nothing was committed lately.
    pub(super) fn tick(&self) -> Result<(), AuditError> {
        let queue = lock(&self.queue);
        if queue.commits.len() > 0 {
            drop(queue);
            return self.wait(Level::Durable);
        }
        if queue.last_commit.elapsed() < HEARTBEAT || queue.commits.in_flight() > 0 {
            return Ok(());
        }
        let entered = queue.rounds;
        let queue = self.commit_round(queue, true);
        match &queue.failed {
            Some((round, error)) if *round > entered => Err(error.clone()),
            _ => Ok(()),
        }
    }

    /// Leads one commit of the first free records (with none, a heartbeat); the lock is released while the
    /// database works and held again on return.
    fn commit_round<'a>(
        &'a self,
        mut queue: std::sync::MutexGuard<'a, Queue>,
        durable: bool,
    ) -> std::sync::MutexGuard<'a, Queue> {
        queue.rounds += 1;
        let number = queue.rounds;
        if durable {
            queue.durable_wanted = false;
        }
        let round = queue.commits.take(MAX_PER_COMMIT, durable);
        drop(queue);
        let records = Arc::new(round.records.clone());
        let outcome = self.table.append(records, round.durable, round.recheck);
        let mut queue = lock(&self.queue);
        queue.finished += 1;
        queue
            .commits
            .finish(&round, matches!(outcome, Ok(Appended::Written)));
        match outcome {
            Ok(Appended::Behind { head }) if head >= queue.commits.durable() => {
                // The database lost commits that were not flushed (it crashed): what it lacks is still queued
                // here (only durable records leave the queue), so the next commit sends it again.
                tracing::warn!(
                    head,
                    written = queue.commits.written(),
                    "audit log: the database lost this node's last records (not yet flushed when it stopped); \
                     committing them again"
                );
                queue.commits.forget_after(head);
            }
            Ok(Appended::Behind { head }) => {
                let durable = queue.commits.durable();
                queue.failed = Some((
                    number,
                    database_error(
                        &self.table,
                        format!(
                            "the database's chain of this node ends at sequence {head}, before records it had \
                             flushed (up to {durable}): records were deleted; run `qkms audit verify`"
                        ),
                    ),
                ));
            }
            Ok(Appended::Written) => {
                queue.failed = None;
                queue.last_commit = Instant::now();
                // Only what is flushed leaves the spool: a crash of the database loses commits not yet flushed.
                let durable = queue.commits.durable();
                if let Some(spool) = queue.spool.as_mut() {
                    let done = spool.committed_through(durable);
                    queue.removable.extend(done);
                }
            }
            Err(error) => queue.failed = Some((number, database_error(&self.table, error))),
        }
        self.note_backlog(&queue);
        self.committed.notify_all();
        queue
    }

    pub(super) fn stats(&self) -> GroupCommitStats {
        let queue = lock(&self.queue);
        GroupCommitStats {
            writes: queue.appended,
            flushes: queue.finished,
        }
    }
}

/// The committer thread of a spooled log: commits queued records nobody leads a commit for (read-only messages
/// do not wait), one commit at a time, until the log is dropped. Woken by the first record queued while it is
/// idle, it first waits [`COMMITTER_GATHER`]: a message that changed something takes its own records into its
/// durable commit meanwhile (one commit for it, not an asynchronous one and then a flush), and reads' records
/// gather into one larger commit.
fn commit_what_nobody_waits_for(log: Weak<DatabaseLog>) {
    let has_free = |log: &DatabaseLog| lock(&log.queue).commits.has_free();
    loop {
        {
            let Some(log) = log.upgrade() else { return };
            let mut queue = lock(&log.queue);
            if !queue.commits.has_free() {
                queue.committer_idle = true;
                let (mut queue, _) = log
                    .work
                    .wait_timeout(queue, COMMITTER_IDLE)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                queue.committer_idle = false;
                if !queue.commits.has_free() {
                    continue;
                }
            }
        }
        std::thread::sleep(COMMITTER_GATHER);
        let Some(log) = log.upgrade() else { return };
        let failed = has_free(&log) && log.wait(Level::Written).is_err();
        // Segments the commits (its own or waiters') emptied, deleted here rather than under the queue's lock.
        let removable = std::mem::take(&mut lock(&log.queue).removable);
        remove_segments(removable);
        if failed {
            // The waiters and the periodic task report the failure; the records stay queued and spooled.
            drop(log);
            std::thread::sleep(COMMITTER_BACKOFF);
        }
    }
}
