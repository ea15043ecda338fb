//! The two wire forms of one attribute: 1.x `Attribute {Attribute Name, Attribute Index?, Attribute Value}` and
//! 2.x "the value under the attribute's own tag" (vendor attributes: `Attribute {Vendor Identification,
//! Attribute Name, Attribute Value}`).

use ttlv::{tags, Item, Tag, Value};

use super::attribute::{Attribute, UnknownAttribute};
use super::certificate_values::X509Names;
use super::name::{AttributeName, KnownAttribute};
use super::usage_mask::CryptographicUsageMask;
use super::values::{text_item, CustomAttribute, StructuredValue};
use crate::enums::KmipEnumeration;
use crate::error::DecodeError;
use crate::fields::{self, Fields};
use crate::version::ProtocolVersion;

impl Attribute {
    /// The 1.x form, `Attribute {Attribute Name, Attribute Index?, Attribute Value}`, whatever the version;
    /// `None` for an unknown attribute received without a 1.x name. Use [`Attribute::to_ttlv`] to encode for a
    /// negotiated version: it leaves out attributes that version lacks.
    pub fn to_v1(&self, index: Option<i32>) -> Option<Item> {
        let name = self.name().text_name()?;
        let mut children = vec![text_item(tags::ATTRIBUTE_NAME, &name)];
        if let Some(index) = index {
            children.push(Item::new(tags::ATTRIBUTE_INDEX, Value::Integer(index)));
        }
        children.push(self.value_item(tags::ATTRIBUTE_VALUE));
        Some(Item::structure(tags::ATTRIBUTE, children))
    }

    /// The 2.x form: the value under the attribute's own tag; `None` for an unknown attribute received without
    /// a tag. Use [`Attribute::to_ttlv`] to encode for a negotiated version.
    pub fn to_v2(&self) -> Option<Item> {
        match self {
            Self::Custom(custom) => Some(Item::structure(
                tags::ATTRIBUTE,
                vec![
                    text_item(tags::VENDOR_IDENTIFICATION, &custom.vendor_identification),
                    text_item(tags::ATTRIBUTE_NAME, &custom.attribute_name),
                    Item::new(tags::ATTRIBUTE_VALUE, custom.value.clone()),
                ],
            )),
            _ => Some(self.value_item(self.name().tag()?)),
        }
    }

    /// This attribute in `version`'s form, or `None` when `version` lacks the attribute (it must then be left
    /// out of the message: real 1.0 clients break on attributes from later versions).
    pub fn to_ttlv(&self, version: ProtocolVersion, index: Option<i32>) -> Option<Item> {
        if !self.name().is_available_in(version) {
            return None;
        }
        if version.is_v2() {
            self.to_v2()
        } else {
            self.to_v1(index)
        }
    }

    /// Decodes either form, by the version's family.
    pub fn from_ttlv(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        if version.is_v2() {
            Self::from_v2(item)
        } else {
            Self::from_v1(item)
        }
    }

    /// Decodes the 1.x form. An unrecognised name (neither a standard name nor `x-`/`y-`) is kept as
    /// [`Attribute::Unknown`]; a value of the wrong type for a known name is Invalid Field.
    pub fn from_v1(item: &Item) -> Result<Self, DecodeError> {
        Self::from_v1_indexed(item).map(|(attribute, _)| attribute)
    }

    /// Decodes the 1.x form, with its Attribute Index if present.
    pub fn from_v1_indexed(item: &Item) -> Result<(Self, Option<i32>), DecodeError> {
        let f = Fields::of(item, tags::ATTRIBUTE)?;
        let name = f.required_text(tags::ATTRIBUTE_NAME)?;
        let index = f.optional_integer(tags::ATTRIBUTE_INDEX)?;
        if let Some(index) = index.filter(|i| *i < 0) {
            return Err(DecodeError::invalid_field(
                tags::ATTRIBUTE_INDEX,
                format!("attribute index {index} of {name} is negative"),
            ));
        }
        let value = f.required(tags::ATTRIBUTE_VALUE)?;
        let attribute = match AttributeName::from_text_name(name) {
            AttributeName::Known(known) => Self::decode_known(known, value)?,
            AttributeName::Vendor {
                vendor_identification,
                attribute_name,
            } => Self::Custom(CustomAttribute {
                vendor_identification,
                attribute_name,
                value: value.value.clone(),
            }),
            AttributeName::Unknown { .. } => Self::Unknown(UnknownAttribute {
                text_name: Some(name.to_owned()),
                tag: None,
                value: value.value.clone(),
            }),
        };
        Ok((attribute, index))
    }

