//! X.509 v3 certificate issuance: built with rcgen, signed by OUR key through rcgen's `RemoteKeyPair` (so the
//! signature's randomness comes from the pool), serial numbers drawn from the pool. Also the parsing the
//! handlers need: a verified PKCS#10 request ([`parse_and_verify_csr`]) and a certificate's identifying fields
//! ([`parse_certificate`]).

mod csr;
mod extensions;
mod names;
mod parse;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use der::asn1::ObjectIdentifier;
use entropy::EntropyPool;
use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType};
use time::OffsetDateTime;

pub use csr::{parse_and_verify_csr, CertificationRequest};
pub use extensions::ExtensionValues;
pub use names::{DistinguishedName, NameAttribute};
pub use parse::{certificate_extensions, parse_certificate, CertificateInfo};

use super::hash::HashAlgorithm;
use super::keygen::{PrivateKey, PublicKey};
use super::signature::{sign, SignInput, SignatureAlgorithm};
use super::CryptoError;

/// Serial numbers are 16 pool bytes with the top bit cleared (positive, 127 bits of entropy; RFC 5280 allows
/// up to 20 octets and CA/B asks for at least 64 random bits).
const SERIAL_LEN: usize = 16;

/// X.509 key usage bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    DigitalSignature,
    ContentCommitment,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
    KeyCertSign,
    CrlSign,
    EncipherOnly,
    DecipherOnly,
}

/// X.509 extended key usage purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtendedKeyUsage {
    ServerAuth,
    ClientAuth,
    CodeSigning,
    EmailProtection,
    TimeStamping,
    OcspSigning,
    Any,
}

impl ExtendedKeyUsage {
    /// A usage by its RFC 5280 name (`serverAuth`, ...) or dotted OID.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "serverAuth" | "1.3.6.1.5.5.7.3.1" => Self::ServerAuth,
            "clientAuth" | "1.3.6.1.5.5.7.3.2" => Self::ClientAuth,
            "codeSigning" | "1.3.6.1.5.5.7.3.3" => Self::CodeSigning,
            "emailProtection" | "1.3.6.1.5.5.7.3.4" => Self::EmailProtection,
            "timeStamping" | "1.3.6.1.5.5.7.3.8" => Self::TimeStamping,
            "OCSPSigning" | "1.3.6.1.5.5.7.3.9" => Self::OcspSigning,
            "anyExtendedKeyUsage" | "2.5.29.37.0" => Self::Any,
            _ => return None,
        })
    }

    fn from_oid(oid: &ObjectIdentifier) -> Result<Self, CryptoError> {
        Ok(match oid.to_string().as_str() {
            "1.3.6.1.5.5.7.3.1" => Self::ServerAuth,
            "1.3.6.1.5.5.7.3.2" => Self::ClientAuth,
            "1.3.6.1.5.5.7.3.3" => Self::CodeSigning,
            "1.3.6.1.5.5.7.3.4" => Self::EmailProtection,
            "1.3.6.1.5.5.7.3.8" => Self::TimeStamping,
            "1.3.6.1.5.5.7.3.9" => Self::OcspSigning,
            "2.5.29.37.0" => Self::Any,
            other => {
                return Err(CryptoError::Unsupported(format!(
                    "extended key usage {other}"
                )))
            }
        })
    }
}

/// Subject alternative names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubjectAltName {
    Dns(String),
    Email(String),
    Uri(String),
    Ip(IpAddr),
}

/// Basic constraints: an end-entity certificate (`cA` false) or a CA with an optional path length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicConstraints {
    EndEntity,
    Ca { path_len: Option<u8> },
}

/// Everything about the certificate to issue except the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateProfile {
    pub subject: DistinguishedName,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub key_usage: Vec<KeyUsage>,
    pub extended_key_usage: Vec<ExtendedKeyUsage>,
    pub subject_alt_names: Vec<SubjectAltName>,
    pub basic_constraints: BasicConstraints,
}

