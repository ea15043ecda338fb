//! Surviving a full disk (and other I/O failures) without a restart.
//!
//! Why: sled 0.34 makes any failed log write sticky. After one ENOSPC every later write, every flush and even
//! some reads (a read may consolidate or split a page, which writes) fail until the database is reopened, and
//! reopening needs a little free space (recovery writes). So [`RecoveringStore`] wraps a [`SledStore`] and:
//!
//! - keeps a small reserve file ([`RESERVE_FILE`]) in the store's directory, on the same file system;
//! - when an operation fails with an I/O error it classifies it ([`classify`]); on "no space" it deletes the
//!   reserve (so there is room to recover), reopens the database at once (so reads keep working on a healthy
//!   instance) and enters the *full* condition: inserts and updates are refused with [`StoreError::DiskFull`]
//!   without reaching sled, while reads, removes (rollbacks free space) and durability waits go on;
//! - while full (or while the database could not be reopened), at most once per probe interval, a write
//!   attempt first probes: it re-creates the reserve and writes (then deletes) a probe file of the same size;
//!   when both fit, writes are accepted again.
//!
//! Nothing acknowledged is lost by a reopen: sled recovers everything a completed flush covered, and a write is
//! acknowledged only after `wait_durable`. A write applied to an instance that was replaced before it was
//! flushed is not durable: `wait_durable` then fails for the thread that made it (the dispatcher writes and waits
//! on one thread), so it is rolled back and refused, never acknowledged.
//!
//! When healthy the wrapper costs one atomic load and one uncontended read lock per call.

use std::cell::Cell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use kmip::attributes::Attributes;

use super::{IndexQuery, Namespace, ObjectStore, SledStore, StoreError, StoredObject};
use crate::tenant::TenantId;

mod classify;
mod reserve;

pub use classify::{classify, IoFailure};
use reserve::SpaceReserve;
pub use reserve::RESERVE_FILE;

/// Opens the underlying database; called at start and for every reopen. Holds the root-key material.
pub type Opener = Box<dyn Fn() -> Result<SledStore, StoreError> + Send + Sync>;

/// An [`Opener`] for a passphrase store: keeps the passphrase (zeroized on drop) to derive the root key again
/// at every reopen.
pub fn passphrase_opener(
    path: impl AsRef<Path>,
    passphrase: zeroize::Zeroizing<Vec<u8>>,
    pool: entropy::EntropyPool,
    options: super::StoreOptions,
) -> Opener {
    let path = path.as_ref().to_owned();
    Box::new(move || SledStore::open(&path, &passphrase, pool.clone(), &options))
}

/// How recovery behaves.
#[derive(Clone, Debug)]
pub struct RecoverySettings {
    /// Size of the reserve file (and of the probe). Default 4 MiB: room for sled to reopen and recover.
    pub reserve_bytes: u64,
    /// While degraded, at most one probe or reopen attempt per interval. Default 500 ms.
    pub probe_interval: Duration,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            reserve_bytes: 4 * 1024 * 1024,
            probe_interval: Duration::from_millis(500),
        }
    }
}

/// The store's condition, for `/health`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreCondition {
    Ok,
    /// Writes are refused until space is freed; reads work.
    DiskFull {
        since: SystemTime,
        cause: String,
    },
    /// The database failed and could not be reopened yet.
    Failing {
        since: SystemTime,
        cause: String,
    },
}

/// What an operation does, which decides what it may do while degraded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Read,
    /// Insert or update: refused while the disk is full.
    Write,
    /// Remove: allowed while full (rollbacks of refused writes; frees space).
    Free,
    Flush,
}

#[derive(Debug, Default)]
struct Condition {
    /// Since when and why the disk is full.
    full: Option<(SystemTime, String)>,
    /// The current database instance hit an I/O error (or none could be opened): reopen it.
    broken: Option<(SystemTime, String)>,
    last_attempt: Option<Instant>,
}

/// The live database and its generation (bumped by every reopen).
type Current = Option<(u64, Arc<SledStore>)>;

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// (store id, generation) of this thread's last successful write not yet covered by a `wait_durable`.
    static PENDING_WRITE: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

/// An [`ObjectStore`] that answers a full disk clearly and reopens its sled database once writing works again.
pub struct RecoveringStore {
    id: u64,
    path: PathBuf,
    opener: Opener,
    settings: RecoverySettings,
    reserve: SpaceReserve,
    current: RwLock<Current>,
    /// The generation of the last instance opened (kept while none is live).
    last_generation: AtomicU64,
    /// False while healthy: the one check on the hot path.
    degraded: AtomicBool,
    condition: Mutex<Condition>,
}