    /// Decodes the 2.x form. An item tagged Attribute is a Vendor Attribute (or, leniently, a 1.x-form
    /// attribute when it has no Vendor Identification); any other unrecognised tag is kept as
    /// [`Attribute::Unknown`].
    pub fn from_v2(item: &Item) -> Result<Self, DecodeError> {
        if item.tag == tags::ATTRIBUTE {
            let f = Fields::of(item, tags::ATTRIBUTE)?;
            let Some(vendor) = f.optional_text(tags::VENDOR_IDENTIFICATION)? else {
                return Self::from_v1(item);
            };
            return Ok(Self::Custom(CustomAttribute {
                vendor_identification: vendor.to_owned(),
                attribute_name: f.required_text(tags::ATTRIBUTE_NAME)?.to_owned(),
                value: f.required(tags::ATTRIBUTE_VALUE)?.value.clone(),
            }));
        }
        match KnownAttribute::from_tag(item.tag) {
            Some(known) => Self::decode_known(known, item),
            None => Ok(Self::Unknown(UnknownAttribute {
                text_name: None,
                tag: Some(item.tag),
                value: item.value.clone(),
            })),
        }
    }

    /// The value as an item tagged `tag`: Attribute Value in 1.x, the attribute's own tag in 2.x.
    pub(crate) fn value_item(&self, tag: Tag) -> Item {
        let text = |s: &String| Value::TextString(s.clone());
        let structure = |v: &dyn StructuredChildren| Value::Structure(v.structured_children());
        let value = match self {
            Self::UniqueIdentifier(s)
            | Self::OperationPolicyName(s)
            | Self::ObjectGroup(s)
            | Self::ContactInformation(s)
            | Self::Description(s)
            | Self::Comment(s) => text(s),
            Self::Name(v) => structure(v),
            Self::ObjectType(v) => Value::Enumeration(v.to_u32()),
            Self::CryptographicAlgorithm(v) => Value::Enumeration(v.to_u32()),
            Self::CertificateType(v) => Value::Enumeration(v.to_u32()),
            Self::DigitalSignatureAlgorithm(v) => Value::Enumeration(v.to_u32()),
            Self::State(v) => Value::Enumeration(v.to_u32()),
            Self::KeyFormatType(v) => Value::Enumeration(v.to_u32()),
            Self::CryptographicLength(v) | Self::CertificateLength(v) => Value::Integer(*v),
            Self::CryptographicParameters(v) => structure(v),
            Self::CryptographicDomainParameters(v) => structure(v),
            Self::X509CertificateIdentifier(v) => structure(v),
            Self::X509CertificateSubject(v) => Value::Structure(v.children(
                tags::SUBJECT_DISTINGUISHED_NAME,
                tags::SUBJECT_ALTERNATIVE_NAME,
            )),
            Self::X509CertificateIssuer(v) => Value::Structure(v.children(
                tags::ISSUER_DISTINGUISHED_NAME,
                tags::ISSUER_ALTERNATIVE_NAME,
            )),
            Self::Digest(v) => structure(v),
            Self::CryptographicUsageMask(mask) => Value::Integer(mask.to_wire()),
            Self::LeaseTime(seconds) => Value::Interval(*seconds),
            Self::UsageLimits(v) => structure(v),
            Self::InitialDate(t)
            | Self::ActivationDate(t)
            | Self::ProcessStartDate(t)
            | Self::ProtectStopDate(t)
            | Self::DeactivationDate(t)
            | Self::DestroyDate(t)
            | Self::CompromiseOccurrenceDate(t)
            | Self::CompromiseDate(t)
            | Self::ArchiveDate(t)
            | Self::LastChangeDate(t)
            | Self::OriginalCreationDate(t) => Value::DateTime(*t),
            Self::RevocationReason(v) => structure(v),
            Self::Fresh(b)
            | Self::KeyValuePresent(b)
            | Self::Sensitive(b)
            | Self::AlwaysSensitive(b)
            | Self::Extractable(b)
            | Self::NeverExtractable(b)
            | Self::QuantumSafe(b) => Value::Boolean(*b),
            Self::Link(v) => structure(v),
            Self::ApplicationSpecificInformation(v) => structure(v),
            Self::AlternativeName(v) => structure(v),
            Self::KeyValueLocation(v) => structure(v),
            Self::RandomNumberGenerator(v) => structure(v),
            Self::Custom(custom) => custom.value.clone(),
            Self::Unknown(unknown) => unknown.value.clone(),
        };
        Item::new(tag, value)
    }

    /// Decodes the value of a typed attribute (whatever the item's tag); a wrong value type is Invalid Field
    /// naming the attribute.
    pub(crate) fn decode_known(known: KnownAttribute, item: &Item) -> Result<Self, DecodeError> {
        decode_known_value(known, item).map_err(|e| {
            DecodeError::new(
                e.reason,
                Some(known.tag()),
                format!(
                    "invalid value for attribute {}: {}",
                    known.text_name(),
                    e.message
                ),
            )
        })
    }
}

