//! The user PINs in the database (`qkms_user_pins`), shared by every node: the same records and one retry
//! counter per tenant, whichever node a PIN is tried on.
//!
//! A wrong PIN is one committed statement, `UPDATE ... SET failures = failures + 1 WHERE ... failures <
//! max_tries RETURNING failures`, conditional on the PIN that was checked: tries made at once on several nodes
//! each count (the row lock orders them) and none counts past the lock. The answer waits for the commit. A
//! retry after a lost connection may count a try twice (never zero times): the safe side for a PIN.
//!
//! Which tenants are guarded is asked for every message, so it is read from a list read at start and refreshed
//! every [`GUARDED_REFRESH`] by one thread while the others use the last one: a PIN set on one node guards the
//! tenant on every node within about that time (no restart). A tenant already guarded stays guarded while the
//! database cannot be read. Everything else (the record, the counter) is read from the database at every check.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use deadpool_postgres::Object;
use tokio_postgres::Row;

use super::retry::Failure;
use super::Database;
use crate::tenant::TenantId;
use crate::user_pin::{PinError, PinRecord, PinStore};

/// How stale the list of guarded tenants may be.
pub const GUARDED_REFRESH: Duration = Duration::from_secs(1);

const COLUMNS: &str = "salt, hash, memory_kib, iterations, max_tries, failures";

/// [`PinStore`] on the database.
pub struct SharedPins {
    database: Database,
    guarded: Mutex<Guarded>,
    /// Whether a thread is reading the list now (the others use the last one meanwhile).
    refreshing: AtomicBool,
}

impl std::fmt::Debug for SharedPins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedPins")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

struct Guarded {
    tenants: BTreeSet<String>,
    /// When the list was last read.
    read_at: Instant,
}

impl Database {
    /// The user PINs kept in this database, with the list of guarded tenants read now (so that no message is
    /// ever checked against an empty list).
    pub fn user_pins(&self) -> Result<SharedPins, PinError> {
        let mut pins = SharedPins {
            database: self.clone(),
            guarded: Mutex::new(Guarded {
                tenants: BTreeSet::new(),
                read_at: Instant::now(),
            }),
            refreshing: AtomicBool::new(false),
        };
        let tenants = pins.guarded_tenants()?;
        pins.guarded
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .tenants = tenants;
        Ok(pins)
    }
}

fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn to_u32(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

fn record_of(row: &Row) -> PinRecord {
    PinRecord {
        salt: row.get(0),
        hash: row.get(1),
        memory_kib: to_u32(row.get(2)),
        iterations: to_u32(row.get(3)),
        max_tries: to_u32(row.get(4)),
        failures: to_u32(row.get(5)),
    }
}

fn database_error(error: crate::store::StoreError) -> PinError {
    PinError::Database(error.to_string())
}

impl SharedPins {
    fn run<T, F, Fut>(&self, attempt: F) -> Result<T, PinError>
    where
        T: Send + 'static,
        F: Fn(Object, u32) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, Failure>> + Send,
    {
        self.database
            .connection
            .run(attempt)
            .map_err(database_error)
    }

    fn guarded_tenants(&self) -> Result<BTreeSet<String>, PinError> {
        self.run(|client, _| async move {
            let rows = client
                .query("SELECT tenant FROM qkms_user_pins", &[])
                .await?;
            Ok(rows.iter().map(|row| row.get::<_, String>(0)).collect())
        })
    }

    /// One statement with the tenant and the checked record's salt and hash; the rows it returns.
    fn conditional(
        &self,
        sql: &'static str,
        tenant: &TenantId,
        checked: &PinRecord,
    ) -> Result<Vec<Row>, PinError> {
        let parameters = Arc::new((tenant.0.clone(), checked.salt.clone(), checked.hash.clone()));
        self.run(move |client, _| {
            let parameters = Arc::clone(&parameters);
            async move {
                let (tenant, salt, hash) = &*parameters;
                Ok(client.query(sql, &[tenant, salt, hash]).await?)
            }
        })
    }
}

impl PinStore for SharedPins {
    fn guards(&self, tenant: &TenantId) -> bool {
        let lock = || self.guarded.lock().unwrap_or_else(PoisonError::into_inner);
        let stale = lock().read_at.elapsed() >= GUARDED_REFRESH;
        // One thread reads the list, without holding the lock (a database that does not answer delays only it).
        if stale && !self.refreshing.swap(true, Ordering::AcqRel) {
            let fresh = self.guarded_tenants();
            let mut guarded = lock();
            match fresh {
                Ok(tenants) => guarded.tenants = tenants,
                Err(error) => {
                    tracing::error!(%error, "the list of PIN-guarded tenants cannot be read; the last one stays")
                }
            }
            guarded.read_at = Instant::now();
            drop(guarded);
            self.refreshing.store(false, Ordering::Release);
        }
        lock().tenants.contains(&tenant.0)
    }

    fn get(&self, tenant: &TenantId) -> Result<Option<PinRecord>, PinError> {
        let tenant = tenant.0.clone();
        self.run(move |client, _| {
            let tenant = tenant.clone();
            async move {
                let row = client
                    .query_opt(
                        &format!("SELECT {COLUMNS} FROM qkms_user_pins WHERE tenant = $1"),
                        &[&tenant],
                    )
                    .await?;
                Ok(row.as_ref().map(record_of))
            }
        })
    }

    fn add_failure(&self, tenant: &TenantId, checked: &PinRecord) -> Result<Option<u32>, PinError> {
        let rows = self.conditional(
            "UPDATE qkms_user_pins SET failures = failures + 1
             WHERE tenant = $1 AND salt = $2 AND hash = $3 AND failures < max_tries
             RETURNING failures",
            tenant,
            checked,
        )?;
        Ok(rows.first().map(|row| to_u32(row.get(0))))
    }

    fn clear_failures(&self, tenant: &TenantId, checked: &PinRecord) -> Result<bool, PinError> {
        let rows = self.conditional(
            "UPDATE qkms_user_pins SET failures = 0
             WHERE tenant = $1 AND salt = $2 AND hash = $3 AND failures < max_tries
             RETURNING failures",
            tenant,
            checked,
        )?;
        Ok(!rows.is_empty())
    }

    fn reset(&self, tenant: &TenantId) -> Result<(), PinError> {
        let name = tenant.0.clone();
        let updated = self.run(move |client, _| {
            let name = name.clone();
            async move {
                Ok(client
                    .execute(
                        "UPDATE qkms_user_pins SET failures = 0 WHERE tenant = $1",
                        &[&name],
                    )
                    .await?)
            }
        })?;
        if updated == 0 {
            return Err(PinError::NoSuchTenant(tenant.0.clone()));
        }
        Ok(())
    }

    fn set(&self, tenant: &TenantId, record: PinRecord) -> Result<(), PinError> {
        upsert(self, tenant, record, Conflict::Replace).map(drop)
    }

    fn all(&self) -> Result<BTreeMap<String, PinRecord>, PinError> {
        self.run(|client, _| async move {
            let rows = client
                .query(
                    &format!("SELECT {COLUMNS}, tenant FROM qkms_user_pins"),
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|row| (row.get::<_, String>(6), record_of(row)))
                .collect())
        })
    }
}

