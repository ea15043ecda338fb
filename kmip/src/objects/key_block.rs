//! Key Block, Key Value and Key Wrapping Data: the common body of keys and secret data.

use ttlv::{tags, Item, Value};
use zeroize::Zeroizing;

use super::key_material::KeyMaterial;
use crate::attributes::{Attribute, Attributes, CryptographicParameters, StructuredValue};
use crate::enums::{
    self, CryptographicAlgorithm, EncodingOption, KeyCompressionType, KeyFormatType,
    KmipEnumeration, WrappingMethod,
};
use crate::error::{tag_label, DecodeError};
use crate::fields::Fields;
use crate::version::ProtocolVersion;

/// Key Block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBlock {
    pub key_format_type: KeyFormatType,
    pub key_compression_type: Option<KeyCompressionType>,
    /// Absent when the server holds no value (Key Value Present false / Key Value Location).
    pub key_value: Option<KeyValue>,
    pub cryptographic_algorithm: Option<CryptographicAlgorithm>,
    pub cryptographic_length: Option<i32>,
    pub key_wrapping_data: Option<KeyWrappingData>,
}

/// Key Value: the key material and attributes bound to it. A wrapped value with TTLV encoding is
/// `material: KeyMaterial::Wrapped(..)` with no attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub material: KeyMaterial,
    pub attributes: Vec<Attribute>,
}

impl KeyBlock {
    /// A plain key block: format, material, algorithm and length, nothing else.
    pub fn new(
        key_format_type: KeyFormatType,
        material: KeyMaterial,
        cryptographic_algorithm: Option<CryptographicAlgorithm>,
        cryptographic_length: Option<i32>,
    ) -> Self {
        Self {
            key_format_type,
            key_compression_type: None,
            key_value: Some(KeyValue {
                material,
                attributes: Vec::new(),
            }),
            cryptographic_algorithm,
            cryptographic_length,
            key_wrapping_data: None,
        }
    }

    pub fn to_ttlv(&self, version: ProtocolVersion) -> Item {
        let mut children = vec![self.key_format_type.to_item(tags::KEY_FORMAT_TYPE)];
        if let Some(compression) = self.key_compression_type {
            children.push(compression.to_item(tags::KEY_COMPRESSION_TYPE));
        }
        if let Some(value) = &self.key_value {
            children.push(value.to_ttlv(version));
        }
        if let Some(algorithm) = self.cryptographic_algorithm {
            children.push(algorithm.to_item(tags::CRYPTOGRAPHIC_ALGORITHM));
        }
        if let Some(length) = self.cryptographic_length {
            children.push(Item::new(
                tags::CRYPTOGRAPHIC_LENGTH,
                Value::Integer(length),
            ));
        }
        if let Some(wrapping) = &self.key_wrapping_data {
            children.push(wrapping.to_ttlv());
        }
        Item::structure(tags::KEY_BLOCK, children)
    }

    pub fn from_ttlv(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let f = Fields::of(item, tags::KEY_BLOCK)?;
        let key_format_type = enums::required(&f, tags::KEY_FORMAT_TYPE)?;
        Ok(Self {
            key_format_type,
            key_compression_type: enums::optional(&f, tags::KEY_COMPRESSION_TYPE)?,
            key_value: f
                .optional(tags::KEY_VALUE)
                .map(|v| KeyValue::from_ttlv(v, key_format_type, version))
                .transpose()?,
            cryptographic_algorithm: enums::optional(&f, tags::CRYPTOGRAPHIC_ALGORITHM)?,
            cryptographic_length: f.optional_integer(tags::CRYPTOGRAPHIC_LENGTH)?,
            key_wrapping_data: f
                .optional(tags::KEY_WRAPPING_DATA)
                .map(KeyWrappingData::from_ttlv)
                .transpose()?,
        })
    }
}