/// The issuing CA: its certificate (DER) and its private key, which must match the certificate's public key.
#[derive(Debug, Clone, Copy)]
pub struct Issuer<'a> {
    pub certificate_der: &'a [u8],
    pub private_key: &'a PrivateKey,
}

/// A self-signed certificate for `key` (a root CA when `profile.basic_constraints` is `Ca`).
pub fn self_signed_certificate(
    pool: &EntropyPool,
    key: &PrivateKey,
    profile: &CertificateProfile,
) -> Result<Vec<u8>, CryptoError> {
    let params = certificate_params(pool, profile)?;
    let signer = PoolSigner::new(pool, key)?;
    let result = params.self_signed(&signer.key_pair()?);
    signer
        .finish(result)
        .map(|certificate| certificate.der().to_vec())
}

/// Issues a certificate for `subject_key`, signed by `issuer`.
pub fn issue_certificate(
    pool: &EntropyPool,
    subject_key: &PublicKey,
    profile: &CertificateProfile,
    issuer: &Issuer<'_>,
) -> Result<Vec<u8>, CryptoError> {
    let params = certificate_params(pool, profile)?;
    let subject_key = SubjectKey::new(subject_key)?;
    check_issuer_key(issuer)?;
    let issuer_params = CertificateParams::from_ca_cert_der(
        &rustls::pki_types::CertificateDer::from(issuer.certificate_der),
    )
    .map_err(|e| CryptoError::malformed("issuer certificate", e))?;
    let signer = PoolSigner::new(pool, issuer.private_key)?;
    let key_pair = signer.key_pair()?;
    // rcgen takes the issuer's name and key identifier from a `Certificate` value; rebuilding one re-signs the
    // CA's fields (discarded), the price of not reaching into rcgen's internals.
    let issuer_certificate = signer.finish(issuer_params.self_signed(&key_pair))?;
    let result = params.signed_by(&subject_key, &issuer_certificate, &key_pair);
    signer
        .finish(result)
        .map(|certificate| certificate.der().to_vec())
}

/// Issues a certificate from a PKCS#10 request (signature checked). The profile decides; where it leaves the
/// subject, the SANs, the key usage or the extended key usage empty, the request's values are used.
pub fn issue_certificate_from_csr(
    pool: &EntropyPool,
    csr_der: &[u8],
    profile: &CertificateProfile,
    issuer: &Issuer<'_>,
) -> Result<Vec<u8>, CryptoError> {
    let request = parse_and_verify_csr(csr_der)?;
    let mut effective = profile.clone();
    if effective.subject.is_empty() {
        effective.subject = request.subject;
    }
    if effective.subject_alt_names.is_empty() {
        effective.subject_alt_names = request.subject_alt_names;
    }
    if effective.key_usage.is_empty() {
        effective.key_usage = request.key_usage;
    }
    if effective.extended_key_usage.is_empty() {
        effective.extended_key_usage = request.extended_key_usage;
    }
    issue_certificate(pool, &request.public_key, &effective, issuer)
}

fn check_issuer_key(issuer: &Issuer<'_>) -> Result<(), CryptoError> {
    let info = parse_certificate(issuer.certificate_der)?;
    let certified = PublicKey::from_spki_der(&info.subject_public_key_info)?;
    if certified != issuer.private_key.public_key() {
        return Err(CryptoError::InvalidKey(
            "the issuer's private key does not match its certificate's public key".into(),
        ));
    }
    Ok(())
}

