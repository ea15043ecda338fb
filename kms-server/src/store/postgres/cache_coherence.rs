//! Keeping every node's object cache (`object_cache`) coherent through the database alone (portable SQL, no
//! LISTEN/NOTIFY, whose delivery is asynchronous and would leave a window in which a node serves a row already
//! changed and acknowledged elsewhere).
//!
//! The change log: every statement that changes or removes an object row (`objects::update`, `objects::remove`)
//! also bumps the one counter row (`qkms_change_counter`) and logs (seq, storage key) in `qkms_object_changes`,
//! in the same statement, only when a row was changed. The counter row's lock is held to commit, so changes
//! commit in seq order: a watcher that has read every change up to `seq` misses none below it that commits later.
//! Creates log nothing (a new key is in no cache).
//!
//! Leases: each node (one `PgStore`, a random id from the entropy pool) has a row in `qkms_cache_nodes`. Its
//! watcher, every poll interval, reads the changes after the last one it applied (a read-only statement) and
//! applies them. It writes its row only when there is something to say: a renewal (ONE statement that renews
//! `lease_until_ms`, database clock + lease, reports `seen_seq`, the last change whose invalidation the node has
//! already applied, and reads the changes after it) runs right after the node applied changes (writers wait for
//! that report) and otherwise every eighth of the lease (`RENEW_EVERY_LEASE_PART`, `cache_watcher`); a poll that writes nothing
//! costs the database no transaction id, no WAL and no commit. The node serves from its cache only while its
//! lease runs by its own clock, counted from when the renewing statement was SENT, less a margin (a quarter of the
//! lease) for the database's clock and lost renewals: so the database never thinks a lease over that the node
//! still serves under. A poll or renewal that fails stops serving at once; the next success joins again: it
//! restarts from the current counter (the log before it may have been pruned) and only then empties the cache and
//! serves again.
//!
//! Writers: after a change committed, the writing node drops its own row and then waits until every OTHER node
//! whose lease still runs (database clock) has reported `seen_seq >= seq` ([`Coherence::changed`]). A node that
//! cannot report (frozen, cut off) stops serving when its lease runs out, so the wait is bounded by the lease;
//! past twice the lease the write reports an error (committed, but not confirmed everywhere).
//!
//! A database that crashes or fails over may lose changes that were visible but not yet durable (deferred
//! commits) and reuse their seqs. Every such event drops the database's connections, and the watcher keeps ONE
//! connection of its own (not a pooled one handed out per statement), so it notices, stops serving and joins
//! again from scratch.
//!
//! Clocks: leases are timed by the database's clock (`lease_until_ms`) and, on the node, by CLOCK_BOOTTIME from
//! the moment the renewal was sent. The node's quarter of margin covers the database's clock stepping forward
//! (or, on a distributed SQL database, its gateways' clocks differing: CockroachDB's default maximum offset is
//! 500 ms) by less than that margin; a larger forward step could let a writer skip a lease the node still trusts.
//!
//! What it costs: a cache hit is a shared lock, a hash lookup and a clock read (the row is then unsealed as after a
//! database read). Every node sends one small statement per poll, read-only unless it renews or reports (with
//! the defaults, 200 reads and 1.6 writes a second while nothing changes; an idle node's database spent 16-35 ms
//! of CPU a second with a renewal at every poll, 9-12 ms with read-only polls). A change costs, besides its own statement (now
//! with two more CTEs), one statement that finds no other node lagging (one node), or a few polls' wait (several).
//! And changes to objects, which touch disjoint rows otherwise, all take the counter row's lock from their bump to
//! their commit: with `synchronous_commit` on, that includes the WAL flush, so changes (not Creates) commit one
//! flush after another instead of sharing flushes; a commit that does not wait for the flush
//! (`synchronous_commit` off, made durable before the acknowledgment by a later flush) holds it only briefly.
//! An alternative that avoids the single row (a sequence) would let a change with a lower seq commit after a
//! higher one that a watcher has already passed; finding such gaps portably needs either waiting on them (a
//! rolled-back change leaves one for ever) or the database's snapshot internals.
//!
//! Pruning (every second, by every node, cache on or off): change rows below every live node's `seen_seq` and
//! older than `KEEP_CHANGES` (one minute, `cache_watcher`; so a node joining at the same moment, which needs the changes after the counter
//! it read, finds them), and node rows whose lease ran out long ago. A node removes its own row when it closes.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use deadpool_postgres::{Object, Pool};

use super::cache_options::CacheOptions;
use super::cache_watcher::Watcher;
use super::connection::Connection;
use super::object_cache::ObjectCache;
use super::retry::Failure;
use crate::store::StoreError;

const NOW_MS: &str = super::audit_table::NOW_MS;

