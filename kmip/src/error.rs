//! Why a TTLV tree is not a valid KMIP message, in terms a server can answer with.

use ttlv::Tag;

use crate::result::ResultReason;

/// A tree that is well-formed TTLV but not a valid KMIP message (or part of one).
///
/// Carries the Result Reason a server should answer with and a message a human can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    pub reason: ResultReason,
    /// The tag of the item at fault, where there is one.
    pub tag: Option<Tag>,
    pub message: String,
}

impl DecodeError {
    pub fn new(reason: ResultReason, tag: Option<Tag>, message: impl Into<String>) -> Self {
        Self {
            reason,
            tag,
            message: message.into(),
        }
    }

    /// A field is missing or malformed: Result Reason Invalid Field.
    pub fn invalid_field(tag: Tag, message: impl Into<String>) -> Self {
        Self::new(ResultReason::InvalidField, Some(tag), message)
    }

    /// A required field is absent.
    pub fn missing(tag: Tag, within: Tag) -> Self {
        Self::invalid_field(
            tag,
            format!(
                "missing required field {} in {}",
                tag_label(tag),
                tag_label(within)
            ),
        )
    }

    /// The message as a whole is malformed: Result Reason Invalid Message.
    pub fn invalid_message(message: impl Into<String>) -> Self {
        Self::new(ResultReason::InvalidMessage, None, message)
    }
}

/// A tag as a reader wants to see it: its name when known, and its number.
pub fn tag_label(tag: Tag) -> String {
    match ttlv::dictionary::tag_name(tag) {
        Some(name) => format!("{name} ({tag})"),
        None => tag.to_string(),
    }
}
