//! The object cache's settings (`[store] object_cache_mb`, `object_cache_poll_ms`, `object_cache_lease_ms`): what
//! the coherence protocol (`cache_coherence`), its watcher (`cache_watcher`) and the connection options share.

use std::time::Duration;

/// The object cache's settings (`[store] object_cache_mb`, `object_cache_poll_ms`, `object_cache_lease_ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheOptions {
    /// Bytes the cache holds at most; 0 turns it off (every Get reads the database). Default 32 MiB.
    pub bytes: u64,
    /// How often the watcher reads the change log (and, when due, renews the lease). Default 5 ms.
    pub poll: Duration,
    /// How long a renewal keeps the node's lease (and so the longest a write elsewhere waits for a node that
    /// stopped answering). Default 5 s.
    pub lease: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self {
            bytes: 32 * 1024 * 1024,
            poll: Duration::from_millis(5),
            lease: Duration::from_secs(5),
        }
    }
}
