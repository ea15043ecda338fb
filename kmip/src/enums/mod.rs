//! The enumerations of managed objects and their attributes, with values exactly as KMIP 1.4 §9.1.3.2 and
//! 2.1 §11 assign them.
//!
//! Every enumeration is declared with [`kmip_enum!`](crate::kmip_enum): `from_u32`, `to_u32`, `name` (the
//! KMIP-XML/JSON spelling) and `ALL`.

mod crypto;
mod lifecycle;
mod objects;

pub use crypto::{
    BlockCipherMode, CryptographicAlgorithm, DigitalSignatureAlgorithm, DrbgAlgorithm,
    Fips186Variation, HashingAlgorithm, KeyRoleType, MaskGenerator, PaddingMethod,
    RecommendedCurve, RngAlgorithm,
};
pub use lifecycle::{
    AlternativeNameType, KeyValueLocationType, LinkType, NameType, RevocationReasonCode, State,
    UsageLimitsUnit,
};
pub use objects::{
    CertificateType, DerivationMethod, EncodingOption, KeyCompressionType, KeyFormatType,
    ObjectType, OpaqueDataType, SecretDataType, SplitKeyMethod, WrappingMethod,
};

use ttlv::{Item, Tag, Value};

use crate::error::{tag_label, DecodeError};
use crate::fields::{enumeration, Fields};

/// What every KMIP enumeration type offers, so fields of any enumeration decode the same way.
pub trait KmipEnumeration: Copy + Sized {
    /// The enumeration's name, for error messages.
    const TYPE_NAME: &'static str;
    fn from_u32(value: u32) -> Option<Self>;
    fn to_u32(self) -> u32;

    /// The item `tag` carrying this value.
    fn to_item(self, tag: Tag) -> Item {
        Item::new(tag, Value::Enumeration(self.to_u32()))
    }

    /// Decodes an Enumeration item; an unassigned value is Invalid Field.
    fn from_item(item: &Item) -> Result<Self, DecodeError> {
        let raw = enumeration(item)?;
        Self::from_u32(raw).ok_or_else(|| {
            DecodeError::invalid_field(
                item.tag,
                format!(
                    "0x{raw:08X} is not a {} value (in {})",
                    Self::TYPE_NAME,
                    tag_label(item.tag)
                ),
            )
        })
    }
}

macro_rules! impl_kmip_enumeration {
    ($($ty:ident => $name:literal),+ $(,)?) => {
        $(impl KmipEnumeration for $ty {
            const TYPE_NAME: &'static str = $name;
            fn from_u32(value: u32) -> Option<Self> {
                $ty::from_u32(value)
            }
            fn to_u32(self) -> u32 {
                $ty::to_u32(self)
            }
        })+
    };
}

impl_kmip_enumeration! {
    BlockCipherMode => "Block Cipher Mode",
    CryptographicAlgorithm => "Cryptographic Algorithm",
    DigitalSignatureAlgorithm => "Digital Signature Algorithm",
    DrbgAlgorithm => "DRBG Algorithm",
    Fips186Variation => "FIPS186 Variation",
    HashingAlgorithm => "Hashing Algorithm",
    KeyRoleType => "Key Role Type",
    MaskGenerator => "Mask Generator",
    PaddingMethod => "Padding Method",
    RecommendedCurve => "Recommended Curve",
    RngAlgorithm => "RNG Algorithm",
    AlternativeNameType => "Alternative Name Type",
    KeyValueLocationType => "Key Value Location Type",
    LinkType => "Link Type",
    NameType => "Name Type",
    RevocationReasonCode => "Revocation Reason Code",
    State => "State",
    UsageLimitsUnit => "Usage Limits Unit",
    CertificateType => "Certificate Type",
    DerivationMethod => "Derivation Method",
    EncodingOption => "Encoding Option",
    KeyCompressionType => "Key Compression Type",
    KeyFormatType => "Key Format Type",
    ObjectType => "Object Type",
    SecretDataType => "Secret Data Type",
    SplitKeyMethod => "Split Key Method",
    WrappingMethod => "Wrapping Method",
}

impl KmipEnumeration for OpaqueDataType {
    const TYPE_NAME: &'static str = "Opaque Data Type";
    fn from_u32(value: u32) -> Option<Self> {
        Some(Self(value))
    }
    fn to_u32(self) -> u32 {
        self.0
    }
}

/// A required enumeration field of a Structure, typed.
pub(crate) fn required<E: KmipEnumeration>(
    fields: &Fields<'_>,
    tag: Tag,
) -> Result<E, DecodeError> {
    E::from_item(fields.required(tag)?)
}

/// An optional enumeration field of a Structure, typed.
pub(crate) fn optional<E: KmipEnumeration>(
    fields: &Fields<'_>,
    tag: Tag,
) -> Result<Option<E>, DecodeError> {
    fields.optional(tag).map(E::from_item).transpose()
}
