//! `qkms store migrate`: a node's entropy-as-a-service usage history (the `usage` of its `[eaas] state_file`) added
//! once to the day and month counters every node shares (`shared_usage`), so a node moved onto the database keeps
//! its tenants' quotas and totals instead of starting them at zero.
//!
//! Once: the copy and a row naming the node (its signing key's id, the state file's `server`) in `qkms_backfills`
//! commit in one transaction, so a re-run, or a retry after a lost answer, finds the row and adds nothing.
//! Totals the file keeps beyond its day history (days older than `HISTORY_DAYS` are dropped from the file, their
//! sums kept) go to the month row [`EARLIER`], which no quota ever reads and the totals count.

use std::collections::BTreeMap;
use std::sync::Arc;

use deadpool_postgres::Object;

use super::retry::Failure;
use super::shared_usage::to_i64;
use super::Database;
use crate::eaas::usage::TenantRecord;
use crate::store::StoreError;

/// The month under which usage older than the copied day history is kept (sorts before every `YYYY-MM`).
pub const EARLIER: &str = "0000-00";

/// What [`Database::copy_eaas_usage`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EaasUsageCopy {
    /// Tenants in the file.
    pub tenants: usize,
    /// Days of usage in the file.
    pub days: usize,
    /// Whether this run added them (`false`: an earlier run had).
    pub copied: bool,
}

/// One counter row: (tenant, day or month, requests, bytes).
type Rows = (Vec<String>, Vec<String>, Vec<i64>, Vec<i64>);

/// The file's usage as day rows and month rows (months summed from the days, plus [`EARLIER`]).
fn rows(usage: &BTreeMap<String, TenantRecord>) -> (Rows, Rows) {
    let (mut days, mut months): (Rows, Rows) = Default::default();
    for (tenant, record) in usage {
        let mut by_month: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (day, figures) in &record.days {
            days.0.push(tenant.clone());
            days.1.push(day.clone());
            days.2.push(to_i64(figures.requests));
            days.3.push(to_i64(figures.bytes));
            let month = by_month
                .entry(day.get(..7).unwrap_or(day).to_owned())
                .or_default();
            month.0 = month.0.saturating_add(figures.requests);
            month.1 = month.1.saturating_add(figures.bytes);
        }
        let (requests, bytes) = by_month.values().fold((0u64, 0u64), |(r, b), (mr, mb)| {
            (r.saturating_add(*mr), b.saturating_add(*mb))
        });
        let earlier = (
            record.total_requests.saturating_sub(requests),
            record.total_bytes.saturating_sub(bytes),
        );
        if earlier != (0, 0) {
            by_month.insert(EARLIER.to_owned(), earlier);
        }
        for (month, (requests, bytes)) in by_month {
            months.0.push(tenant.clone());
            months.1.push(month);
            months.2.push(to_i64(requests));
            months.3.push(to_i64(bytes));
        }
    }
    (days, months)
}

fn add_sql(table: &str, period: &str) -> String {
    format!(
        "INSERT INTO {table} (tenant, {period}, requests, bytes)
         SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[])
         ON CONFLICT (tenant, {period}) DO UPDATE SET
             requests = {table}.requests + excluded.requests,
             bytes = {table}.bytes + excluded.bytes"
    )
}

async fn copy(
    mut client: Object,
    marker: &str,
    days: &Rows,
    months: &Rows,
) -> Result<bool, Failure> {
    let transaction = client.transaction().await?;
    let claimed = transaction
        .execute(
            "INSERT INTO qkms_backfills (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
            &[&marker],
        )
        .await?;
    if claimed == 0 {
        transaction.rollback().await?;
        return Ok(false);
    }
    for (sql, rows) in [
        (add_sql("qkms_eaas_days", "day"), days),
        (add_sql("qkms_eaas_months", "month"), months),
    ] {
        transaction
            .execute(&sql, &[&rows.0, &rows.1, &rows.2, &rows.3])
            .await?;
    }
    transaction.commit().await?;
    Ok(true)
}

impl Database {
    /// Adds the entropy-as-a-service `usage` of node `node` (its state file's `server`) to the shared counters,
    /// unless an earlier run did.
    pub fn copy_eaas_usage(
        &self,
        node: &str,
        usage: &BTreeMap<String, TenantRecord>,
    ) -> Result<EaasUsageCopy, StoreError> {
        let days = usage.values().map(|record| record.days.len()).sum();
        let mut report = EaasUsageCopy {
            tenants: usage.len(),
            days,
            copied: false,
        };
        if usage.is_empty() {
            return Ok(report);
        }
        let marker: Arc<str> = format!("eaas usage of node {node}").into();
        let (days, months) = rows(usage);
        let rows = Arc::new((days, months));
        report.copied = self.connection.run(move |client, _| {
            let (marker, rows) = (Arc::clone(&marker), Arc::clone(&rows));
            async move { copy(client, &marker, &rows.0, &rows.1).await }
        })?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eaas::usage::DayUsage;

    #[test]
    fn months_are_summed_from_days_and_older_totals_kept_apart() {
        let mut record = TenantRecord {
            total_requests: 10,
            total_bytes: 1_000,
            ..TenantRecord::default()
        };
        for (day, requests, bytes) in [
            ("2026-11-30", 2, 100),
            ("2026-12-01", 3, 200),
            ("2026-12-05", 1, 50),
        ] {
            record.days.insert(day.into(), DayUsage { requests, bytes });
        }
        let usage = BTreeMap::from([("alice".to_owned(), record)]);
        let (days, months) = rows(&usage);
        assert_eq!(days.1, ["2026-11-30", "2026-12-01", "2026-12-05"]);
        assert_eq!(months.1, [EARLIER, "2026-11", "2026-12"]);
        assert_eq!(months.2, [4, 2, 4]);
        assert_eq!(months.3, [650, 100, 250]);
    }
}
