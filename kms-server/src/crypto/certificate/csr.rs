//! PKCS#10 certification requests: parsing with `x509-cert`, signature check with our own verifiers, and the
//! requested extensions we honour (subject alternative names, key usage, extended key usage).

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    ExtendedKeyUsage as X509ExtendedKeyUsage, KeyUsage as X509KeyUsage, KeyUsages,
};
use x509_cert::ext::Extensions;
use x509_cert::request::CertReq;

use super::names::DistinguishedName;
use super::{ExtendedKeyUsage, KeyUsage, SubjectAltName};
use crate::crypto::hash::HashAlgorithm;
use crate::crypto::keygen::PublicKey;
use crate::crypto::signature::{verify, SignInput, SignatureAlgorithm};
use crate::crypto::CryptoError;

const WHAT: &str = "PKCS#10 certification request";
const OID_EXTENSION_REQUEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14");
const OID_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

/// What a verified CSR asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificationRequest {
    pub subject: DistinguishedName,
    pub public_key: PublicKey,
    pub subject_alt_names: Vec<SubjectAltName>,
    pub key_usage: Vec<KeyUsage>,
    pub extended_key_usage: Vec<ExtendedKeyUsage>,
}

/// Parses a DER PKCS#10 request and checks its self-signature; other requested extensions are ignored (the
/// issuing profile decides them).
pub fn parse_and_verify_csr(csr_der: &[u8]) -> Result<CertificationRequest, CryptoError> {
    let request = CertReq::from_der(csr_der).map_err(|e| CryptoError::malformed(WHAT, e))?;
    let spki_der = request
        .info
        .public_key
        .to_der()
        .map_err(|e| CryptoError::malformed(WHAT, e))?;
    let public_key = PublicKey::from_spki_der(&spki_der)?;
    let signed = request
        .info
        .to_der()
        .map_err(|e| CryptoError::malformed(WHAT, e))?;
    let algorithm = signature_algorithm(&request.algorithm.oid)?;
    let signature = request
        .signature
        .as_bytes()
        .ok_or_else(|| CryptoError::malformed(WHAT, "signature BIT STRING has unused bits"))?;
    if !verify(&public_key, algorithm, SignInput::Data(&signed), signature)? {
        return Err(CryptoError::CsrSignatureInvalid);
    }

    let mut parsed = CertificationRequest {
        subject: DistinguishedName::from_x509(&request.info.subject)?,
        public_key,
        subject_alt_names: Vec::new(),
        key_usage: Vec::new(),
        extended_key_usage: Vec::new(),
    };
    for attribute in request.info.attributes.iter() {
        if attribute.oid != OID_EXTENSION_REQUEST {
            continue;
        }
        for value in attribute.values.iter() {
            let extensions: Extensions = value
                .decode_as()
                .map_err(|e| CryptoError::malformed(WHAT, e))?;
            for extension in &extensions {
                let content = extension.extn_value.as_bytes();
                if extension.extn_id == OID_SUBJECT_ALT_NAME {
                    let names = x509_cert::ext::pkix::SubjectAltName::from_der(content)
                        .map_err(|e| CryptoError::malformed(WHAT, e))?;
                    for name in &names.0 {
                        parsed.subject_alt_names.push(subject_alt_name(name)?);
                    }
                } else if extension.extn_id == OID_KEY_USAGE {
                    let usage = X509KeyUsage::from_der(content)
                        .map_err(|e| CryptoError::malformed(WHAT, e))?;
                    parsed.key_usage = key_usages(&usage);
                } else if extension.extn_id == OID_EXTENDED_KEY_USAGE {
                    let usage = X509ExtendedKeyUsage::from_der(content)
                        .map_err(|e| CryptoError::malformed(WHAT, e))?;
                    for oid in &usage.0 {
                        parsed
                            .extended_key_usage
                            .push(ExtendedKeyUsage::from_oid(oid)?);
                    }
                }
            }
        }
    }
    Ok(parsed)
}

fn signature_algorithm(oid: &ObjectIdentifier) -> Result<SignatureAlgorithm, CryptoError> {
    use HashAlgorithm::*;
    use SignatureAlgorithm::*;
    Ok(match oid.to_string().as_str() {
        "1.2.840.113549.1.1.5" => RsaPkcs1v15(Sha1),
        "1.2.840.113549.1.1.14" => RsaPkcs1v15(Sha224),
        "1.2.840.113549.1.1.11" => RsaPkcs1v15(Sha256),
        "1.2.840.113549.1.1.12" => RsaPkcs1v15(Sha384),
        "1.2.840.113549.1.1.13" => RsaPkcs1v15(Sha512),
        "1.2.840.10045.4.1" => Ecdsa(Sha1),
        "1.2.840.10045.4.3.1" => Ecdsa(Sha224),
        "1.2.840.10045.4.3.2" => Ecdsa(Sha256),
        "1.2.840.10045.4.3.3" => Ecdsa(Sha384),
        "1.2.840.10045.4.3.4" => Ecdsa(Sha512),
        "1.3.101.112" => Ed25519,
        other => {
            return Err(CryptoError::Unsupported(format!(
                "CSR signature algorithm {other}"
            )))
        }
    })
}

fn subject_alt_name(name: &GeneralName) -> Result<SubjectAltName, CryptoError> {
    Ok(match name {
        GeneralName::DnsName(dns) => SubjectAltName::Dns(dns.to_string()),
        GeneralName::Rfc822Name(email) => SubjectAltName::Email(email.to_string()),
        GeneralName::UniformResourceIdentifier(uri) => SubjectAltName::Uri(uri.to_string()),
        GeneralName::IpAddress(octets) => {
            let bytes = octets.as_bytes();
            let address = match bytes.len() {
                4 => std::net::IpAddr::from(
                    <[u8; 4]>::try_from(bytes).map_err(|e| CryptoError::malformed(WHAT, e))?,
                ),
                16 => std::net::IpAddr::from(
                    <[u8; 16]>::try_from(bytes).map_err(|e| CryptoError::malformed(WHAT, e))?,
                ),
                n => {
                    return Err(CryptoError::malformed(
                        WHAT,
                        format!("IP address SAN of {n} bytes"),
                    ))
                }
            };
            SubjectAltName::Ip(address)
        }
        _ => {
            return Err(CryptoError::Unsupported(
                "a CSR subject alternative name other than DNS, e-mail, URI or IP".into(),
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
