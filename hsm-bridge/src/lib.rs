//! PKCS#11 client to an existing HSM, for two jobs: guarding qkms's root key (the store's data key is wrapped and
//! unwrapped inside the HSM under a non-extractable AES-256 key, see [`custody`]) and feeding the HSM's own
//! random number generator with quantum randomness from the entropy pool (`C_SeedRandom`, see [`seed`]).
//!
//! One [`Hsm`] holds one long-lived, logged-in session. When the token goes away mid-run, calls fail with
//! [`HsmError::Unavailable`] and the connection is dropped (module finalised); the next call reconnects, so the
//! bridge recovers by itself when the token comes back. Tested against SoftHSM2 (see `softhsm`).

pub mod connection;
pub mod custody;
pub mod error;
pub mod held;
pub mod held_generate;
pub mod held_object;
pub mod held_pair;
pub mod rng_source;
pub mod seed;
pub mod settings;
pub mod softhsm;

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use cryptoki::error::Error as CkError;

pub use connection::TokenIdentity;
pub use custody::{WrapMechanism, WrappedDataKey, DATA_KEY_LEN};
pub use error::HsmError;
pub use held::HeldKey;
pub use held_generate::{GeneratedHeld, GeneratedPublic, GeneratedSpec};
pub use held_object::{HeldHash, HeldKind, HeldOperation};
pub use held_pair::{HeldCurve, HeldKeyPair};
pub use rng_source::{HsmRngSource, RngSourceSettings};
pub use seed::{SeedStatus, Seeder};
pub use settings::{HsmSettings, MechanismChoice, SeedSettings, DEFAULT_KEY_LABEL};

use connection::Connection;
use error::{means_token_lost, rv_name, rv_of};
use seed::SeedCounters;
use settings::Pin;

/// A connection to one HSM token, re-established on demand after the token went away.
pub struct Hsm {
    settings: HsmSettings,
    pin: Pin,
    connection: Mutex<Option<Connection>>,
    seed: SeedCounters,
}

impl fmt::Debug for Hsm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hsm")
            .field("settings", &self.settings)
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

impl Hsm {
    /// Reads the PIN file and connects now, so that a missing module, a missing token or a wrong PIN is reported
    /// at start-up, each with its own error.
    pub fn connect(settings: HsmSettings) -> Result<Self, HsmError> {
        if settings.token_label.is_empty() {
            return Err(HsmError::Settings("the HSM token label is empty".into()));
        }
        if settings.key_label.is_empty() {
            return Err(HsmError::Settings("the HSM key label is empty".into()));
        }
        let pin = Pin::read(&settings.pin_file)?;
        let connection = Connection::open(&settings, &pin)?;
        Ok(Self {
            seed: SeedCounters::new(&settings.token_label),
            settings,
            pin,
            connection: Mutex::new(Some(connection)),
        })
    }

    /// Like [`connect`](Self::connect), but a token that cannot be reached now is not an error: the first call
    /// that needs it connects (for keys held in an HSM, so that the server starts, and serves its other keys,
    /// while that HSM is away). The PIN file is read now.
    pub fn connect_when_needed(settings: HsmSettings) -> Result<Self, HsmError> {
        match Self::connect(settings.clone()) {
            Ok(hsm) => Ok(hsm),
            Err(
                error @ (HsmError::Settings(_)
                | HsmError::PinFile { .. }
                | HsmError::WrongPin { .. }),
            ) => Err(error),
            Err(error) => {
                tracing::warn!(token = %settings.token_label, %error,
                    "the HSM is not reachable now; keys held in it fail until it is");
                let pin = Pin::read(&settings.pin_file)?;
                Ok(Self {
                    seed: SeedCounters::new(&settings.token_label),
                    settings,
                    pin,
                    connection: Mutex::new(None),
                })
            }
        }
    }

    /// The settings this bridge was made with.
    pub fn settings(&self) -> &HsmSettings {
        &self.settings
    }

    /// The token's label: the `hsm` label of metrics.
    pub fn label(&self) -> &str {
        &self.settings.token_label
    }

    /// The token's label, manufacturer, model and serial number (reconnecting if needed).
    pub fn identity(&self) -> Result<TokenIdentity, HsmError> {
        self.with_connection("C_GetTokenInfo", |c| {
            // Asking the token proves it is still there; the identity itself was read at connect time.
            c.pkcs11()
                .get_token_info(c.slot)
                .map_err(|e| self.call_error("C_GetTokenInfo", e))?;
            Ok(c.identity.clone())
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        // A panic while holding the lock leaves at worst a stale connection, which the next failure replaces.
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the connection, connecting first if there is none. A failure that means the token or session
    /// went away (or a missing key, which may mean the same) drops the connection and tries once more on a fresh
    /// one; if that cannot be made, the error says the token is unavailable and why.
    pub(crate) fn with_connection<T>(
        &self,
        operation: &'static str,
        f: impl Fn(&Connection) -> Result<T, HsmError>,
    ) -> Result<T, HsmError> {
        let mut guard = self.lock();
        let mut attempt = 0;
        loop {
            attempt += 1;
            if guard.is_none() {
                match Connection::open(&self.settings, &self.pin) {
                    Ok(connection) => {
                        tracing::info!(token = %self.settings.token_label, "HSM connection (re-)established");
                        *guard = Some(connection);
                    }
                    Err(error @ (HsmError::WrongPin { .. } | HsmError::PinLocked { .. })) => {
                        return Err(error)
                    }
                    Err(error) => {
                        return Err(HsmError::Unavailable {
                            token: self.settings.token_label.clone(),
                            reason: format!("{operation} needs the token: {error}"),
                        })
                    }
                }
            }
            let connection = guard.as_ref().expect("connected just above");
            match f(connection) {
                // A vanished key may mean a vanished token (SoftHSM2 shows a removed token as an empty one):
                // only a fresh connection tells "token gone" (it is not found) from "key deleted" (still missing).
                Err(error)
                    if error.is_connection_lost()
                        || (attempt == 1
                            && matches!(
                                error,
                                HsmError::KeyNotFound { .. } | HsmError::HeldKeyMissing { .. }
                            )) =>
                {
                    // Drop (log out, finalise) the dead connection; the next round reconnects.
                    *guard = None;
                    if attempt >= 2 {
                        return Err(error);
                    }
                    if error.is_connection_lost() {
                        tracing::warn!(token = %self.settings.token_label, %error, "HSM connection lost; reconnecting");
                    } else {
                        tracing::debug!(token = %self.settings.token_label, %error, "checking on a fresh connection");
                    }
                }
                other => return other,
            }
        }
    }

    /// A failed PKCS#11 call as an error: `Unavailable` when the return value means the token or session is gone.
    pub(crate) fn call_error(&self, operation: &'static str, error: CkError) -> HsmError {
        let token = self.settings.token_label.clone();
        match rv_of(&error) {
            Some(rv) if means_token_lost(rv) => HsmError::Unavailable {
                token,
                reason: format!("{operation}: {}", rv_name(&error)),
            },
            _ => HsmError::Pkcs11 {
                token,
                operation,
                rv: rv_name(&error),
            },
        }
    }
}
