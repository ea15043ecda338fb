//! The one error type of the module and its mapping to `CK_RV`.

use cryptoki_sys::*;
use kmip::client::ClientError;
use kmip::ResultReason;

/// Why a Cryptoki call failed. Every variant maps to exactly one `CK_RV` ([`Pkcs11Error::rv`]).
#[derive(Debug, thiserror::Error)]
pub enum Pkcs11Error {
    /// A specific `CK_RV` chosen at the point of failure (argument checks, state checks).
    #[error("{context} (CK_RV 0x{rv:08X})")]
    Rv { rv: CK_RV, context: &'static str },
    /// `QKMS_PKCS11_CONFIG` is missing, unreadable or invalid (C_Initialize).
    #[error("configuration: {0}")]
    Config(String),
    /// The server could not be reached or the exchange failed midway.
    #[error("server unreachable: {0}")]
    Device(String),
    /// The server answered with a KMIP failure.
    #[error("server refused: {reason}: {message}")]
    Server {
        reason: ResultReason,
        message: String,
    },
    /// The server's answer does not fit what was asked.
    #[error("unexpected server response: {0}")]
    Unexpected(String),
}

pub type Result<T> = std::result::Result<T, Pkcs11Error>;

/// What the server's refusal of a PIN-less message says (kms-server `user_pin::guard`).
pub const NEEDS_USER_PIN: &str = "needs the user PIN";

impl Pkcs11Error {
    pub const fn rv(rv: CK_RV, context: &'static str) -> Self {
        Self::Rv { rv, context }
    }

    /// The `CK_RV` a caller sees.
    pub fn to_rv(&self) -> CK_RV {
        match self {
            Self::Rv { rv, .. } => *rv,
            // C_Initialize is the only place configuration is read: CKR_GENERAL_ERROR is the closest code the
            // standard has for "this library cannot work as configured"; the reason goes to stderr.
            Self::Config(_) => CKR_GENERAL_ERROR,
            Self::Device(_) => CKR_DEVICE_ERROR,
            Self::Unexpected(_) => CKR_DEVICE_ERROR,
            Self::Server { reason, message } => server_rv(*reason, message),
        }
    }
}

fn server_rv(reason: ResultReason, message: &str) -> CK_RV {
    match reason {
        ResultReason::ItemNotFound => CKR_OBJECT_HANDLE_INVALID,
        // The server's user-PIN check (kms-server user_pin::guard): a public message reached a private object.
        ResultReason::PermissionDenied if message.contains(NEEDS_USER_PIN) => {
            CKR_USER_NOT_LOGGED_IN
        }
        ResultReason::PermissionDenied => CKR_ACTION_PROHIBITED,
        ResultReason::AuthenticationNotSuccessful if message.contains("locked") => CKR_PIN_LOCKED,
        ResultReason::AuthenticationNotSuccessful => CKR_PIN_INCORRECT,
        ResultReason::InvalidField | ResultReason::InvalidMessage => CKR_TEMPLATE_INCONSISTENT,
        ResultReason::OperationNotSupported => CKR_FUNCTION_NOT_SUPPORTED,
        ResultReason::IncompatibleCryptographicUsageMask => CKR_KEY_FUNCTION_NOT_PERMITTED,
        ResultReason::WrongKeyLifecycleState => CKR_KEY_FUNCTION_NOT_PERMITTED,
        ResultReason::CryptographicFailure => CKR_FUNCTION_FAILED,
        _ => CKR_DEVICE_ERROR,
    }
}

impl From<ClientError> for Pkcs11Error {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Operation {
                reason, message, ..
            } => Self::Server { reason, message },
            ClientError::UnexpectedResponse(text) => Self::Unexpected(text),
            ClientError::Message(e) => Self::Unexpected(e.to_string()),
            ClientError::Decode(e) => Self::Unexpected(e.to_string()),
            ClientError::Config(text) => Self::Config(text),
            other => Self::Device(other.to_string()),
        }
    }
}

/// Shorthand for `Err(Pkcs11Error::Rv { .. })`.
pub fn fail<T>(rv: CK_RV, context: &'static str) -> Result<T> {
    Err(Pkcs11Error::rv(rv, context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_failures_map_to_specific_codes() {
        let missing = Pkcs11Error::Server {
            reason: ResultReason::ItemNotFound,
            message: String::new(),
        };
        assert_eq!(missing.to_rv(), CKR_OBJECT_HANDLE_INVALID);
        let broken = Pkcs11Error::from(ClientError::ConnectionBroken);
        assert_eq!(broken.to_rv(), CKR_DEVICE_ERROR);
        assert_eq!(
            fail::<()>(CKR_ARGUMENTS_BAD, "x").unwrap_err().to_rv(),
            CKR_ARGUMENTS_BAD
        );
    }
}
