//! Managed objects: keys, certificates, secret data and opaque objects, with their Key Blocks; and the 1.x
//! Template.

mod key_block;
mod key_material;
mod template;

pub use key_block::{
    KeyBlock, KeyValue, KeyWrappingData, KeyWrappingSpecification, WrappingKeyInformation,
};
pub use key_material::{
    magnitude, positive_big_integer, DsaPrivateParts, DsaPublicParts, KeyMaterial, RawMaterial,
    RsaPrivateParts, SecretBytes,
};
pub use template::Template;

use std::fmt;

use ttlv::{tags, Item, Tag, Value};
use zeroize::Zeroizing;

use crate::enums::{
    self, CertificateType, KmipEnumeration, ObjectType, OpaqueDataType, SecretDataType,
    SplitKeyMethod,
};
use crate::error::{tag_label, DecodeError};
use crate::fields::Fields;
use crate::version::ProtocolVersion;

/// A managed object's value (its attributes travel separately).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManagedObject {
    SymmetricKey(KeyBlock),
    PublicKey(KeyBlock),
    PrivateKey(KeyBlock),
    SplitKey(SplitKey),
    Certificate(Certificate),
    SecretData(SecretData),
    OpaqueObject(OpaqueObject),
    /// KMIP 1.x only (see [`Template`]).
    Template(Template),
}

/// Certificate: its type and DER (or PGP) bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub certificate_type: CertificateType,
    pub certificate_value: Vec<u8>,
}

/// Secret Data: a password or seed in a Key Block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretData {
    pub secret_data_type: SecretDataType,
    pub key_block: KeyBlock,
}

/// Opaque Object: bytes the server does not interpret (zeroized on drop, redacted in `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueObject {
    pub opaque_data_type: OpaqueDataType,
    pub opaque_data_value: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for OpaqueObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OpaqueObject {{ opaque_data_type: 0x{:08X}, opaque_data_value: [REDACTED; {} bytes] }}",
            self.opaque_data_type.0,
            self.opaque_data_value.len()
        )
    }
}

/// Split Key: one part of a key split among several holders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitKey {
    pub split_key_parts: i32,
    pub key_part_identifier: i32,
    pub split_key_threshold: i32,
    pub split_key_method: SplitKeyMethod,
    /// Required for the polynomial sharing methods over a prime field.
    pub prime_field_size: Option<Vec<u8>>,
    pub key_block: KeyBlock,
}

impl ManagedObject {
    pub fn object_type(&self) -> ObjectType {
        match self {
            Self::SymmetricKey(_) => ObjectType::SymmetricKey,
            Self::PublicKey(_) => ObjectType::PublicKey,
            Self::PrivateKey(_) => ObjectType::PrivateKey,
            Self::SplitKey(_) => ObjectType::SplitKey,
            Self::Certificate(_) => ObjectType::Certificate,
            Self::SecretData(_) => ObjectType::SecretData,
            Self::OpaqueObject(_) => ObjectType::OpaqueObject,
            Self::Template(_) => ObjectType::Template,
        }
    }

    /// The tag of this object's item (Symmetric Key, Certificate, ...).
    pub fn tag(&self) -> Tag {
        match self {
            Self::SymmetricKey(_) => tags::SYMMETRIC_KEY,
            Self::PublicKey(_) => tags::PUBLIC_KEY,
            Self::PrivateKey(_) => tags::PRIVATE_KEY,
            Self::SplitKey(_) => tags::SPLIT_KEY,
            Self::Certificate(_) => tags::CERTIFICATE,
            Self::SecretData(_) => tags::SECRET_DATA,
            Self::OpaqueObject(_) => tags::OPAQUE_OBJECT,
            Self::Template(_) => tags::TEMPLATE,
        }
    }

    /// The key block, for the object types that have one.
    pub fn key_block(&self) -> Option<&KeyBlock> {
        match self {
            Self::SymmetricKey(b) | Self::PublicKey(b) | Self::PrivateKey(b) => Some(b),
            Self::SplitKey(s) => Some(&s.key_block),
            Self::SecretData(s) => Some(&s.key_block),
            Self::Certificate(_) | Self::OpaqueObject(_) | Self::Template(_) => None,
        }
    }