/// What an insert does when the tenant has a record already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conflict {
    /// `user-pin set`: the new PIN replaces the old, its counter starts again.
    Replace,
    /// `qkms store migrate`: the database's record (and the tries counted there) stays.
    Keep,
}

/// Writes `record`; whether a row was written.
fn upsert(
    pins: &SharedPins,
    tenant: &TenantId,
    record: PinRecord,
    conflict: Conflict,
) -> Result<bool, PinError> {
    let sql: &'static str = match conflict {
        Conflict::Replace => {
            "INSERT INTO qkms_user_pins (tenant, salt, hash, memory_kib, iterations, max_tries, failures)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant) DO UPDATE SET salt = excluded.salt, hash = excluded.hash,
                 memory_kib = excluded.memory_kib, iterations = excluded.iterations,
                 max_tries = excluded.max_tries, failures = excluded.failures"
        }
        Conflict::Keep => {
            "INSERT INTO qkms_user_pins (tenant, salt, hash, memory_kib, iterations, max_tries, failures)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant) DO NOTHING"
        }
    };
    let row = Arc::new((tenant.0.clone(), record));
    let written = pins.run(move |client, _| {
        let row = Arc::clone(&row);
        async move {
            let (tenant, r) = &*row;
            Ok(client
                .execute(
                    sql,
                    &[
                        tenant,
                        &r.salt,
                        &r.hash,
                        &to_i32(r.memory_kib),
                        &to_i32(r.iterations),
                        &to_i32(r.max_tries),
                        &to_i32(r.failures),
                    ],
                )
                .await?)
        }
    })?;
    Ok(written > 0)
}

/// What copying a PIN file did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinCopyReport {
    /// Records in the file (each is in the database afterwards).
    pub records: usize,
    /// Of those, written by this run (the others were there already and were kept, with their counters).
    pub copied: usize,
}

impl Database {
    /// Copies the records of `file` into the database. A tenant the database already has keeps its record (a
    /// re-run never undoes tries counted by the nodes); afterwards every tenant of the file must be in the
    /// database.
    pub fn copy_user_pins(&self, file: &dyn PinStore) -> Result<PinCopyReport, PinError> {
        let pins = self.user_pins()?;
        let records = file.all()?;
        let mut copied = 0;
        for (tenant, record) in &records {
            if upsert(
                &pins,
                &TenantId(tenant.clone()),
                record.clone(),
                Conflict::Keep,
            )? {
                copied += 1;
            }
        }
        let present = pins.all()?;
        if let Some(missing) = records.keys().find(|t| !present.contains_key(*t)) {
            return Err(PinError::Database(format!(
                "tenant {missing:?} is not in the database after the copy"
            )));
        }
        Ok(PinCopyReport {
            records: records.len(),
            copied,
        })
    }
}
