//! The library's global state: created by C_Initialize, dropped by C_Finalize, discarded in a forked child.
//!
//! The state is tagged with the process id that owns it. Fork tolerance (CKF_INTERFACE_FORK_SAFE): the first
//! call in a child after fork() sees a different pid and adopts the inherited state: sessions, login state and
//! object handles carry on, while the pooled connections are closed (their descriptors only: never shut down,
//! so the parent's TLS sessions are untouched) and the buffered random bytes are erased, so that parent and
//! child never share a TLS stream or hand out the same random bytes. A child that calls C_Initialize instead
//! gets a fresh state. Statics are never dropped at process exit, so a call made while the process tears down
//! finds a consistent state or none.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use cryptoki_sys::*;

use crate::config::ModuleConfig;
use crate::error::{fail, Pkcs11Error, Result};
use crate::objects::ObjectTable;
use crate::session::Session;
use crate::token::Token;

static LIBRARY: RwLock<Option<Arc<Library>>> = RwLock::new(None);

#[derive(Debug)]
pub struct Library {
    /// The process that called C_Initialize: a child's own C_Initialize replaces the state.
    initialized_by: u32,
    /// The process now using the state (differs from `initialized_by` in an adopting child).
    pid: AtomicU32,
    pub tokens: Vec<Token>,
    pub objects: ObjectTable,
    sessions: Mutex<HashMap<CK_SESSION_HANDLE, Arc<Mutex<Session>>>>,
    last_session: AtomicU64,
}

/// C_Initialize: loads the configuration and builds the state.
pub fn initialize() -> Result<()> {
    let mut guard = LIBRARY
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let pid = std::process::id();
    if guard
        .as_ref()
        .is_some_and(|library| library.initialized_by == pid)
    {
        return fail(
            CKR_CRYPTOKI_ALREADY_INITIALIZED,
            "C_Initialize was already called",
        );
    }
    // A state from another pid is the parent's, inherited through fork(): replaced below.
    let config = match ModuleConfig::from_env() {
        Ok(config) => Arc::new(config),
        Err(error) => {
            eprintln!("qkms-pkcs11: C_Initialize: {error}");
            return Err(error);
        }
    };
    let tokens = config
        .tokens
        .iter()
        .map(|t| Token::new(config.clone(), t))
        .collect();
    *guard = Some(Arc::new(Library {
        initialized_by: pid,
        pid: AtomicU32::new(pid),
        tokens,
        objects: ObjectTable::default(),
        sessions: Mutex::new(HashMap::new()),
        last_session: AtomicU64::new(0),
    }));
    Ok(())
}

/// C_Finalize.
pub fn finalize() -> Result<()> {
    let mut guard = LIBRARY
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match guard.take() {
        Some(library) => {
            library.adopt_after_fork();
            // The application is done: its session objects go (explicitly, then by closing the lease
            // connections, which makes the server destroy whatever was missed).
            let sessions: Vec<_> = match library.sessions() {
                Ok(mut sessions) => sessions.drain().map(|(_, s)| s).collect(),
                Err(_) => Vec::new(),
            };
            for session in sessions {
                library.destroy_owned(&session);
            }
            for token in &library.tokens {
                token.end_leases();
            }
            Ok(())
        }
        None => fail(CKR_CRYPTOKI_NOT_INITIALIZED, "C_Initialize was not called"),
    }
}

/// The state; in a forked child, the inherited state once adopted (see the module documentation).
pub fn library() -> Result<Arc<Library>> {
    let library = {
        let guard = LIBRARY
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match guard.as_ref() {
            Some(library) => library.clone(),
            None => return fail(CKR_CRYPTOKI_NOT_INITIALIZED, "C_Initialize was not called"),
        }
    };
    library.adopt_after_fork();
    Ok(library)
}

impl Library {
    /// In a forked child: drops the parent's connections and random bytes, once.
    fn adopt_after_fork(&self) {
        let pid = std::process::id();
        let previous = self.pid.swap(pid, Ordering::AcqRel);
        if previous != pid {
            for token in &self.tokens {
                token.forget_process_state();
            }
        }
    }

