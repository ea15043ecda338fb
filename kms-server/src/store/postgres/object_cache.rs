//! The node's cache of object rows: what `objects::get` read (the clear attribute record, the SEALED blob and
//! the revision), keyed by storage key, bounded by bytes (quick_cache, weighted by the rows' sizes). Never the
//! unsealed object: key material stays sealed in memory as it is in the database (unsealing a small key again
//! per Get costs about a microsecond). Misses are not cached.
//!
//! This module is the local half of the coherence protocol (`cache_coherence` is the database half). It only
//! serves while the node holds a lease: [`ObjectCache::lookup`] answers from memory while the lease, as this
//! process's clock times it, has not run out, and a lapsed lease is only renewed together with emptying the
//! cache ([`ObjectCache::restart`]).
//!
//! One lock (the gate) orders the cache's readers against its invalidations:
//! - a lookup takes it shared, finds the row and checks the lease under it, so an invalidation (which takes it
//!   exclusively) and the report "seen" that follows it cannot fall between finding a row and deciding to serve it;
//! - a Get that missed notes the gate's epoch before reading the database and inserts what it read only if no
//!   invalidation was applied since (same epoch, checked under the gate): a row read just before a change
//!   committed is never cached after that change's invalidation has gone by.
//!
//! The lease clock is CLOCK_BOOTTIME, which keeps counting while the machine is suspended (Rust's `Instant`
//! does not): a node that wakes from a suspension longer than its lease does not serve from its cache again
//! before its watcher has caught up.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use super::objects::Read;

/// A cached row.
pub(super) type Row = Arc<Read>;

/// What one cached row counts for against the bound: its bytes, the key twice (the map and the row) and the
/// map's bookkeeping.
const ROW_OVERHEAD: u64 = 96;

#[derive(Clone, Copy, Debug, Default)]
struct RowWeight;

impl quick_cache::Weighter<Vec<u8>, Row> for RowWeight {
    fn weight(&self, key: &Vec<u8>, row: &Row) -> u64 {
        (key.len() + row.record.len() + row.blob.as_ref().map_or(0, Vec::len)) as u64 + ROW_OVERHEAD
    }
}

type Rows = quick_cache::sync::Cache<Vec<u8>, Row, RowWeight>;

/// The gate: the invalidation epoch and until when (boot clock) the lease lets the cache serve.
#[derive(Debug, Default)]
struct Gate {
    epoch: u64,
    serving_until: Option<Duration>,
}

/// The epoch a Get noted before reading the database (see [`ObjectCache::fill`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ticket(u64);

/// The cache of one node (one `PgStore`).
pub(super) struct ObjectCache {
    rows: Rows,
    capacity: u64,
    gate: RwLock<Gate>,
}

impl std::fmt::Debug for ObjectCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectCache")
            .field("rows", &self.rows.len())
            .field("bytes", &self.rows.weight())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// Now on the boot clock (monotonic, counting suspensions). `None` if the clock cannot be read, which makes the
/// cache stop serving rather than guess.
pub(super) fn boot_now() -> Option<Duration> {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
        .ok()
        .map(Duration::from)
}

impl ObjectCache {
    /// An empty cache of at most `capacity` bytes, not serving until its first lease.
    pub(super) fn new(capacity: u64) -> Self {
        let estimated_rows = usize::try_from(capacity / 512)
            .unwrap_or(usize::MAX)
            .max(16);
        Self {
            rows: Rows::with_weighter(estimated_rows, capacity, RowWeight),
            capacity,
            gate: RwLock::default(),
        }
    }

    fn gate(&self) -> std::sync::RwLockReadGuard<'_, Gate> {
        self.gate.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn gate_mut(&self) -> std::sync::RwLockWriteGuard<'_, Gate> {
        self.gate.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The row under `key`, if cached and the lease still runs.
    pub(super) fn lookup(&self, key: &[u8]) -> Option<Row> {
        let gate = self.gate();
        let row = self.rows.get(key)?;
        let serving =
            matches!((gate.serving_until, boot_now()), (Some(until), Some(now)) if now < until);
        serving.then_some(row)
    }

    /// Noted before a Get reads the database.
    pub(super) fn ticket(&self) -> Ticket {
        Ticket(self.gate().epoch)
    }