static LAGGING_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT COUNT(*) FROM qkms_cache_nodes
         WHERE node_id <> $1::TEXT AND lease_until_ms > {NOW_MS}
            AND seen_seq < COALESCE($2::BIGINT, (SELECT seq FROM qkms_change_counter WHERE id = 1))"
    )
});

const LEAVE: &str = "DELETE FROM qkms_cache_nodes WHERE node_id = $1";

/// One node's side of the protocol: its id, its cache (when on) and its watcher task.
pub(super) struct Coherence {
    node_id: Arc<str>,
    options: CacheOptions,
    cache: Option<Arc<ObjectCache>>,
    watcher: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Coherence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coherence")
            .field("node_id", &self.node_id)
            .field("options", &self.options)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Coherence {
    /// Starts the node's watcher on `runtime` (it joins at its first poll; the cache serves from then on).
    pub(super) fn start(
        node_id: String,
        options: CacheOptions,
        pool: Pool,
        runtime: &tokio::runtime::Handle,
    ) -> Self {
        let node_id: Arc<str> = node_id.into();
        let cache = (options.bytes > 0).then(|| Arc::new(ObjectCache::new(options.bytes)));
        let watcher = Watcher::new(Arc::clone(&node_id), options, cache.clone(), pool);
        Self {
            watcher: Some(runtime.spawn(watcher.run())),
            node_id,
            options,
            cache,
        }
    }

    /// This node's cache, when on.
    pub(super) fn cache(&self) -> Option<&ObjectCache> {
        self.cache.as_deref()
    }

    /// This node's id in `qkms_cache_nodes`.
    pub(super) fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The longest [`Self::confirm`] waits.
    fn confirm_limit(&self) -> Duration {
        self.options.lease * 2
    }

    /// How long [`Self::confirm`] sleeps between its checks.
    fn confirm_pause(&self) -> Duration {
        (self.options.poll / 2).max(Duration::from_millis(1))
    }

    /// After a change committed (`seq`: its place in the change log; `None` when unknown): drops the row from
    /// this node's cache, then waits until every other node holding a cache lease has dropped it too.
    pub(super) fn changed(
        &self,
        connection: &Connection,
        storage_key: &[u8],
        seq: Option<i64>,
    ) -> Result<(), StoreError> {
        if let Some(cache) = self.cache() {
            cache.invalidate([storage_key], None);
        }
        let node_id = Arc::clone(&self.node_id);
        let (pause, limit) = (self.confirm_pause(), self.confirm_limit());
        connection.run(move |client, _| {
            let node_id = Arc::clone(&node_id);
            async move { wait_for_others(&client, &node_id, seq, pause, limit).await }
        })
    }

    /// Stops the watcher and removes this node's lease row, so that writers elsewhere stop waiting for it at once
    /// (best effort, one second at most: otherwise its lease runs out). For a node closing.
    pub(super) fn leave(&mut self, connection: &Connection) {
        self.stop();
        if self.cache.is_none() {
            return;
        }
        let node_id = Arc::clone(&self.node_id);
        let left = connection.run_once(Duration::from_secs(1), move |client| async move {
            client.execute(LEAVE, &[&&*node_id]).await?;
            Ok(())
        });
        if let Err(error) = left {
            tracing::debug!(%error, "object cache: the node's lease row stays until it runs out");
        }
    }

    /// Stops the watcher.
    pub(super) fn stop(&mut self) {
        if let Some(watcher) = self.watcher.take() {
            watcher.abort();
        }
    }
}

impl Drop for Coherence {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How many other nodes with a running lease have not yet applied change `seq` (`None`: the current counter,
/// for a write whose seq is unknown).
async fn lagging(client: &Object, node_id: &str, seq: Option<i64>) -> Result<i64, Failure> {
    let statement = client.prepare_cached(&LAGGING_SQL).await?;
    Ok(client
        .query_one(&statement, &[&node_id, &seq])
        .await?
        .get(0))
}

/// Waits until no other live node lags behind `seq` (see the module comment), checking every `pause`, for at
/// most `limit`.
async fn wait_for_others(
    client: &Object,
    node_id: &str,
    seq: Option<i64>,
    pause: Duration,
    limit: Duration,
) -> Result<(), Failure> {
    let started = Instant::now();
    loop {
        let behind = lagging(client, node_id, seq).await?;
        if behind == 0 {
            return Ok(());
        }
        if started.elapsed() >= limit {
            return Err(StoreError::Database(format!(
                "the change is committed, but {behind} other node(s) holding a cache lease did not confirm it \
                 within {} ms",
                limit.as_millis()
            ))
            .into());
        }
        tokio::time::sleep(pause).await;
    }
}