    pub fn to_ttlv(&self, version: ProtocolVersion) -> Item {
        let children = match self {
            Self::SymmetricKey(b) | Self::PublicKey(b) | Self::PrivateKey(b) => {
                vec![b.to_ttlv(version)]
            }
            Self::SplitKey(s) => {
                let mut children = vec![
                    Item::new(tags::SPLIT_KEY_PARTS, Value::Integer(s.split_key_parts)),
                    Item::new(
                        tags::KEY_PART_IDENTIFIER,
                        Value::Integer(s.key_part_identifier),
                    ),
                    Item::new(
                        tags::SPLIT_KEY_THRESHOLD,
                        Value::Integer(s.split_key_threshold),
                    ),
                    s.split_key_method.to_item(tags::SPLIT_KEY_METHOD),
                ];
                if let Some(size) = &s.prime_field_size {
                    children.push(Item::new(
                        tags::PRIME_FIELD_SIZE,
                        Value::BigInteger(size.clone()),
                    ));
                }
                children.push(s.key_block.to_ttlv(version));
                children
            }
            Self::Certificate(c) => vec![
                c.certificate_type.to_item(tags::CERTIFICATE_TYPE),
                Item::new(
                    tags::CERTIFICATE_VALUE,
                    Value::ByteString(c.certificate_value.clone()),
                ),
            ],
            Self::SecretData(s) => {
                vec![
                    s.secret_data_type.to_item(tags::SECRET_DATA_TYPE),
                    s.key_block.to_ttlv(version),
                ]
            }
            Self::OpaqueObject(o) => vec![
                o.opaque_data_type.to_item(tags::OPAQUE_DATA_TYPE),
                Item::new(
                    tags::OPAQUE_DATA_VALUE,
                    Value::ByteString(o.opaque_data_value.to_vec()),
                ),
            ],
            Self::Template(t) => t.children(),
        };
        Item::structure(self.tag(), children)
    }

    /// Decodes an object item; its tag says which object it is.
    pub fn from_ttlv(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let object_type = ObjectType::ALL
            .iter()
            .copied()
            .find(|t| object_tag(*t) == Some(item.tag))
            .ok_or_else(|| {
                DecodeError::invalid_field(
                    item.tag,
                    format!(
                        "{} is not a managed object qkms handles",
                        tag_label(item.tag)
                    ),
                )
            })?;
        Self::from_ttlv_as(item, object_type, version)
    }

    /// Decodes an object item that must be of `object_type` (e.g. the Object Type field of a Register
    /// request or Get response).
    pub fn from_ttlv_as(
        item: &Item,
        object_type: ObjectType,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let expected = object_tag(object_type).ok_or_else(|| {
            DecodeError::new(
                crate::ResultReason::FeatureNotSupported,
                Some(item.tag),
                format!("object type {object_type} is not supported"),
            )
        })?;
        let f = Fields::of(item, expected)?;
        let key_block = || KeyBlock::from_ttlv(f.required(tags::KEY_BLOCK)?, version);
        Ok(match object_type {
            ObjectType::SymmetricKey => Self::SymmetricKey(key_block()?),
            ObjectType::PublicKey => Self::PublicKey(key_block()?),
            ObjectType::PrivateKey => Self::PrivateKey(key_block()?),
            ObjectType::SplitKey => Self::SplitKey(SplitKey {
                split_key_parts: f.required_integer(tags::SPLIT_KEY_PARTS)?,
                key_part_identifier: f.required_integer(tags::KEY_PART_IDENTIFIER)?,
                split_key_threshold: f.required_integer(tags::SPLIT_KEY_THRESHOLD)?,
                split_key_method: enums::required(&f, tags::SPLIT_KEY_METHOD)?,
                prime_field_size: match f.optional(tags::PRIME_FIELD_SIZE) {
                    None => None,
                    Some(Item {
                        value: Value::BigInteger(bytes),
                        ..
                    }) => Some(bytes.clone()),
                    Some(_) => {
                        return Err(DecodeError::invalid_field(
                            tags::PRIME_FIELD_SIZE,
                            "Prime Field Size must be a Big Integer",
                        ))
                    }
                },
                key_block: key_block()?,
            }),
            ObjectType::Certificate => Self::Certificate(Certificate {
                certificate_type: enums::required(&f, tags::CERTIFICATE_TYPE)?,
                certificate_value: f.required_bytes(tags::CERTIFICATE_VALUE)?.to_vec(),
            }),
            ObjectType::SecretData => Self::SecretData(SecretData {
                secret_data_type: enums::required(&f, tags::SECRET_DATA_TYPE)?,
                key_block: key_block()?,
            }),
            ObjectType::OpaqueObject => Self::OpaqueObject(OpaqueObject {
                opaque_data_type: enums::required(&f, tags::OPAQUE_DATA_TYPE)?,
                opaque_data_value: Zeroizing::new(
                    f.required_bytes(tags::OPAQUE_DATA_VALUE)?.to_vec(),
                ),
            }),
            ObjectType::Template => Self::Template(Template::from_ttlv(item)?),
            ObjectType::PgpKey | ObjectType::CertificateRequest => {
                return Err(DecodeError::new(
                    crate::ResultReason::FeatureNotSupported,
                    Some(item.tag),
                    format!("object type {object_type} is not supported"),
                ))
            }
        })
    }
}

/// The item tag of each object type qkms handles.
pub fn object_tag(object_type: ObjectType) -> Option<Tag> {
    Some(match object_type {
        ObjectType::SymmetricKey => tags::SYMMETRIC_KEY,
        ObjectType::PublicKey => tags::PUBLIC_KEY,
        ObjectType::PrivateKey => tags::PRIVATE_KEY,
        ObjectType::SplitKey => tags::SPLIT_KEY,
        ObjectType::Certificate => tags::CERTIFICATE,
        ObjectType::SecretData => tags::SECRET_DATA,
        ObjectType::OpaqueObject => tags::OPAQUE_OBJECT,
        ObjectType::Template => tags::TEMPLATE,
        ObjectType::PgpKey | ObjectType::CertificateRequest => return None,
    })
}
