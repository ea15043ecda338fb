//! Usage counters every node shares: the KMIP per-tenant counters (`qkms_tenant_usage`, added to in batches by
//! each node's [`UsageLedger`]) and the entropy-as-a-service day and month counters (`qkms_eaas_days`,
//! `qkms_eaas_months`, charged per request by the [`QuotaLedger`]).
//!
//! KMIP batches: each node takes a number from `qkms_node_seq` at start and numbers its batches; a batch is
//! added in one transaction that first moves the node's row in `qkms_usage_flushes` to the batch's number, on
//! condition that it is lower, so a batch sent again after a lost answer is recognised and not added twice.
//!
//! Entropy-as-a-service quotas: one transaction of two conditional upserts (`INSERT ... SELECT ... WHERE` for a
//! new row, `ON CONFLICT DO UPDATE ... WHERE bytes + asked <= limit` for an existing one); the row locks order
//! the nodes' charges, so together they never pass a quota. If either refuses the transaction is rolled back.
//! A charge retried after a lost connection may count twice (the tenant is over-charged, never under-charged).

use std::collections::BTreeMap;
use std::sync::Arc;

use deadpool_postgres::Object;

use super::retry::Failure;
use super::Database;
use crate::config::EaasLimits;
use crate::eaas::usage::{trim_history, DayUsage, QuotaHit, QuotaLedger, TenantRecord};
use crate::store::StoreError;
use crate::tenant::TenantId;
use crate::usage::{TenantUsage, UsageLedger, UsageTable};

/// A counter as a `BIGINT` (saturating).
pub(super) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// [`UsageLedger`] on the database, for one running node.
#[derive(Debug)]
pub struct SharedUsage {
    database: Database,
    /// This node's number (`qkms_node_seq`), under which its batches are numbered.
    node: i64,
}

/// [`QuotaLedger`] on the database.
#[derive(Debug)]
pub struct SharedQuotas {
    database: Database,
}

impl Database {
    /// A ledger for this node's KMIP usage counters (takes the node's number from the database).
    pub fn usage_ledger(&self) -> Result<SharedUsage, StoreError> {
        let node = self.connection.run(|client, _| async move {
            let row = client
                .query_one("SELECT nextval('qkms_node_seq')", &[])
                .await?;
            Ok(row.get::<_, i64>(0))
        })?;
        Ok(SharedUsage {
            database: self.clone(),
            node,
        })
    }

    /// The entropy-as-a-service day and month counters.
    pub fn quota_ledger(&self) -> SharedQuotas {
        SharedQuotas {
            database: self.clone(),
        }
    }
}

/// The batch as one array per column.
struct Columns {
    tenants: Vec<String>,
    operations: Vec<i64>,
    failed: Vec<i64>,
    keys: Vec<i64>,
    random: Vec<i64>,
}

const ADD_BATCH: &str = "INSERT INTO qkms_tenant_usage
        (tenant, operations, failed_operations, keys_created, random_bytes_served)
    SELECT * FROM unnest($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[])
    ON CONFLICT (tenant) DO UPDATE SET
        operations = qkms_tenant_usage.operations + excluded.operations,
        failed_operations = qkms_tenant_usage.failed_operations + excluded.failed_operations,
        keys_created = qkms_tenant_usage.keys_created + excluded.keys_created,
        random_bytes_served = qkms_tenant_usage.random_bytes_served + excluded.random_bytes_served";

async fn add_batch(
    mut client: Object,
    node: i64,
    sequence: i64,
    columns: &Columns,
) -> Result<(), Failure> {
    let transaction = client.transaction().await?;
    let claimed = transaction
        .execute(
            "INSERT INTO qkms_usage_flushes (node, sequence) VALUES ($1, $2)
             ON CONFLICT (node) DO UPDATE SET sequence = excluded.sequence
             WHERE qkms_usage_flushes.sequence < excluded.sequence",
            &[&node, &sequence],
        )
        .await?;
    if claimed == 0 {
        // This batch was added before its answer was lost.
        transaction.rollback().await?;
        return Ok(());
    }
    transaction
        .execute(
            ADD_BATCH,
            &[
                &columns.tenants,
                &columns.operations,
                &columns.failed,
                &columns.keys,
                &columns.random,
            ],
        )
        .await?;
    transaction.commit().await?;
    Ok(())
}

