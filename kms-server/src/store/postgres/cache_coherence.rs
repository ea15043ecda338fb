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
//! that report) and otherwise every eighth of the lease ([`RENEW_EVERY_LEASE_PART`]); a poll that writes nothing
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
//! older than [`KEEP_CHANGES`] (so a node joining at the same moment, which needs the changes after the counter
//! it read, finds them), and node rows whose lease ran out long ago. A node removes its own row when it closes.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use deadpool_postgres::{Object, Pool};

use super::connection::Connection;
use super::object_cache::{boot_now, ObjectCache};
use super::retry::Failure;
use crate::store::StoreError;

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

impl CacheOptions {
    /// What the node trusts of a lease: a quarter less than the database grants.
    fn trusted(&self) -> Duration {
        self.lease - self.lease / 4
    }

    /// How long after a renewal the next one is due (when nothing was applied in between).
    fn renew_every(&self) -> Duration {
        self.lease / RENEW_EVERY_LEASE_PART
    }
}

/// A node renews its lease every this part of it (when nothing else made it write its row sooner): with the
/// default 5 s lease every 625 ms, leaving it 3 s of the 3.75 s it trusts to get the next renewal through.
const RENEW_EVERY_LEASE_PART: u32 = 8;

/// Change rows are kept at least this long (see the module comment).
const KEEP_CHANGES: Duration = Duration::from_secs(60);

/// How often each node prunes.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// Changes read per renewal at most (a node far behind catches up over several).
const CHANGES_PER_POLL: i64 = 1024;

/// Node rows whose lease ran out this many leases ago are removed.
const FORGET_NODE_AFTER_LEASES: u32 = 20;

const NOW_MS: &str = super::audit_table::NOW_MS;

// The join and the renewals commit without waiting for their WAL flush (`synchronous_commit` off for their own
// transaction, as the object statements do): 200 durable commits a second per node would each flush the WAL, and
// would flush along every deferred write of the node before its audit commit could. What a crash of the database
// could lose of them does not matter: the crash drops the watcher's connection, and the node stops serving from
// its cache at its next poll and joins again (see the module comment).
static JOIN_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH settings AS (
            SELECT set_config('synchronous_commit', 'off', true) AS value
        )
        INSERT INTO qkms_cache_nodes (node_id, lease_until_ms, seen_seq)
         SELECT $1::TEXT, {NOW_MS} + $2::BIGINT, seq FROM qkms_change_counter
         WHERE id = 1 AND (SELECT COUNT(*) FROM settings) = 1
         ON CONFLICT (node_id) DO UPDATE SET lease_until_ms = excluded.lease_until_ms, seen_seq = excluded.seen_seq
         RETURNING seen_seq"
    )
});

// One row always (the LEFT JOIN), saying whether the node's row was renewed, then the changes after $3 if any.
static POLL_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH settings AS (
            SELECT set_config('synchronous_commit', 'off', true) AS value
        ),
        renewed AS (
            UPDATE qkms_cache_nodes SET lease_until_ms = {NOW_MS} + $2::BIGINT, seen_seq = $3::BIGINT
            WHERE node_id = $1::TEXT AND (SELECT COUNT(*) FROM settings) = 1
            RETURNING node_id
        )
        SELECT r.renewed, c.seq, c.storage_key
        FROM (SELECT COUNT(*) AS renewed FROM renewed) AS r
        LEFT JOIN (
            SELECT seq, storage_key FROM qkms_object_changes WHERE seq > $3::BIGINT ORDER BY seq LIMIT $4::BIGINT
        ) AS c ON TRUE
        ORDER BY c.seq"
    )
});

// A poll that writes nothing: the changes after $1, if any.
const CHANGES_SQL: &str =
    "SELECT seq, storage_key FROM qkms_object_changes WHERE seq > $1::BIGINT ORDER BY seq LIMIT $2::BIGINT";

static LAGGING_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT COUNT(*) FROM qkms_cache_nodes
         WHERE node_id <> $1::TEXT AND lease_until_ms > {NOW_MS}
            AND seen_seq < COALESCE($2::BIGINT, (SELECT seq FROM qkms_change_counter WHERE id = 1))"
    )
});

