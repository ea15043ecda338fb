//! PKCS#11 session objects on the server: objects created with the vendor attribute `x` / `pkcs11-session-lease`
//! (a lease id the module draws per process) live only as long as the TLS connection that first named that lease.
//!
//! Why the connection: a session object must not outlive the application that made it, even when it is killed
//! (kill -9) and can say nothing. The kernel closes a dead process's sockets, the server sees the connection
//! end, and destroys every object of the leases the connection held. The module sends its session-object
//! creations over one dedicated connection that it keeps open, and the listener never closes such a connection
//! for idleness ([`ConnectionLeases::holds_any`]).
//!
//! Nothing is left behind by a server crash either: a lease is written to a small journal (`session-leases.json`
//! beside the store; temporary file, fsync, rename) *before* the first object of it is created, and at start the
//! server destroys the objects of every lease in the journal, then empties it.

mod journal;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use kmip::attributes::Attributes;
use kmip::payloads::RequestPayload;
use kmip::{RequestMessage, ResultReason};
use ttlv::Value;

use crate::audit::{AuditEntry, AuditLog};
use crate::listener::Dispatcher;
use crate::store::{IndexQuery, Namespace, ObjectStore};
use crate::tenant::{Caller, Role, TenantId};
use journal::Journal;

/// The vendor attribute naming an object's lease (KMIP 2.x Vendor Attribute form, a Text String).
pub const LEASE_VENDOR: &str = "x";
pub const LEASE_NAME: &str = "pkcs11-session-lease";
/// The journal's file name, beside the store.
pub const JOURNAL_FILE: &str = "session-leases.json";
/// Longest lease id accepted.
const MAX_LEASE_LEN: usize = 128;
/// Most leases one connection may hold (the module uses one per token): bounds the journal a client can grow.
const MAX_LEASES_PER_CONNECTION: usize = 16;

/// A lease: its tenant and id.
type LeaseKey = (TenantId, String);

/// The leases one connection holds (part of its [`Caller`]). Clones share them; when the connection's last clone
/// is dropped (the connection ended, every request of it answered), the leases' objects are destroyed.
#[derive(Clone, Default)]
pub struct ConnectionLeases(Arc<Held>);

#[derive(Default)]
struct Held {
    state: Mutex<HeldState>,
}

#[derive(Default)]
struct HeldState {
    leases: BTreeSet<LeaseKey>,
    janitor: Option<Arc<Janitor>>,
}

impl ConnectionLeases {
    /// Whether this connection holds a lease (it is then never closed for idleness).
    pub fn holds_any(&self) -> bool {
        !self.lock().leases.is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HeldState> {
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Leases are not part of who a caller is.
impl PartialEq for ConnectionLeases {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}
impl Eq for ConnectionLeases {}

impl std::fmt::Debug for ConnectionLeases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConnectionLeases({})", self.lock().leases.len())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let state = std::mem::take(self.state.get_mut().unwrap_or_else(PoisonError::into_inner));
        let Some(janitor) = state.janitor else {
            return;
        };
        if state.leases.is_empty() {
            return;
        }
        let release = move || janitor.release(&state.leases);
        // The last clone usually drops on an async worker: the store work goes to the blocking pool.
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn_blocking(release);
            }
            Err(_) => release(),
        }
    }
}

/// Keeps the lease journal, knows which connection holds which lease, destroys a lease's objects.
pub struct Janitor {
    store: Arc<dyn ObjectStore>,
    audit: Arc<AuditLog>,
    journal: Mutex<Journal>,
    live: Mutex<HashMap<LeaseKey, Weak<Held>>>,
}

impl std::fmt::Debug for Janitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Janitor").finish_non_exhaustive()
    }
}

/// The journal file of a store at `store_path`.
pub fn journal_of(store_path: &Path) -> PathBuf {
    store_path.with_file_name(JOURNAL_FILE)
}

impl Janitor {
    /// Opens the journal and sweeps it: the objects of every lease left by an earlier run are destroyed.
    pub fn open(
        path: &Path,
        store: Arc<dyn ObjectStore>,
        audit: Arc<AuditLog>,
    ) -> Result<Arc<Self>, String> {
        let journal = Journal::open(path)?;
        let janitor = Arc::new(Self {
            store,
            audit,
            journal: Mutex::new(journal),
            live: Mutex::new(HashMap::new()),
        });
        let left: BTreeSet<LeaseKey> = janitor.journal().leases().clone();
        if !left.is_empty() {
            tracing::info!(
                leases = left.len(),
                "destroying the session objects of an earlier run"
            );
        }
        janitor.release(&left);
        Ok(janitor)
    }

