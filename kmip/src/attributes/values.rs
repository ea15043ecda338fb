//! The structured attribute values (Name, Link, Cryptographic Parameters, ...), each with the same children in
//! the 1.x Attribute Value and the 2.x attribute item.

use ttlv::{tags, Item, Value};

use crate::enums::{
    self, BlockCipherMode, CryptographicAlgorithm, DigitalSignatureAlgorithm, DrbgAlgorithm,
    Fips186Variation, HashingAlgorithm, KeyFormatType, KeyRoleType, KeyValueLocationType,
    KmipEnumeration, LinkType, MaskGenerator, NameType, PaddingMethod, RecommendedCurve,
    RevocationReasonCode, RngAlgorithm, UsageLimitsUnit,
};
use crate::error::DecodeError;
use crate::fields::Fields;

/// A structured value: its children in specification order, and back.
pub trait StructuredValue: Sized {
    fn children(&self) -> Vec<Item>;
    fn from_fields(fields: &Fields<'_>) -> Result<Self, DecodeError>;
}

pub(crate) fn text_item(tag: ttlv::Tag, text: &str) -> Item {
    Item::new(tag, Value::TextString(text.to_owned()))
}

fn push_enum<E: KmipEnumeration>(out: &mut Vec<Item>, tag: ttlv::Tag, value: Option<E>) {
    if let Some(value) = value {
        out.push(value.to_item(tag));
    }
}

fn push_int(out: &mut Vec<Item>, tag: ttlv::Tag, value: Option<i32>) {
    if let Some(value) = value {
        out.push(Item::new(tag, Value::Integer(value)));
    }
}

/// Name: a text value and how to read it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub value: String,
    pub name_type: NameType,
}

impl Name {
    pub fn text(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            name_type: NameType::UninterpretedTextString,
        }
    }
}

impl StructuredValue for Name {
    fn children(&self) -> Vec<Item> {
        vec![
            text_item(tags::NAME_VALUE, &self.value),
            self.name_type.to_item(tags::NAME_TYPE),
        ]
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            value: f.required_text(tags::NAME_VALUE)?.to_owned(),
            name_type: enums::required(f, tags::NAME_TYPE)?,
        })
    }
}

/// Link: a typed reference to another managed object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Link {
    pub link_type: LinkType,
    pub linked_object_identifier: String,
}

impl StructuredValue for Link {
    fn children(&self) -> Vec<Item> {
        vec![
            self.link_type.to_item(tags::LINK_TYPE),
            text_item(
                tags::LINKED_OBJECT_IDENTIFIER,
                &self.linked_object_identifier,
            ),
        ]
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            link_type: enums::required(f, tags::LINK_TYPE)?,
            linked_object_identifier: f.required_text(tags::LINKED_OBJECT_IDENTIFIER)?.to_owned(),
        })
    }
}

/// Revocation Reason.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RevocationReason {
    pub code: RevocationReasonCode,
    pub message: Option<String>,
}

impl StructuredValue for RevocationReason {
    fn children(&self) -> Vec<Item> {
        let mut out = vec![self.code.to_item(tags::REVOCATION_REASON_CODE)];
        if let Some(message) = &self.message {
            out.push(text_item(tags::REVOCATION_MESSAGE, message));
        }
        out
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            code: enums::required(f, tags::REVOCATION_REASON_CODE)?,
            message: f
                .optional_text(tags::REVOCATION_MESSAGE)?
                .map(str::to_owned),
        })
    }
}

/// Cryptographic Parameters: how a key is to be used in a cryptographic operation. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CryptographicParameters {
    pub block_cipher_mode: Option<BlockCipherMode>,
    pub padding_method: Option<PaddingMethod>,
    pub hashing_algorithm: Option<HashingAlgorithm>,
    pub key_role_type: Option<KeyRoleType>,
    pub digital_signature_algorithm: Option<DigitalSignatureAlgorithm>,
    pub cryptographic_algorithm: Option<CryptographicAlgorithm>,
    pub random_iv: Option<bool>,
    pub iv_length: Option<i32>,
    pub tag_length: Option<i32>,
    pub fixed_field_length: Option<i32>,
    pub invocation_field_length: Option<i32>,
    pub counter_length: Option<i32>,
    pub initial_counter_value: Option<i32>,
    pub salt_length: Option<i32>,
    pub mask_generator: Option<MaskGenerator>,
    pub mask_generator_hashing_algorithm: Option<HashingAlgorithm>,
    pub p_source: Option<Vec<u8>>,
    pub trailer_field: Option<i32>,
}