static PRUNE_CHANGES_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "DELETE FROM qkms_object_changes
         WHERE changed_ms < {NOW_MS} - $1::BIGINT
            AND seq < COALESCE(
                (SELECT MIN(seen_seq) FROM qkms_cache_nodes WHERE lease_until_ms > {NOW_MS}),
                (SELECT seq FROM qkms_change_counter WHERE id = 1))"
    )
});

static PRUNE_NODES_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("DELETE FROM qkms_cache_nodes WHERE lease_until_ms < {NOW_MS} - $1::BIGINT")
});

const LEAVE: &str = "DELETE FROM qkms_cache_nodes WHERE node_id = $1";

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

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
        let watcher = Watcher {
            node_id: Arc::clone(&node_id),
            options,
            cache: cache.clone(),
            pool,
            client: None,
            applied: None,
            reported: None,
            renew_at: None,
            serving_until: None,
            last_prune: None,
        };
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

/// The watcher task's state.
struct Watcher {
    node_id: Arc<str>,
    options: CacheOptions,
    cache: Option<Arc<ObjectCache>>,
    pool: Pool,
    /// The watcher's own connection (a new one after any failure: see the module comment).
    client: Option<Object>,
    /// The last change whose invalidation was applied; `None` until (re)joined.
    applied: Option<i64>,
    /// The last `seen_seq` written to the node's row.
    reported: Option<i64>,
    /// When (boot clock) the next renewal is due if nothing makes the node write its row sooner.
    renew_at: Option<Duration>,
    /// Until when (boot clock) the last renewal lets the cache serve.
    serving_until: Option<Duration>,
    last_prune: Option<Instant>,
}

