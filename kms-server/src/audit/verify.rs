//! Reading the log back: full verification of the chain across the rotated files and the current one, and
//! recovery of its head when the log is reopened.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::files::{rotated_files, rotated_path};
use super::record::{AuditRecord, GENESIS_HASH};
use super::AuditError;

/// What a successful verification saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records checked (all of them, across every file).
    pub records: u64,
    /// The files checked, in chain order: rotated files by number, then the current file.
    pub files: Vec<PathBuf>,
    /// The last record's hash ([`GENESIS_HASH`] for an empty log): keep a copy elsewhere to detect truncation.
    pub head_hash: String,
}

/// Where the chain stands while it is read, and the checks each next record must pass (shared by the file log
/// and the chains in the database).
pub(super) struct ChainCheck {
    expected_sequence: u64,
    previous_hash: String,
    records: u64,
    seen_version: u32,
}

impl ChainCheck {
    pub(super) fn new() -> Self {
        Self {
            expected_sequence: 1,
            previous_hash: GENESIS_HASH.to_owned(),
            records: 0,
            seen_version: 0,
        }
    }

    /// A chain already checked up to record `head`, whose hash is `head_hash` (a spool's records after the
    /// database's head).
    pub(super) fn continuing(head: u64, head_hash: &str) -> Self {
        Self {
            expected_sequence: head + 1,
            previous_hash: head_hash.to_owned(),
            records: head,
            seen_version: 0,
        }
    }

    /// Records checked so far (= the last sequence).
    pub(super) fn records(&self) -> u64 {
        self.records
    }

    /// The last record's hash ([`GENESIS_HASH`] before any).
    pub(super) fn head_hash(&self) -> &str {
        &self.previous_hash
    }

    /// Checks that `record` continues the chain (shape, version order, next sequence, previous hash, own hash)
    /// and moves the chain on; otherwise says why not.
    pub(super) fn next(&mut self, record: &AuditRecord) -> Result<(), String> {
        record.check_shape()?;
        if record.version < self.seen_version {
            return Err(format!(
                "a version {} record after a version {} one",
                record.version, self.seen_version
            ));
        }
        self.seen_version = record.version;
        let expected = self.expected_sequence;
        if record.sequence != expected {
            let what = if record.sequence > expected {
                format!(
                    "{} record(s) missing (deleted, or a rotated file lost)",
                    record.sequence - expected
                )
            } else {
                "records were inserted, repeated or reordered".to_owned()
            };
            return Err(format!(
                "expected sequence {expected}, found {}: {what}",
                record.sequence
            ));
        }
        if record.previous_hash != self.previous_hash {
            return Err(format!(
                "previous hash {} does not match the hash of record {} ({})",
                record.previous_hash,
                expected - 1,
                self.previous_hash
            ));
        }
        let computed = record.compute_hash();
        if record.hash != computed {
            return Err(format!(
                "stored hash {} but the contents hash to {computed}: the record was altered",
                record.hash
            ));
        }
        self.previous_hash = record.hash.clone();
        self.expected_sequence += 1;
        self.records += 1;
        Ok(())
    }
}

fn parse(line: &[u8]) -> Result<AuditRecord, String> {
    serde_json::from_slice(line).map_err(|e| format!("not a valid audit record: {e}"))
}

/// Checks the whole log whose current file is `path`: the rotated files beside it (`audit.log.000001`, ...) in
/// number order, then `path` itself. Every record must be well-formed, carry the next sequence number (1, 2,
/// 3... continuing across files), link to the record before by its previous hash, and match its own hash. The
/// file numbers must run 1, 2, 3... too. Reports the first break: file, line, expected and found sequence.
pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport, AuditError> {
    let path = path.as_ref();
    let rotated = rotated_files(path).map_err(|e| AuditError::io(path, "cannot list", e))?;
    let mut files = Vec::with_capacity(rotated.len() + 1);
    for (index, (number, file)) in rotated.into_iter().enumerate() {
        let expected = index as u64 + 1;
        if number != expected {
            let missing = rotated_path(path, expected);
            return Err(AuditError::Broken {
                file: missing.clone(),
                line: 0,
                sequence: None,
                reason: format!(
                    "rotated file {} is missing (found {} next): its records are gone from the chain",
                    missing.display(),
                    file.display()
                ),
            });
        }
        files.push(file);
    }
    if !path.exists() && files.is_empty() {
        // Nothing at all: say so as an open failure rather than "0 records, OK".
        File::open(path).map_err(|e| AuditError::io(path, "cannot open", e))?;
    }
    let mut chain = ChainCheck::new();
    for file in &files {
        verify_file(file, &mut chain)?;
    }
    // The current file may be absent just after a rotation whose new file was not yet created.
    if path.exists() || files.is_empty() {
        verify_file(path, &mut chain)?;
        files.push(path.to_owned());
    }
    Ok(VerifyReport {
        records: chain.records,
        files,
        head_hash: chain.previous_hash,
    })
}

