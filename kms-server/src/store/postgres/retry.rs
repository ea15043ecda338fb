//! Which database failures are worth another attempt, and the bounded backoff between attempts.
//!
//! Why: several qkms nodes share one database, so a SERIALIZABLE transaction may lose a race (40001), two
//! statements may deadlock (40P01), and a restarted or failed-over database drops every pooled connection. Each
//! of those succeeds when simply tried again on a fresh connection; anything else (a wrong password, a
//! constraint, a bug) would fail the same way again and is reported at once. Attempts are bounded so that a
//! database that stays away turns into a clear error within about two seconds instead of a hung request.

use std::fmt::Write as _;
use std::time::Duration;

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::store::StoreError;

/// How many times an operation is tried and how long it waits in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (at least 1). Default 6.
    pub attempts: u32,
    /// The first wait; each later one doubles, up to `max_delay`. Default 20 ms.
    pub first_delay: Duration,
    /// Default 640 ms (6 attempts wait at most 20+40+80+160+320 ms = 620 ms in all).
    pub max_delay: Duration,
    /// No new attempt starts once this much time has passed since the first (a database that does not answer
    /// at all costs each attempt up to the connect timeout). Default 10 s.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 6,
            first_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(640),
            budget: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `next` (1-based count of attempts already made).
    pub fn delay_after(&self, made: u32) -> Duration {
        let factor = 1u32 << made.saturating_sub(1).min(16);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// One failed attempt.
#[derive(Debug)]
pub(super) enum Failure {
    /// No connection could be had from the pool (database down, pool exhausted for too long...).
    Pool(PoolError),
    /// A statement or the connection failed.
    Db(tokio_postgres::Error),
    /// A store-level answer (not found, conflict, corrupt record...): final, never retried.
    Store(StoreError),
}

impl From<PoolError> for Failure {
    fn from(e: PoolError) -> Self {
        Self::Pool(e)
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// What kind of failure an attempt met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Lost a race with another transaction (40001, 40P01): try again.
    Contention,
    /// The connection or the database went away: try again on a new connection. The statement may or may not
    /// have been applied.
    Connection,
    /// Anything else: report it.
    Final,
}

fn classify_db(e: &tokio_postgres::Error) -> Kind {
    match e.code() {
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            Kind::Contention
        }
        Some(code)
            if *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || code.code().starts_with("08") =>
        {
            Kind::Connection
        }
        Some(_) => Kind::Final,
        // No SQLSTATE: a closed connection, an I/O error or a timeout while connecting or talking.
        None if e.is_closed() || caused_by_io(e) || e.to_string().contains("timeout") => {
            Kind::Connection
        }
        None => Kind::Final,
    }
}

/// Whether an I/O error is among the causes of `e`.
fn caused_by_io(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

impl Failure {
    pub(super) fn kind(&self) -> Kind {
        match self {
            Self::Pool(PoolError::Backend(e)) => classify_db(e),
            Self::Pool(PoolError::Timeout(_)) => Kind::Connection,
            Self::Pool(_) => Kind::Final,
            Self::Db(e) => classify_db(e),
            Self::Store(_) => Kind::Final,
        }
    }

    /// Whether the database rejected a row because its primary key is taken.
    pub(super) fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Db(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION))
    }

    /// The failure as the store reports it, after `attempts` attempts.
    pub(super) fn into_store_error(self, attempts: u32) -> StoreError {
        let kind = self.kind();
        match self {
            Self::Store(e) => e,
            Self::Pool(e) => StoreError::Database(match kind {
                Kind::Final => describe_pool(&e),
                _ => format!(
                    "the database is unavailable ({} after {attempts} attempts)",
                    describe_pool(&e)
                ),
            }),
            Self::Db(e) => StoreError::Database(match kind {
                Kind::Final => describe(&e),
                Kind::Contention => format!(
                    "the database kept aborting the transaction under contention ({} after {attempts} attempts)",
                    describe(&e)
                ),
                Kind::Connection => format!(
                    "the database is unavailable ({} after {attempts} attempts)",
                    describe(&e)
                ),
            }),
        }
    }
}

/// A tokio-postgres error with what the server said (severity, SQLSTATE, message) or the chain of causes.
pub(super) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

fn describe_pool(e: &PoolError) -> String {
    match e {
        PoolError::Backend(e) => describe(e),
        PoolError::Timeout(_) => "no database connection within the pool's timeout".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy::default();
        let waits: Vec<u128> = (1..=7).map(|n| policy.delay_after(n).as_millis()).collect();
        assert_eq!(waits, [20, 40, 80, 160, 320, 640, 640]);
        let total: u128 = (1..policy.attempts)
            .map(|n| policy.delay_after(n).as_millis())
            .sum();
        assert_eq!(total, 620, "six attempts wait 620 ms in all");
    }

    #[test]
    fn store_answers_are_final() {
        let failure = Failure::Store(StoreError::NotFound("k".into()));
        assert_eq!(failure.kind(), Kind::Final);
        assert!(matches!(
            failure.into_store_error(1),
            StoreError::NotFound(_)
        ));
    }
}
