//! At a node's start, committing what its audit spool holds past the database's head (records of reads answered
//! before a crash, whose commits had not happened yet), after checking that they continue the chain there.
//!
//! Why apart from `database`: that module runs the log of a node already started; this runs once, before it.

use std::sync::Arc;

use super::database::{database_error, MAX_PER_COMMIT};
use super::spool::{Spool, Spooled};
use super::verify::ChainCheck;
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
    let spool_note = format!(
        "the spool {} holds records the database lacks (move it aside to start without them, after keeping a copy)",
        spool.dir().display()
    );
    let refuse = |sequence: u64, reason: String| AuditError::ChainBroken {
        node: node_id.to_owned(),
        sequence,
        reason: format!("{reason}; {spool_note}"),
    };
    let mut chain = ChainCheck::continuing(head, head_hash);
    let mut records = Vec::new();
    for Spooled { text, record } in found {
        if record.sequence == head && head > 0 && record.hash != head_hash {
            return Err(refuse(
                head,
                "the spooled record at the database's head differs from the database's".into(),
            ));
        }
        if record.sequence <= head {
            continue;
        }
        let expected = chain.records() + 1;
        chain.next(&record).map_err(|why| {
            refuse(
                record.sequence,
                format!(
                    "the spooled record {} does not continue the chain at {expected}: {why}",
                    record.sequence
                ),
            )
        })?;
        records.push((record.sequence, Arc::<str>::from(text)));
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
    Ok(Some((last, chain.head_hash().to_owned())))
}
