//! The identifying fields of an X.509 certificate, for Register/Get/Locate (subject, issuer, serial, digest).

use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::time::Time;
use x509_cert::Certificate;

use super::extensions::ExtensionValues;
use super::names::DistinguishedName;
use crate::crypto::CryptoError;

const WHAT: &str = "X.509 certificate";

/// What the handlers index a certificate by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The subject, as parsed; `subject_text` is its RFC 4514 string (most significant last).
    pub subject: DistinguishedName,
    pub subject_text: String,
    pub issuer: DistinguishedName,
    pub issuer_text: String,
    /// The subject and issuer `Name` DER, for exact comparisons (KMIP 2.1 X.509 Certificate Subject/Issuer).
    pub subject_der: Vec<u8>,
    pub issuer_der: Vec<u8>,
    /// The serial number's content octets (big-endian, as encoded).
    pub serial_number: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub subject_public_key_info: Vec<u8>,
    /// SHA-256 over the whole DER certificate.
    pub sha256_fingerprint: Vec<u8>,
}

/// Parses a DER certificate (any signature algorithm; the public key's type is not interpreted here).
pub fn parse_certificate(der_bytes: &[u8]) -> Result<CertificateInfo, CryptoError> {
    let certificate =
        Certificate::from_der(der_bytes).map_err(|e| CryptoError::malformed(WHAT, e))?;
    let tbs = certificate.tbs_certificate();
    let encode = |value: &dyn EncodeDyn| {
        value
            .encode_vec()
            .map_err(|e| CryptoError::malformed(WHAT, e))
    };
    Ok(CertificateInfo {
        subject: DistinguishedName::from_x509(tbs.subject())?,
        subject_text: tbs.subject().to_string(),
        issuer: DistinguishedName::from_x509(tbs.issuer())?,
        issuer_text: tbs.issuer().to_string(),
        subject_der: encode(tbs.subject())?,
        issuer_der: encode(tbs.issuer())?,
        serial_number: tbs.serial_number().as_bytes().to_vec(),
        not_before: to_offset(tbs.validity().not_before)?,
        not_after: to_offset(tbs.validity().not_after)?,
        subject_public_key_info: encode(tbs.subject_public_key_info())?,
        sha256_fingerprint: Sha256::digest(der_bytes).to_vec(),
    })
}

/// `Encode::to_der` behind a trait object, so one closure serves every field type.
trait EncodeDyn {
    fn encode_vec(&self) -> der::Result<Vec<u8>>;
}

impl<T: Encode> EncodeDyn for T {
    fn encode_vec(&self) -> der::Result<Vec<u8>> {
        self.to_der()
    }
}

fn to_offset(time: Time) -> Result<OffsetDateTime, CryptoError> {
    let seconds = i64::try_from(time.to_unix_duration().as_secs())
        .map_err(|_| CryptoError::malformed(WHAT, "validity time out of range"))?;
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| CryptoError::malformed(WHAT, e))
}

/// The extensions qkms issues (SANs, key usage, extended key usage, basic constraints) of a DER certificate:
/// what a renewal (Re-Certify) carries over.
pub fn certificate_extensions(der_bytes: &[u8]) -> Result<ExtensionValues, CryptoError> {
    let certificate =
        Certificate::from_der(der_bytes).map_err(|e| CryptoError::malformed(WHAT, e))?;
    let extensions = certificate
        .tbs_certificate()
        .extensions()
        .cloned()
        .unwrap_or_default();
    super::extensions::read(&extensions, WHAT)
}
