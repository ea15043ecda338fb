//! The user PINs of PIN-guarded tenants and their retry counters, kept by a [`PinStore`]: one JSON file beside
//! the store, or the PostgreSQL database every node shares (`[store] kind = "postgres"`).
//!
//! Each record keeps an argon2id hash of the PIN (never the PIN), its salt and cost, the number of tries allowed
//! and the consecutive failures so far. A failure is recorded durably (file: temporary file, fsync, rename;
//! database: a committed conditional increment) before the client hears "incorrect", so a crash, a restart or
//! another node never gives an attacker extra tries; once the failures reach the limit the PIN is locked, even
//! for the right PIN, until an operator resets it (`qkms-server user-pin reset`). A PIN verified once is
//! remembered in memory as an HMAC under a per-process key, so the module can send the PIN with every request
//! without costing an argon2id run each time; the record is still read at every check, so a lock or a reset
//! made on another node counts at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use entropy::EntropyPool;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::pin_store::{PinFile, PinStore};
use crate::tenant::TenantId;

/// The file name used when `[auth] user_pins` is not set: beside the store, in the data directory.
pub const DEFAULT_FILE: &str = "user-pins.json";
/// Tries before a PIN locks, unless the record says otherwise.
pub const DEFAULT_MAX_TRIES: u32 = 5;
/// argon2id cost of a PIN hash (OWASP's 19 MiB, 2 passes): a login costs tens of milliseconds.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const HASH_LEN: usize = 32;
const SALT_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("argon2id: {0}")]
    Hash(String),
    #[error("entropy: {0}")]
    Entropy(#[from] entropy::EntropyError),
    #[error("no user PIN is set for tenant {0}")]
    NoSuchTenant(String),
    #[error("user PINs in the database: {0}")]
    Database(String),
}

/// One tenant's PIN.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinRecord {
    /// argon2id salt, hex.
    pub salt: String,
    /// argon2id output, hex.
    pub hash: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub max_tries: u32,
    /// Consecutive wrong PINs since the last right one.
    pub failures: u32,
}

/// The outcome of presenting a PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinCheck {
    Verified,
    Incorrect { tries_left: u32 },
    Locked,
}

/// What C_GetTokenInfo reports: tries left out of the maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinStatus {
    pub tries_left: u32,
    pub max_tries: u32,
}

/// The registry the server consults for every message of a guarded tenant.
pub struct UserPins {
    store: Box<dyn PinStore>,
    /// Where the records are, for messages.
    location: String,
    state: Mutex<State>,
    /// Draws the cache key.
    pool: EntropyPool,
}

struct State {
    verified: HashMap<String, [u8; 32]>,
    /// Key of the in-memory "already verified" HMACs; never leaves the process. Drawn at the first verified PIN
    /// (not at start: the server starts even while its entropy sources fail; without a key nothing is cached).
    cache_key: Option<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for UserPins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPins")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl PinRecord {
    /// A record for `pin` with a fresh salt from the pool.
    pub fn new(pool: &EntropyPool, pin: &[u8], max_tries: u32) -> Result<Self, PinError> {
        let mut salt = [0u8; SALT_LEN];
        pool.fill(&mut salt)?;
        let hash = hash(pin, &salt, MEMORY_KIB, ITERATIONS)?;
        Ok(Self {
            salt: hex::encode(salt),
            hash: hex::encode(*hash),
            memory_kib: MEMORY_KIB,
            iterations: ITERATIONS,
            max_tries: max_tries.max(1),
            failures: 0,
        })
    }

    fn matches(&self, pin: &[u8]) -> Result<bool, PinError> {
        let salt = hex::decode(&self.salt).map_err(|e| PinError::Hash(e.to_string()))?;
        let expected = hex::decode(&self.hash).map_err(|e| PinError::Hash(e.to_string()))?;
        let actual = hash(pin, &salt, self.memory_kib, self.iterations)?;
        Ok(bool::from(actual.as_slice().ct_eq(&expected)))
    }