    /// Binds `lease` to the caller's connection, journaled before anything of it is created. A lease another
    /// live connection holds is refused.
    fn claim(self: &Arc<Self>, caller: &Caller, lease: &str) -> Result<(), String> {
        if lease.is_empty() || lease.len() > MAX_LEASE_LEN {
            return Err(format!(
                "a session lease id is 1 to {MAX_LEASE_LEN} characters"
            ));
        }
        let key = (caller.tenant.clone(), lease.to_owned());
        let mut held = caller.leases.lock();
        if held.leases.contains(&key) {
            return Ok(());
        }
        if held.leases.len() >= MAX_LEASES_PER_CONNECTION {
            return Err(format!(
                "a connection holds at most {MAX_LEASES_PER_CONNECTION} session leases"
            ));
        }
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if live.get(&key).is_some_and(|w| w.strong_count() > 0) {
            return Err("this session lease belongs to another connection".into());
        }
        self.journal().add(key.clone())?;
        live.insert(key.clone(), Arc::downgrade(&caller.leases.0));
        held.leases.insert(key);
        held.janitor = Some(Arc::clone(self));
        Ok(())
    }

    /// Destroys every object of `leases` and drops them from the journal (kept there if a removal fails, so
    /// the next start retries).
    fn release(&self, leases: &BTreeSet<LeaseKey>) {
        for key in leases {
            let (tenant, lease) = key;
            let mut removed = Vec::new();
            let uids = self
                .store
                .locate(tenant, &IndexQuery::default(), &mut |attributes| {
                    lease_of(attributes) == Some(lease.as_str())
                });
            let outcome = uids.and_then(|uids| {
                for uid in uids {
                    self.store.remove(Namespace::Tenant(tenant), &uid)?;
                    removed.push(uid);
                }
                self.store.wait_durable()
            });
            let detail = format!(
                "session lease ended: {} session object(s) destroyed",
                removed.len()
            );
            let recorded = self.audit.append(AuditEntry {
                tenant,
                role: Role::Tenant,
                operation: "Destroy",
                objects: removed,
                targets: Vec::new(),
                result: outcome
                    .as_ref()
                    .map(|_| ())
                    .map_err(|_| ResultReason::GeneralFailure),
                detail: Some(&detail),
                time: unix_now(),
            });
            if let Err(error) = recorded {
                tracing::error!(%error, "cannot record a session lease's end in the audit log");
            }
            match outcome {
                Ok(()) => {
                    self.live
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .remove(key);
                    if let Err(error) = self.journal().remove(key) {
                        tracing::error!(%error, "cannot update the session lease journal");
                    }
                }
                Err(error) => {
                    tracing::error!(%error, tenant = %tenant, "cannot destroy a lease's session objects (retried at the next start)");
                }
            }
        }
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The lease an object's attributes name.
pub fn lease_of(attributes: &Attributes) -> Option<&str> {
    match attributes.custom(LEASE_VENDOR, LEASE_NAME)? {
        Value::TextString(lease) => Some(lease),
        _ => None,
    }
}

/// The leases a message's creations name (Create, Create Key Pair, Register).
fn leases_named(request: &RequestMessage) -> BTreeSet<String> {
    let mut leases = BTreeSet::new();
    for item in &request.items {
        let attribute_sets: Vec<&Attributes> = match &item.payload {
            RequestPayload::Create(create) => vec![&create.attributes],
            RequestPayload::Register(register) => vec![&register.attributes],
            RequestPayload::CreateKeyPair(pair) => [
                &pair.common_attributes,
                &pair.private_key_attributes,
                &pair.public_key_attributes,
            ]
            .into_iter()
            .flatten()
            .collect(),
            _ => Vec::new(),
        };
        for attributes in attribute_sets {
            if let Some(lease) = lease_of(attributes) {
                leases.insert(lease.to_owned());
            }
        }
    }
    leases
}

/// The dispatcher with lease claims in front of it: a creation naming a lease binds the lease to the caller's
/// connection first (refused, with nothing created, when it cannot be).
pub fn leasing(janitor: Arc<Janitor>, inner: Dispatcher) -> Dispatcher {
    Arc::new(move |caller, request| {
        for lease in leases_named(&request) {
            if let Err(message) = janitor.claim(caller, &lease) {
                return crate::user_pin::guard::refuse(
                    &janitor.audit,
                    caller,
                    &request,
                    ResultReason::PermissionDenied,
                    &message,
                );
            }
        }
        inner(caller, request)
    })
}