    /// Caches `row`, read from the database after `ticket` was taken, unless an invalidation was applied since.
    pub(super) fn fill(&self, ticket: Ticket, key: &[u8], row: Row) {
        let gate = self.gate();
        if gate.epoch == ticket.0 {
            self.rows.insert(key.to_vec(), row);
        }
    }

    /// Drops the rows under `keys` (changed elsewhere or here), and then lets the cache serve until `until` when
    /// given (a renewed lease).
    pub(super) fn invalidate<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k [u8]>,
        until: Option<Duration>,
    ) {
        let mut gate = self.gate_mut();
        gate.epoch = gate.epoch.wrapping_add(1);
        for key in keys {
            self.rows.remove(key);
        }
        if until.is_some() {
            gate.serving_until = until;
        }
    }

    /// Lets the cache serve until `until` (a renewed lease, nothing to invalidate).
    pub(super) fn extend(&self, until: Duration) {
        self.gate_mut().serving_until = Some(until);
    }

    /// Stops serving (the lease is lost or cannot be renewed); rows stay until [`Self::restart`].
    pub(super) fn stop_serving(&self) {
        self.gate_mut().serving_until = None;
    }

    /// Empties the cache and serves again until `until`: after a lapse, when the watcher has joined again at the
    /// current change (what it missed meanwhile is unknown, so nothing cached before is kept).
    pub(super) fn restart(&self, until: Duration) {
        let mut gate = self.gate_mut();
        gate.epoch = gate.epoch.wrapping_add(1);
        self.rows.clear();
        gate.serving_until = Some(until);
    }

    /// Bytes held now (by the rows' weights).
    pub(super) fn weight(&self) -> u64 {
        self.rows.weight()
    }

    /// Rows held now.
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(size: usize, revision: i64) -> Row {
        Arc::new(Read {
            record: vec![7; size],
            blob: Some(vec![9; 60]),
            revision,
        })
    }

    fn serving(cache: &ObjectCache) {
        cache.restart(boot_now().unwrap() + Duration::from_secs(60));
    }

    #[test]
    fn the_byte_bound_holds_however_many_rows_are_filled() {
        let cache = ObjectCache::new(64 * 1024);
        serving(&cache);
        for i in 0..5000u32 {
            let ticket = cache.ticket();
            cache.fill(ticket, &i.to_be_bytes(), row(300, 1));
            assert!(
                cache.weight() <= 64 * 1024,
                "{} bytes after {i}",
                cache.weight()
            );
        }
        assert!(cache.len() > 50, "the cache keeps rows: {}", cache.len());
        assert!(
            cache.len() < 5000 * 100 / 300,
            "rows were evicted: {}",
            cache.len()
        );
    }

    #[test]
    fn a_fill_that_raced_an_invalidation_is_not_cached() {
        let cache = ObjectCache::new(1 << 20);
        serving(&cache);
        let ticket = cache.ticket();
        // The change's invalidation goes by while the Get is reading the database.
        cache.invalidate([b"k".as_slice()], None);
        cache.fill(ticket, b"k", row(10, 1));
        assert!(cache.lookup(b"k").is_none());
        // A Get that starts after it caches what it read.
        let ticket = cache.ticket();
        cache.fill(ticket, b"k", row(10, 2));
        assert_eq!(cache.lookup(b"k").unwrap().revision, 2);
        cache.invalidate([b"k".as_slice()], None);
        assert!(cache.lookup(b"k").is_none());
    }

    #[test]
    fn nothing_is_served_without_a_running_lease_and_a_restart_empties_the_cache() {
        let cache = ObjectCache::new(1 << 20);
        let ticket = cache.ticket();
        cache.fill(ticket, b"k", row(10, 1));
        assert!(cache.lookup(b"k").is_none(), "no lease yet");
        cache.extend(boot_now().unwrap() + Duration::from_secs(60));
        assert!(cache.lookup(b"k").is_some());
        cache.extend(boot_now().unwrap());
        assert!(cache.lookup(b"k").is_none(), "the lease ran out");
        cache.extend(boot_now().unwrap() + Duration::from_secs(60));
        cache.stop_serving();
        assert!(cache.lookup(b"k").is_none(), "stopped");
        cache.restart(boot_now().unwrap() + Duration::from_secs(60));
        assert_eq!(cache.len(), 0);
        cache.fill(ticket, b"k", row(10, 1));
        assert!(
            cache.lookup(b"k").is_none(),
            "a fill from before the restart"
        );
    }
}