impl StructuredValue for CryptographicParameters {
    fn children(&self) -> Vec<Item> {
        let mut out = Vec::new();
        push_enum(&mut out, tags::BLOCK_CIPHER_MODE, self.block_cipher_mode);
        push_enum(&mut out, tags::PADDING_METHOD, self.padding_method);
        push_enum(&mut out, tags::HASHING_ALGORITHM, self.hashing_algorithm);
        push_enum(&mut out, tags::KEY_ROLE_TYPE, self.key_role_type);
        push_enum(
            &mut out,
            tags::DIGITAL_SIGNATURE_ALGORITHM,
            self.digital_signature_algorithm,
        );
        push_enum(
            &mut out,
            tags::CRYPTOGRAPHIC_ALGORITHM,
            self.cryptographic_algorithm,
        );
        if let Some(random_iv) = self.random_iv {
            out.push(Item::new(tags::RANDOM_IV, Value::Boolean(random_iv)));
        }
        push_int(&mut out, tags::IV_LENGTH, self.iv_length);
        push_int(&mut out, tags::TAG_LENGTH, self.tag_length);
        push_int(&mut out, tags::FIXED_FIELD_LENGTH, self.fixed_field_length);
        push_int(
            &mut out,
            tags::INVOCATION_FIELD_LENGTH,
            self.invocation_field_length,
        );
        push_int(&mut out, tags::COUNTER_LENGTH, self.counter_length);
        push_int(
            &mut out,
            tags::INITIAL_COUNTER_VALUE,
            self.initial_counter_value,
        );
        push_int(&mut out, tags::SALT_LENGTH, self.salt_length);
        push_enum(&mut out, tags::MASK_GENERATOR, self.mask_generator);
        push_enum(
            &mut out,
            tags::MASK_GENERATOR_HASHING_ALGORITHM,
            self.mask_generator_hashing_algorithm,
        );
        if let Some(p_source) = &self.p_source {
            out.push(Item::new(
                tags::P_SOURCE,
                Value::ByteString(p_source.clone()),
            ));
        }
        push_int(&mut out, tags::TRAILER_FIELD, self.trailer_field);
        out
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            block_cipher_mode: enums::optional(f, tags::BLOCK_CIPHER_MODE)?,
            padding_method: enums::optional(f, tags::PADDING_METHOD)?,
            hashing_algorithm: enums::optional(f, tags::HASHING_ALGORITHM)?,
            key_role_type: enums::optional(f, tags::KEY_ROLE_TYPE)?,
            digital_signature_algorithm: enums::optional(f, tags::DIGITAL_SIGNATURE_ALGORITHM)?,
            cryptographic_algorithm: enums::optional(f, tags::CRYPTOGRAPHIC_ALGORITHM)?,
            random_iv: f.optional_bool(tags::RANDOM_IV)?,
            iv_length: f.optional_integer(tags::IV_LENGTH)?,
            tag_length: f.optional_integer(tags::TAG_LENGTH)?,
            fixed_field_length: f.optional_integer(tags::FIXED_FIELD_LENGTH)?,
            invocation_field_length: f.optional_integer(tags::INVOCATION_FIELD_LENGTH)?,
            counter_length: f.optional_integer(tags::COUNTER_LENGTH)?,
            initial_counter_value: f.optional_integer(tags::INITIAL_COUNTER_VALUE)?,
            salt_length: f.optional_integer(tags::SALT_LENGTH)?,
            mask_generator: enums::optional(f, tags::MASK_GENERATOR)?,
            mask_generator_hashing_algorithm: enums::optional(
                f,
                tags::MASK_GENERATOR_HASHING_ALGORITHM,
            )?,
            p_source: f.optional_bytes(tags::P_SOURCE)?.map(<[u8]>::to_vec),
            trailer_field: f.optional_integer(tags::TRAILER_FIELD)?,
        })
    }
}

