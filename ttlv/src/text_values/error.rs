//! The error type shared by the KMIP-XML and KMIP-JSON readers and writers.

use std::fmt;

use crate::{ItemType, Tag};

/// Where in a text document an error was found: line and column when the format reports them (1-based), and
/// the path of element / tag names from the root down to the offending item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Tag names (or hex tags) separated by `/`, e.g. `RequestMessage/BatchItem/Operation`.
    pub path: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}")?,
            (Some(line), None) => write!(f, "line {line}")?,
            _ => f.write_str("unknown position")?,
        }
        if !self.path.is_empty() {
            write!(f, ", in {}", self.path)?;
        }
        Ok(())
    }
}

/// A KMIP-XML or KMIP-JSON document that cannot be read, or a tree that cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} ({location})")]
pub struct TextError {
    pub kind: TextErrorKind,
    pub location: Location,
}

impl TextError {
    pub(crate) fn new(kind: TextErrorKind, location: Location) -> Self {
        Self { kind, location }
    }
}

/// What was wrong. Offending text is quoted shortened; byte and big-integer values are never quoted, since
/// they may carry key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextErrorKind {
    /// Not well-formed XML or JSON, or JSON members that are missing, duplicated or unknown.
    #[error("malformed document: {0}")]
    Syntax(String),
    #[error("document is larger than the limit of {limit} bytes")]
    InputTooLarge { limit: usize },
    #[error("structures nest deeper than the limit of {limit}")]
    TooDeep { limit: usize },
    #[error("document holds more than the limit of {limit} items")]
    TooManyItems { limit: usize },
    #[error("unknown tag name {0:?}")]
    UnknownTagName(String),
    /// A hex tag that is malformed or outside the KMIP ranges `0x42xxxx` / `0x54xxxx`.
    #[error("invalid tag {0:?}: expected 0x42xxxx or 0x54xxxx")]
    BadTag(String),
    #[error("unknown item type {0:?}")]
    UnknownType(String),
    #[error("{tag}: {item_type:?} item has no value")]
    MissingValue { tag: Tag, item_type: ItemType },
    #[error("{tag}: a Structure cannot carry a value attribute")]
    StructureWithValue { tag: Tag },
    #[error("{tag}: a {item_type:?} item cannot contain child items")]
    ChildrenInPrimitive { tag: Tag, item_type: ItemType },
    #[error("unexpected attribute {0:?}")]
    UnexpectedAttribute(String),
    /// Text, CDATA, DOCTYPE or other content the XML encoding does not use.
    #[error("unexpected content: {0}")]
    UnexpectedContent(String),
    #[error("{tag}: invalid {item_type:?} value {shown}: {reason}")]
    BadValue {
        tag: Tag,
        item_type: ItemType,
        shown: String,
        reason: &'static str,
    },
    #[error("{tag}: unknown enumeration name {name:?}")]
    UnknownEnumName { tag: Tag, name: String },
    #[error("{tag}: unknown mask bit name {name:?}")]
    UnknownMaskName { tag: Tag, name: String },
    #[error("{tag}: placeholder ${name} for a {item_type:?} item was not resolved")]
    UnresolvedPlaceholder {
        tag: Tag,
        item_type: ItemType,
        name: String,
    },
    #[error("{tag}: placeholder resolved to a {got:?}, expected a {expected:?}")]
    PlaceholderTypeMismatch {
        tag: Tag,
        expected: ItemType,
        got: ItemType,
    },
    #[error("document has no root item")]
    NoRoot,
    #[error("document has more than one root item")]
    MultipleRoots,
    #[error("test-case document root must be <KMIP>, found {0:?}")]
    WrongDocumentRoot(String),
    /// A tree the writer cannot express: a tag outside the three-byte KMIP ranges. (Text with characters XML 1.0
    /// cannot carry is written with U+FFFD in their place, see `xml::REPLACEMENT`.)
    #[error("{tag}: cannot be written: {reason}")]
    NotRepresentable { tag: Tag, reason: &'static str },
}

/// Shortens text quoted in an error so that a huge bad value does not become a huge error.
pub(crate) fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out: String = text.chars().take(MAX_CHARS).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    format!("{out:?}")
}
