//! Reading the log back: full verification of the chain, and recovery of its head when the log is reopened.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::record::{AuditRecord, GENESIS_HASH};
use super::AuditError;

/// What a successful verification saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records checked (all of them).
    pub records: u64,
    /// The last record's hash ([`GENESIS_HASH`] for an empty log): keep a copy elsewhere to detect truncation.
    pub head_hash: String,
}

fn parse(line: &[u8], number: u64) -> Result<AuditRecord, AuditError> {
    serde_json::from_slice(line).map_err(|e| AuditError::Broken {
        line: number,
        sequence: None,
        reason: format!("not a valid audit record: {e}"),
    })
}

/// Checks every record of the log at `path`: well-formed, sequence numbers 1, 2, 3..., each previous hash equal
/// to the record before's hash, each hash equal to the hash of the record's contents. Reports the first break.
pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport, AuditError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| AuditError::io(path, "cannot open", e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut previous_hash = GENESIS_HASH.to_owned();
    let mut records = 0u64;
    let mut line = Vec::with_capacity(512);
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| AuditError::io(path, "cannot read", e))?;
        if read == 0 {
            break;
        }
        let number = records + 1;
        let broken = |sequence: Option<u64>, reason: String| AuditError::Broken {
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
        let record = parse(&line[..line.len() - 1], number)?;
        if record.sequence != number {
            return Err(broken(
                Some(record.sequence),
                format!(
                    "sequence number {} where {number} was expected: records were deleted, inserted or reordered",
                    record.sequence
                ),
            ));
        }
        if record.previous_hash != previous_hash {
            return Err(broken(
                Some(record.sequence),
                format!(
                    "previous hash {} does not match the hash of record {} ({previous_hash})",
                    record.previous_hash,
                    number - 1
                ),
            ));
        }
        let computed = record.compute_hash();
        if record.hash != computed {
            return Err(broken(
                Some(record.sequence),
                format!(
                    "stored hash {} but the contents hash to {computed}: the record was altered",
                    record.hash
                ),
            ));
        }
        previous_hash = record.hash;
        records = number;
    }
    Ok(VerifyReport {
        records,
        head_hash: previous_hash,
    })
}

/// The end of the log, as `AuditLog::open` continues it.
#[derive(Debug)]
pub(super) struct Tail {
    /// Length of the complete records (the file is cut to it).
    pub length: u64,
    pub last: Option<AuditRecord>,
}

/// Finds the last complete record without reading the whole log; cuts off an incomplete final line.
pub(super) fn recover_tail(path: &Path, file: &File) -> Result<Tail, AuditError> {
    let io = |context: &str, e| AuditError::io(path, context, e);
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
                cut(path, file, length, 0)?;
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
        cut(path, file, length, complete)?;
        let record = parse(&buffer[begin..end], 0).map_err(|e| AuditError::Head {
            path: path.to_owned(),
            reason: format!("the last record does not parse: {e}"),
        })?;
        if record.compute_hash() != record.hash {
            return Err(AuditError::Head {
                path: path.to_owned(),
                reason: format!(
                    "the last record (sequence {}) does not match its hash: the log was altered",
                    record.sequence
                ),
            });
        }
        return Ok(Tail {
            length: complete,
            last: Some(record),
        });
    }
}

fn cut(path: &Path, file: &File, length: u64, complete: u64) -> Result<(), AuditError> {
    if complete < length {
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
