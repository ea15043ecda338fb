//! Per-tenant metering and quotas for `/v1/random`: a token bucket for requests per second, bytes per UTC day
//! and month, and a per-day history for `/v1/usage`.
//!
//! Alone, a node keeps the counters in memory ([`Meter`], persisted in its state file). Nodes sharing a
//! database charge every request to a [`QuotaLedger`] instead (PostgreSQL: one transaction of conditional
//! increments of the tenant's day and month rows), so a quota holds across nodes; the request rate stays a
//! per-node token bucket (a cluster of N nodes lets a tenant through at up to N times its rate).

use std::collections::BTreeMap;
use std::time::Instant;

use time::OffsetDateTime;

use crate::config::EaasLimits;

/// Days of history kept per tenant (older days are dropped; the totals keep counting).
pub const HISTORY_DAYS: usize = 400;

/// One day's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DayUsage {
    pub requests: u64,
    pub bytes: u64,
}

/// A tenant's persisted counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TenantRecord {
    pub total_requests: u64,
    pub total_bytes: u64,
    /// `YYYY-MM-DD` (UTC) -> that day's figures.
    pub days: BTreeMap<String, DayUsage>,
}

impl TenantRecord {
    fn day(&self, day: &str) -> DayUsage {
        self.days.get(day).copied().unwrap_or_default()
    }

    fn month_bytes(&self, month: &str) -> u64 {
        self.days
            .range(month.to_owned()..)
            .take_while(|(day, _)| day.starts_with(month))
            .map(|(_, usage)| usage.bytes)
            .sum()
    }

    fn charge(&mut self, day: &str, bytes: u64) {
        self.total_requests = self.total_requests.saturating_add(1);
        self.total_bytes = self.total_bytes.saturating_add(bytes);
        let entry = self.days.entry(day.to_owned()).or_default();
        entry.requests = entry.requests.saturating_add(1);
        entry.bytes = entry.bytes.saturating_add(bytes);
        trim_history(self);
    }
}

/// Which limit a request ran into, and when to retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverLimit {
    /// The configuration key: `max_bytes_per_request`, `requests_per_second`, `bytes_per_day`,
    /// `bytes_per_month`.
    pub limit: &'static str,
    pub message: String,
    /// Seconds until the request could succeed (`None` for a request that never can).
    pub retry_after_secs: Option<u64>,
}

/// Which quota a shared charge ran into, and how much of it was used before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaHit {
    Day { used: u64 },
    Month { used: u64 },
}

/// The day and month counters every node shares.
pub trait QuotaLedger: Send + Sync + std::fmt::Debug {
    /// Charges one request of `bytes` to `tenant` on `day` (`YYYY-MM-DD`, UTC) unless that would pass its
    /// `bytes_per_day` or `bytes_per_month` (0: unlimited): all or nothing, atomic across nodes.
    fn charge(
        &self,
        tenant: &str,
        day: &str,
        bytes: u64,
        limits: EaasLimits,
    ) -> Result<Result<(), QuotaHit>, String>;
    /// Takes back a charge whose request was not served.
    fn refund(&self, tenant: &str, day: &str, bytes: u64) -> Result<(), String>;
    /// The records of `tenant`, or of every tenant (its last [`HISTORY_DAYS`] days).
    fn records(&self, tenant: Option<&str>) -> Result<BTreeMap<String, TenantRecord>, String>;
}

/// The refusal of a quota hit.
pub fn quota_refusal(
    hit: QuotaHit,
    limits: EaasLimits,
    bytes: u64,
    now: OffsetDateTime,
) -> OverLimit {
    match hit {
        QuotaHit::Day { used } => OverLimit {
            limit: "bytes_per_day",
            message: format!(
                "bytes_per_day quota: {used} of {} bytes used today (UTC), {bytes} more asked",
                limits.bytes_per_day
            ),
            retry_after_secs: Some(seconds_to_next_day(now)),
        },
        QuotaHit::Month { used } => OverLimit {
            limit: "bytes_per_month",
            message: format!(
                "bytes_per_month quota: {used} of {} bytes used this month (UTC), {bytes} more asked",
                limits.bytes_per_month
            ),
            retry_after_secs: Some(seconds_to_next_month(now)),
        },
    }
}