async fn read_totals(client: &Object) -> Result<UsageTable, Failure> {
    let rows = client
        .query(
            "SELECT tenant, operations, failed_operations, keys_created, random_bytes_served
             FROM qkms_tenant_usage",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            (
                TenantId(row.get(0)),
                TenantUsage {
                    operations: to_u64(row.get(1)),
                    failed_operations: to_u64(row.get(2)),
                    keys_created: to_u64(row.get(3)),
                    random_bytes_served: to_u64(row.get(4)),
                },
            )
        })
        .collect())
}

impl UsageLedger for SharedUsage {
    fn add(&self, sequence: u64, batch: &UsageTable) -> Result<UsageTable, String> {
        let columns = Arc::new(Columns {
            tenants: batch.keys().map(|t| t.0.clone()).collect(),
            operations: batch.values().map(|u| to_i64(u.operations)).collect(),
            failed: batch
                .values()
                .map(|u| to_i64(u.failed_operations))
                .collect(),
            keys: batch.values().map(|u| to_i64(u.keys_created)).collect(),
            random: batch
                .values()
                .map(|u| to_i64(u.random_bytes_served))
                .collect(),
        });
        let (node, sequence) = (self.node, to_i64(sequence));
        self.database
            .connection
            .run(move |client, _| {
                let columns = Arc::clone(&columns);
                async move {
                    if !columns.tenants.is_empty() {
                        // A connection of its own for the transaction; the totals on the pool's next one.
                        add_batch(client, node, sequence, &columns).await?;
                        return Ok(None);
                    }
                    Ok(Some(read_totals(&client).await?))
                }
            })
            .and_then(|totals| match totals {
                Some(totals) => Ok(totals),
                None => self
                    .database
                    .connection
                    .run(|client, _| async move { read_totals(&client).await }),
            })
            .map_err(|e| e.to_string())
    }
}

/// A conditional charge of one period's row: a new row only within the limit, an existing one only while the
/// sum stays within it (`$4` = 0: unlimited). Returns a row when charged.
fn charge_sql(table: &str, period: &str) -> String {
    format!(
        "INSERT INTO {table} (tenant, {period}, requests, bytes)
         SELECT $1, $2, 1, $3::BIGINT WHERE $4::BIGINT = 0 OR $3::BIGINT <= $4::BIGINT
         ON CONFLICT (tenant, {period}) DO UPDATE SET
             requests = {table}.requests + 1,
             bytes = {table}.bytes + excluded.bytes
         WHERE $4::BIGINT = 0 OR {table}.bytes + excluded.bytes <= $4::BIGINT
         RETURNING bytes"
    )
}

/// What the row of `tenant` for `key` in `table` holds now (0 when there is none).
async fn used(
    transaction: &deadpool_postgres::Transaction<'_>,
    table: &str,
    period: &str,
    tenant: &str,
    key: &str,
) -> Result<u64, Failure> {
    let row = transaction
        .query_opt(
            &format!("SELECT bytes FROM {table} WHERE tenant = $1 AND {period} = $2"),
            &[&tenant, &key],
        )
        .await?;
    Ok(row.map_or(0, |row| to_u64(row.get(0))))
}

struct Charge {
    tenant: String,
    day: String,
    month: String,
    bytes: i64,
    per_day: i64,
    per_month: i64,
}

