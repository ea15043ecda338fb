//! Which object writes committed without waiting for their WAL flush are durable by now.
//!
//! Object writes made inside the dispatcher's deferral scope (see `store::deferred_durability`) commit with
//! `synchronous_commit` off when this node's audit log is in the same database: the message's audit records are
//! then committed durably before the message is acknowledged, and that commit's WAL flush covers every commit
//! record written before it. The books: every deferred write, once its statement has returned (committed or
//! not), takes the next number ([`Durability::finished`]); a durable commit reads the count before it starts and,
//! once it succeeded, raises the durable mark to it ([`Durability::covered`]): every write numbered up to there
//! had its commit record in the WAL before that commit's own record, which PostgreSQL flushed. A caller whose
//! writes were not covered that way (none should be: the audit log commits first) gets a flush of its own.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use deadpool_postgres::Object;

use super::retry::Failure;
use crate::store::StoreError;

/// A durable commit that writes (a transaction that writes nothing commits without flushing the WAL): one row of
/// `qkms_meta` rewritten with its own value. Concurrent flushes queue on that row's lock, which is acceptable for
/// what should never happen in the request path (see the module comment).
const FLUSH: &str = "WITH settings AS (
        SELECT set_config('synchronous_commit', 'on', true) AS value
    )
    UPDATE qkms_meta SET value = value
    WHERE name = (SELECT name FROM qkms_meta ORDER BY name LIMIT 1) AND (SELECT COUNT(*) FROM settings) = 1";

/// Flushes the WAL up to a commit made now.
pub(super) async fn flush(client: &Object) -> Result<(), Failure> {
    let statement = client.prepare_cached(FLUSH).await?;
    if client.execute(&statement, &[]).await? != 1 {
        return Err(StoreError::Corrupt("qkms_meta holds no entry to flush with".into()).into());
    }
    Ok(())
}

/// The counters, shared by the store and the audit table through their connection.
#[derive(Debug, Default)]
pub(super) struct Durability {
    /// Whether object writes may be deferred: this node's audit log is in this database.
    deferral: AtomicBool,
    /// Deferred writes finished so far.
    finished: AtomicU64,
    /// Deferred writes numbered up to this are durable.
    durable: AtomicU64,
}

impl Durability {
    /// From now on a durable commit of the audit log follows every acknowledged write (the node's audit chain is
    /// in this database), so object writes may commit without waiting for their flush.
    pub(super) fn enable_deferral(&self) {
        self.deferral.store(true, Ordering::Release);
    }

    pub(super) fn deferral_enabled(&self) -> bool {
        self.deferral.load(Ordering::Acquire)
    }

    /// A deferred write's statement returned: its number (its mark).
    pub(super) fn finished(&self) -> u64 {
        self.finished.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Deferred writes finished so far: read before a durable commit starts, passed to [`Self::covered`] after.
    pub(super) fn snapshot(&self) -> u64 {
        self.finished.load(Ordering::Acquire)
    }

    /// A durable commit that started after `snapshot` writes had finished succeeded.
    pub(super) fn covered(&self, snapshot: u64) {
        self.durable.fetch_max(snapshot, Ordering::AcqRel);
    }

    /// Whether the deferred write numbered `mark` is durable.
    pub(super) fn is_durable(&self, mark: u64) -> bool {
        mark == 0 || self.durable.load(Ordering::Acquire) >= mark
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_durable_commit_covers_only_the_writes_finished_before_it_started() {
        let books = Durability::default();
        assert!(books.is_durable(0));
        let first = books.finished();
        let snapshot = books.snapshot();
        let second = books.finished(); // finished while the commit was in flight
        books.covered(snapshot);
        assert!(books.is_durable(first));
        assert!(!books.is_durable(second));
        // An older commit finishing late never lowers the mark.
        books.covered(0);
        assert!(books.is_durable(first));
    }
}
