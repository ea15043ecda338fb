//! One attribute, typed: the `Attribute` enum and what it is called.

use ttlv::{Tag, Value};

use super::certificate_values::{AlternativeName, X509CertificateIdentifier, X509Names};
use super::name::{AttributeName, KnownAttribute};
use super::usage_mask::CryptographicUsageMask;
use super::values::{
    ApplicationSpecificInformation, CryptographicDomainParameters, CryptographicParameters,
    CustomAttribute, Digest, KeyValueLocation, Link, Name, RandomNumberGenerator, RevocationReason,
    UsageLimits,
};
use crate::enums::{
    CertificateType, CryptographicAlgorithm, DigitalSignatureAlgorithm, KeyFormatType, ObjectType,
    State,
};

/// Seconds since the Unix epoch, as KMIP Date-Time values carry them.
pub type DateTime = i64;

/// One attribute of a managed object, with its typed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attribute {
    UniqueIdentifier(String),
    Name(Name),
    ObjectType(ObjectType),
    CryptographicAlgorithm(CryptographicAlgorithm),
    CryptographicLength(i32),
    CryptographicParameters(CryptographicParameters),
    CryptographicDomainParameters(CryptographicDomainParameters),
    CertificateType(CertificateType),
    CertificateLength(i32),
    X509CertificateIdentifier(X509CertificateIdentifier),
    X509CertificateSubject(X509Names),
    X509CertificateIssuer(X509Names),
    DigitalSignatureAlgorithm(DigitalSignatureAlgorithm),
    Digest(Digest),
    /// 1.x only.
    OperationPolicyName(String),
    CryptographicUsageMask(CryptographicUsageMask),
    /// Seconds.
    LeaseTime(u32),
    UsageLimits(UsageLimits),
    State(State),
    InitialDate(DateTime),
    ActivationDate(DateTime),
    ProcessStartDate(DateTime),
    ProtectStopDate(DateTime),
    DeactivationDate(DateTime),
    DestroyDate(DateTime),
    CompromiseOccurrenceDate(DateTime),
    CompromiseDate(DateTime),
    RevocationReason(RevocationReason),
    ArchiveDate(DateTime),
    ObjectGroup(String),
    Fresh(bool),
    Link(Link),
    ApplicationSpecificInformation(ApplicationSpecificInformation),
    ContactInformation(String),
    LastChangeDate(DateTime),
    AlternativeName(AlternativeName),
    KeyValuePresent(bool),
    KeyValueLocation(KeyValueLocation),
    OriginalCreationDate(DateTime),
    RandomNumberGenerator(RandomNumberGenerator),
    Description(String),
    Comment(String),
    Sensitive(bool),
    AlwaysSensitive(bool),
    Extractable(bool),
    NeverExtractable(bool),
    /// KMIP 2.0 and later.
    KeyFormatType(KeyFormatType),
    /// KMIP 2.1 and later.
    QuantumSafe(bool),
    /// 1.x Custom Attribute / 2.x Vendor Attribute (qkms's entropy provenance lives in these).
    Custom(CustomAttribute),
    /// An attribute qkms does not type, kept as received so it can be answered or ignored per the spec.
    Unknown(UnknownAttribute),
}

/// An attribute qkms does not type, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownAttribute {
    /// The 1.x Attribute Name, when received in the 1.x form.
    pub text_name: Option<String>,
    /// The attribute's tag, when received in the 2.x form.
    pub tag: Option<Tag>,
    /// The value (1.x Attribute Value / 2.x item value).
    pub value: Value,
}

impl Attribute {
    /// The typed attribute this is, `None` for custom and unknown attributes.
    pub fn known(&self) -> Option<KnownAttribute> {
        match self.name() {
            AttributeName::Known(known) => Some(known),
            _ => None,
        }
    }

    /// Which attribute this is.
    pub fn name(&self) -> AttributeName {
        use KnownAttribute as K;
        AttributeName::Known(match self {
            Self::UniqueIdentifier(_) => K::UniqueIdentifier,
            Self::Name(_) => K::Name,
            Self::ObjectType(_) => K::ObjectType,
            Self::CryptographicAlgorithm(_) => K::CryptographicAlgorithm,
            Self::CryptographicLength(_) => K::CryptographicLength,
            Self::CryptographicParameters(_) => K::CryptographicParameters,
            Self::CryptographicDomainParameters(_) => K::CryptographicDomainParameters,
            Self::CertificateType(_) => K::CertificateType,
            Self::CertificateLength(_) => K::CertificateLength,
            Self::X509CertificateIdentifier(_) => K::X509CertificateIdentifier,
            Self::X509CertificateSubject(_) => K::X509CertificateSubject,
            Self::X509CertificateIssuer(_) => K::X509CertificateIssuer,
            Self::DigitalSignatureAlgorithm(_) => K::DigitalSignatureAlgorithm,
            Self::Digest(_) => K::Digest,
            Self::OperationPolicyName(_) => K::OperationPolicyName,
            Self::CryptographicUsageMask(_) => K::CryptographicUsageMask,
            Self::LeaseTime(_) => K::LeaseTime,
            Self::UsageLimits(_) => K::UsageLimits,
            Self::State(_) => K::State,
            Self::InitialDate(_) => K::InitialDate,
            Self::ActivationDate(_) => K::ActivationDate,
            Self::ProcessStartDate(_) => K::ProcessStartDate,
            Self::ProtectStopDate(_) => K::ProtectStopDate,
            Self::DeactivationDate(_) => K::DeactivationDate,
            Self::DestroyDate(_) => K::DestroyDate,
            Self::CompromiseOccurrenceDate(_) => K::CompromiseOccurrenceDate,
            Self::CompromiseDate(_) => K::CompromiseDate,
            Self::RevocationReason(_) => K::RevocationReason,
            Self::ArchiveDate(_) => K::ArchiveDate,
            Self::ObjectGroup(_) => K::ObjectGroup,
            Self::Fresh(_) => K::Fresh,
            Self::Link(_) => K::Link,
            Self::ApplicationSpecificInformation(_) => K::ApplicationSpecificInformation,
            Self::ContactInformation(_) => K::ContactInformation,
            Self::LastChangeDate(_) => K::LastChangeDate,
            Self::AlternativeName(_) => K::AlternativeName,
            Self::KeyValuePresent(_) => K::KeyValuePresent,
            Self::KeyValueLocation(_) => K::KeyValueLocation,
            Self::OriginalCreationDate(_) => K::OriginalCreationDate,
            Self::RandomNumberGenerator(_) => K::RandomNumberGenerator,
            Self::Description(_) => K::Description,
            Self::Comment(_) => K::Comment,
            Self::Sensitive(_) => K::Sensitive,
            Self::AlwaysSensitive(_) => K::AlwaysSensitive,
            Self::Extractable(_) => K::Extractable,
            Self::NeverExtractable(_) => K::NeverExtractable,
            Self::KeyFormatType(_) => K::KeyFormatType,
            Self::QuantumSafe(_) => K::QuantumSafe,
            Self::Custom(custom) => {
                return AttributeName::Vendor {
                    vendor_identification: custom.vendor_identification.clone(),
                    attribute_name: custom.attribute_name.clone(),
                }
            }
            Self::Unknown(unknown) => {
                return AttributeName::Unknown {
                    text: unknown.text_name.clone(),
                    tag: unknown.tag,
                }
            }
        })
    }
}
