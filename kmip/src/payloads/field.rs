//! One conversion trait for every value a payload holds, and the `kmip_struct!` macro that declares a payload
//! structure once (field order, tags, presence) and derives both directions of its conversion from it.

use ttlv::{Item, Tag, Value};

use crate::error::{tag_label, DecodeError};
use crate::fields;
use crate::version::ProtocolVersion;

/// A value that is one TTLV item under a tag chosen by its container.
pub trait TtlvField: Sized {
    fn to_item(&self, tag: Tag, version: ProtocolVersion) -> Item;
    fn from_item(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError>;
}

impl TtlvField for String {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::TextString(self.clone()))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        fields::text(item).map(str::to_owned)
    }
}

impl TtlvField for Vec<u8> {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::ByteString(self.clone()))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        fields::bytes(item).map(<[u8]>::to_vec)
    }
}

impl TtlvField for i32 {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::Integer(*self))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        fields::integer(item)
    }
}

impl TtlvField for i64 {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::LongInteger(*self))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        fields::long_integer(item)
    }
}

impl TtlvField for bool {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::Boolean(*self))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        fields::boolean(item)
    }
}

/// A Date-Time (seconds since the Unix epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub i64);

impl TtlvField for DateTime {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::DateTime(self.0))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        match item.value {
            Value::DateTime(v) => Ok(Self(v)),
            _ => Err(wrong_type(item, "a Date-Time")),
        }
    }
}

/// An Interval (seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval(pub u32);

impl TtlvField for Interval {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::Interval(self.0))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        fields::interval(item).map(Self)
    }
}

/// A Big Integer kept as its two's-complement big-endian bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BigInteger(pub Vec<u8>);

impl TtlvField for BigInteger {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::BigInteger(self.0.clone()))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        match &item.value {
            Value::BigInteger(v) => Ok(Self(v.clone())),
            _ => Err(wrong_type(item, "a Big Integer")),
        }
    }
}

/// An Enumeration value kept as its number: for enumerations whose every value the payload merely carries
/// (vendor extensions `0x8XXXXXXX` included) rather than interprets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnumValue(pub u32);

impl TtlvField for EnumValue {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::Enumeration(self.0))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        fields::enumeration(item).map(Self)
    }
}

/// An item kept as it came: for parts whose structure belongs to the peer (vendor extensions, server
/// information), never for anything the server interprets.
impl TtlvField for Item {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, self.value.clone())
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        Ok(item.clone())
    }
}

pub(crate) fn wrong_type(item: &Item, expected: &str) -> DecodeError {
    DecodeError::invalid_field(
        item.tag,
        format!(
            "{} must be {expected}, found {}",
            tag_label(item.tag),
            item.value.item_type().name()
        ),
    )
}

/// Makes `kmip_enum!` enumerations declared in this module tree fields (through
/// [`crate::enums::KmipEnumeration`]): an unassigned value is an Invalid Field error naming the value.
#[macro_export]
#[doc(hidden)]
macro_rules! enum_field {
    ($($ty:ident => $name:literal),+ $(,)?) => {$(
        impl $crate::enums::KmipEnumeration for $ty {
            const TYPE_NAME: &'static str = $name;
            fn from_u32(value: u32) -> Option<Self> {
                $ty::from_u32(value)
            }
            fn to_u32(self) -> u32 {
                $ty::to_u32(self)
            }
        }
    )+};
}

/// Rejects a child the structure does not define, so nothing a client sent is silently dropped.
pub(crate) fn unexpected(child: &Item, within: Tag) -> DecodeError {
    DecodeError::invalid_field(
        child.tag,
        format!(
            "unexpected field {} in {}",
            tag_label(child.tag),
            tag_label(within)
        ),
    )
}

