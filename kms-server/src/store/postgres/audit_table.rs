//! The audit log in the database: one hash-chained sequence of records per node (`qkms_audit`, keyed by node id
//! and sequence), and per node the process that holds its chain (`qkms_audit_nodes`).
//!
//! Why one chain per node rather than one ordered by the database: a single chain would make every audited
//! request of every node wait for the one row holding the chain's head (a global lock across nodes); one chain
//! per node needs no coordination beyond claiming it once, and `qkms audit verify` checks every chain.
//!
//! Claiming: a node's chain has one writer. At start-up the node takes its row in `qkms_audit_nodes` (owner =
//! this process) unless another process holds it: one whose heartbeat is fresher than [`LEASE`] is live and the
//! node refuses to start; a holder that stopped heartbeating (or that is a dead process on this same host) is
//! replaced. Every batch of records is written by ONE statement that first updates the node's row on the
//! condition that this process still owns it: a process that lost its claim (paused past the lease while another
//! took over) writes nothing, and the primary key stops any duplicate sequence anyway.
//!
//! The database's clock (milliseconds since the epoch, `NOW_MS`) times the lease, so nodes' clocks do not matter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::Object;

use super::audit_rows::{from_row, to_row};
use super::connection::Connection;
use super::retry::Failure;
use crate::audit::GENESIS_HASH;
use crate::store::StoreError;

/// A holder that has not written or heartbeaten for this long may be replaced.
pub const LEASE: Duration = Duration::from_secs(10);

/// The database's clock in milliseconds since the epoch (portable: no PostgreSQL-only functions).
pub(super) const NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT)";

/// This process's hold on one node's chain, and the statements that write it.
pub struct AuditTable {
    connection: Arc<Connection>,
    node_id: String,
    owner: String,
}

impl std::fmt::Debug for AuditTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTable")
            .field("node_id", &self.node_id)
            .field("owner", &self.owner)
            .field("database", &self.connection.describe())
            .finish()
    }
}

/// A chain this process has just claimed: the hold on it, its last record (sequence, text) and the head
/// sequence its claim row recorded.
#[derive(Debug)]
pub struct ClaimedChain {
    pub table: AuditTable,
    pub last: Option<(u64, String)>,
    pub head_sequence: u64,
}

/// Where a claim stands.
struct Holder {
    owner: String,
    heartbeat_ms: i64,
    now_ms: i64,
}

/// This process, as it names itself in `owner`: host, pid, and the time it claimed (so that two runs of one pid
/// differ).
fn owner_token(host: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{host} pid {} at {nanos}", std::process::id())
}

