//! The one error type operation handlers return: a KMIP Result Reason and a message a human can act on.

use kmip::{DecodeError, ResultReason};

/// Why an operation failed, as the client will be told (Result Status Operation Failed, this reason, this message).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct KmipError {
    pub reason: ResultReason,
    pub message: String,
}

impl KmipError {
    pub fn new(reason: ResultReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }

    pub fn item_not_found(uid: &str) -> Self {
        Self::new(
            ResultReason::ItemNotFound,
            format!("no object with Unique Identifier {uid:?}"),
        )
    }

    pub fn invalid_field(message: impl Into<String>) -> Self {
        Self::new(ResultReason::InvalidField, message)
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ResultReason::PermissionDenied, message)
    }

    pub fn general(message: impl Into<String>) -> Self {
        Self::new(ResultReason::GeneralFailure, message)
    }
}

impl From<DecodeError> for KmipError {
    fn from(error: DecodeError) -> Self {
        Self::new(error.reason, error.message)
    }
}