impl fmt::Debug for RecoveringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No lock taken: formatting must not wait for (or deadlock with) a recovery under way.
        f.debug_struct("RecoveringStore")
            .field("path", &self.path)
            .field("degraded", &self.degraded.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RecoveringStore {
    /// Opens the store at `path` with `opener` (which must open that same path) and makes sure the reserve
    /// exists. A disk already too full for the reserve starts in the full condition (reads work).
    pub fn open(
        path: impl AsRef<Path>,
        opener: Opener,
        settings: RecoverySettings,
    ) -> Result<Self, StoreError> {
        let store = opener()?;
        let this = Self {
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            path: path.as_ref().to_owned(),
            opener,
            reserve: SpaceReserve::new(path.as_ref(), settings.reserve_bytes),
            settings,
            current: RwLock::new(Some((1, Arc::new(store)))),
            last_generation: AtomicU64::new(1),
            degraded: AtomicBool::new(false),
            condition: Mutex::new(Condition::default()),
        };
        if let Err(error) = this.reserve.write() {
            tracing::warn!(path = %this.path.display(), %error,
                "the object store's disk has no room for its reserve: writes are refused until space is freed");
            let mut condition = this.lock_condition();
            condition.full = Some((SystemTime::now(), error.to_string()));
            condition.last_attempt = Some(Instant::now());
            this.degraded.store(true, Ordering::Release);
        }
        Ok(this)
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Healthy, full, or failing.
    pub fn condition(&self) -> StoreCondition {
        let condition = self.lock_condition();
        match (&condition.full, &condition.broken) {
            (_, Some((since, cause))) if self.instance().is_none() => StoreCondition::Failing {
                since: *since,
                cause: cause.clone(),
            },
            (Some((since, cause)), _) => StoreCondition::DiskFull {
                since: *since,
                cause: cause.clone(),
            },
            _ => StoreCondition::Ok,
        }
    }

    fn lock_condition(&self) -> MutexGuard<'_, Condition> {
        // Plain fields replaced whole under the lock: a poisoned lock still holds a consistent value.
        self.condition
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn instance(&self) -> Option<(u64, Arc<SledStore>)> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn disk_full(&self, cause: &str) -> StoreError {
        StoreError::DiskFull {
            path: self.path.display().to_string(),
            cause: cause.to_owned(),
        }
    }

    /// Runs `op` on the live database, recovering first when degraded and classifying its failure.
    fn run<T>(
        &self,
        access: Access,
        op: impl Fn(&SledStore) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut retried = false;
        loop {
            if self.degraded.load(Ordering::Acquire) {
                self.recover(access)?;
            }
            let Some((generation, store)) = self.instance() else {
                let condition = self.lock_condition();
                let cause = condition.broken.as_ref().map_or("", |(_, c)| c.as_str());
                return Err(StoreError::Io(format!(
                    "the object store could not be reopened after an I/O error ({cause}); retrying"
                )));
            };
            let outcome = op(&store);
            drop(store);
            match outcome {
                Ok(value) => {
                    if matches!(access, Access::Write | Access::Free) {
                        PENDING_WRITE.set(Some((self.id, generation)));
                    }
                    return Ok(value);
                }
                Err(error) => {
                    let Some(kind) = classify(&error) else {
                        return Err(error);
                    };
                    let reopened = self.failed(generation, kind, &error);
                    // A read that met a broken instance is answered from the reopened one.
                    if access == Access::Read && reopened && !retried {
                        retried = true;
                        continue;
                    }
                    return Err(match kind {
                        IoFailure::NoSpace => self.disk_full(&error.to_string()),
                        IoFailure::Other => error,
                    });
                }
            }
        }
    }

    /// Notes that the instance of `generation` failed; on no space releases the reserve. Reopens now (the first
    /// attempt is not rate-limited). Returns whether a healthy instance is live afterwards.
    fn failed(&self, generation: u64, kind: IoFailure, error: &StoreError) -> bool {
        let mut condition = self.lock_condition();
        let live = self.instance().map(|(g, _)| g);
        if live != Some(generation) {
            // Another thread already replaced that instance.
            return live.is_some() && condition.broken.is_none();
        }
        let now = SystemTime::now();
        tracing::error!(path = %self.path.display(), %error, ?kind,
            "object store I/O failure: reopening the database");
        condition.broken = Some((now, error.to_string()));
        if kind == IoFailure::NoSpace && condition.full.is_none() {
            condition.full = Some((now, error.to_string()));
            self.reserve.release();
        }
        self.degraded.store(true, Ordering::Release);
        self.reopen(&mut condition);
        condition.broken.is_none()
    }

    /// While degraded: reopens a broken instance and, for a write, probes for free space, each at most once per
    /// probe interval. A write is refused while the disk stays full.
    fn recover(&self, access: Access) -> Result<(), StoreError> {
        let mut condition = self.lock_condition();
        let due = condition
            .last_attempt
            .is_none_or(|at| at.elapsed() >= self.settings.probe_interval);
        if due && condition.broken.is_some() {
            self.reopen(&mut condition);
        }
        if access == Access::Write && condition.full.is_some() {
            if due {
                condition.last_attempt = Some(Instant::now());
                match self
                    .reserve
                    .write()
                    .and_then(|()| self.reserve.probe_headroom())
                {
                    Ok(()) => {
                        tracing::info!(path = %self.path.display(),
                            "the object store's disk has free space again: writes accepted");
                        condition.full = None;
                    }
                    Err(error) => {
                        tracing::debug!(%error, "the object store's disk is still full");
                    }
                }
            }
            if let Some((_, cause)) = &condition.full {
                return Err(self.disk_full(cause));
            }
        }
        if condition.full.is_none() && condition.broken.is_none() {
            self.degraded.store(false, Ordering::Release);
        }
        Ok(())
    }

    /// Replaces the live instance with a freshly opened one (the old one is closed first: sled locks its files).
    /// In-flight calls on the old instance finish first (they fail fast on sled's sticky error).
    fn reopen(&self, condition: &mut Condition) {
        condition.last_attempt = Some(Instant::now());
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let generation = current
            .as_ref()
            .map_or(self.last_generation.load(Ordering::Acquire), |(g, _)| *g);
        if let Some((_, old)) = current.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Arc::strong_count(&old) > 1 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if Arc::strong_count(&old) > 1 {
                tracing::warn!("the object store is still in use: reopening later");
                *current = Some((generation, old));
                return;
            }
            drop(old);
        }
        // Never create a new, empty store in place of one that vanished (its directory deleted under us).
        if !self.path.join("db").is_file() {
            let cause = format!(
                "{} no longer holds the store's database",
                self.path.display()
            );
            tracing::error!(%cause, "cannot reopen the object store");
            condition.broken = Some((SystemTime::now(), cause));
            *current = None;
            return;
        }
        // sled's flush threads may hold its file (and lock) a moment after the instance is dropped.
        let deadline = Instant::now() + Duration::from_secs(2);
        let opened = loop {
            match (self.opener)() {
                Err(StoreError::Io(message))
                    if message.contains("could not acquire lock") && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => break other,
            }
        };
        match opened {
            Ok(store) => {
                tracing::info!(path = %self.path.display(), generation = generation + 1,
                    "object store reopened");
                self.last_generation
                    .store(generation + 1, Ordering::Release);
                *current = Some((generation + 1, Arc::new(store)));
                condition.broken = None;
            }
            Err(error) => {
                tracing::error!(path = %self.path.display(), %error, "cannot reopen the object store");
                condition.broken = Some((SystemTime::now(), error.to_string()));
                // No instance until a reopen succeeds; the next one still gets a new generation (counted on
                // from `last_generation`), so nothing written before is confirmed by it.
                *current = None;
            }
        }
    }

    /// The generation live now, for tests.
    pub fn generation(&self) -> Option<u64> {
        self.instance().map(|(g, _)| g)
    }

    /// Reopens the database now, as after an I/O failure (for tests of the reopen itself).
    pub fn reopen_now(&self) -> Result<(), StoreError> {
        let mut condition = self.lock_condition();
        condition.broken = Some((SystemTime::now(), "reopen requested".into()));
        self.degraded.store(true, Ordering::Release);
        self.reopen(&mut condition);
        match &condition.broken {
            None => Ok(()),
            Some((_, cause)) => Err(StoreError::Io(cause.clone())),
        }
    }
}

impl ObjectStore for RecoveringStore {
    fn insert(&self, object: &StoredObject) -> Result<(), StoreError> {
        self.run(Access::Write, |store| store.insert(object))
    }

    fn update(&self, object: &StoredObject) -> Result<(), StoreError> {
        self.run(Access::Write, |store| store.update(object))
    }

    fn get(&self, namespace: Namespace<'_>, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        self.run(Access::Read, |store| store.get(namespace, uid))
    }

    fn remove(&self, namespace: Namespace<'_>, uid: &str) -> Result<(), StoreError> {
        self.run(Access::Free, |store| store.remove(namespace, uid))
    }

    fn locate(
        &self,
        owner: &TenantId,
        query: &IndexQuery,
        filter: &mut dyn FnMut(&Attributes) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        let filter = std::cell::RefCell::new(filter);
        self.run(Access::Read, |store| {
            store.locate(owner, query, &mut *filter.borrow_mut())
        })
    }

    fn wait_durable(&self) -> Result<(), StoreError> {
        let pending = PENDING_WRITE.take();
        if let Some((store, generation)) = pending {
            if store == self.id && self.generation() != Some(generation) {
                return Err(StoreError::Io(
                    "the object store was reopened after an I/O error before this change reached the disk; \
                     it was not stored"
                        .into(),
                ));
            }
        }
        // A failure is this caller's answer: its writes are not confirmed, and it must not acknowledge them.
        self.run(Access::Flush, SledStore::wait_durable)
    }
}
