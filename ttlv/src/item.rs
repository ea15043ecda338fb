//! The generic KMIP item tree: tag, type and value, with no KMIP semantics.

use std::fmt;

pub mod big_integer;

/// A KMIP tag: three bytes on the wire, `0x42xxxx` for standard tags and `0x54xxxx` for extensions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub u32);

impl Tag {
    /// Whether this tag lies in the extension range (`0x540000..=0x54FFFF`).
    pub fn is_extension(self) -> bool {
        self.0 >> 16 == 0x54
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag(0x{:06X})", self.0)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:06X}", self.0)
    }
}

/// The KMIP item types and their one-byte wire codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ItemType {
    Structure = 0x01,
    Integer = 0x02,
    LongInteger = 0x03,
    BigInteger = 0x04,
    Enumeration = 0x05,
    Boolean = 0x06,
    TextString = 0x07,
    ByteString = 0x08,
    DateTime = 0x09,
    Interval = 0x0A,
    /// KMIP 2.0 and later: microseconds since the Unix epoch.
    DateTimeExtended = 0x0B,
}

impl ItemType {
    /// The type for a wire code, or `None` for an unassigned code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x01 => Self::Structure,
            0x02 => Self::Integer,
            0x03 => Self::LongInteger,
            0x04 => Self::BigInteger,
            0x05 => Self::Enumeration,
            0x06 => Self::Boolean,
            0x07 => Self::TextString,
            0x08 => Self::ByteString,
            0x09 => Self::DateTime,
            0x0A => Self::Interval,
            0x0B => Self::DateTimeExtended,
            _ => return None,
        })
    }

    /// The name used by the KMIP-XML and KMIP-JSON encodings (`"TextString"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Structure => "Structure",
            Self::Integer => "Integer",
            Self::LongInteger => "LongInteger",
            Self::BigInteger => "BigInteger",
            Self::Enumeration => "Enumeration",
            Self::Boolean => "Boolean",
            Self::TextString => "TextString",
            Self::ByteString => "ByteString",
            Self::DateTime => "DateTime",
            Self::Interval => "Interval",
            Self::DateTimeExtended => "DateTimeExtended",
        }
    }

    /// The type named `name` in the text encodings.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "Structure" => Self::Structure,
            "Integer" => Self::Integer,
            "LongInteger" => Self::LongInteger,
            "BigInteger" => Self::BigInteger,
            "Enumeration" => Self::Enumeration,
            "Boolean" => Self::Boolean,
            "TextString" => Self::TextString,
            "ByteString" => Self::ByteString,
            "DateTime" => Self::DateTime,
            "Interval" => Self::Interval,
            "DateTimeExtended" => Self::DateTimeExtended,
            _ => return None,
        })
    }
}

/// An item's value. The variant determines the item type.
///
/// `Debug` shows the length, not the content, of Byte Strings and Big Integers: they carry key material.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Structure(Vec<Item>),
    Integer(i32),
    LongInteger(i64),
    /// Two's-complement, big-endian; on the wire its length is a multiple of 8 (sign-extended).
    /// Decoders produce the canonical form of [`big_integer::canonical`]; build values with
    /// [`Value::big_integer`] so that trees compare equal whatever encoding they came from.
    BigInteger(Vec<u8>),
    Enumeration(u32),
    Boolean(bool),
    TextString(String),
    ByteString(Vec<u8>),
    /// Seconds since the Unix epoch.
    DateTime(i64),
    /// Seconds.
    Interval(u32),
    /// Microseconds since the Unix epoch (KMIP 2.0+).
    DateTimeExtended(i64),
}

impl Value {
    /// A Big Integer from two's-complement big-endian bytes, in canonical form (shortest sign extension to a
    /// multiple of 8 bytes, at least 8; an empty slice is zero).
    pub fn big_integer(bytes: &[u8]) -> Self {
        Self::BigInteger(big_integer::canonical(bytes))
    }

    /// A Big Integer holding `value`, in canonical form.
    pub fn big_integer_from_i128(value: i128) -> Self {
        Self::BigInteger(big_integer::from_i128(value))
    }

    /// A Big Integer from decimal text (optional sign, then digits), in canonical form.
    pub fn big_integer_from_decimal(text: &str) -> Result<Self, big_integer::BigIntegerError> {
        big_integer::from_decimal(text).map(Self::BigInteger)
    }

    /// The item type this value encodes as.
    pub fn item_type(&self) -> ItemType {
        match self {
            Self::Structure(_) => ItemType::Structure,
            Self::Integer(_) => ItemType::Integer,
            Self::LongInteger(_) => ItemType::LongInteger,
            Self::BigInteger(_) => ItemType::BigInteger,
            Self::Enumeration(_) => ItemType::Enumeration,
            Self::Boolean(_) => ItemType::Boolean,
            Self::TextString(_) => ItemType::TextString,
            Self::ByteString(_) => ItemType::ByteString,
            Self::DateTime(_) => ItemType::DateTime,
            Self::Interval(_) => ItemType::Interval,
            Self::DateTimeExtended(_) => ItemType::DateTimeExtended,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Structure(children) => f.debug_tuple("Structure").field(children).finish(),
            Self::Integer(v) => f.debug_tuple("Integer").field(v).finish(),
            Self::LongInteger(v) => f.debug_tuple("LongInteger").field(v).finish(),
            Self::BigInteger(bytes) => write!(f, "BigInteger(<{} bytes>)", bytes.len()),
            Self::Enumeration(v) => f.debug_tuple("Enumeration").field(v).finish(),
            Self::Boolean(v) => f.debug_tuple("Boolean").field(v).finish(),
            Self::TextString(v) => f.debug_tuple("TextString").field(v).finish(),
            Self::ByteString(bytes) => write!(f, "ByteString(<{} bytes>)", bytes.len()),
            Self::DateTime(v) => f.debug_tuple("DateTime").field(v).finish(),
            Self::Interval(v) => f.debug_tuple("Interval").field(v).finish(),
            Self::DateTimeExtended(v) => f.debug_tuple("DateTimeExtended").field(v).finish(),
        }
    }
}

/// One TTLV item: a tag and a typed value (a Structure holds its children in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub tag: Tag,
    pub value: Value,
}

impl Item {
    pub fn new(tag: Tag, value: Value) -> Self {
        Self { tag, value }
    }

    pub fn structure(tag: Tag, children: Vec<Item>) -> Self {
        Self::new(tag, Value::Structure(children))
    }

    /// The children of a Structure; empty for any other type.
    pub fn children(&self) -> &[Item] {
        match &self.value {
            Value::Structure(children) => children,
            _ => &[],
        }
    }

    /// The first child with `tag`.
    pub fn child(&self, tag: Tag) -> Option<&Item> {
        self.children().iter().find(|c| c.tag == tag)
    }

    /// Every child with `tag`, in order.
    pub fn children_with(&self, tag: Tag) -> impl Iterator<Item = &Item> {
        self.children().iter().filter(move |c| c.tag == tag)
    }
}