/// Cryptographic Domain Parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CryptographicDomainParameters {
    pub qlength: Option<i32>,
    pub recommended_curve: Option<RecommendedCurve>,
}

impl StructuredValue for CryptographicDomainParameters {
    fn children(&self) -> Vec<Item> {
        let mut out = Vec::new();
        push_int(&mut out, tags::QLENGTH, self.qlength);
        push_enum(&mut out, tags::RECOMMENDED_CURVE, self.recommended_curve);
        out
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            qlength: f.optional_integer(tags::QLENGTH)?,
            recommended_curve: enums::optional(f, tags::RECOMMENDED_CURVE)?,
        })
    }
}

/// Digest of an object's value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Digest {
    pub hashing_algorithm: HashingAlgorithm,
    /// Absent when the object has no value (KMIP 1.1+).
    pub digest_value: Option<Vec<u8>>,
    pub key_format_type: Option<KeyFormatType>,
}

impl StructuredValue for Digest {
    fn children(&self) -> Vec<Item> {
        let mut out = vec![self.hashing_algorithm.to_item(tags::HASHING_ALGORITHM)];
        if let Some(value) = &self.digest_value {
            out.push(Item::new(
                tags::DIGEST_VALUE,
                Value::ByteString(value.clone()),
            ));
        }
        push_enum(&mut out, tags::KEY_FORMAT_TYPE, self.key_format_type);
        out
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hashing_algorithm: enums::required(f, tags::HASHING_ALGORITHM)?,
            digest_value: f.optional_bytes(tags::DIGEST_VALUE)?.map(<[u8]>::to_vec),
            key_format_type: enums::optional(f, tags::KEY_FORMAT_TYPE)?,
        })
    }
}

/// Usage Limits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UsageLimits {
    pub total: i64,
    pub count: Option<i64>,
    pub unit: UsageLimitsUnit,
}

impl StructuredValue for UsageLimits {
    fn children(&self) -> Vec<Item> {
        let mut out = vec![Item::new(
            tags::USAGE_LIMITS_TOTAL,
            Value::LongInteger(self.total),
        )];
        if let Some(count) = self.count {
            out.push(Item::new(
                tags::USAGE_LIMITS_COUNT,
                Value::LongInteger(count),
            ));
        }
        out.push(self.unit.to_item(tags::USAGE_LIMITS_UNIT));
        out
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            total: f.required_long(tags::USAGE_LIMITS_TOTAL)?,
            count: f.optional_long(tags::USAGE_LIMITS_COUNT)?,
            unit: enums::required(f, tags::USAGE_LIMITS_UNIT)?,
        })
    }
}

/// Application Specific Information.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApplicationSpecificInformation {
    pub namespace: String,
    /// Optional from KMIP 1.3 (the server may generate it).
    pub data: Option<String>,
}

impl StructuredValue for ApplicationSpecificInformation {
    fn children(&self) -> Vec<Item> {
        let mut out = vec![text_item(tags::APPLICATION_NAMESPACE, &self.namespace)];
        if let Some(data) = &self.data {
            out.push(text_item(tags::APPLICATION_DATA, data));
        }
        out
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            namespace: f.required_text(tags::APPLICATION_NAMESPACE)?.to_owned(),
            data: f.optional_text(tags::APPLICATION_DATA)?.map(str::to_owned),
        })
    }
}

/// Key Value Location (KMIP 1.2+).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyValueLocation {
    pub value: String,
    pub location_type: KeyValueLocationType,
}

impl StructuredValue for KeyValueLocation {
    fn children(&self) -> Vec<Item> {
        vec![
            text_item(tags::KEY_VALUE_LOCATION_VALUE, &self.value),
            self.location_type.to_item(tags::KEY_VALUE_LOCATION_TYPE),
        ]
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            value: f.required_text(tags::KEY_VALUE_LOCATION_VALUE)?.to_owned(),
            location_type: enums::required(f, tags::KEY_VALUE_LOCATION_TYPE)?,
        })
    }
}