/// The refusal of a request over `max_bytes_per_request`, if it is.
fn check_size(limits: EaasLimits, bytes: u64) -> Result<(), OverLimit> {
    if bytes > limits.max_bytes_per_request {
        return Err(OverLimit {
            limit: "max_bytes_per_request",
            message: format!(
                "bytes={bytes} is over this tenant's max_bytes_per_request of {}",
                limits.max_bytes_per_request
            ),
            retry_after_secs: None,
        });
    }
    Ok(())
}

/// Keeps the last [`HISTORY_DAYS`] days of `record`.
pub fn trim_history(record: &mut TenantRecord) {
    while record.days.len() > HISTORY_DAYS {
        let Some(oldest) = record.days.keys().next().cloned() else {
            break;
        };
        record.days.remove(&oldest);
    }
}

/// The in-memory meter; the service persists `records` at every flush.
#[derive(Debug, Default)]
pub struct Meter {
    pub records: BTreeMap<String, TenantRecord>,
    buckets: BTreeMap<String, Bucket>,
    /// Whether records changed since the last flush.
    pub dirty: bool,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl Meter {
    pub fn from_records(records: BTreeMap<String, TenantRecord>) -> Self {
        Self {
            records,
            ..Self::default()
        }
    }

    /// Checks every limit and, if all hold, charges the request (a request whose draw then fails is refunded
    /// with [`Meter::refund`]).
    pub fn admit(
        &mut self,
        tenant: &str,
        limits: EaasLimits,
        bytes: u64,
        now: OffsetDateTime,
        clock: Instant,
    ) -> Result<(), OverLimit> {
        check_size(limits, bytes)?;
        let day = day_key(now);
        let record = self.records.get(tenant).cloned().unwrap_or_default();
        if limits.bytes_per_day > 0 {
            let used = record.day(&day).bytes;
            if used.saturating_add(bytes) > limits.bytes_per_day {
                return Err(quota_refusal(QuotaHit::Day { used }, limits, bytes, now));
            }
        }
        if limits.bytes_per_month > 0 {
            let used = record.month_bytes(&day[..7]);
            if used.saturating_add(bytes) > limits.bytes_per_month {
                return Err(quota_refusal(QuotaHit::Month { used }, limits, bytes, now));
            }
        }
        self.take_token(tenant, limits, clock)?;
        self.records
            .entry(tenant.to_owned())
            .or_default()
            .charge(&day, bytes);
        self.dirty = true;
        Ok(())
    }

    /// The checks a shared ledger cannot make: the request's size and this node's request rate.
    pub fn admit_locally(
        &mut self,
        tenant: &str,
        limits: EaasLimits,
        bytes: u64,
        clock: Instant,
    ) -> Result<(), OverLimit> {
        check_size(limits, bytes)?;
        self.take_token(tenant, limits, clock)
    }

    /// One token of the tenant's request-rate bucket (one second of burst).
    fn take_token(
        &mut self,
        tenant: &str,
        limits: EaasLimits,
        clock: Instant,
    ) -> Result<(), OverLimit> {
        if limits.requests_per_second == 0 {
            return Ok(());
        }
        let rate = limits.requests_per_second as f64;
        let bucket = self.buckets.entry(tenant.to_owned()).or_insert(Bucket {
            tokens: rate,
            refilled: clock,
        });
        let elapsed = clock
            .saturating_duration_since(bucket.refilled)
            .as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.refilled = clock;
        if bucket.tokens < 1.0 {
            return Err(OverLimit {
                limit: "requests_per_second",
                message: format!(
                    "requests_per_second limit of {} reached",
                    limits.requests_per_second
                ),
                retry_after_secs: Some(1),
            });
        }
        bucket.tokens -= 1.0;
        Ok(())
    }

    /// Takes back a charge whose request was not served.
    pub fn refund(&mut self, tenant: &str, bytes: u64, now: OffsetDateTime) {
        if let Some(record) = self.records.get_mut(tenant) {
            record.total_requests = record.total_requests.saturating_sub(1);
            record.total_bytes = record.total_bytes.saturating_sub(bytes);
            if let Some(day) = record.days.get_mut(&day_key(now)) {
                day.requests = day.requests.saturating_sub(1);
                day.bytes = day.bytes.saturating_sub(bytes);
            }
            self.dirty = true;
        }
    }
}

/// `YYYY-MM-DD` in UTC.
pub fn day_key(now: OffsetDateTime) -> String {
    let date = now.to_offset(time::UtcOffset::UTC).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn seconds_to_next_day(now: OffsetDateTime) -> u64 {
    let now = now.to_offset(time::UtcOffset::UTC);
    let next = now.date().next_day().map(|d| d.midnight().assume_utc());
    next.map(|next| (next - now).whole_seconds().max(1) as u64)
        .unwrap_or(86_400)
}

fn seconds_to_next_month(now: OffsetDateTime) -> u64 {
    let now = now.to_offset(time::UtcOffset::UTC);
    let date = now.date();
    let (year, month) = match date.month() {
        time::Month::December => (date.year() + 1, time::Month::January),
        other => (date.year(), other.next()),
    };
    time::Date::from_calendar_date(year, month, 1)
        .map(|first| (first.midnight().assume_utc() - now).whole_seconds().max(1) as u64)
        .unwrap_or(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn limits() -> EaasLimits {
        EaasLimits {
            max_bytes_per_request: 100,
            requests_per_second: 0,
            bytes_per_day: 250,
            bytes_per_month: 400,
        }
    }

    #[test]
    fn request_size_day_and_month_quotas_refuse_with_the_limit_named() {
        let mut meter = Meter::default();
        let clock = Instant::now();
        let day1 = datetime!(2026-12-06 23:59:30 UTC);
        assert_eq!(
            meter
                .admit("t", limits(), 101, day1, clock)
                .unwrap_err()
                .limit,
            "max_bytes_per_request"
        );
        meter.admit("t", limits(), 100, day1, clock).unwrap();
        meter.admit("t", limits(), 100, day1, clock).unwrap();
        let over = meter.admit("t", limits(), 100, day1, clock).unwrap_err();
        assert_eq!(
            (over.limit, over.retry_after_secs),
            ("bytes_per_day", Some(30))
        );
        // Another tenant is not affected.
        meter.admit("u", limits(), 100, day1, clock).unwrap();
        // The next day the day quota is fresh, but the month has 200 of 400 used.
        let day2 = datetime!(2026-12-07 00:00:01 UTC);
        meter.admit("t", limits(), 100, day2, clock).unwrap();
        meter.admit("t", limits(), 100, day2, clock).unwrap();
        let over = meter.admit("t", limits(), 1, day2, clock).unwrap_err();
        assert_eq!(over.limit, "bytes_per_month");
        // From 7 December 00:00:01 to 1 January 00:00:00.
        assert_eq!(over.retry_after_secs, Some(25 * 86_400 - 1));
        assert_eq!(meter.records["t"].total_bytes, 400);
        assert_eq!(
            meter.records["t"].days["2026-12-06"],
            DayUsage {
                requests: 2,
                bytes: 200
            }
        );
        meter.refund("t", 100, day2);
        assert_eq!(meter.records["t"].total_bytes, 300);
    }

    #[test]
    fn the_request_rate_is_a_token_bucket_with_one_second_of_burst() {
        let mut meter = Meter::default();
        let limits = EaasLimits {
            requests_per_second: 5,
            bytes_per_day: 0,
            bytes_per_month: 0,
            ..limits()
        };
        let start = Instant::now();
        let now = datetime!(2026-12-06 12:00 UTC);
        for _ in 0..5 {
            meter.admit("t", limits, 1, now, start).unwrap();
        }
        let over = meter.admit("t", limits, 1, now, start).unwrap_err();
        assert_eq!(
            (over.limit, over.retry_after_secs),
            ("requests_per_second", Some(1))
        );
        let later = start + std::time::Duration::from_millis(400);
        meter.admit("t", limits, 1, now, later).unwrap();
        meter.admit("t", limits, 1, now, later).unwrap();
        assert!(meter.admit("t", limits, 1, now, later).is_err());
    }
}