    /// Whether `other` is the same PIN (salt and hash): failures count against the PIN that was checked.
    pub fn same_pin(&self, other: &PinRecord) -> bool {
        self.salt == other.salt && self.hash == other.hash
    }

    fn status(&self) -> PinStatus {
        PinStatus {
            tries_left: self.max_tries.saturating_sub(self.failures),
            max_tries: self.max_tries,
        }
    }
}

fn hash(
    pin: &[u8],
    salt: &[u8],
    memory_kib: u32,
    iterations: u32,
) -> Result<Zeroizing<[u8; HASH_LEN]>, PinError> {
    let params = argon2::Params::new(memory_kib, iterations, 1, Some(HASH_LEN))
        .map_err(|e| PinError::Hash(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    argon
        .hash_password_into(pin, salt, out.as_mut())
        .map_err(|e| PinError::Hash(e.to_string()))?;
    Ok(out)
}

impl UserPins {
    /// Loads the file at `path`; a missing file is an empty registry (no tenant is PIN-guarded).
    pub fn open(path: &Path, pool: &EntropyPool) -> Result<Self, PinError> {
        let file = PinFile::open(path)?;
        let location = path.display().to_string();
        Ok(Self::with_store(Box::new(file), location, pool))
    }

    /// A registry over `store` (`location` names it in messages).
    pub fn with_store(store: Box<dyn PinStore>, location: String, pool: &EntropyPool) -> Self {
        Self {
            store,
            location,
            state: Mutex::new(State {
                verified: HashMap::new(),
                cache_key: None,
            }),
            pool: pool.clone(),
        }
    }

    /// Where the records are (a file, or the database), for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether `tenant`'s private objects need its user PIN.
    pub fn guards(&self, tenant: &TenantId) -> bool {
        self.store.guards(tenant)
    }

    /// The tries left (`None`: not guarded).
    pub fn try_status(&self, tenant: &TenantId) -> Result<Option<PinStatus>, PinError> {
        Ok(self.store.get(tenant)?.as_ref().map(PinRecord::status))
    }

    /// The tries left (`None`: not guarded, or the records cannot be read now).
    pub fn status(&self, tenant: &TenantId) -> Option<PinStatus> {
        match self.try_status(tenant) {
            Ok(status) => status,
            Err(error) => {
                tracing::error!(%error, %tenant, "user PIN status cannot be read");
                None
            }
        }
    }

    /// Checks `pin` for `tenant`, counting a wrong one (durably, before answering).
    pub fn verify(&self, tenant: &TenantId, pin: &[u8]) -> Result<PinCheck, PinError> {
        let record = self
            .store
            .get(tenant)?
            .ok_or_else(|| PinError::NoSuchTenant(tenant.0.clone()))?;
        if record.failures >= record.max_tries {
            return Ok(PinCheck::Locked);
        }
        if self.known(tenant, pin) {
            return Ok(PinCheck::Verified);
        }
        if record.matches(pin)? {
            if !self.store.clear_failures(tenant, &record)? {
                // Locked (or replaced) by another request between the read and now.
                return self.settled(tenant);
            }
            self.remember(tenant, pin);
            return Ok(PinCheck::Verified);
        }
        self.lock().verified.remove(&tenant.0);
        match self.store.add_failure(tenant, &record)? {
            Some(failures) => Ok(match record.max_tries.saturating_sub(failures) {
                0 => PinCheck::Locked,
                tries_left => PinCheck::Incorrect { tries_left },
            }),
            None => self.settled(tenant),
        }
    }

    /// The answer when the record changed under a check: locked, or (replaced) incorrect with what is left.
    fn settled(&self, tenant: &TenantId) -> Result<PinCheck, PinError> {
        match self.store.get(tenant)?.map(|record| record.status()) {
            Some(status) if status.tries_left > 0 => Ok(PinCheck::Incorrect {
                tries_left: status.tries_left,
            }),
            Some(_) => Ok(PinCheck::Locked),
            None => Err(PinError::NoSuchTenant(tenant.0.clone())),
        }
    }

    /// Whether `pin` was verified for `tenant` by this process since its last failure.
    fn known(&self, tenant: &TenantId, pin: &[u8]) -> bool {
        let state = self.lock();
        let presented = state.cache_key.as_ref().map(|key| tag(key, tenant, pin));
        match (&presented, state.verified.get(&tenant.0)) {
            (Some(presented), Some(known)) => bool::from(known.ct_eq(presented)),
            _ => false,
        }
    }

    fn remember(&self, tenant: &TenantId, pin: &[u8]) {
        let mut state = self.lock();
        if state.cache_key.is_none() {
            let mut key = Zeroizing::new([0u8; 32]);
            if self.pool.fill(key.as_mut()).is_ok() {
                state.cache_key = Some(key);
            }
        }
        if let Some(key) = &state.cache_key {
            let verified = tag(key, tenant, pin);
            state.verified.insert(tenant.0.clone(), verified);
        }
    }

    /// Clears `tenant`'s failure count (an operator's unlock).
    pub fn reset(&self, tenant: &TenantId) -> Result<(), PinError> {
        self.store.reset(tenant)
    }

    /// Sets (or replaces) `tenant`'s PIN record, durably.
    pub fn set(&self, tenant: &TenantId, record: PinRecord) -> Result<(), PinError> {
        self.store.set(tenant, record)?;
        self.lock().verified.remove(&tenant.0);
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Only the verified-PIN cache: a panic elsewhere leaves it consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The "already verified" HMAC of `pin` for `tenant`.
fn tag(key: &[u8; 32], tenant: &TenantId, pin: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail for a 32-byte key.
    let mut mac =
        <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes a 32-byte key");
    mac.update(tenant.0.as_bytes());
    mac.update(&[0]);
    mac.update(pin);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> EntropyPool {
        EntropyPool::new(entropy::EntropyConfig::default()).unwrap()
    }

    #[test]
    fn wrong_pins_count_down_to_a_lock_that_survives_a_reload_and_a_reset_clears_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        let pool = pool();
        let tenant = TenantId("t".into());
        let pins = UserPins::open(&path, &pool).unwrap();
        assert!(!pins.guards(&tenant));
        pins.set(&tenant, PinRecord::new(&pool, b"1234", 3).unwrap())
            .unwrap();
        assert_eq!(pins.verify(&tenant, b"1234").unwrap(), PinCheck::Verified);
        assert_eq!(
            pins.verify(&tenant, b"0000").unwrap(),
            PinCheck::Incorrect { tries_left: 2 }
        );
        // A right PIN resets the count.
        assert_eq!(pins.verify(&tenant, b"1234").unwrap(), PinCheck::Verified);
        assert_eq!(
            pins.verify(&tenant, b"0000").unwrap(),
            PinCheck::Incorrect { tries_left: 2 }
        );
        assert_eq!(
            pins.verify(&tenant, b"0001").unwrap(),
            PinCheck::Incorrect { tries_left: 1 }
        );
        assert_eq!(pins.verify(&tenant, b"0002").unwrap(), PinCheck::Locked);
        // Locked: the right PIN no longer opens it, in this process or after a restart.
        assert_eq!(pins.verify(&tenant, b"1234").unwrap(), PinCheck::Locked);
        let reloaded = UserPins::open(&path, &pool).unwrap();
        assert_eq!(reloaded.verify(&tenant, b"1234").unwrap(), PinCheck::Locked);
        assert_eq!(
            reloaded.status(&tenant),
            Some(PinStatus {
                tries_left: 0,
                max_tries: 3
            })
        );
        reloaded.reset(&tenant).unwrap();
        assert_eq!(
            reloaded.verify(&tenant, b"1234").unwrap(),
            PinCheck::Verified
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("1234"), "the PIN itself is never stored");
    }
}