/// Declares a KMIP structure: its fields in wire order, each `req` (exactly one), `opt` (at most one) or
/// `vec` (any number), with the field's tag (a [`FieldTag`]: one tag, or a `(1.x tag, 2.x tag)` pair), or
/// `multi` (a [`MultiField`] whose items and tags depend on the version; write `= ()` for its tag). Add `#[derive(Default)]` where every `req` type has one.
/// Generates the struct, `to_ttlv`/`from_ttlv` and [`TtlvField`].
///
/// Decoding is strict: an unknown child, a repeated single field or a wrong type is an Invalid Field error.
#[macro_export]
#[doc(hidden)]
macro_rules! kmip_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $tag:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::kmip_struct!(@type $kind $ty), )*
        }

        impl $name {
            /// This structure under `tag`, in the forms of protocol `version`.
            #[allow(unused_variables, unused_mut)]
            pub fn to_ttlv(&self, tag: ttlv::Tag, version: $crate::ProtocolVersion) -> ttlv::Item {
                let mut children: Vec<ttlv::Item> = Vec::new();
                $( $crate::kmip_struct!(@encode $kind self.$field, $tag, version, children); )*
                ttlv::Item::structure(tag, children)
            }

            /// Decodes `item` (any tag) read under protocol `version`.
            #[allow(unused_variables, unused_mut)]
            pub fn from_ttlv(
                item: &ttlv::Item,
                version: $crate::ProtocolVersion,
            ) -> Result<Self, $crate::DecodeError> {
                let fields = $crate::fields::Fields::of_any(item)?;
                $( let mut $field: $crate::kmip_struct!(@slot $kind $ty) = Default::default(); )*
                for child in fields.children {
                    $(
                        if $crate::kmip_struct!(@claims $kind $ty, $tag, child, version) {
                            $crate::kmip_struct!(@decode $kind $field, $ty, child, version, fields.tag);
                            continue;
                        }
                    )*
                    return Err($crate::payloads::field::unexpected(child, fields.tag));
                }
                Ok(Self { $( $field: $crate::kmip_struct!(@finish $kind $field, $tag, version, fields.tag), )* })
            }
        }

        impl $crate::payloads::field::TtlvField for $name {
            fn to_item(&self, tag: ttlv::Tag, version: $crate::ProtocolVersion) -> ttlv::Item {
                self.to_ttlv(tag, version)
            }
            fn from_item(item: &ttlv::Item, version: $crate::ProtocolVersion) -> Result<Self, $crate::DecodeError> {
                Self::from_ttlv(item, version)
            }
        }
    };

    (@type multi $ty:ty) => { $ty };
    (@type req $ty:ty) => { $ty };
    (@type opt $ty:ty) => { Option<$ty> };
    (@type vec $ty:ty) => { Vec<$ty> };

    (@slot multi $ty:ty) => { $ty };
    (@slot req $ty:ty) => { Option<$ty> };
    (@slot opt $ty:ty) => { Option<$ty> };
    (@slot vec $ty:ty) => { Vec<$ty> };

    (@encode multi $value:expr, $tag:expr, $version:ident, $children:ident) => {
        $crate::payloads::field::MultiField::encode_into(&$value, $version, &mut $children);
    };
    (@encode req $value:expr, $tag:expr, $version:ident, $children:ident) => {
        let tag = $crate::payloads::field::FieldTag::for_version(&$tag, $version);
        $children.push($crate::payloads::field::TtlvField::to_item(&$value, tag, $version));
    };
    (@encode opt $value:expr, $tag:expr, $version:ident, $children:ident) => {
        if let Some(v) = $value.as_ref().filter(|_| $crate::payloads::field::FieldTag::exists_in(&$tag, $version)) {
            let tag = $crate::payloads::field::FieldTag::for_version(&$tag, $version);
            $children.push($crate::payloads::field::TtlvField::to_item(v, tag, $version));
        }
    };
    (@encode vec $value:expr, $tag:expr, $version:ident, $children:ident) => {
        let tag = $crate::payloads::field::FieldTag::for_version(&$tag, $version);
        let values = if $crate::payloads::field::FieldTag::exists_in(&$tag, $version) { &$value[..] } else { &[] };
        for v in values {
            $children.push($crate::payloads::field::TtlvField::to_item(v, tag, $version));
        }
    };

    (@claims multi $ty:ty, $tag:expr, $child:ident, $version:ident) => {
        <$ty as $crate::payloads::field::MultiField>::claims($child.tag, $version)
    };
    (@claims $kind:ident $ty:ty, $tag:expr, $child:ident, $version:ident) => {
        $crate::payloads::field::FieldTag::accepts(&$tag, $child.tag, $version)
    };

    (@decode multi $slot:ident, $ty:ty, $child:ident, $version:ident, $within:expr) => {
        $crate::payloads::field::MultiField::decode_one(&mut $slot, $child, $version)?;
    };
    (@decode vec $slot:ident, $ty:ty, $child:ident, $version:ident, $within:expr) => {
        $slot.push(<$ty as $crate::payloads::field::TtlvField>::from_item($child, $version)?);
    };
    (@decode $kind:ident $slot:ident, $ty:ty, $child:ident, $version:ident, $within:expr) => {
        if $slot.is_some() {
            return Err($crate::DecodeError::invalid_field(
                $child.tag,
                format!(
                    "{} appears more than once in {}",
                    $crate::error::tag_label($child.tag),
                    $crate::error::tag_label($within)
                ),
            ));
        }
        $slot = Some(<$ty as $crate::payloads::field::TtlvField>::from_item($child, $version)?);
    };

    (@finish req $slot:ident, $tag:expr, $version:ident, $within:expr) => {
        $slot.ok_or_else(|| {
            $crate::DecodeError::missing($crate::payloads::field::FieldTag::for_version(&$tag, $version), $within)
        })?
    };
    (@finish $kind:ident $slot:ident, $tag:expr, $version:ident, $within:expr) => { $slot };
}