impl Watcher {
    async fn run(mut self) {
        let mut ticks = tokio::time::interval(self.options.poll);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let behind = match self.round().await {
                Ok(behind) => behind,
                Err(failure) => {
                    if let Some(cache) = &self.cache {
                        cache.stop_serving();
                    }
                    if self.applied.is_some() {
                        tracing::warn!(
                            error = %failure.into_store_error(1),
                            "object cache: the lease could not be renewed; serving from the database until it is"
                        );
                    }
                    self.applied = None;
                    self.serving_until = None;
                    self.client = None;
                    false
                }
            };
            if !behind && self.last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                self.last_prune = Some(Instant::now());
                if let Err(failure) = self.prune().await {
                    tracing::debug!(error = %failure.into_store_error(1), "object cache: pruning failed");
                    self.client = None;
                }
                if self.cache.is_none() {
                    // Without a cache the connection is only needed once a second: back to the pool.
                    self.client = None;
                }
            }
            if behind {
                ticks.reset_immediately();
            }
        }
    }

    async fn client(&mut self) -> Result<&Object, Failure> {
        if self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.client = None;
        }
        if self.client.is_none() {
            self.client = Some(self.pool.get().await?);
        }
        Ok(self.client.as_ref().expect("set just above"))
    }

    /// One poll, renewal or join; `Ok(true)` when the next round should follow at once (more changes waiting,
    /// or changes applied that writers wait to see reported).
    async fn round(&mut self) -> Result<bool, Failure> {
        let Some(cache) = self.cache.clone() else {
            return Ok(false);
        };
        let sent = boot_now().ok_or_else(|| StoreError::Io("CLOCK_BOOTTIME unreadable".into()))?;
        if self.serving_until.is_none_or(|last| sent >= last) {
            // The lease ran out (a pause, a slow database): writers elsewhere stopped waiting for this node and the
            // changes it missed may be pruned, so it joins again with an empty cache.
            self.applied = None;
        }
        match self.applied {
            None => self.join(&cache, sent).await,
            Some(applied)
                if self.reported != Some(applied)
                    || self.renew_at.is_none_or(|due| sent >= due) =>
            {
                self.renew(&cache, sent, applied).await
            }
            Some(applied) => self.poll(&cache, applied).await,
        }
    }

    /// Takes (or retakes) the node's row at the current change and empties the cache.
    async fn join(&mut self, cache: &ObjectCache, sent: Duration) -> Result<bool, Failure> {
        let lease = millis(self.options.lease);
        let node_id = Arc::clone(&self.node_id);
        let until = sent + self.options.trusted();
        let client = self.client().await?;
        let statement = client.prepare_cached(&JOIN_SQL).await?;
        let row = client.query_one(&statement, &[&&*node_id, &lease]).await?;
        if boot_now().is_none_or(|now| now >= until) {
            return Err(StoreError::Io("the join took longer than the lease".into()).into());
        }
        let seq: i64 = row.get(0);
        cache.restart(until);
        self.applied = Some(seq);
        self.reported = Some(seq);
        self.renew_at = Some(sent + self.options.renew_every());
        self.serving_until = Some(until);
        tracing::debug!(node_id = %node_id, seq, "object cache: joined");
        Ok(false)
    }

    /// Renews the lease, reports `applied` and applies the changes after it.
    async fn renew(
        &mut self,
        cache: &ObjectCache,
        sent: Duration,
        applied: i64,
    ) -> Result<bool, Failure> {
        let lease = millis(self.options.lease);
        let node_id = Arc::clone(&self.node_id);
        let until = sent + self.options.trusted();
        let client = self.client().await?;
        let statement = client.prepare_cached(&POLL_SQL).await?;
        let rows = client
            .query(
                &statement,
                &[&&*node_id, &lease, &applied, &CHANGES_PER_POLL],
            )
            .await?;
        let renewed: i64 = rows.first().map_or(0, |r| r.get(0));
        if renewed == 0 {
            // The row is gone (pruned after a long pause): join again.
            cache.stop_serving();
            self.applied = None;
            return Ok(true);
        }
        if boot_now().is_none_or(|now| now >= until) {
            return Err(StoreError::Io("the renewal took longer than the lease".into()).into());
        }
        self.reported = Some(applied);
        self.renew_at = Some(sent + self.options.renew_every());
        self.serving_until = Some(until);
        let changes = rows.iter().filter_map(|row| {
            Some((
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, Option<Vec<u8>>>(2)?,
            ))
        });
        Ok(self.apply(cache, applied, changes, Some(until)))
    }

    /// Reads the changes after `applied` without writing anything, and applies them.
    async fn poll(&mut self, cache: &ObjectCache, applied: i64) -> Result<bool, Failure> {
        let client = self.client().await?;
        let statement = client.prepare_cached(CHANGES_SQL).await?;
        let rows = client
            .query(&statement, &[&applied, &CHANGES_PER_POLL])
            .await?;
        let changes = rows
            .iter()
            .map(|row| (row.get::<_, i64>(0), row.get::<_, Vec<u8>>(1)));
        Ok(self.apply(cache, applied, changes, None))
    }

    /// Drops the changed rows from the cache (and lets it serve until `until`, after a renewal); `true` when the
    /// node has something to report or more to read.
    fn apply(
        &mut self,
        cache: &ObjectCache,
        applied: i64,
        changes: impl Iterator<Item = (i64, Vec<u8>)>,
        until: Option<Duration>,
    ) -> bool {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut last = applied;
        for (seq, key) in changes {
            last = last.max(seq);
            keys.push(key);
        }
        match (keys.is_empty(), until) {
            (true, Some(until)) => cache.extend(until),
            (true, None) => {}
            (false, until) => cache.invalidate(keys.iter().map(Vec::as_slice), until),
        }
        self.applied = Some(last);
        last != applied
    }

    async fn prune(&mut self) -> Result<(), Failure> {
        let keep = millis(KEEP_CHANGES);
        let forget = millis(self.options.lease * FORGET_NODE_AFTER_LEASES);
        let client = self.client().await?;
        let statement = client.prepare_cached(&PRUNE_CHANGES_SQL).await?;
        client.execute(&statement, &[&keep]).await?;
        let statement = client.prepare_cached(&PRUNE_NODES_SQL).await?;
        client.execute(&statement, &[&forget]).await?;
        Ok(())
    }
}