fn verify_file(path: &Path, chain: &mut ChainCheck) -> Result<(), AuditError> {
    let file = File::open(path).map_err(|e| AuditError::io(path, "cannot open", e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::with_capacity(512);
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| AuditError::io(path, "cannot read", e))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        let broken = |sequence: Option<u64>, reason: String| AuditError::Broken {
            file: path.to_owned(),
            line: number,
            sequence,
            reason,
        };
        if line.last() != Some(&b'\n') {
            return Err(broken(
                None,
                "incomplete final line (an interrupted write, or the file was cut)".into(),
            ));
        }
        let record = parse(&line[..line.len() - 1]).map_err(|reason| broken(None, reason))?;
        let sequence = Some(record.sequence);
        chain
            .next(&record)
            .map_err(|reason| broken(sequence, reason))?;
    }
}

/// The end of a file of the log, as `AuditLog::open` continues it.
#[derive(Debug)]
pub(super) struct Tail {
    /// Length of the complete records (the file is cut to it when `cut` was asked for).
    pub length: u64,
    pub last: Option<AuditRecord>,
}

/// Finds the last complete record of `file` without reading the whole file. With `cut`, an incomplete final
/// line (a write interrupted by a crash, never acknowledged) is cut off; without, it is an error.
pub(super) fn recover_tail(path: &Path, file: &File, cut: bool) -> Result<Tail, AuditError> {
    let io = |context: &str, e: io::Error| AuditError::io(path, context, e);
    let length = file.metadata().map_err(|e| io("cannot stat", e))?.len();
    let mut window = 64 * 1024u64;
    loop {
        let start = length.saturating_sub(window);
        let mut buffer = vec![0u8; (length - start) as usize];
        file.read_exact_at(&mut buffer, start)
            .map_err(|e| io("cannot read", e))?;
        let newlines: Vec<usize> = buffer
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        // The last complete line ends at the last newline and starts after the one before it (or at 0).
        let (end, begin) = match newlines.as_slice() {
            [.., before, last] => (*last, Some(*before + 1)),
            [last] if start == 0 => (*last, Some(0)),
            [] if start == 0 => {
                cut_to(path, file, length, 0, cut)?;
                return Ok(Tail {
                    length: 0,
                    last: None,
                });
            }
            _ => (0, None),
        };
        let Some(begin) = begin else {
            window *= 2;
            continue;
        };
        let complete = start + end as u64 + 1;
        cut_to(path, file, length, complete, cut)?;
        let head_error = |reason: String| AuditError::Head {
            path: path.to_owned(),
            reason,
        };
        let record = parse(&buffer[begin..end])
            .map_err(|e| head_error(format!("the last record does not parse: {e}")))?;
        if record.check_shape().is_err() || record.compute_hash() != record.hash {
            return Err(head_error(format!(
                "the last record (sequence {}) does not match its hash: the log was altered",
                record.sequence
            )));
        }
        return Ok(Tail {
            length: complete,
            last: Some(record),
        });
    }
}

fn cut_to(
    path: &Path,
    file: &File,
    length: u64,
    complete: u64,
    cut: bool,
) -> Result<(), AuditError> {
    if complete < length {
        if !cut {
            return Err(AuditError::Head {
                path: path.to_owned(),
                reason: "ends in an incomplete record".into(),
            });
        }
        tracing::warn!(
            path = %path.display(),
            bytes = length - complete,
            "audit log ends in an incomplete record (interrupted write); cutting it off"
        );
        file.set_len(complete)
            .map_err(|e| AuditError::io(path, "cannot cut the incomplete record", e))?;
    }
    Ok(())
}