fn certificate_params(
    pool: &EntropyPool,
    profile: &CertificateProfile,
) -> Result<CertificateParams, CryptoError> {
    if profile.subject.is_empty() {
        return Err(CryptoError::InvalidInput(
            "a certificate needs a subject name".into(),
        ));
    }
    if profile.not_after <= profile.not_before {
        return Err(CryptoError::InvalidInput(
            "the validity ends before it starts".into(),
        ));
    }
    let mut serial = vec![0u8; SERIAL_LEN];
    pool.fill(&mut serial)?;
    serial[0] &= 0x7f;
    // A leading zero octet would shorten the encoding; keep every serial the same length.
    serial[0] |= 0x01;

    let mut params = CertificateParams::default();
    params.distinguished_name = profile.subject.to_rcgen()?;
    params.not_before = profile.not_before;
    params.not_after = profile.not_after;
    params.serial_number = Some(serial.into());
    params.key_usages = profile
        .key_usage
        .iter()
        .map(|usage| rcgen_key_usage(*usage))
        .collect();
    params.extended_key_usages = profile
        .extended_key_usage
        .iter()
        .map(|usage| rcgen_extended_key_usage(*usage))
        .collect();
    params.subject_alt_names = profile
        .subject_alt_names
        .iter()
        .map(rcgen_san)
        .collect::<Result<_, _>>()?;
    // Always writing basic constraints also makes rcgen write the extensions block (it omits key usage when
    // nothing else asks for extensions).
    params.is_ca = match profile.basic_constraints {
        BasicConstraints::EndEntity => IsCa::ExplicitNoCa,
        BasicConstraints::Ca { path_len: None } => IsCa::Ca(rcgen::BasicConstraints::Unconstrained),
        BasicConstraints::Ca { path_len: Some(n) } => {
            IsCa::Ca(rcgen::BasicConstraints::Constrained(n))
        }
    };
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn rcgen_key_usage(usage: KeyUsage) -> KeyUsagePurpose {
    match usage {
        KeyUsage::DigitalSignature => KeyUsagePurpose::DigitalSignature,
        KeyUsage::ContentCommitment => KeyUsagePurpose::ContentCommitment,
        KeyUsage::KeyEncipherment => KeyUsagePurpose::KeyEncipherment,
        KeyUsage::DataEncipherment => KeyUsagePurpose::DataEncipherment,
        KeyUsage::KeyAgreement => KeyUsagePurpose::KeyAgreement,
        KeyUsage::KeyCertSign => KeyUsagePurpose::KeyCertSign,
        KeyUsage::CrlSign => KeyUsagePurpose::CrlSign,
        KeyUsage::EncipherOnly => KeyUsagePurpose::EncipherOnly,
        KeyUsage::DecipherOnly => KeyUsagePurpose::DecipherOnly,
    }
}

fn rcgen_extended_key_usage(usage: ExtendedKeyUsage) -> ExtendedKeyUsagePurpose {
    match usage {
        ExtendedKeyUsage::ServerAuth => ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsage::ClientAuth => ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsage::CodeSigning => ExtendedKeyUsagePurpose::CodeSigning,
        ExtendedKeyUsage::EmailProtection => ExtendedKeyUsagePurpose::EmailProtection,
        ExtendedKeyUsage::TimeStamping => ExtendedKeyUsagePurpose::TimeStamping,
        ExtendedKeyUsage::OcspSigning => ExtendedKeyUsagePurpose::OcspSigning,
        ExtendedKeyUsage::Any => ExtendedKeyUsagePurpose::Any,
    }
}

fn rcgen_san(name: &SubjectAltName) -> Result<SanType, CryptoError> {
    let ia5 = |value: &str| {
        rcgen::Ia5String::try_from(value).map_err(|_| {
            CryptoError::InvalidInput(format!(
                "subject alternative name {value:?} is not IA5 (ASCII)"
            ))
        })
    };
    Ok(match name {
        SubjectAltName::Dns(value) => SanType::DnsName(ia5(value)?),
        SubjectAltName::Email(value) => SanType::Rfc822Name(ia5(value)?),
        SubjectAltName::Uri(value) => SanType::URI(ia5(value)?),
        SubjectAltName::Ip(address) => SanType::IpAddress(*address),
    })
}

/// The rcgen algorithm (which fixes the SubjectPublicKeyInfo algorithm identifier and the signature
/// algorithm) and our signature scheme for a key.
/// Post-quantum keys are refused: rcgen knows no ML-KEM / ML-DSA algorithm identifiers.
fn algorithms(
    key: &PublicKey,
) -> Result<(&'static rcgen::SignatureAlgorithm, SignatureAlgorithm), CryptoError> {
    Ok(match key {
        PublicKey::Rsa(_) => (
            &rcgen::PKCS_RSA_SHA256,
            SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256),
        ),
        PublicKey::EcP256(_) => (
            &rcgen::PKCS_ECDSA_P256_SHA256,
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
        ),
        PublicKey::EcP384(_) => (
            &rcgen::PKCS_ECDSA_P384_SHA384,
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
        ),
        PublicKey::Ed25519(_) => (&rcgen::PKCS_ED25519, SignatureAlgorithm::Ed25519),
        PublicKey::MlKem(_) | PublicKey::MlDsa(_) => {
            return Err(CryptoError::Unsupported(format!(
                "certificates for {:?} keys",
                key.spec()
            )))
        }
    })
}

