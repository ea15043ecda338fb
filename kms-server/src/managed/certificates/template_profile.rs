//! What a Certify template says about the certificate beyond its subject and key usage:
//! - subjectAltName from Alternative Name attributes (DNS name, e-mail address, URI, IP address);
//! - extendedKeyUsage from the custom attribute `x-certificate-extended-key-usage` (2.x: Vendor Attribute `x` /
//!   `certificate-extended-key-usage`), one instance per usage, named as in RFC 5280 (`serverAuth`,
//!   `clientAuth`, `codeSigning`, `emailProtection`, `timeStamping`, `OCSPSigning`) or by dotted OID; KMIP has no
//!   standard attribute for it;
//! - the validity period from Activation Date (notBefore) and Deactivation Date (notAfter), the dates the
//!   certificate object itself gets.

use std::net::IpAddr;

use kmip::attributes::{Attribute, Attributes};
use kmip::enums::AlternativeNameType;
use time::OffsetDateTime;

use crate::crypto::certificate::{ExtendedKeyUsage, SubjectAltName};
use crate::error::KmipError;

/// The custom attribute (vendor `x`) naming an extended key usage of the certificate to issue.
pub const EXTENDED_KEY_USAGE_ATTRIBUTE: &str = "certificate-extended-key-usage";

/// subjectAltName entries from the template's Alternative Name attributes.
pub fn subject_alt_names(template: &Attributes) -> Result<Vec<SubjectAltName>, KmipError> {
    template
        .iter()
        .filter_map(|attribute| match attribute {
            Attribute::AlternativeName(name) => Some(name),
            _ => None,
        })
        .map(|name| {
            let value = name.value.clone();
            Ok(match name.name_type {
                AlternativeNameType::DnsName => SubjectAltName::Dns(value),
                AlternativeNameType::EmailAddress => SubjectAltName::Email(value),
                AlternativeNameType::Uri => SubjectAltName::Uri(value),
                AlternativeNameType::IpAddress => {
                    SubjectAltName::Ip(value.parse::<IpAddr>().map_err(|e| {
                        KmipError::invalid_field(format!(
                            "Alternative Name {value:?} is not an IP address: {e}"
                        ))
                    })?)
                }
                other => {
                    return Err(KmipError::invalid_field(format!(
                    "an Alternative Name of type {} cannot be a subjectAltName (DNS name, e-mail \
                         address, URI or IP address)",
                    other.name()
                )))
                }
            })
        })
        .collect()
}

/// extendedKeyUsage entries from the template's `x-certificate-extended-key-usage` attributes.
pub fn extended_key_usages(template: &Attributes) -> Result<Vec<ExtendedKeyUsage>, KmipError> {
    template
        .iter()
        .filter_map(|attribute| match attribute {
            Attribute::Custom(custom)
                if custom.vendor_identification == "x"
                    && custom.attribute_name == EXTENDED_KEY_USAGE_ATTRIBUTE =>
            {
                Some(&custom.value)
            }
            _ => None,
        })
        .map(|value| {
            let ttlv::Value::TextString(text) = value else {
                return Err(KmipError::invalid_field(format!(
                    "x-{EXTENDED_KEY_USAGE_ATTRIBUTE} is a Text String"
                )));
            };
            ExtendedKeyUsage::from_name(text).ok_or_else(|| {
                KmipError::invalid_field(format!(
                    "unknown extended key usage {text:?} (serverAuth, clientAuth, codeSigning, \
                     emailProtection, timeStamping, OCSPSigning, anyExtendedKeyUsage or their OIDs)"
                ))
            })
        })
        .collect()
}

/// (notBefore, notAfter): the template's Activation and Deactivation Dates where given, else the defaults.
pub fn validity(
    template: &Attributes,
    default_not_before: OffsetDateTime,
    default_not_after: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), KmipError> {
    let date = |seconds: i64, what: &str| {
        OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|e| KmipError::invalid_field(format!("{what} is out of range: {e}")))
    };
    let not_before = match template.activation_date() {
        Some(seconds) => date(seconds, "Activation Date")?,
        None => default_not_before,
    };
    let not_after = match template.iter().find_map(|a| match a {
        Attribute::DeactivationDate(seconds) => Some(*seconds),
        _ => None,
    }) {
        Some(seconds) => date(seconds, "Deactivation Date")?,
        None => default_not_after.max(not_before + (default_not_after - default_not_before)),
    };
    if not_after <= not_before {
        return Err(KmipError::invalid_field(
            "the Deactivation Date (notAfter) must be after the Activation Date (notBefore)",
        ));
    }
    Ok((not_before, not_after))
}
