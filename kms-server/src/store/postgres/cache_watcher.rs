//! The node's side of the object cache's coherence protocol (see `cache_coherence` for the protocol and why):
//! the watcher task that joins, reads the change log every poll interval without writing anything, renews the
//! node's lease and reports how far it applied the log when due, and prunes.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use deadpool_postgres::{Object, Pool};

use super::audit_table::NOW_MS;
use super::cache_options::CacheOptions;
use super::object_cache::{boot_now, ObjectCache};
use super::retry::Failure;
use crate::store::StoreError;

/// A node renews its lease every this part of it (when nothing else made it write its row sooner): with the
/// default 5 s lease every 625 ms, leaving it 3 s of the 3.75 s it trusts to get the next renewal through.
const RENEW_EVERY_LEASE_PART: u32 = 8;

/// What the node trusts of a lease: a quarter less than the database grants.
fn trusted(options: &CacheOptions) -> Duration {
    options.lease - options.lease / 4
}

/// How long after a renewal the next one is due (when nothing was applied in between).
fn renew_every(options: &CacheOptions) -> Duration {
    options.lease / RENEW_EVERY_LEASE_PART
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Change rows are kept at least this long (see `cache_coherence`).
const KEEP_CHANGES: Duration = Duration::from_secs(60);

/// How often each node prunes.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// Changes read per renewal at most (a node far behind catches up over several).
const CHANGES_PER_POLL: i64 = 1024;

/// Node rows whose lease ran out this many leases ago are removed.
const FORGET_NODE_AFTER_LEASES: u32 = 20;

// The join and the renewals commit without waiting for their WAL flush (`synchronous_commit` off for their own
// transaction, as the object statements do): 200 durable commits a second per node would each flush the WAL, and
// would flush along every deferred write of the node before its audit commit could. What a crash of the database
// could lose of them does not matter: the crash drops the watcher's connection, and the node stops serving from
// its cache at its next poll and joins again (see `cache_coherence`).
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

/// The watcher task's state.
pub(super) struct Watcher {
    node_id: Arc<str>,
    options: CacheOptions,
    cache: Option<Arc<ObjectCache>>,
    pool: Pool,
    /// The watcher's own connection (a new one after any failure: see `cache_coherence`).
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
    pub(super) fn new(
        node_id: Arc<str>,
        options: CacheOptions,
        cache: Option<Arc<ObjectCache>>,
        pool: Pool,
    ) -> Self {
        Self {
            node_id,
            options,
            cache,
            pool,
            client: None,
            applied: None,
            reported: None,
            renew_at: None,
            serving_until: None,
            last_prune: None,
        }
    }

    /// Polls until aborted (`Coherence::stop`).
    pub(super) async fn run(mut self) {
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
        let until = sent + trusted(&self.options);
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
        self.renew_at = Some(sent + renew_every(&self.options));
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
        let until = sent + trusted(&self.options);
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
        self.renew_at = Some(sent + renew_every(&self.options));
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