/// Object-safe access to a structured value's children, so `value_item` can treat them alike.
trait StructuredChildren {
    fn structured_children(&self) -> Vec<Item>;
}

impl<T: StructuredValue> StructuredChildren for T {
    fn structured_children(&self) -> Vec<Item> {
        self.children()
    }
}

fn structured<T: StructuredValue>(item: &Item) -> Result<T, DecodeError> {
    T::from_fields(&Fields::of_any(item)?)
}

fn decode_known_value(known: KnownAttribute, item: &Item) -> Result<Attribute, DecodeError> {
    use Attribute as A;
    use KnownAttribute as K;
    let text = || fields::text(item).map(str::to_owned);
    let date = || fields::date_time(item);
    let flag = || fields::boolean(item);
    Ok(match known {
        K::UniqueIdentifier => A::UniqueIdentifier(text()?),
        K::Name => A::Name(structured(item)?),
        K::ObjectType => A::ObjectType(KmipEnumeration::from_item(item)?),
        K::CryptographicAlgorithm => A::CryptographicAlgorithm(KmipEnumeration::from_item(item)?),
        K::CryptographicLength => A::CryptographicLength(fields::integer(item)?),
        K::CryptographicParameters => A::CryptographicParameters(structured(item)?),
        K::CryptographicDomainParameters => A::CryptographicDomainParameters(structured(item)?),
        K::CertificateType => A::CertificateType(KmipEnumeration::from_item(item)?),
        K::CertificateLength => A::CertificateLength(fields::integer(item)?),
        K::X509CertificateIdentifier => A::X509CertificateIdentifier(structured(item)?),
        K::X509CertificateSubject => A::X509CertificateSubject(X509Names::from_fields(
            &Fields::of_any(item)?,
            tags::SUBJECT_DISTINGUISHED_NAME,
            tags::SUBJECT_ALTERNATIVE_NAME,
        )?),
        K::X509CertificateIssuer => A::X509CertificateIssuer(X509Names::from_fields(
            &Fields::of_any(item)?,
            tags::ISSUER_DISTINGUISHED_NAME,
            tags::ISSUER_ALTERNATIVE_NAME,
        )?),
        K::DigitalSignatureAlgorithm => {
            A::DigitalSignatureAlgorithm(KmipEnumeration::from_item(item)?)
        }
        K::Digest => A::Digest(structured(item)?),
        K::OperationPolicyName => A::OperationPolicyName(text()?),
        K::CryptographicUsageMask => {
            A::CryptographicUsageMask(CryptographicUsageMask::from_wire(fields::integer(item)?))
        }
        K::LeaseTime => A::LeaseTime(fields::interval(item)?),
        K::UsageLimits => A::UsageLimits(structured(item)?),
        K::State => A::State(KmipEnumeration::from_item(item)?),
        K::InitialDate => A::InitialDate(date()?),
        K::ActivationDate => A::ActivationDate(date()?),
        K::ProcessStartDate => A::ProcessStartDate(date()?),
        K::ProtectStopDate => A::ProtectStopDate(date()?),
        K::DeactivationDate => A::DeactivationDate(date()?),
        K::DestroyDate => A::DestroyDate(date()?),
        K::CompromiseOccurrenceDate => A::CompromiseOccurrenceDate(date()?),
        K::CompromiseDate => A::CompromiseDate(date()?),
        K::RevocationReason => A::RevocationReason(structured(item)?),
        K::ArchiveDate => A::ArchiveDate(date()?),
        K::ObjectGroup => A::ObjectGroup(text()?),
        K::Fresh => A::Fresh(flag()?),
        K::Link => A::Link(structured(item)?),
        K::ApplicationSpecificInformation => A::ApplicationSpecificInformation(structured(item)?),
        K::ContactInformation => A::ContactInformation(text()?),
        K::LastChangeDate => A::LastChangeDate(date()?),
        K::AlternativeName => A::AlternativeName(structured(item)?),
        K::KeyValuePresent => A::KeyValuePresent(flag()?),
        K::KeyValueLocation => A::KeyValueLocation(structured(item)?),
        K::OriginalCreationDate => A::OriginalCreationDate(date()?),
        K::RandomNumberGenerator => A::RandomNumberGenerator(structured(item)?),
        K::Description => A::Description(text()?),
        K::Comment => A::Comment(text()?),
        K::Sensitive => A::Sensitive(flag()?),
        K::AlwaysSensitive => A::AlwaysSensitive(flag()?),
        K::Extractable => A::Extractable(flag()?),
        K::NeverExtractable => A::NeverExtractable(flag()?),
        K::KeyFormatType => A::KeyFormatType(KmipEnumeration::from_item(item)?),
        K::QuantumSafe => A::QuantumSafe(flag()?),
    })
}
