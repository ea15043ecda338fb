//! PKCS#10 certification requests: parsing with `x509-cert`, signature check with our own verifiers, and the
//! requested extensions we honour (subject alternative names, key usage, extended key usage).

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::ext::Extensions;
use x509_cert::request::CertReq;

use super::extensions::{self, ExtensionValues};
use super::names::DistinguishedName;
use super::{ExtendedKeyUsage, KeyUsage, SubjectAltName};
use crate::crypto::hash::HashAlgorithm;
use crate::crypto::keygen::PublicKey;
use crate::crypto::signature::{verify, SignInput, SignatureAlgorithm};
use crate::crypto::CryptoError;

const WHAT: &str = "PKCS#10 certification request";
const OID_EXTENSION_REQUEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14");

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

    let mut requested = ExtensionValues::default();
    for attribute in request.info.attributes.iter() {
        if attribute.oid != OID_EXTENSION_REQUEST {
            continue;
        }
        for value in attribute.values.iter() {
            let extensions: Extensions = value
                .decode_as()
                .map_err(|e| CryptoError::malformed(WHAT, e))?;
            requested = extensions::read(&extensions, WHAT)?;
        }
    }
    Ok(CertificationRequest {
        subject: DistinguishedName::from_x509(&request.info.subject)?,
        public_key,
        subject_alt_names: requested.subject_alt_names,
        key_usage: requested.key_usage,
        extended_key_usage: requested.extended_key_usage,
    })
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