impl TtlvField for ProtocolVersion {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        let mut item = self.to_ttlv();
        item.tag = tag;
        item
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        let fields = fields::Fields::of_any(item)?;
        for child in fields.children {
            if child.tag != ttlv::tags::PROTOCOL_VERSION_MAJOR
                && child.tag != ttlv::tags::PROTOCOL_VERSION_MINOR
            {
                return Err(unexpected(child, item.tag));
            }
        }
        Ok(ProtocolVersion::new(
            fields.required_integer(ttlv::tags::PROTOCOL_VERSION_MAJOR)?,
            fields.required_integer(ttlv::tags::PROTOCOL_VERSION_MINOR)?,
        ))
    }
}

crate::kmip_struct! {
    /// Nonce (attestation).
    #[derive(Default)]
    pub struct Nonce {
        req nonce_id: Vec<u8> = ttlv::tags::NONCE_ID,
        req nonce_value: Vec<u8> = ttlv::tags::NONCE_VALUE,
    }
}

/// Every typed KMIP enumeration is a field; an unassigned value is Invalid Field.
impl<E: crate::enums::KmipEnumeration> TtlvField for E {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        crate::enums::KmipEnumeration::to_item(*self, tag)
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        <E as crate::enums::KmipEnumeration>::from_item(item)
    }
}

/// Implements [`TtlvField`] for structured attribute values (`crate::attributes` `StructuredValue` types).
macro_rules! structured_field {
    ($($ty:ty),+ $(,)?) => {$(
        impl TtlvField for $ty {
            fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
                Item::structure(tag, crate::attributes::StructuredValue::children(self))
            }
            fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
                let fields = fields::Fields::of_any(item)?;
                <$ty as crate::attributes::StructuredValue>::from_fields(&fields)
            }
        }
    )+};
}

structured_field!(
    crate::attributes::CryptographicParameters,
    crate::attributes::RevocationReason
);

/// The tag of a field: fixed, or differing between the 1.x and 2.x families.
pub trait FieldTag {
    fn for_version(&self, version: ProtocolVersion) -> Tag;

    /// Whether the field exists in `version`. An optional field that does not is left out when encoding for
    /// `version` (as attributes a version lacks are): qkms never sends a field the message's version lacks.
    fn exists_in(&self, _version: ProtocolVersion) -> bool {
        true
    }

    /// Whether a child tagged `tag` in a `version` message is this field. Decoding accepts the field's tag
    /// from every version (PyKMIP sends Offset Items in 1.2 Locates and 1.x Template-Attributes in 2.0
    /// Re-keys): the tag says unambiguously which field it is, and its value is decoded in the form its tag
    /// names, so the server honours what it understands instead of refusing the request (issue #14).
    fn accepts(&self, tag: Tag, version: ProtocolVersion) -> bool {
        tag == self.for_version(version)
    }
}

/// A field that exists only from `since` on, and (when `until` is set) only before `until`.
#[derive(Clone, Copy, Debug)]
pub struct Versioned {
    pub tag: Tag,
    pub since: ProtocolVersion,
    pub until: Option<ProtocolVersion>,
}

/// A field introduced in `version`.
pub const fn since(tag: Tag, version: ProtocolVersion) -> Versioned {
    Versioned {
        tag,
        since: version,
        until: None,
    }
}

/// A field of the 1.x family only (removed in 2.0).
pub const fn v1_only(tag: Tag) -> Versioned {
    Versioned {
        tag,
        since: ProtocolVersion::V1_0,
        until: Some(ProtocolVersion::V2_0),
    }
}

impl FieldTag for Versioned {
    fn for_version(&self, _: ProtocolVersion) -> Tag {
        self.tag
    }

    fn exists_in(&self, version: ProtocolVersion) -> bool {
        version >= self.since && self.until.is_none_or(|until| version < until)
    }

    fn accepts(&self, tag: Tag, _: ProtocolVersion) -> bool {
        tag == self.tag
    }
}

impl FieldTag for Tag {
    fn for_version(&self, _: ProtocolVersion) -> Tag {
        *self
    }
}

/// `(1.x tag, 2.x tag)`. Encoded under the version's family tag; decoded under either (the value's type
/// decodes the form its tag names).
impl FieldTag for (Tag, Tag) {
    fn for_version(&self, version: ProtocolVersion) -> Tag {
        if version.is_v2() {
            self.1
        } else {
            self.0
        }
    }

    fn accepts(&self, tag: Tag, _: ProtocolVersion) -> bool {
        tag == self.0 || tag == self.1
    }
}

/// A field that is zero or more items whose tags depend on the version (e.g. 1.x `Attribute*` directly in a
/// payload versus one 2.x `Attributes` structure).
pub trait MultiField: Default {
    fn encode_into(&self, version: ProtocolVersion, out: &mut Vec<Item>);
    /// Whether a child with `tag` belongs to this field in `version`.
    fn claims(tag: Tag, version: ProtocolVersion) -> bool;
    fn decode_one(&mut self, item: &Item, version: ProtocolVersion) -> Result<(), DecodeError>;
}
