//! The node-local spool of this node's chain in the database: every record is appended here (one `write` of one
//! JSON line, no sync, as the file log appends) before it is queued for the database, so a message that changed
//! nothing can be answered without waiting for a database commit: a crash of this process cannot lose a record
//! that is in the spool (the kernel's page cache holds it), and the next start ships whatever the database lacks.
//!
//! Why a file and not just the database: a read-only message answered only once its record is committed waits
//! for a database round trip and the thread hand-offs around it, which bounded Get on PostgreSQL at under a third
//! of sled's rate (BENCHMARKS.md); the sled node's file log gives reads exactly this guarantee.
//!
//! Layout: `DIR/<node>/` (`<node>`: the first 16 hex digits of SHA-256 of the node id, the id itself in
//! `DIR/<node>/node-id`), segments `<first sequence, 20 digits>.jsonl` of at most [`SEGMENT_BYTES`] each. A
//! segment is deleted once the database holds its last record, by the log's committer thread and not under the
//! queue lock every append takes (deleting a 2-8 MiB file takes ext4 1-3.5 ms, which stalled every request on the
//! node). A write that failed half-way is cut off; if it
//! cannot be, the segment is closed and the next record starts a new one, so a torn line is only ever a
//! segment's last. At start, [`Spool::open`] reads the records after the database's head; the caller checks that
//! they continue the chain and commits them before anything else.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::record::AuditRecord;
use super::AuditError;

/// A segment is closed once it reaches this size and the next record starts a new one.
const SEGMENT_BYTES: u64 = 8 << 20;

/// The spool directory of a node whose node-local directory holds `store_path` (`[store] path`).
pub fn spool_dir_of(store_path: &Path) -> PathBuf {
    store_path.with_file_name("audit-spool")
}

/// A closed segment whose records the database may still lack.
#[derive(Debug)]
struct Closed {
    path: PathBuf,
    last: u64,
}

/// The segment records are appended to.
#[derive(Debug)]
struct Open {
    path: PathBuf,
    file: File,
    /// Length after the last complete record.
    length: u64,
    /// The last record in it (`first - 1` while empty).
    last: u64,
}

/// This node's spool: appends under the database log's queue lock (in chain order).
#[derive(Debug)]
pub(super) struct Spool {
    dir: PathBuf,
    open: Option<Open>,
    closed: VecDeque<Closed>,
}

/// A record read back from the spool.
#[derive(Debug)]
pub(super) struct Spooled {
    pub text: String,
    pub record: AuditRecord,
}

fn io_error(path: &Path, context: &str, error: io::Error) -> AuditError {
    AuditError::Io {
        path: path.to_owned(),
        message: format!("audit spool: {context}: {error}"),
    }
}

fn segment_name(first: u64) -> String {
    format!("{first:020}.jsonl")
}

impl Spool {
    /// Opens (creating) the spool of `node_id` under `dir` and returns it with the records it holds in
    /// segment order, each segment read up to its first line that does not parse (a write torn by a crash).
    pub(super) fn open(dir: &Path, node_id: &str) -> Result<(Self, Vec<Spooled>), AuditError> {
        let digest = Sha256::digest(node_id.as_bytes());
        let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let dir = dir.join(name);
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, "cannot create", e))?;
        let id_file = dir.join("node-id");
        fs::write(&id_file, format!("{node_id}\n"))
            .map_err(|e| io_error(&id_file, "cannot write", e))?;
        let mut segments = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| io_error(&dir, "cannot list", e))? {
            let entry = entry.map_err(|e| io_error(&dir, "cannot list", e))?;
            let file_name = entry.file_name();
            let Some(first) = file_name
                .to_str()
                .and_then(|n| n.strip_suffix(".jsonl"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            segments.push((first, entry.path()));
        }
        segments.sort();
        let mut records = Vec::new();
        let mut closed = VecDeque::new();
        for (first, path) in segments {
            let text = fs::read(&path).map_err(|e| io_error(&path, "cannot read", e))?;
            let mut last = first.saturating_sub(1);
            for line in text.split(|b| *b == b'\n') {
                let Some(record) = std::str::from_utf8(line)
                    .ok()
                    .and_then(|l| serde_json::from_str::<AuditRecord>(l).ok())
                else {
                    break;
                };
                last = record.sequence;
                records.push(Spooled {
                    text: String::from_utf8_lossy(line).into_owned(),
                    record,
                });
            }
            closed.push_back(Closed { path, last });
        }
        Ok((
            Self {
                dir,
                open: None,
                closed,
            },
            records,
        ))
    }

    /// The directory of this node's segments.
    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends the record numbered `sequence` (its JSON text, one line). On failure nothing of it stays in the
    /// spool and the error is returned (the caller refuses the record).
    pub(super) fn append(&mut self, sequence: u64, text: &str) -> Result<(), AuditError> {
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.length >= SEGMENT_BYTES)
        {
            self.close_open();
        }
        if self.open.is_none() {
            let path = self.dir.join(segment_name(sequence));
            // A segment named after this record holds no record the chain keeps: only a torn first write of
            // this very record (a failed append, or a crash before the last start shipped the rest).
            self.closed.retain(|closed| closed.path != path);
            if let Err(error) = fs::remove_file(&path) {
                if error.kind() != io::ErrorKind::NotFound {
                    return Err(io_error(&path, "cannot replace a torn segment", error));
                }
            }
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
                .map_err(|e| io_error(&path, "cannot create segment", e))?;
            self.open = Some(Open {
                path,
                file,
                length: 0,
                last: sequence.saturating_sub(1),
            });
        }
        let open = self.open.as_mut().expect("opened above");
        let mut line = Vec::with_capacity(text.len() + 1);
        line.extend_from_slice(text.as_bytes());
        line.push(b'\n');
        match open.file.write_all(&line) {
            Ok(()) => {
                open.length += line.len() as u64;
                open.last = sequence;
                Ok(())
            }
            Err(error) => {
                let failed = io_error(&open.path, "cannot write", error);
                if open.file.set_len(open.length).is_err() {
                    // The torn line stays as this segment's last; the next record starts a new segment.
                    self.close_open();
                }
                Err(failed)
            }
        }
    }

    fn close_open(&mut self) {
        if let Some(open) = self.open.take() {
            if open.length == 0 {
                // No complete record (a first write torn): removed now, so that no segment waiting for removal
                // can bear the name of the next one (named after the record that failed).
                remove_segments([open.path]);
                return;
            }
            self.closed.push_back(Closed {
                path: open.path,
                last: open.last,
            });
        }
    }

    /// The database holds every record up to `sequence`: returns the segments that hold nothing after it (the
    /// open one too, when it is full or when everything is committed and it has grown past a quarter segment),
    /// which the spool forgets; the caller removes them ([`remove_segments`]), outside any lock. Their names
    /// come before every later segment's (a segment is named after its first record), so a removal that
    /// happens late never meets a segment opened since.
    pub(super) fn committed_through(&mut self, sequence: u64) -> Vec<PathBuf> {
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.last <= sequence && o.length >= SEGMENT_BYTES / 4)
        {
            self.close_open();
        }
        let mut done = Vec::new();
        while self.closed.front().is_some_and(|c| c.last <= sequence) {
            done.push(self.closed.pop_front().expect("checked").path);
        }
        done
    }
}