    pub fn token(&self, slot: CK_SLOT_ID) -> Result<&Token> {
        usize::try_from(slot)
            .ok()
            .and_then(|i| self.tokens.get(i))
            .ok_or(Pkcs11Error::rv(CKR_SLOT_ID_INVALID, "no such slot"))
    }

    pub fn open_session(&self, slot: CK_SLOT_ID, read_write: bool) -> Result<CK_SESSION_HANDLE> {
        self.token(slot)?;
        let handle = self.last_session.fetch_add(1, Ordering::Relaxed) + 1;
        let session = Session::new(slot as usize, read_write);
        self.sessions()?
            .insert(handle, Arc::new(Mutex::new(session)));
        Ok(handle)
    }

    pub fn session(&self, handle: CK_SESSION_HANDLE) -> Result<Arc<Mutex<Session>>> {
        match self.sessions()?.get(&handle) {
            Some(session) => Ok(session.clone()),
            None => fail(CKR_SESSION_HANDLE_INVALID, "no session has this handle"),
        }
    }

    pub fn close_session(&self, handle: CK_SESSION_HANDLE) -> Result<()> {
        let mut sessions = self.sessions()?;
        let session = match sessions.remove(&handle) {
            Some(session) => session,
            None => return fail(CKR_SESSION_HANDLE_INVALID, "no session has this handle"),
        };
        let token = lock(&session)?.token;
        let last = !sessions
            .values()
            .any(|s| lock(s).map(|s| s.token == token).unwrap_or(false));
        drop(sessions);
        self.destroy_owned(&session);
        if last {
            self.tokens[token].end_login();
        }
        Ok(())
    }

    pub fn close_all_sessions(&self, slot: CK_SLOT_ID) -> Result<()> {
        let token = self.token(slot)?;
        let mut closed = Vec::new();
        self.sessions()?.retain(|_, s| {
            let keep = lock(s).map(|s| s.token != slot as usize).unwrap_or(false);
            if !keep {
                closed.push(s.clone());
            }
            keep
        });
        for session in closed {
            self.destroy_owned(&session);
        }
        token.end_login();
        Ok(())
    }

    /// Removes `handle` from every session's own objects (it became a token object).
    pub fn disown(&self, handle: CK_OBJECT_HANDLE) {
        let Ok(sessions) = self.sessions() else {
            return;
        };
        for session in sessions.values() {
            if let Ok(mut s) = lock(session) {
                s.owned.retain(|h| *h != handle);
            }
        }
    }

    /// Destroys the session objects a closing session made (best effort: whatever fails here goes when the
    /// process's lease connection closes).
    fn destroy_owned(&self, session: &Mutex<Session>) {
        let owned = match lock(session) {
            Ok(mut s) => std::mem::take(&mut s.owned),
            Err(_) => return,
        };
        for handle in owned {
            if crate::ops::destroy_object(self, handle).is_ok() {
                continue;
            }
            // Already destroyed by the application, or the server is out of reach.
            let _ = self.objects.forget(handle);
        }
    }

    pub fn session_count(&self, slot: usize) -> (CK_ULONG, CK_ULONG) {
        let Ok(sessions) = self.sessions() else {
            return (0, 0);
        };
        let mut all = 0;
        let mut rw = 0;
        for session in sessions.values() {
            if let Ok(s) = lock(session) {
                if s.token == slot {
                    all += 1;
                    rw += CK_ULONG::from(s.read_write);
                }
            }
        }
        (all, rw)
    }

    fn sessions(&self) -> Result<MutexGuard<'_, HashMap<CK_SESSION_HANDLE, Arc<Mutex<Session>>>>> {
        self.sessions
            .lock()
            .map_err(|_| Pkcs11Error::rv(CKR_GENERAL_ERROR, "session table lock poisoned"))
    }
}

/// Locks a session.
pub fn lock(session: &Mutex<Session>) -> Result<MutexGuard<'_, Session>> {
    session
        .lock()
        .map_err(|_| Pkcs11Error::rv(CKR_GENERAL_ERROR, "session lock poisoned"))
}