async fn charge(mut client: Object, c: &Charge) -> Result<Result<(), QuotaHit>, Failure> {
    let transaction = client.transaction().await?;
    let day_sql = charge_sql("qkms_eaas_days", "day");
    let charged = transaction
        .query_opt(&day_sql, &[&c.tenant, &c.day, &c.bytes, &c.per_day])
        .await?;
    if charged.is_none() {
        let used = used(&transaction, "qkms_eaas_days", "day", &c.tenant, &c.day).await?;
        transaction.rollback().await?;
        return Ok(Err(QuotaHit::Day { used }));
    }
    let month_sql = charge_sql("qkms_eaas_months", "month");
    let charged = transaction
        .query_opt(&month_sql, &[&c.tenant, &c.month, &c.bytes, &c.per_month])
        .await?;
    if charged.is_none() {
        let used = used(
            &transaction,
            "qkms_eaas_months",
            "month",
            &c.tenant,
            &c.month,
        )
        .await?;
        transaction.rollback().await?;
        return Ok(Err(QuotaHit::Month { used }));
    }
    transaction.commit().await?;
    Ok(Ok(()))
}

impl QuotaLedger for SharedQuotas {
    fn charge(
        &self,
        tenant: &str,
        day: &str,
        bytes: u64,
        limits: EaasLimits,
    ) -> Result<Result<(), QuotaHit>, String> {
        let request = Arc::new(Charge {
            tenant: tenant.to_owned(),
            day: day.to_owned(),
            month: day.get(..7).unwrap_or(day).to_owned(),
            bytes: to_i64(bytes),
            per_day: to_i64(limits.bytes_per_day),
            per_month: to_i64(limits.bytes_per_month),
        });
        self.database
            .connection
            .run(move |client, _| {
                let request = Arc::clone(&request);
                async move { charge(client, &request).await }
            })
            .map_err(|e| e.to_string())
    }

    fn refund(&self, tenant: &str, day: &str, bytes: u64) -> Result<(), String> {
        let request = Arc::new((
            tenant.to_owned(),
            day.to_owned(),
            day.get(..7).unwrap_or(day).to_owned(),
            to_i64(bytes),
        ));
        self.database
            .connection
            .run(move |mut client, _| {
                let request = Arc::clone(&request);
                async move {
                    let (tenant, day, month, bytes) = &*request;
                    let transaction = client.transaction().await?;
                    transaction
                        .execute(
                            "UPDATE qkms_eaas_days SET requests = requests - 1, bytes = bytes - $3
                             WHERE tenant = $1 AND day = $2",
                            &[tenant, day, bytes],
                        )
                        .await?;
                    transaction
                        .execute(
                            "UPDATE qkms_eaas_months SET requests = requests - 1, bytes = bytes - $3
                             WHERE tenant = $1 AND month = $2",
                            &[tenant, month, bytes],
                        )
                        .await?;
                    transaction.commit().await?;
                    Ok(())
                }
            })
            .map_err(|e| e.to_string())
    }

    fn records(&self, tenant: Option<&str>) -> Result<BTreeMap<String, TenantRecord>, String> {
        let tenant = tenant.map(str::to_owned);
        self.database
            .connection
            .run(move |client, _| {
                let tenant = tenant.clone();
                async move {
                    // NULL: every tenant.
                    let days = client
                        .query(
                            "SELECT tenant, day, requests, bytes FROM qkms_eaas_days
                             WHERE $1::TEXT IS NULL OR tenant = $1",
                            &[&tenant],
                        )
                        .await?;
                    let totals = client
                        .query(
                            "SELECT tenant, CAST(SUM(requests) AS BIGINT), CAST(SUM(bytes) AS BIGINT)
                             FROM qkms_eaas_months WHERE $1::TEXT IS NULL OR tenant = $1
                             GROUP BY tenant",
                            &[&tenant],
                        )
                        .await?;
                    let mut records: BTreeMap<String, TenantRecord> = BTreeMap::new();
                    for row in &totals {
                        let record = records.entry(row.get(0)).or_default();
                        record.total_requests = to_u64(row.get(1));
                        record.total_bytes = to_u64(row.get(2));
                    }
                    for row in &days {
                        records.entry(row.get(0)).or_default().days.insert(
                            row.get(1),
                            DayUsage {
                                requests: to_u64(row.get(2)),
                                bytes: to_u64(row.get(3)),
                            },
                        );
                    }
                    records.values_mut().for_each(trim_history);
                    Ok(records)
                }
            })
            .map_err(|e| e.to_string())
    }
}
