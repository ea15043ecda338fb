//! KMIP protocol versions.

use std::fmt;

use ttlv::{tags, Item, Value};

use crate::error::DecodeError;
use crate::fields::Fields;

/// A KMIP protocol version (Protocol Version Major / Minor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolVersion {
    pub major: i32,
    pub minor: i32,
}

impl ProtocolVersion {
    pub const V1_0: Self = Self::new(1, 0);
    pub const V1_1: Self = Self::new(1, 1);
    pub const V1_2: Self = Self::new(1, 2);
    pub const V1_3: Self = Self::new(1, 3);
    pub const V1_4: Self = Self::new(1, 4);
    pub const V2_0: Self = Self::new(2, 0);
    pub const V2_1: Self = Self::new(2, 1);

    /// Every version qkms speaks, newest first (the order Discover Versions answers in).
    pub const SUPPORTED: &'static [Self] = &[
        Self::V2_1,
        Self::V2_0,
        Self::V1_4,
        Self::V1_3,
        Self::V1_2,
        Self::V1_1,
        Self::V1_0,
    ];

    pub const fn new(major: i32, minor: i32) -> Self {
        Self { major, minor }
    }

    /// Whether this version uses the 2.x message forms (Attributes structures instead of Template-Attribute).
    pub fn is_v2(self) -> bool {
        self.major >= 2
    }

    pub fn to_ttlv(self) -> Item {
        Item::structure(
            tags::PROTOCOL_VERSION,
            vec![
                Item::new(tags::PROTOCOL_VERSION_MAJOR, Value::Integer(self.major)),
                Item::new(tags::PROTOCOL_VERSION_MINOR, Value::Integer(self.minor)),
            ],
        )
    }

    pub fn from_ttlv(item: &Item) -> Result<Self, DecodeError> {
        let fields = Fields::of(item, tags::PROTOCOL_VERSION)?;
        Ok(Self::new(
            fields.required_integer(tags::PROTOCOL_VERSION_MAJOR)?,
            fields.required_integer(tags::PROTOCOL_VERSION_MINOR)?,
        ))
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}