impl KeyValue {
    /// 1.x: `Key Value {Key Material, Attribute*}`; 2.x: `Key Value {Key Material, Attributes?}`; wrapped with
    /// TTLV encoding: a Byte String Key Value. Attributes the version lacks are left out.
    pub fn to_ttlv(&self, version: ProtocolVersion) -> Item {
        if let KeyMaterial::Wrapped(bytes) = &self.material {
            return Item::new(tags::KEY_VALUE, Value::ByteString(bytes.to_vec()));
        }
        let mut children = vec![self.material.to_item()];
        if version.is_v2() {
            if !self.attributes.is_empty() {
                let attributes: Attributes = self.attributes.iter().cloned().collect();
                children.push(attributes.to_ttlv(
                    version,
                    tags::TEMPLATE_ATTRIBUTE,
                    tags::ATTRIBUTES,
                ));
            }
        } else {
            children.extend(
                self.attributes
                    .iter()
                    .filter_map(|a| a.to_ttlv(version, None)),
            );
        }
        Item::structure(tags::KEY_VALUE, children)
    }

    pub fn from_ttlv(
        item: &Item,
        format: KeyFormatType,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        if let Value::ByteString(bytes) = &item.value {
            return Ok(Self {
                material: KeyMaterial::Wrapped(Zeroizing::new(bytes.clone())),
                attributes: Vec::new(),
            });
        }
        let f = Fields::of(item, tags::KEY_VALUE)?;
        let material = KeyMaterial::from_item(f.required(tags::KEY_MATERIAL)?, format)?;
        let mut attributes = Vec::new();
        for child in f.children {
            match child.tag {
                tags::KEY_MATERIAL => {}
                // 1.x attributes and 2.x vendor attributes share this tag; `from_v2` tells them apart.
                tags::ATTRIBUTE => attributes.push(Attribute::from_v2(child)?),
                tags::ATTRIBUTES => attributes.extend(Attributes::from_ttlv(
                    child,
                    ProtocolVersion::V2_0.max(version),
                )?),
                other => {
                    return Err(DecodeError::invalid_field(
                        other,
                        format!("unexpected {} in Key Value", tag_label(other)),
                    ))
                }
            }
        }
        Ok(Self {
            material,
            attributes,
        })
    }
}

/// Encryption Key Information / MAC/Signature Key Information.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappingKeyInformation {
    pub unique_identifier: String,
    pub cryptographic_parameters: Option<CryptographicParameters>,
}

impl WrappingKeyInformation {
    fn to_ttlv(&self, tag: ttlv::Tag) -> Item {
        let mut children = vec![Item::new(
            tags::UNIQUE_IDENTIFIER,
            Value::TextString(self.unique_identifier.clone()),
        )];
        if let Some(params) = &self.cryptographic_parameters {
            children.push(Item::structure(
                tags::CRYPTOGRAPHIC_PARAMETERS,
                params.children(),
            ));
        }
        Item::structure(tag, children)
    }

    fn from_ttlv(item: &Item, tag: ttlv::Tag) -> Result<Self, DecodeError> {
        let f = Fields::of(item, tag)?;
        Ok(Self {
            unique_identifier: f.required_text(tags::UNIQUE_IDENTIFIER)?.to_owned(),
            cryptographic_parameters: f
                .optional(tags::CRYPTOGRAPHIC_PARAMETERS)
                .map(|p| CryptographicParameters::from_fields(&Fields::of_any(p)?))
                .transpose()?,
        })
    }
}

/// Key Wrapping Data: how a Key Value was wrapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyWrappingData {
    pub wrapping_method: WrappingMethod,
    pub encryption_key_information: Option<WrappingKeyInformation>,
    pub mac_signature_key_information: Option<WrappingKeyInformation>,
    pub mac_signature: Option<Vec<u8>>,
    pub iv_counter_nonce: Option<Vec<u8>>,
    pub encoding_option: Option<EncodingOption>,
}

impl KeyWrappingData {
    pub fn to_ttlv(&self) -> Item {
        let mut children = vec![self.wrapping_method.to_item(tags::WRAPPING_METHOD)];
        if let Some(info) = &self.encryption_key_information {
            children.push(info.to_ttlv(tags::ENCRYPTION_KEY_INFORMATION));
        }
        if let Some(info) = &self.mac_signature_key_information {
            children.push(info.to_ttlv(tags::MAC_SIGNATURE_KEY_INFORMATION));
        }
        if let Some(mac) = &self.mac_signature {
            children.push(Item::new(
                tags::MAC_SIGNATURE,
                Value::ByteString(mac.clone()),
            ));
        }
        if let Some(iv) = &self.iv_counter_nonce {
            children.push(Item::new(
                tags::IV_COUNTER_NONCE,
                Value::ByteString(iv.clone()),
            ));
        }
        if let Some(option) = self.encoding_option {
            children.push(option.to_item(tags::ENCODING_OPTION));
        }
        Item::structure(tags::KEY_WRAPPING_DATA, children)
    }

