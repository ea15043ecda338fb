//! Errors of the binary TTLV codec: what a peer sent wrong (decoding) or what cannot be encoded.

use crate::{ItemType, Tag};

/// A binary TTLV message was rejected. Each variant names the rule that was broken and where: `offset` is
/// the byte offset, from the start of the message, of the offending item's header (or of the bytes named
/// in the variant), and `tag` is the offending item's tag.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The message, or the length its header declares, is larger than [`crate::Limits::max_message_size`].
    #[error("message of {size} bytes exceeds the limit of {max} bytes")]
    MessageTooLarge { size: u64, max: usize },

    /// Fewer than the 8 bytes of an item header remain.
    #[error("truncated item header at byte {offset}: {available} of 8 bytes present")]
    TruncatedHeader { offset: usize, available: usize },

    /// The top-level item's value (with padding) runs past the end of the input.
    #[error("truncated value of {tag} at byte {offset}: {needed} bytes declared with padding, {available} present")]
    TruncatedValue {
        offset: usize,
        tag: Tag,
        needed: u64,
        available: usize,
    },

    /// A nested item's value (with padding) runs past the end of the Structure that encloses it.
    #[error(
        "value of {tag} at byte {offset} overruns its enclosing structure {parent}: \
         {needed} bytes declared with padding, {available} left in the structure"
    )]
    OverrunsStructure {
        offset: usize,
        tag: Tag,
        parent: Tag,
        needed: u64,
        available: usize,
    },

    /// The type byte is not an assigned KMIP item type.
    #[error("unknown item type 0x{code:02X} for {tag} at byte {offset}")]
    UnknownType { offset: usize, tag: Tag, code: u8 },

    /// A fixed-size type (Integer, Long Integer, Enumeration, Boolean, Date-Time, Interval, Date-Time
    /// Extended) declares another length.
    #[error("{item_type:?} {tag} at byte {offset} declares length {actual}, the type requires {expected}")]
    WrongLength {
        offset: usize,
        tag: Tag,
        item_type: ItemType,
        expected: u32,
        actual: u32,
    },

    /// A Structure's length is not a multiple of 8 (its children are each padded to 8 bytes).
    #[error("structure {tag} at byte {offset} declares length {length}, not a multiple of 8")]
    UnalignedStructureLength {
        offset: usize,
        tag: Tag,
        length: u32,
    },

    /// A Big Integer's length is not a multiple of 8.
    #[error("big integer {tag} at byte {offset} declares length {length}, not a multiple of 8")]
    BigIntegerLength {
        offset: usize,
        tag: Tag,
        length: u32,
    },

    /// A padding byte is not zero; `offset` is that of the first padding byte.
    #[error("non-zero padding after {tag} at byte {offset}")]
    NonZeroPadding { offset: usize, tag: Tag },

    /// A Boolean's value is neither 0 nor 1.
    #[error("boolean {tag} at byte {offset} has value {value}, only 0 and 1 are allowed")]
    InvalidBoolean { offset: usize, tag: Tag, value: u64 },

    /// A Text String is not valid UTF-8; `offset` is that of the first invalid byte.
    #[error("text string {tag} has invalid UTF-8 at byte {offset}")]
    InvalidUtf8 { offset: usize, tag: Tag },

    /// An item lies deeper than [`crate::Limits::max_depth`].
    #[error("{tag} at byte {offset} is nested deeper than the limit of {max_depth}")]
    TooDeep {
        offset: usize,
        tag: Tag,
        max_depth: usize,
    },

    /// The message holds more than [`crate::Limits::max_items`] items.
    #[error("{tag} at byte {offset} exceeds the limit of {max_items} items")]
    TooManyItems {
        offset: usize,
        tag: Tag,
        max_items: usize,
    },

    /// Bytes follow the top-level item.
    #[error("{count} trailing bytes after the top-level item, at byte {offset}")]
    TrailingBytes { offset: usize, count: usize },
}

impl DecodeError {
    /// The byte offset the error points at.
    pub fn offset(&self) -> usize {
        match *self {
            Self::MessageTooLarge { .. } => 0,
            Self::TruncatedHeader { offset, .. }
            | Self::TruncatedValue { offset, .. }
            | Self::OverrunsStructure { offset, .. }
            | Self::UnknownType { offset, .. }
            | Self::WrongLength { offset, .. }
            | Self::UnalignedStructureLength { offset, .. }
            | Self::BigIntegerLength { offset, .. }
            | Self::NonZeroPadding { offset, .. }
            | Self::InvalidBoolean { offset, .. }
            | Self::InvalidUtf8 { offset, .. }
            | Self::TooDeep { offset, .. }
            | Self::TooManyItems { offset, .. }
            | Self::TrailingBytes { offset, .. } => offset,
        }
    }

    /// The tag of the offending item, when the error concerns one item.
    pub fn tag(&self) -> Option<Tag> {
        match *self {
            Self::MessageTooLarge { .. }
            | Self::TruncatedHeader { .. }
            | Self::TrailingBytes { .. } => None,
            Self::TruncatedValue { tag, .. }
            | Self::OverrunsStructure { tag, .. }
            | Self::UnknownType { tag, .. }
            | Self::WrongLength { tag, .. }
            | Self::UnalignedStructureLength { tag, .. }
            | Self::BigIntegerLength { tag, .. }
            | Self::NonZeroPadding { tag, .. }
            | Self::InvalidBoolean { tag, .. }
            | Self::InvalidUtf8 { tag, .. }
            | Self::TooDeep { tag, .. }
            | Self::TooManyItems { tag, .. } => Some(tag),
        }
    }
}

/// An item tree that binary TTLV cannot represent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The tag does not fit the three bytes of a TTLV tag.
    #[error("tag 0x{:X} does not fit in three bytes", tag.0)]
    TagOutOfRange { tag: Tag },

    /// A value (or a Structure's encoded children) is longer than the 4-byte length field allows.
    #[error("{tag} has a value of {length} bytes, more than a TTLV length can express")]
    ValueTooLong { tag: Tag, length: usize },
}