/// Whether `owner` names a process of this host that no longer runs (or this very process's pid in an earlier
/// life, e.g. pid 1 of a restarted container).
fn is_dead_local_process(owner: &str, host: &str) -> bool {
    let Some(rest) = owner.strip_prefix(&format!("{host} pid ")) else {
        return false;
    };
    let Some(pid) = rest.split(' ').next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    pid == std::process::id() || !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn to_i64(sequence: u64) -> i64 {
    i64::try_from(sequence).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(sequence: i64) -> u64 {
    u64::try_from(sequence).unwrap_or_default()
}

impl AuditTable {
    /// Claims `node_id`'s chain for this process (waiting at most [`LEASE`] and a little more for a silent
    /// holder to expire), and returns it with the chain's last record (its text) and the head sequence the claim
    /// row recorded.
    pub(super) fn claim(
        connection: Arc<Connection>,
        node_id: &str,
        host: &str,
    ) -> Result<ClaimedChain, StoreError> {
        let owner = owner_token(host);
        let deadline = Instant::now() + LEASE + Duration::from_secs(2);
        let mut first_seen: Option<i64> = None;
        loop {
            let (id, me) = (node_id.to_owned(), owner.clone());
            let holder = connection.run(move |client, _| {
                let (id, me) = (id.clone(), me.clone());
                async move { try_claim(&client, &id, &me).await }
            })?;
            let Some(holder) = holder else { break };
            let stale = holder.now_ms - holder.heartbeat_ms > LEASE.as_millis() as i64
                || holder.owner.is_empty()
                || is_dead_local_process(&holder.owner, host);
            if stale {
                let (id, me, old) = (node_id.to_owned(), owner.clone(), holder.owner.clone());
                let taken = connection.run(move |client, _| {
                    let (id, me, old) = (id.clone(), me.clone(), old.clone());
                    async move { take_over(&client, &id, &me, &old).await }
                })?;
                if taken {
                    tracing::warn!(node_id, previous = %holder.owner, "audit chain taken over from a stopped process");
                    break;
                }
                continue;
            }
            let live = first_seen.is_some_and(|seen| seen != holder.heartbeat_ms);
            if live || Instant::now() > deadline {
                return Err(StoreError::Config(format!(
                    "the audit chain of node id {node_id:?} is held by another running qkms-server ({}, last seen \
                     {} ms ago): two nodes must not share a chain; give each node its own [audit] node_id",
                    holder.owner,
                    holder.now_ms - holder.heartbeat_ms
                )));
            }
            first_seen.get_or_insert(holder.heartbeat_ms);
            std::thread::sleep(Duration::from_millis(500));
        }
        let id = node_id.to_owned();
        let (last, head) = connection.run(move |client, _| {
            let id = id.clone();
            async move { chain_end(&client, &id).await }
        })?;
        Ok(ClaimedChain {
            table: Self {
                connection,
                node_id: node_id.to_owned(),
                owner,
            },
            last,
            head_sequence: head,
        })
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Where the database is (no password).
    pub fn describe(&self) -> &str {
        self.connection.describe()
    }

    /// Writes `records` ((sequence, record text), consecutive) in one statement, with the claim row's heartbeat
    /// and head, if this process still holds the chain. `durable`: committed with the WAL flushed (the
    /// database's default); otherwise `synchronous_commit` is off for this transaction (visible at once, on
    /// disk within the WAL writer's delay; a later durable commit flushes it too). `recheck`: an earlier
    /// attempt may have committed some of these records before its connection failed; those already stored
    /// are skipped (retries on a new connection recheck too). With no records this is a heartbeat. A durable
    /// commit also makes the object writes deferred before it durable (its flush covers their commit records).
    ///
    /// The records must continue the chain where the database has it: when the database's head is short of the
    /// first record (it lost commits that were not flushed yet: a crash), nothing is written and
    /// [`Appended::Behind`] says where the chain ends there, so that the caller sends the lost records again.
    pub fn append(
        &self,
        records: Arc<Vec<(u64, Arc<str>)>>,
        durable: bool,
        recheck: bool,
    ) -> Result<Appended, StoreError> {
        let (id, owner) = (self.node_id.clone(), self.owner.clone());
        // Object writes whose flush was deferred to this commit (see `durability`): those finished before it starts.
        let deferred = self.connection.durability.snapshot();
        let written = self.connection.run(move |client, attempt| {
            let (records, id, owner) = (Arc::clone(&records), id.clone(), owner.clone());
            async move {
                write(
                    client,
                    &id,
                    &owner,
                    &records,
                    durable,
                    recheck || attempt > 0,
                )
                .await
            }
        });
        if matches!(written, Ok(Appended::Written)) && durable {
            self.connection.durability.covered(deferred);
        }
        written
    }
}

/// Takes the node's row if nobody has it (inserting it), else returns who holds it.
async fn try_claim(client: &Object, node_id: &str, owner: &str) -> Result<Option<Holder>, Failure> {
    let inserted = client
        .execute(
            &format!(
                "INSERT INTO qkms_audit_nodes (node_id, owner, heartbeat_ms, head_sequence)
                 VALUES ($1, $2, {NOW_MS}, 0) ON CONFLICT (node_id) DO NOTHING"
            ),
            &[&node_id, &owner],
        )
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    let row = client
        .query_one(
            &format!(
                "SELECT owner, heartbeat_ms, {NOW_MS} FROM qkms_audit_nodes WHERE node_id = $1"
            ),
            &[&node_id],
        )
        .await?;
    Ok(Some(Holder {
        owner: row.get(0),
        heartbeat_ms: row.get(1),
        now_ms: row.get(2),
    }))
}

/// Replaces the holder `previous` (only if it is still the holder: two nodes replacing it at once, one wins).
async fn take_over(
    client: &Object,
    node_id: &str,
    owner: &str,
    previous: &str,
) -> Result<bool, Failure> {
    let updated = client
        .execute(
            &format!(
                "UPDATE qkms_audit_nodes SET owner = $2, heartbeat_ms = {NOW_MS} WHERE node_id = $1 AND owner = $3"
            ),
            &[&node_id, &owner, &previous],
        )
        .await?;
    Ok(updated == 1)
}

/// The chain's last record (sequence, text) and the head sequence of its claim row.
async fn chain_end(
    client: &Object,
    node_id: &str,
) -> Result<(Option<(u64, String)>, u64), Failure> {
    // The last row, and the one before for its previous hash (see `audit_rows`).
    let mut rows = client
        .query(
            "SELECT sequence, record, hash FROM qkms_audit WHERE node_id = $1 ORDER BY sequence DESC LIMIT 2",
            &[&node_id],
        )
        .await?
        .into_iter()
        .map(|r| (to_u64(r.get(0)), r.get::<_, String>(1), r.get::<_, Option<Vec<u8>>>(2)));
    let (last, before) = (rows.next(), rows.next());
    let previous = before.map_or_else(
        || GENESIS_HASH.to_owned(),
        |(_, record, hash)| from_row(record, hash.as_deref(), GENESIS_HASH).1,
    );
    let last = last
        .map(|(sequence, record, hash)| (sequence, from_row(record, hash.as_deref(), &previous).0));
    let head = client
        .query_one(
            "SELECT head_sequence FROM qkms_audit_nodes WHERE node_id = $1",
            &[&node_id],
        )
        .await?;
    Ok((last, to_u64(head.get(0))))
}

/// The claim check, the heartbeat and the head move in the same statement as the records (which must start right
/// after the head, `$7`; NULL for a heartbeat; `$5` and `$8` hold them as rows keep them, see `audit_rows`), and the
/// statement
/// sets `synchronous_commit` for its own transaction (`set_config(..., true)`: `$6` is `on` or `off`), so a
/// commit costs one round trip either way. The `settings` CTE is referenced so that it is evaluated.
const WRITE: &str = "WITH settings AS (
        SELECT set_config('synchronous_commit', $6, true) AS value
    ),
    claimed AS (
        UPDATE qkms_audit_nodes SET heartbeat_ms = CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT),
            head_sequence = CASE WHEN head_sequence > $3 THEN head_sequence ELSE $3 END
        WHERE node_id = $1 AND owner = $2 AND ($7::BIGINT IS NULL OR head_sequence = $7::BIGINT)
            AND (SELECT COUNT(*) FROM settings) = 1
        RETURNING node_id
    ),
    written AS (
        INSERT INTO qkms_audit (node_id, sequence, record, hash)
        SELECT claimed.node_id, r.sequence, r.record, r.hash
        FROM claimed CROSS JOIN unnest($4::BIGINT[], $5::TEXT[], $8::BYTEA[]) AS r(sequence, record, hash)
        RETURNING sequence
    )
    SELECT (SELECT COUNT(*) FROM claimed), (SELECT COUNT(*) FROM written)";

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// The records (or the heartbeat) were committed.
    Written,
    /// Nothing was written: the database's chain ends at `head`, before the first record.
    Behind { head: u64 },
}