/// A subject public key in the form rcgen writes into the certificate.
struct SubjectKey {
    bytes: Vec<u8>,
    algorithm: &'static rcgen::SignatureAlgorithm,
}

impl SubjectKey {
    fn new(key: &PublicKey) -> Result<Self, CryptoError> {
        Ok(Self {
            bytes: key.to_subject_public_key_bytes()?,
            algorithm: algorithms(key)?.0,
        })
    }
}

impl rcgen::PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        self.algorithm
    }
}

/// Our private key behind rcgen's `RemoteKeyPair`: rcgen hands us the TBS bytes, we sign with the pool.
/// rcgen's error type cannot carry ours, so the signer keeps the last error for [`PoolSigner::finish`].
struct PoolSigner {
    pool: EntropyPool,
    key: PrivateKey,
    public_key: Vec<u8>,
    algorithm: &'static rcgen::SignatureAlgorithm,
    scheme: SignatureAlgorithm,
    last_error: Arc<Mutex<Option<CryptoError>>>,
}

impl PoolSigner {
    fn new(pool: &EntropyPool, key: &PrivateKey) -> Result<Self, CryptoError> {
        let public = key.public_key();
        let (algorithm, scheme) = algorithms(&public)?;
        Ok(Self {
            pool: pool.clone(),
            key: key.clone(),
            public_key: public.to_subject_public_key_bytes()?,
            algorithm,
            scheme,
            last_error: Arc::new(Mutex::new(None)),
        })
    }

    /// An rcgen key pair over a clone of this signer that reports into the same error slot.
    fn key_pair(&self) -> Result<KeyPair, CryptoError> {
        let remote = Self {
            pool: self.pool.clone(),
            key: self.key.clone(),
            public_key: self.public_key.clone(),
            algorithm: self.algorithm,
            scheme: self.scheme,
            last_error: Arc::clone(&self.last_error),
        };
        KeyPair::from_remote(Box::new(remote)).map_err(|e| CryptoError::Certificate(e.to_string()))
    }

    /// rcgen's result, with a signing failure replaced by the error our signer recorded.
    fn finish<T>(&self, result: Result<T, rcgen::Error>) -> Result<T, CryptoError> {
        result.map_err(|error| {
            let recorded = self
                .last_error
                .lock()
                .map(|mut slot| slot.take())
                .unwrap_or_default();
            recorded.unwrap_or_else(|| CryptoError::Certificate(error.to_string()))
        })
    }
}

impl rcgen::RemoteKeyPair for PoolSigner {
    fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        sign(&self.pool, &self.key, self.scheme, SignInput::Data(message)).map_err(|error| {
            if let Ok(mut slot) = self.last_error.lock() {
                *slot = Some(error);
            }
            rcgen::Error::RemoteKeyError
        })
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithm
    }
}
