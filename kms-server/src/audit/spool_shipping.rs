//! At a node's start, committing what its audit spool holds past the database's head (records of reads answered
//! before a crash, whose commits had not happened yet), after checking that they continue the chain there.
//!
//! Why apart from `database`: that module runs the log of a node already started; this runs once, before it.

use std::sync::Arc;

use super::database::{database_error, MAX_PER_COMMIT};
use super::spool::{Spool, Spooled};
use super::AuditError;
use crate::store::postgres::{Appended, AuditTable};

/// Commits the records `found` in the spool past the database's head `head` (whose hash is `head_hash`), after
/// checking that they continue the chain; returns the new head and its hash (`None`: nothing to commit). A spool
/// whose record at `head` differs from the database's, or whose records past it do not link, belongs to a chain
/// that was continued elsewhere or altered: refused, naming the spool, so that no record is dropped silently.
pub(super) fn ship_spooled(
    table: &AuditTable,
    node_id: &str,
    spool: &Spool,
    found: Vec<Spooled>,
    head: u64,
    head_hash: &str,
) -> Result<Option<(u64, String)>, AuditError> {
    let refuse = |sequence: u64, reason: String| {
        AuditError::ChainBroken {
        node: node_id.to_owned(),
        sequence,
        reason: format!(
            "{reason}; the spool {} holds records the database lacks (move it aside to start without them, after \
             keeping a copy)",
            spool.dir().display()
        ),
    }
    };
    let mut previous = head_hash.to_owned();
    let mut expected = head + 1;
    let mut records = Vec::new();
    for spooled in found {
        if spooled.record.sequence == head && head > 0 && spooled.record.hash != head_hash {
            return Err(refuse(
                head,
                "the spooled record at the database's head differs from the database's".into(),
            ));
        }
        if spooled.record.sequence <= head {
            continue;
        }
        let record = &spooled.record;
        if spooled.record.sequence != expected
            || record.previous_hash != previous
            || record.check_shape().is_err()
            || record.compute_hash() != record.hash
        {
            return Err(refuse(
                spooled.record.sequence,
                format!(
                    "the spooled record {} does not continue the chain at {expected}",
                    spooled.record.sequence
                ),
            ));
        }
        previous = record.hash.clone();
        expected += 1;
        records.push((spooled.record.sequence, Arc::<str>::from(spooled.text)));
    }
    let Some(&(last, _)) = records.last() else {
        return Ok(None);
    };
    for batch in records.chunks(MAX_PER_COMMIT) {
        match table
            .append(Arc::new(batch.to_vec()), true, true)
            .map_err(|e| database_error(table, e))?
        {
            Appended::Written => {}
            Appended::Behind { head: now } => {
                return Err(refuse(
                    now,
                    format!("the database's chain moved to {now} while the spool was committed"),
                ))
            }
        }
    }
    Ok(Some((last, previous)))
}
