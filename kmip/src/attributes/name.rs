//! Attribute names: the 1.x text name, the 2.x tag, and the protocol versions that have the attribute.

use std::fmt;

use ttlv::{tags, Tag};

use crate::version::ProtocolVersion;

macro_rules! known_attributes {
    ($( $(#[$meta:meta])* $variant:ident = $text:literal, $tag:expr, $since:ident $(, until $until:ident)? ; )+) => {
        /// The attributes qkms gives a typed value: one variant each, in specification order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum KnownAttribute {
            $( $(#[$meta])* $variant ),+
        }

        impl KnownAttribute {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The 1.x Attribute Name, as the specification spells it (`"Cryptographic Algorithm"`).
            pub fn text_name(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The tag of the 2.x attribute item (and of the 2.x Attribute Reference enumeration value).
            pub fn tag(self) -> Tag {
                match self { $(Self::$variant => $tag),+ }
            }

            /// The first protocol version with this attribute.
            pub fn since(self) -> ProtocolVersion {
                match self { $(Self::$variant => ProtocolVersion::$since),+ }
            }

            /// The first protocol version without it again, if it was removed.
            pub fn removed_in(self) -> Option<ProtocolVersion> {
                match self { $(Self::$variant => known_attributes!(@until $($until)?)),+ }
            }

            pub fn from_text_name(name: &str) -> Option<Self> {
                match name { $($text => Some(Self::$variant),)+ _ => None }
            }

            pub fn from_tag(tag: Tag) -> Option<Self> {
                Self::ALL.iter().copied().find(|k| k.tag() == tag)
            }
        }
    };
    (@until) => { None };
    (@until $until:ident) => { Some(ProtocolVersion::$until) };
}

known_attributes! {
    UniqueIdentifier = "Unique Identifier", tags::UNIQUE_IDENTIFIER, V1_0;
    Name = "Name", tags::NAME, V1_0;
    ObjectType = "Object Type", tags::OBJECT_TYPE, V1_0;
    CryptographicAlgorithm = "Cryptographic Algorithm", tags::CRYPTOGRAPHIC_ALGORITHM, V1_0;
    CryptographicLength = "Cryptographic Length", tags::CRYPTOGRAPHIC_LENGTH, V1_0;
    CryptographicParameters = "Cryptographic Parameters", tags::CRYPTOGRAPHIC_PARAMETERS, V1_0;
    CryptographicDomainParameters =
        "Cryptographic Domain Parameters", tags::CRYPTOGRAPHIC_DOMAIN_PARAMETERS, V1_0;
    CertificateType = "Certificate Type", tags::CERTIFICATE_TYPE, V1_0;
    CertificateLength = "Certificate Length", tags::CERTIFICATE_LENGTH, V1_1;
    X509CertificateIdentifier = "X.509 Certificate Identifier", tags::X_509_CERTIFICATE_IDENTIFIER, V1_1;
    X509CertificateSubject = "X.509 Certificate Subject", tags::X_509_CERTIFICATE_SUBJECT, V1_1;
    X509CertificateIssuer = "X.509 Certificate Issuer", tags::X_509_CERTIFICATE_ISSUER, V1_1;
    DigitalSignatureAlgorithm = "Digital Signature Algorithm", tags::DIGITAL_SIGNATURE_ALGORITHM, V1_1;
    Digest = "Digest", tags::DIGEST, V1_0;
    /// Removed in KMIP 2.0.
    OperationPolicyName = "Operation Policy Name", tags::OPERATION_POLICY_NAME, V1_0, until V2_0;
    CryptographicUsageMask = "Cryptographic Usage Mask", tags::CRYPTOGRAPHIC_USAGE_MASK, V1_0;
    LeaseTime = "Lease Time", tags::LEASE_TIME, V1_0;
    UsageLimits = "Usage Limits", tags::USAGE_LIMITS, V1_0;
    State = "State", tags::STATE, V1_0;
    InitialDate = "Initial Date", tags::INITIAL_DATE, V1_0;
    ActivationDate = "Activation Date", tags::ACTIVATION_DATE, V1_0;
    ProcessStartDate = "Process Start Date", tags::PROCESS_START_DATE, V1_0;
    ProtectStopDate = "Protect Stop Date", tags::PROTECT_STOP_DATE, V1_0;
    DeactivationDate = "Deactivation Date", tags::DEACTIVATION_DATE, V1_0;
    DestroyDate = "Destroy Date", tags::DESTROY_DATE, V1_0;
    CompromiseOccurrenceDate = "Compromise Occurrence Date", tags::COMPROMISE_OCCURRENCE_DATE, V1_0;
    CompromiseDate = "Compromise Date", tags::COMPROMISE_DATE, V1_0;
    RevocationReason = "Revocation Reason", tags::REVOCATION_REASON, V1_0;
    ArchiveDate = "Archive Date", tags::ARCHIVE_DATE, V1_0;
    ObjectGroup = "Object Group", tags::OBJECT_GROUP, V1_0;
    Fresh = "Fresh", tags::FRESH, V1_1;
    Link = "Link", tags::LINK, V1_0;
    ApplicationSpecificInformation =
        "Application Specific Information", tags::APPLICATION_SPECIFIC_INFORMATION, V1_0;
    ContactInformation = "Contact Information", tags::CONTACT_INFORMATION, V1_0;
    LastChangeDate = "Last Change Date", tags::LAST_CHANGE_DATE, V1_0;
    AlternativeName = "Alternative Name", tags::ALTERNATIVE_NAME, V1_2;
    KeyValuePresent = "Key Value Present", tags::KEY_VALUE_PRESENT, V1_2;
    KeyValueLocation = "Key Value Location", tags::KEY_VALUE_LOCATION, V1_2;
    OriginalCreationDate = "Original Creation Date", tags::ORIGINAL_CREATION_DATE, V1_2;
    RandomNumberGenerator = "Random Number Generator", tags::RANDOM_NUMBER_GENERATOR, V1_3;
    Description = "Description", tags::DESCRIPTION, V1_4;
    Comment = "Comment", tags::COMMENT, V1_4;
    Sensitive = "Sensitive", tags::SENSITIVE, V1_4;
    AlwaysSensitive = "Always Sensitive", tags::ALWAYS_SENSITIVE, V1_4;
    Extractable = "Extractable", tags::EXTRACTABLE, V1_4;
    NeverExtractable = "Never Extractable", tags::NEVER_EXTRACTABLE, V1_4;
    /// An attribute from KMIP 2.0 (a Key Block field only in 1.x).
    KeyFormatType = "Key Format Type", tags::KEY_FORMAT_TYPE, V2_0;
    QuantumSafe = "Quantum Safe", tags::QUANTUM_SAFE, V2_0;
}

impl KnownAttribute {
    pub fn is_available_in(self, version: ProtocolVersion) -> bool {
        version >= self.since() && self.removed_in().is_none_or(|removed| version < removed)
    }
}

/// Which attribute an attribute is: what Get Attributes asks for and Delete Attribute removes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AttributeName {
    Known(KnownAttribute),
    /// 1.x Custom Attribute / 2.x Vendor Attribute.
    Vendor {
        vendor_identification: String,
        attribute_name: String,
    },
    /// An attribute qkms does not type: known by its 1.x text name, its 2.x tag, or both.
    Unknown {
        text: Option<String>,
        tag: Option<Tag>,
    },
}

impl AttributeName {
    /// The attribute a 1.x Attribute Name designates.
    pub fn from_text_name(name: &str) -> Self {
        if let Some(known) = KnownAttribute::from_text_name(name) {
            return Self::Known(known);
        }
        match super::CustomAttribute::split_v1_name(name) {
            Some((vendor, attribute)) => Self::Vendor {
                vendor_identification: vendor.to_owned(),
                attribute_name: attribute.to_owned(),
            },
            None => Self::Unknown {
                text: Some(name.to_owned()),
                tag: None,
            },
        }
    }

    /// The attribute a 2.x attribute tag designates.
    pub fn from_tag(tag: Tag) -> Self {
        match KnownAttribute::from_tag(tag) {
            Some(known) => Self::Known(known),
            None => Self::Unknown {
                text: None,
                tag: Some(tag),
            },
        }
    }

    /// The 1.x Attribute Name, if this attribute has one.
    pub fn text_name(&self) -> Option<String> {
        match self {
            Self::Known(known) => Some(known.text_name().to_owned()),
            Self::Vendor {
                vendor_identification,
                attribute_name,
            } => Some(
                super::CustomAttribute {
                    vendor_identification: vendor_identification.clone(),
                    attribute_name: attribute_name.clone(),
                    value: ttlv::Value::Boolean(false),
                }
                .v1_name(),
            ),
            Self::Unknown { text, .. } => text.clone(),
        }
    }

    /// The 2.x tag, if this attribute has one (vendor attributes are all tagged Attribute).
    pub fn tag(&self) -> Option<Tag> {
        match self {
            Self::Known(known) => Some(known.tag()),
            Self::Vendor { .. } => Some(tags::ATTRIBUTE),
            Self::Unknown { tag, .. } => *tag,
        }
    }

    /// The first protocol version with this attribute (vendor and unknown attributes: 1.0).
    pub fn since(&self) -> ProtocolVersion {
        match self {
            Self::Known(known) => known.since(),
            _ => ProtocolVersion::V1_0,
        }
    }

    /// Whether this attribute may be encoded for `version`: it exists there and has a form in that family.
    pub fn is_available_in(&self, version: ProtocolVersion) -> bool {
        match self {
            Self::Known(known) => known.is_available_in(version),
            Self::Vendor { .. } => true,
            Self::Unknown { text, tag } => {
                if version.is_v2() {
                    tag.is_some()
                } else {
                    text.is_some()
                }
            }
        }
    }
}

impl From<KnownAttribute> for AttributeName {
    fn from(known: KnownAttribute) -> Self {
        Self::Known(known)
    }
}

impl fmt::Display for AttributeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.text_name(), self.tag()) {
            (Some(text), _) => f.write_str(&text),
            (None, Some(tag)) => f.write_str(&crate::error::tag_label(tag)),
            (None, None) => f.write_str("(unnamed attribute)"),
        }
    }
}