/// Deletes segments [`Spool::committed_through`] returned (a failure is logged: the next start skips what the
/// database holds).
pub(super) fn remove_segments(paths: impl IntoIterator<Item = PathBuf>) {
    for path in paths {
        if let Err(error) = fs::remove_file(&path) {
            if error.kind() != io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), %error, "audit spool: cannot delete a committed segment");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::GENESIS_HASH;

    fn record(sequence: u64, previous: &str) -> AuditRecord {
        let mut record = AuditRecord {
            version: 2,
            sequence,
            time: 1,
            tenant: "alice".into(),
            role: "tenant".into(),
            operation: "Get".into(),
            objects: vec![],
            targets: vec![],
            result: "Success".into(),
            detail: None,
            previous_hash: previous.into(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        record
    }

    fn append_chain(spool: &mut Spool, from: u64, to: u64) {
        let mut previous = GENESIS_HASH.to_owned();
        for sequence in from..=to {
            let r = record(sequence, &previous);
            spool
                .append(sequence, &serde_json::to_string(&r).unwrap())
                .unwrap();
            previous = r.hash;
        }
    }

    #[test]
    fn records_come_back_in_order_and_committed_segments_go() {
        let dir = tempfile::tempdir().unwrap();
        let (mut spool, found) = Spool::open(dir.path(), "node-a").unwrap();
        assert!(found.is_empty());
        append_chain(&mut spool, 1, 5);
        drop(spool);
        let (mut spool, found) = Spool::open(dir.path(), "node-a").unwrap();
        assert_eq!(
            found.iter().map(|s| s.record.sequence).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
        // Another node's spool is another directory.
        let (_, other) = Spool::open(dir.path(), "node-b").unwrap();
        assert!(other.is_empty());
        append_chain(&mut spool, 6, 7);
        remove_segments(spool.committed_through(4));
        assert_eq!(
            fs::read_dir(spool.dir()).unwrap().count(),
            3,
            "node-id and two segments"
        );
        let done = spool.committed_through(5);
        assert_eq!(
            fs::read_dir(spool.dir()).unwrap().count(),
            3,
            "nothing is deleted before the caller removes what was returned"
        );
        remove_segments(done);
        assert_eq!(
            fs::read_dir(spool.dir()).unwrap().count(),
            2,
            "the first segment is gone"
        );
    }

    #[test]
    fn a_torn_last_line_ends_its_segment() {
        let dir = tempfile::tempdir().unwrap();
        let (mut spool, _) = Spool::open(dir.path(), "node-a").unwrap();
        append_chain(&mut spool, 1, 3);
        let segment = spool.dir().join(segment_name(1));
        drop(spool);
        let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
        file.write_all(b"{\"version\":2,\"seq").unwrap();
        let (_, found) = Spool::open(dir.path(), "node-a").unwrap();
        assert_eq!(found.len(), 3);
    }
}