/// Random Number Generator (KMIP 1.3+): the RNG Parameters of the generator that made the object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RandomNumberGenerator {
    pub rng_algorithm: RngAlgorithm,
    pub cryptographic_algorithm: Option<CryptographicAlgorithm>,
    pub cryptographic_length: Option<i32>,
    pub hashing_algorithm: Option<HashingAlgorithm>,
    pub drbg_algorithm: Option<DrbgAlgorithm>,
    pub recommended_curve: Option<RecommendedCurve>,
    pub fips186_variation: Option<Fips186Variation>,
    pub prediction_resistance: Option<bool>,
}

impl RandomNumberGenerator {
    pub fn new(rng_algorithm: RngAlgorithm) -> Self {
        Self {
            rng_algorithm,
            cryptographic_algorithm: None,
            cryptographic_length: None,
            hashing_algorithm: None,
            drbg_algorithm: None,
            recommended_curve: None,
            fips186_variation: None,
            prediction_resistance: None,
        }
    }
}

impl StructuredValue for RandomNumberGenerator {
    fn children(&self) -> Vec<Item> {
        let mut out = vec![self.rng_algorithm.to_item(tags::RNG_ALGORITHM)];
        push_enum(
            &mut out,
            tags::CRYPTOGRAPHIC_ALGORITHM,
            self.cryptographic_algorithm,
        );
        push_int(
            &mut out,
            tags::CRYPTOGRAPHIC_LENGTH,
            self.cryptographic_length,
        );
        push_enum(&mut out, tags::HASHING_ALGORITHM, self.hashing_algorithm);
        push_enum(&mut out, tags::DRBG_ALGORITHM, self.drbg_algorithm);
        push_enum(&mut out, tags::RECOMMENDED_CURVE, self.recommended_curve);
        push_enum(&mut out, tags::FIPS186_VARIATION, self.fips186_variation);
        if let Some(pr) = self.prediction_resistance {
            out.push(Item::new(tags::PREDICTION_RESISTANCE, Value::Boolean(pr)));
        }
        out
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            rng_algorithm: enums::required(f, tags::RNG_ALGORITHM)?,
            cryptographic_algorithm: enums::optional(f, tags::CRYPTOGRAPHIC_ALGORITHM)?,
            cryptographic_length: f.optional_integer(tags::CRYPTOGRAPHIC_LENGTH)?,
            hashing_algorithm: enums::optional(f, tags::HASHING_ALGORITHM)?,
            drbg_algorithm: enums::optional(f, tags::DRBG_ALGORITHM)?,
            recommended_curve: enums::optional(f, tags::RECOMMENDED_CURVE)?,
            fips186_variation: enums::optional(f, tags::FIPS186_VARIATION)?,
            prediction_resistance: f.optional_bool(tags::PREDICTION_RESISTANCE)?,
        })
    }
}

/// A vendor-defined attribute: 1.x Custom Attribute (`x-`/`y-` names) or 2.x Vendor Attribute.
///
/// The 1.x text name is `vendor-name`: a 1.x `x-ID` is vendor `x`, name `ID`, which is how the OASIS test
/// cases write the same attribute in 2.x. A vendor other than `x`/`y` is written `x-vendor-name` in 1.x.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomAttribute {
    pub vendor_identification: String,
    pub attribute_name: String,
    /// Any value; its tag on the wire is Attribute Value in both forms.
    pub value: Value,
}

impl CustomAttribute {
    /// The 1.x Attribute Name.
    pub fn v1_name(&self) -> String {
        match self.vendor_identification.as_str() {
            "x" | "y" => format!("{}-{}", self.vendor_identification, self.attribute_name),
            vendor => format!("x-{vendor}-{}", self.attribute_name),
        }
    }

    /// Splits a 1.x custom attribute name (`x-...` or `y-...`) into vendor and name.
    pub fn split_v1_name(name: &str) -> Option<(&str, &str)> {
        let (vendor, rest) = name.split_at_checked(2)?;
        match vendor {
            "x-" | "y-" if !rest.is_empty() => Some((&vendor[..1], rest)),
            _ => None,
        }
    }
}
