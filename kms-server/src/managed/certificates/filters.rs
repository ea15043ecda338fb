//! Locate's certificate filters that the generic exact-match rule does not cover.
//!
//! X.509 Certificate Subject / Issuer / Identifier and Digest are typed attributes every stored certificate
//! carries, matched exactly by Locate itself. What needs help here:
//! - the KMIP 2.x Certificate Subject / Issuer name fields (CN, O, ...; tagged, untyped by `kmip`): stored on
//!   certificates the same way, they match exactly once Locate accepts them as filters;
//! - the KMIP 1.0 Certificate Identifier (Issuer + Serial Number, text), Certificate Subject and Certificate
//!   Issuer (distinguished names as text): stored certificates carry their X.509 forms instead, so these are
//!   compared with the DER name decoded (attributes in either order) and the serial number read as decimal, or
//!   as hex when written with `0x` or colons.

use kmip::attributes::{Attribute, AttributeName, Attributes, UnknownAttribute};
use ttlv::{tags, Item, Tag, Value};

use crate::crypto::certificate::DistinguishedName;

const V1_CERTIFICATE_IDENTIFIER: &str = "Certificate Identifier";
const V1_CERTIFICATE_SUBJECT: &str = "Certificate Subject";
const V1_CERTIFICATE_ISSUER: &str = "Certificate Issuer";

