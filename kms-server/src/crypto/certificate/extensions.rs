//! The X.509 extensions qkms issues and honours: subject alternative names, key usage, extended key usage and
//! basic constraints, read from a CSR's extension request or from an issued certificate (for Re-Certify).

use der::asn1::ObjectIdentifier;
use der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints as X509BasicConstraints, ExtendedKeyUsage as X509ExtendedKeyUsage,
    KeyUsage as X509KeyUsage, KeyUsages,
};
use x509_cert::ext::Extension;

use super::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};
use crate::crypto::CryptoError;

const OID_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// The values of the extensions qkms understands; other extensions are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtensionValues {
    pub subject_alt_names: Vec<SubjectAltName>,
    pub key_usage: Vec<KeyUsage>,
    pub extended_key_usage: Vec<ExtendedKeyUsage>,
    /// `None` when the extension is absent.
    pub basic_constraints: Option<BasicConstraints>,
}

/// Reads the extensions of a request or certificate (`what` names it in errors). An extension value that does
/// not parse, a SAN other than DNS/e-mail/URI/IP or an unknown EKU purpose is an error: issuing a certificate
/// that silently drops part of what was asked for would be worse.
pub(super) fn read(
    extensions: &[Extension],
    what: &'static str,
) -> Result<ExtensionValues, CryptoError> {
    let mut values = ExtensionValues::default();
    for extension in extensions {
        let content = extension.extn_value.as_bytes();
        if extension.extn_id == OID_SUBJECT_ALT_NAME {
            let names = x509_cert::ext::pkix::SubjectAltName::from_der(content)
                .map_err(|e| CryptoError::malformed(what, e))?;
            for name in &names.0 {
                values.subject_alt_names.push(subject_alt_name(name, what)?);
            }
        } else if extension.extn_id == OID_KEY_USAGE {
            let usage =
                X509KeyUsage::from_der(content).map_err(|e| CryptoError::malformed(what, e))?;
            values.key_usage = key_usages(&usage);
        } else if extension.extn_id == OID_EXTENDED_KEY_USAGE {
            let usage = X509ExtendedKeyUsage::from_der(content)
                .map_err(|e| CryptoError::malformed(what, e))?;
            for oid in &usage.0 {
                values
                    .extended_key_usage
                    .push(ExtendedKeyUsage::from_oid(oid)?);
            }
        } else if extension.extn_id == OID_BASIC_CONSTRAINTS {
            let constraints = X509BasicConstraints::from_der(content)
                .map_err(|e| CryptoError::malformed(what, e))?;
            values.basic_constraints = Some(if constraints.ca {
                BasicConstraints::Ca {
                    path_len: constraints.path_len_constraint,
                }
            } else {
                BasicConstraints::EndEntity
            });
        }
    }
    Ok(values)
}

fn subject_alt_name(name: &GeneralName, what: &'static str) -> Result<SubjectAltName, CryptoError> {
    Ok(match name {
        GeneralName::DnsName(dns) => SubjectAltName::Dns(dns.to_string()),
        GeneralName::Rfc822Name(email) => SubjectAltName::Email(email.to_string()),
        GeneralName::UniformResourceIdentifier(uri) => SubjectAltName::Uri(uri.to_string()),
        GeneralName::IpAddress(octets) => {
            let bytes = octets.as_bytes();
            let address = match bytes.len() {
                4 => std::net::IpAddr::from(
                    <[u8; 4]>::try_from(bytes).map_err(|e| CryptoError::malformed(what, e))?,
                ),
                16 => std::net::IpAddr::from(
                    <[u8; 16]>::try_from(bytes).map_err(|e| CryptoError::malformed(what, e))?,
                ),
                n => {
                    return Err(CryptoError::malformed(
                        what,
                        format!("IP address SAN of {n} bytes"),
                    ))
                }
            };
            SubjectAltName::Ip(address)
        }
        _ => {
            return Err(CryptoError::Unsupported(
                "a subject alternative name other than DNS, e-mail, URI or IP".into(),
            ))
        }
    })
}

fn key_usages(usage: &X509KeyUsage) -> Vec<KeyUsage> {
    let mapping = [
        (KeyUsages::DigitalSignature, KeyUsage::DigitalSignature),
        (KeyUsages::NonRepudiation, KeyUsage::ContentCommitment),
        (KeyUsages::KeyEncipherment, KeyUsage::KeyEncipherment),
        (KeyUsages::DataEncipherment, KeyUsage::DataEncipherment),
        (KeyUsages::KeyAgreement, KeyUsage::KeyAgreement),
        (KeyUsages::KeyCertSign, KeyUsage::KeyCertSign),
        (KeyUsages::CRLSign, KeyUsage::CrlSign),
        (KeyUsages::EncipherOnly, KeyUsage::EncipherOnly),
        (KeyUsages::DecipherOnly, KeyUsage::DecipherOnly),
    ];
    mapping
        .into_iter()
        .filter(|(flag, _)| usage.0.contains(*flag))
        .map(|(_, ours)| ours)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::asn1::OctetString;
    use der::Encode;

    fn extension(oid: ObjectIdentifier, value: &impl Encode) -> Extension {
        Extension {
            extn_id: oid,
            critical: false,
            extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
        }
    }

    #[test]
    fn basic_constraints_are_read_with_their_path_length() {
        let ca = X509BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        };
        let values = read(&[extension(OID_BASIC_CONSTRAINTS, &ca)], "test").unwrap();
        assert_eq!(
            values.basic_constraints,
            Some(BasicConstraints::Ca { path_len: Some(0) })
        );
        assert!(values.key_usage.is_empty());
    }

    #[test]
    fn an_undecodable_extension_value_is_a_malformed_error() {
        let broken = Extension {
            extn_id: OID_KEY_USAGE,
            critical: true,
            extn_value: OctetString::new(vec![0xff, 0x01]).unwrap(),
        };
        assert!(matches!(
            read(&[broken], "test"),
            Err(CryptoError::Malformed { what: "test", .. })
        ));
    }
}