async fn write(
    client: Object,
    node_id: &str,
    owner: &str,
    records: &[(u64, Arc<str>)],
    durable: bool,
    recheck: bool,
) -> Result<Appended, Failure> {
    let mut records: Vec<&(u64, Arc<str>)> = records.iter().collect();
    if recheck && !records.is_empty() {
        let (first, last) = (records[0].0, records[records.len() - 1].0);
        let stored = client
            .query(
                "SELECT sequence FROM qkms_audit WHERE node_id = $1 AND sequence >= $2 AND sequence <= $3",
                &[&node_id, &to_i64(first), &to_i64(last)],
            )
            .await?;
        let stored: Vec<u64> = stored.iter().map(|r| to_u64(r.get(0))).collect();
        records.retain(|(sequence, _)| !stored.contains(sequence));
    }
    let head = records.last().map_or(0, |(sequence, _)| to_i64(*sequence));
    let follows: Option<i64> = records.first().map(|(sequence, _)| to_i64(*sequence) - 1);
    let sequences: Vec<i64> = records.iter().map(|(s, _)| to_i64(*s)).collect();
    let (texts, hashes): (Vec<String>, Vec<Option<Vec<u8>>>) =
        records.iter().map(|(_, text)| to_row(text)).unzip();
    let commit = if durable { "on" } else { "off" };
    let statement = client.prepare_cached(WRITE).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &node_id, &owner, &head, &sequences, &texts, &commit, &follows, &hashes,
            ],
        )
        .await?;
    let (claimed, written): (i64, i64) = (row.get(0), row.get(1));
    if claimed != 1 {
        let holder = client
            .query_opt(
                "SELECT owner, head_sequence FROM qkms_audit_nodes WHERE node_id = $1",
                &[&node_id],
            )
            .await?;
        if let Some(holder) = holder.filter(|h| h.get::<_, String>(0) == owner) {
            // Still ours: the database's chain ends before these records.
            return Ok(Appended::Behind {
                head: to_u64(holder.get(1)),
            });
        }
        return Err(StoreError::Database(format!(
            "this process no longer holds the audit chain of node id {node_id:?} (another process claimed it): \
             nothing more can be recorded here; restart this node with its own [audit] node_id"
        ))
        .into());
    }
    if written as usize != records.len() {
        return Err(StoreError::Database(format!(
            "{written} of {} audit records were written",
            records.len()
        ))
        .into());
    }
    Ok(Appended::Written)
}