/// Whether Locate should accept `name`, which `kmip` does not type, as a certificate filter.
pub fn is_certificate_filter(name: &AttributeName) -> bool {
    let AttributeName::Unknown { text, tag } = name else {
        return false;
    };
    let v2_name_field = tag.is_some_and(|t| {
        (tags::CERTIFICATE_SUBJECT_CN.0..=tags::CERTIFICATE_ISSUER_DN_QUALIFIER.0).contains(&t.0)
    });
    v2_name_field || v1_form(text.as_deref(), *tag).is_some()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum V1Form {
    Identifier,
    Subject,
    Issuer,
}

fn v1_form(text: Option<&str>, tag: Option<Tag>) -> Option<V1Form> {
    match (text, tag) {
        (Some(V1_CERTIFICATE_IDENTIFIER), _) | (_, Some(tags::CERTIFICATE_IDENTIFIER)) => {
            Some(V1Form::Identifier)
        }
        (Some(V1_CERTIFICATE_SUBJECT), _) | (_, Some(tags::CERTIFICATE_SUBJECT)) => {
            Some(V1Form::Subject)
        }
        (Some(V1_CERTIFICATE_ISSUER), _) | (_, Some(tags::CERTIFICATE_ISSUER)) => {
            Some(V1Form::Issuer)
        }
        _ => None,
    }
}

/// For a KMIP 1.0 certificate filter, whether `attributes` (a stored object's) match it; `None` for any other
/// filter, which Locate matches itself.
pub fn matches_v1(wanted: &Attribute, attributes: &Attributes) -> Option<bool> {
    let Attribute::Unknown(UnknownAttribute {
        text_name,
        tag,
        value,
    }) = wanted
    else {
        return None;
    };
    let form = v1_form(text_name.as_deref(), *tag)?;
    let Value::Structure(fields) = value else {
        return Some(false);
    };
    let text = |field: Tag| {
        fields.iter().find_map(|Item { tag, value }| match value {
            Value::TextString(t) if *tag == field => Some(t.as_str()),
            _ => None,
        })
    };
    Some(attributes.iter().any(|attribute| {
        match (form, attribute) {
            (V1Form::Identifier, Attribute::X509CertificateIdentifier(id)) => {
                text(tags::ISSUER).is_some_and(|i| same_name(i, &id.issuer_distinguished_name))
                    && text(tags::SERIAL_NUMBER)
                        .is_some_and(|s| same_serial(s, &id.certificate_serial_number))
            }
            (V1Form::Subject, Attribute::X509CertificateSubject(names)) => {
                text(tags::CERTIFICATE_SUBJECT_DISTINGUISHED_NAME)
                    .is_some_and(|n| same_name(n, &names.distinguished_name))
            }
            (V1Form::Issuer, Attribute::X509CertificateIssuer(names)) => {
                text(tags::CERTIFICATE_ISSUER_DISTINGUISHED_NAME)
                    .is_some_and(|n| same_name(n, &names.distinguished_name))
            }
            _ => false,
        }
    }))
}

/// A text distinguished name against a DER one.
fn same_name(text: &str, der_name: &[u8]) -> bool {
    match (
        text.parse::<DistinguishedName>(),
        DistinguishedName::from_der(der_name),
    ) {
        (Ok(wanted), Ok(have)) => wanted.same_as(&have),
        _ => false,
    }
}

/// A text serial number against the DER INTEGER content octets.
fn same_serial(text: &str, octets: &[u8]) -> bool {
    let text = text.trim();
    let hex_digits = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))
    {
        Some(hex.to_owned())
    } else if text.contains(':') {
        Some(text.replace(':', ""))
    } else {
        None
    };
    let value: Option<Vec<u8>> = match hex_digits {
        Some(digits) => hex::decode(if digits.len() % 2 == 1 {
            format!("0{digits}")
        } else {
            digits
        })
        .ok(),
        None => text.parse::<u128>().ok().map(|n| n.to_be_bytes().to_vec()),
    };
    let strip = |bytes: &[u8]| -> Vec<u8> {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        bytes[start..].to_vec()
    };
    value.is_some_and(|v| strip(&v) == strip(octets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::attributes::{X509CertificateIdentifier, X509Names};

    fn der_name(text: &str) -> Vec<u8> {
        let name: DistinguishedName = text.parse().unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = name.to_rcgen().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        crate::crypto::certificate::parse_certificate(cert.der())
            .unwrap()
            .subject_der
    }

    fn v1(name: &str, fields: Vec<Item>) -> Attribute {
        Attribute::Unknown(UnknownAttribute {
            text_name: Some(name.into()),
            tag: None,
            value: Value::Structure(fields),
        })
    }

    fn text(tag: Tag, value: &str) -> Item {
        Item::new(tag, Value::TextString(value.into()))
    }

    fn stored() -> Attributes {
        let subject = der_name("O=Example, CN=host");
        let issuer = der_name("O=qkms, CN=qkms issuing CA");
        vec![
            Attribute::X509CertificateIdentifier(X509CertificateIdentifier {
                issuer_distinguished_name: issuer.clone(),
                certificate_serial_number: vec![0x01, 0x02, 0xff],
            }),
            Attribute::X509CertificateSubject(X509Names {
                distinguished_name: subject,
                alternative_names: Vec::new(),
            }),
            Attribute::X509CertificateIssuer(X509Names {
                distinguished_name: issuer,
                alternative_names: Vec::new(),
            }),
        ]
        .into()
    }

    #[test]
    fn v1_subject_and_issuer_match_in_either_name_order() {
        let subject = |dn| {
            v1(
                V1_CERTIFICATE_SUBJECT,
                vec![text(tags::CERTIFICATE_SUBJECT_DISTINGUISHED_NAME, dn)],
            )
        };
        assert_eq!(
            matches_v1(&subject("O=Example, CN=host"), &stored()),
            Some(true)
        );
        assert_eq!(
            matches_v1(&subject("CN=host,O=Example"), &stored()),
            Some(true)
        );
        assert_eq!(matches_v1(&subject("CN=other"), &stored()), Some(false));
        let issuer = v1(
            V1_CERTIFICATE_ISSUER,
            vec![text(
                tags::CERTIFICATE_ISSUER_DISTINGUISHED_NAME,
                "CN=qkms issuing CA, O=qkms",
            )],
        );
        assert_eq!(matches_v1(&issuer, &stored()), Some(true));
    }

    #[test]
    fn v1_identifier_needs_issuer_and_serial_in_decimal_or_hex() {
        let id = |serial| {
            v1(
                V1_CERTIFICATE_IDENTIFIER,
                vec![
                    text(tags::ISSUER, "O=qkms, CN=qkms issuing CA"),
                    text(tags::SERIAL_NUMBER, serial),
                ],
            )
        };
        for serial in ["66303", "0x0102ff", "01:02:ff"] {
            assert_eq!(matches_v1(&id(serial), &stored()), Some(true), "{serial}");
        }
        assert_eq!(matches_v1(&id("66304"), &stored()), Some(false));
    }

    #[test]
    fn other_filters_are_left_to_locate() {
        assert_eq!(
            matches_v1(&Attribute::Description("x".into()), &stored()),
            None
        );
        assert!(is_certificate_filter(&AttributeName::Unknown {
            text: None,
            tag: Some(tags::CERTIFICATE_ISSUER_O)
        }));
        assert!(!is_certificate_filter(&AttributeName::Unknown {
            text: Some("Nonsense".into()),
            tag: None
        }));
    }
}
