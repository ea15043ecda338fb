//! One live connection to a token: the loaded module (initialised), the slot holding the token with the
//! configured label, and a read-write session logged in as the user. Closing it logs out, closes the session and
//! finalises the module, so that a fresh `connect` rescans slots (a token that came back is found again).

use std::fmt;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use crate::error::{rv_name, rv_of, HsmError};
use crate::settings::{HsmSettings, Pin};

/// What the token says about itself (CK_TOKEN_INFO), for labels in logs, metrics and provenance.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TokenIdentity {
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
}

/// A logged-in session on the configured token.
pub(crate) struct Connection {
    /// Declared before `pkcs11`: the session closes before the module is finalised.
    session: Option<Session>,
    pkcs11: Option<Pkcs11>,
    pub(crate) slot: Slot,
    pub(crate) identity: TokenIdentity,
    /// Handles of held keys found on this session, by (is private key, CKA_ID): C_FindObjects costs SoftHSM2
    /// 70-200 µs, more than an ECDSA or AES-GCM call itself. A handle is valid for the session's life; a stale
    /// one (the object deleted meanwhile) fails with CKR_OBJECT_HANDLE_INVALID / CKR_KEY_HANDLE_INVALID, which
    /// drops this connection (and its cache) and retries on a fresh one.
    pub(crate) held_handles: std::sync::Mutex<
        std::collections::HashMap<(bool, Vec<u8>), cryptoki::object::ObjectHandle>,
    >,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("slot", &self.slot)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Loads and initialises the module, finds the token by label, opens a read-write session and logs in.
    pub(crate) fn open(settings: &HsmSettings, pin: &Pin) -> Result<Self, HsmError> {
        if !settings.module.exists() {
            return Err(HsmError::ModuleMissing {
                module: settings.module.clone(),
            });
        }
        let pkcs11 = Pkcs11::new(&settings.module).map_err(|e| HsmError::ModuleLoad {
            module: settings.module.clone(),
            reason: e.to_string(),
        })?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) => {}
            // Another user of the same module in this process initialised it: sessions are still ours.
            Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => {
                return Err(HsmError::ModuleLoad {
                    module: settings.module.clone(),
                    reason: format!("C_Initialize: {}", rv_name(&e)),
                })
            }
        }
        // From here on a failure finalises the module before returning.
        let mut connection = Self {
            session: None,
            pkcs11: Some(pkcs11),
            slot: Slot::try_from(0u64).map_err(|e| HsmError::Settings(e.to_string()))?,
            identity: TokenIdentity {
                label: settings.token_label.clone(),
                manufacturer: String::new(),
                model: String::new(),
                serial: String::new(),
            },
            held_handles: std::sync::Mutex::default(),
        };
        connection.find_and_log_in(settings, pin)?;
        Ok(connection)
    }

    fn find_and_log_in(&mut self, settings: &HsmSettings, pin: &Pin) -> Result<(), HsmError> {
        let label = settings.token_label.clone();
        let pkcs11 = self.pkcs11.as_ref().expect("set by open");
        let module_error = |e: CkError| HsmError::ModuleLoad {
            module: settings.module.clone(),
            reason: rv_name(&e),
        };
        let mut present = Vec::new();
        let mut found = None;
        for slot in pkcs11.get_slots_with_token().map_err(module_error)? {
            let Ok(info) = pkcs11.get_token_info(slot) else {
                continue;
            };
            let this_label = info.label().trim_end().to_owned();
            if this_label == label && found.is_none() {
                found = Some((
                    slot,
                    TokenIdentity {
                        label: this_label.clone(),
                        manufacturer: info.manufacturer_id().trim_end().to_owned(),
                        model: info.model().trim_end().to_owned(),
                        serial: info.serial_number().trim_end().to_owned(),
                    },
                ));
            }
            present.push(this_label);
        }
        let Some((slot, identity)) = found else {
            return Err(HsmError::TokenNotFound {
                label,
                module: settings.module.clone(),
                present,
            });
        };
        self.slot = slot;
        self.identity = identity;
        let pkcs11_error = |operation: &'static str, e: CkError| HsmError::Pkcs11 {
            token: label.clone(),
            operation,
            rv: rv_name(&e),
        };
        let session = pkcs11
            .open_rw_session(slot)
            .map_err(|e| pkcs11_error("C_OpenSession", e))?;
        let auth = AuthPin::from(pin.as_str());
        match session.login(UserType::User, Some(&auth)) {
            Ok(()) => {}
            Err(e) => match rv_of(&e) {
                Some(RvError::UserAlreadyLoggedIn) => {}
                Some(RvError::PinIncorrect) | Some(RvError::PinLenRange) => {
                    return Err(HsmError::WrongPin {
                        label,
                        pin_file: settings.pin_file.clone(),
                    })
                }
                Some(RvError::PinLocked) => return Err(HsmError::PinLocked { label }),
                _ => return Err(pkcs11_error("C_Login", e)),
            },
        }
        self.session = Some(session);
        Ok(())
    }

    pub(crate) fn session(&self) -> &Session {
        self.session
            .as_ref()
            .expect("a connection always has a session")
    }

    pub(crate) fn pkcs11(&self) -> &Pkcs11 {
        self.pkcs11
            .as_ref()
            .expect("a connection always has a module")
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            // Errors are expected when the token is gone; closing the session is what matters.
            let _ = session.logout();
            drop(session);
        }
        if let Some(pkcs11) = self.pkcs11.take() {
            if let Err(e) = pkcs11.finalize() {
                tracing::debug!(error = %e, "C_Finalize failed while closing the HSM connection");
            }
        }
    }
}
