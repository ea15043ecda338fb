//! The audit log in files (the sled store's, and any set-up without a database): JSON lines appended to the
//! current file, synced by group commit, rotated by size (see the module documentation of `audit`).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::record::{AuditRecord, GENESIS_HASH};
use super::{files, lock, verify, AuditError, AuditOptions};
use crate::store::GroupCommit;

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

/// The open files: appends are serialised (the chain is a sequence); syncs are shared (group commit).
pub(super) struct FileLog {
    path: PathBuf,
    options: AuditOptions,
    head: Mutex<ChainHead>,
    /// The current file for syncing, so that syncing never waits for the append lock (replaced on rotation).
    sync_handle: Mutex<Arc<File>>,
    pub(super) commit: GroupCommit,
}

impl FileLog {
    /// Opens (creating if absent, with its directory) the log whose current file is `path` and continues its
    /// chain from the newest record: the current file's last, or the newest rotated file's when the current file
    /// is empty or missing. A final line left incomplete by a crash mid-write (never acknowledged: its sync had
    /// not completed) is cut off; a last record whose own hash does not match is refused, as tampering.
    pub(super) fn open(path: &Path, options: AuditOptions) -> Result<Self, AuditError> {
        let path = path.to_owned();
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
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Chains the record `build` makes for the next (sequence, previous hash) and writes its line (one `write`;
    /// no sync), or leaves the file ending in a complete record and the chain where it was.
    pub(super) fn append(
        &self,
        build: impl FnOnce(u64, String) -> AuditRecord,
    ) -> Result<u64, AuditError> {
        let mut head = lock(&self.head);
        let record = build(head.next_sequence, head.previous_hash.clone());
        let mut line = serde_json::to_vec(&record).map_err(|e| AuditError::Io {
            path: self.path.clone(),
            message: format!("cannot encode record: {e}"),
        })?;
        line.push(b'\n');
        self.write_line(&mut head, &line)?;
        head.next_sequence += 1;
        head.previous_hash = record.hash;
        drop(head);
        self.commit.record_write();
        Ok(record.sequence)
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

    /// Returns once every record appended before this call is on disk; concurrent callers share one sync.
    pub(super) fn wait_durable(&self) -> Result<(), AuditError> {
        self.commit
            .wait_durable(|| {
                let file = Arc::clone(&lock(&self.sync_handle));
                file.sync_data()
            })
            .map_err(|error| AuditError::io(&self.path, "cannot sync", error))
    }
}
