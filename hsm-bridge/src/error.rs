//! What can go wrong talking to an HSM, one variant per cause an operator must tell apart: the module is missing,
//! the token is gone, the PIN is wrong, the key was deleted, the token lacks a mechanism, or the token went away
//! while the server was running.

use std::path::PathBuf;

use cryptoki::error::{Error as CkError, RvError};

/// An HSM operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    #[error("PKCS#11 module {module} does not exist (is the HSM client library installed?)")]
    ModuleMissing { module: PathBuf },
    #[error("PKCS#11 module {module} cannot be loaded: {reason}")]
    ModuleLoad { module: PathBuf, reason: String },
    #[error("HSM PIN file {path}: {reason}")]
    PinFile { path: PathBuf, reason: String },
    #[error(
        "no token labelled {label:?} in PKCS#11 module {module} (tokens present: {present:?}): the HSM token is \
         gone or not plugged in"
    )]
    TokenNotFound {
        label: String,
        module: PathBuf,
        present: Vec<String>,
    },
    #[error("the PIN in {pin_file} is wrong for HSM token {label:?} (CKR_PIN_INCORRECT)")]
    WrongPin { label: String, pin_file: PathBuf },
    #[error("the user PIN of HSM token {label:?} is locked (CKR_PIN_LOCKED): the security officer must reset it")]
    PinLocked { label: String },
    #[error(
        "HSM token {token:?} holds no AES key labelled {key_label:?}: the root key was deleted, or this store \
         belongs to another token"
    )]
    KeyNotFound { token: String, key_label: String },
    #[error(
        "HSM token {token:?} holds no key with CKA_ID {id}: the key was deleted from the HSM, or this is another \
         token with the same label"
    )]
    HeldKeyMissing { token: String, id: String },
    #[error("HSM token {token:?}: the key labelled {key_label:?} cannot serve as the root key: {reason}")]
    KeyNotUsable {
        token: String,
        key_label: String,
        reason: String,
    },
    #[error("HSM token {token:?} has none of CKM_AES_KEY_WRAP_PAD, CKM_AES_KEY_WRAP, CKM_AES_GCM: cannot wrap keys")]
    NoWrapMechanism { token: String },
    #[error("HSM token {token:?} does not offer {mechanism} for {purpose}")]
    MechanismMissing {
        token: String,
        mechanism: &'static str,
        purpose: &'static str,
    },
    #[error("HSM token {token:?} refuses the wrapped data key ({rv}): it was wrapped by another key or altered")]
    WrappedKeyRejected { token: String, rv: String },
    #[error("HSM token {token:?} is unavailable (removed or unreachable): {reason}; the bridge reconnects on next use")]
    Unavailable { token: String, reason: String },
    #[error("HSM token {token:?}: {operation} failed: {rv}")]
    Pkcs11 {
        token: String,
        operation: &'static str,
        rv: String,
    },
    #[error("HSM token {token:?} does not accept seeding (CKR_RANDOM_SEED_NOT_SUPPORTED)")]
    SeedNotSupported { token: String },
    #[error("randomness for the HSM: {0}")]
    Entropy(#[from] entropy::error::EntropyError),
    #[error("invalid HSM settings: {0}")]
    Settings(String),
}

impl HsmError {
    /// True when the failure means the token (or the session to it) is gone, so reconnecting may help.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::TokenNotFound { .. })
    }
}

/// The `CKR_` name of a PKCS#11 error (cryptoki's variant name in upper snake case), or the error's text.
pub(crate) fn rv_name(error: &CkError) -> String {
    match error {
        CkError::Pkcs11(rv, function) => format!("{function}: {}", ckr(rv)),
        other => other.to_string(),
    }
}

/// `PinIncorrect` -> `CKR_PIN_INCORRECT`.
pub(crate) fn ckr(rv: &RvError) -> String {
    let name = format!("{rv:?}");
    let mut out = String::from("CKR_");
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The return value of a failed PKCS#11 call, if it was one.
pub(crate) fn rv_of(error: &CkError) -> Option<RvError> {
    match error {
        CkError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

/// Return values that mean the session or token went away (the token was removed, the library lost its state):
/// the connection is dropped and rebuilt on next use.
pub(crate) fn means_token_lost(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::DeviceRemoved
            | RvError::DeviceError
            | RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::GeneralError
            | RvError::UserNotLoggedIn
            | RvError::CryptokiNotInitialized
            | RvError::SlotIdInvalid
            | RvError::ObjectHandleInvalid
            | RvError::KeyHandleInvalid
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_values_are_named_as_the_standard_names_them() {
        assert_eq!(ckr(&RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(
            ckr(&RvError::RandomSeedNotSupported),
            "CKR_RANDOM_SEED_NOT_SUPPORTED"
        );
    }
}