    pub fn from_ttlv(item: &Item) -> Result<Self, DecodeError> {
        let f = Fields::of(item, tags::KEY_WRAPPING_DATA)?;
        Ok(Self {
            wrapping_method: enums::required(&f, tags::WRAPPING_METHOD)?,
            encryption_key_information: f
                .optional(tags::ENCRYPTION_KEY_INFORMATION)
                .map(|i| WrappingKeyInformation::from_ttlv(i, tags::ENCRYPTION_KEY_INFORMATION))
                .transpose()?,
            mac_signature_key_information: f
                .optional(tags::MAC_SIGNATURE_KEY_INFORMATION)
                .map(|i| WrappingKeyInformation::from_ttlv(i, tags::MAC_SIGNATURE_KEY_INFORMATION))
                .transpose()?,
            mac_signature: f.optional_bytes(tags::MAC_SIGNATURE)?.map(<[u8]>::to_vec),
            iv_counter_nonce: f
                .optional_bytes(tags::IV_COUNTER_NONCE)?
                .map(<[u8]>::to_vec),
            encoding_option: enums::optional(&f, tags::ENCODING_OPTION)?,
        })
    }
}

/// Key Wrapping Specification: how a client asks Get / Export to wrap a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyWrappingSpecification {
    pub wrapping_method: WrappingMethod,
    pub encryption_key_information: Option<WrappingKeyInformation>,
    pub mac_signature_key_information: Option<WrappingKeyInformation>,
    /// Attributes to wrap along with the key material (1.x and 2.x: Attribute Name text items).
    pub attribute_names: Vec<String>,
    pub encoding_option: Option<EncodingOption>,
}

impl KeyWrappingSpecification {
    pub fn to_ttlv(&self) -> Item {
        let mut children = vec![self.wrapping_method.to_item(tags::WRAPPING_METHOD)];
        if let Some(info) = &self.encryption_key_information {
            children.push(info.to_ttlv(tags::ENCRYPTION_KEY_INFORMATION));
        }
        if let Some(info) = &self.mac_signature_key_information {
            children.push(info.to_ttlv(tags::MAC_SIGNATURE_KEY_INFORMATION));
        }
        children.extend(
            self.attribute_names
                .iter()
                .map(|n| Item::new(tags::ATTRIBUTE_NAME, Value::TextString(n.clone()))),
        );
        if let Some(option) = self.encoding_option {
            children.push(option.to_item(tags::ENCODING_OPTION));
        }
        Item::structure(tags::KEY_WRAPPING_SPECIFICATION, children)
    }

    pub fn from_ttlv(item: &Item) -> Result<Self, DecodeError> {
        let f = Fields::of(item, tags::KEY_WRAPPING_SPECIFICATION)?;
        Ok(Self {
            wrapping_method: enums::required(&f, tags::WRAPPING_METHOD)?,
            encryption_key_information: f
                .optional(tags::ENCRYPTION_KEY_INFORMATION)
                .map(|i| WrappingKeyInformation::from_ttlv(i, tags::ENCRYPTION_KEY_INFORMATION))
                .transpose()?,
            mac_signature_key_information: f
                .optional(tags::MAC_SIGNATURE_KEY_INFORMATION)
                .map(|i| WrappingKeyInformation::from_ttlv(i, tags::MAC_SIGNATURE_KEY_INFORMATION))
                .transpose()?,
            attribute_names: f
                .all(tags::ATTRIBUTE_NAME)
                .map(|i| crate::fields::text(i).map(str::to_owned))
                .collect::<Result<_, _>>()?,
            encoding_option: enums::optional(&f, tags::ENCODING_OPTION)?,
        })
    }
}
