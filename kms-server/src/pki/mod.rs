//! The development PKI `--init` and `issue-client` make: a CA, a server certificate, client certificates.
//!
//! Every key is P-256 from the entropy pool, every serial number is 16 bytes from the pool, and certificates are
//! signed with deterministic ECDSA (see [`signer`]): nothing here draws from another randomness source.

pub mod eaas_signing;
pub mod files;
pub mod pkcs12;
pub mod signer;

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use entropy::EntropyPool;

pub use signer::EcKey;

/// Building or reading PKI material failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("randomness unavailable: {0}")]
    Entropy(#[from] entropy::EntropyError),
    #[error("private key: {0}")]
    Key(String),
    #[error("certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("PKCS#12: {0}")]
    Pkcs12(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("invalid name {0:?}: {1}")]
    InvalidName(String, String),
}

/// How long the CA is valid.
const CA_VALIDITY: Duration = Duration::days(3650);
/// How long server and client certificates are valid (825 days: the longest most clients accept).
const LEAF_VALIDITY: Duration = Duration::days(825);
/// Back-dating of `notBefore`, for peers whose clocks run a little slow.
const CLOCK_SKEW: Duration = Duration::hours(1);

/// A certificate and its private key.
#[derive(Debug)]
pub struct Issued {
    pub certificate_der: CertificateDer<'static>,
    pub certificate_pem: String,
    pub key: EcKey,
}

/// The development certificate authority: its certificate and signing key.
pub struct CertificateAuthority {
    certificate: rcgen::Certificate,
    signer: rcgen::KeyPair,
    key: EcKey,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("certificate", &self.certificate.pem())
            .field("key", &self.key)
            .finish()
    }
}

impl CertificateAuthority {
    /// A new self-signed CA named `qkms development CA <random id>`.
    pub fn generate(pool: &EntropyPool) -> Result<Self, PkiError> {
        let key = EcKey::generate(pool)?;
        let signer = key.rcgen_key_pair()?;
        let mut id = [0u8; 4];
        pool.fill(&mut id)?;
        let mut params = CertificateParams::default();
        params.distinguished_name =
            distinguished_name(&format!("qkms development CA {}", hex::encode(id)));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut params, CA_VALIDITY);
        params.serial_number = Some(serial_number(pool)?);
        let certificate = params.self_signed(&signer)?;
        Ok(Self {
            certificate,
            signer,
            key,
        })
    }

    /// The CA `--init` wrote (`pki/ca.pem`, `pki/ca.key`), to issue further certificates with.
    pub fn load(certificate_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let key = EcKey::from_pkcs8_pem(key_pem)?;
        let signer = key.rcgen_key_pair()?;
        let der = kmip::client::certificates_from_pem(certificate_pem.as_bytes())
            .map_err(|e| PkiError::Key(format!("CA certificate: {e}")))?
            .into_iter()
            .next()
            .ok_or_else(|| PkiError::Key("no CA certificate found".into()))?;
        // rcgen needs the issuer as a `Certificate`: rebuilding it from the parsed parameters keeps the subject
        // and key the issued certificates name (the re-signed copy itself is never written anywhere).
        let params = CertificateParams::from_ca_cert_der(&der)?;
        let certificate = params.self_signed(&signer)?;
        Ok(Self {
            certificate,
            signer,
            key,
        })
    }

    pub fn certificate_pem(&self) -> String {
        self.certificate.pem()
    }

    pub fn key(&self) -> &EcKey {
        &self.key
    }

    /// A server certificate for `localhost`, 127.0.0.1, ::1 and `host_names` (DNS names or IP addresses).
    pub fn issue_server(
        &self,
        pool: &EntropyPool,
        host_names: &[String],
    ) -> Result<Issued, PkiError> {
        let mut names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        for name in host_names {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name("qkms server");
        params.subject_alt_names = names
            .iter()
            .map(|name| subject_alt_name(name))
            .collect::<Result<_, _>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(pool, params)
    }

    /// A client certificate whose subject CN is `common_name` (the tenant, under subject-CN mapping).
    pub fn issue_client(&self, pool: &EntropyPool, common_name: &str) -> Result<Issued, PkiError> {
        validate_common_name(common_name)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(pool, params)
    }

    fn issue(&self, pool: &EntropyPool, mut params: CertificateParams) -> Result<Issued, PkiError> {
        set_validity(&mut params, LEAF_VALIDITY);
        params.serial_number = Some(serial_number(pool)?);
        params.use_authority_key_identifier_extension = true;
        let key = EcKey::generate(pool)?;
        let public = key.rcgen_key_pair()?;
        let certificate = params.signed_by(&public, &self.certificate, &self.signer)?;
        Ok(Issued {
            certificate_der: certificate.der().clone(),
            certificate_pem: certificate.pem(),
            key,
        })
    }
}

/// A tenant name usable as a certificate CN and a directory-safe label: 1-64 characters of letters, digits,
/// `-`, `_`, `.` and `@`.
pub fn validate_common_name(name: &str) -> Result<(), PkiError> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@');
    if name.is_empty() || name.len() > 64 || !name.chars().all(valid_char) {
        return Err(PkiError::InvalidName(
            name.to_owned(),
            "use 1-64 characters of letters, digits, '-', '_', '.', '@'".into(),
        ));
    }
    Ok(())
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "qkms");
    name.push(DnType::CommonName, common_name);
    name
}

fn subject_alt_name(name: &str) -> Result<SanType, PkiError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let dns = name
        .to_owned()
        .try_into()
        .map_err(|e: rcgen::Error| PkiError::InvalidName(name.to_owned(), e.to_string()))?;
    Ok(SanType::DnsName(dns))
}

fn set_validity(params: &mut CertificateParams, validity: Duration) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - CLOCK_SKEW;
    params.not_after = now + validity;
}

/// 16 random bytes from the pool, made a positive, minimal-length DER INTEGER (RFC 5280 4.1.2.2: <= 20 octets).
fn serial_number(pool: &EntropyPool) -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    pool.fill(&mut bytes)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> EntropyPool {
        EntropyPool::new(entropy::EntropyConfig::default()).unwrap()
    }

    #[test]
    fn issued_certificates_chain_to_a_reloaded_ca() {
        let pool = pool();
        let ca = CertificateAuthority::generate(&pool).unwrap();
        let reloaded =
            CertificateAuthority::load(&ca.certificate_pem(), &ca.key().pkcs8_pem().unwrap())
                .unwrap();
        let client = reloaded.issue_client(&pool, "tenant-a").unwrap();
        // The client certificate must verify under the original CA certificate.
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(
                kmip::client::certificates_from_pem(ca.certificate_pem().as_bytes())
                    .unwrap()
                    .remove(0),
            )
            .unwrap();
        let provider = pool.rustls_provider();
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                .build()
                .unwrap();
        let now = rustls::pki_types::UnixTime::now();
        verifier
            .verify_client_cert(&client.certificate_der, &[], now)
            .unwrap();
    }

    #[test]
    fn bad_tenant_names_are_refused() {
        for name in ["", "a/b", "with space", &"x".repeat(65)] {
            assert!(validate_common_name(name).is_err(), "{name:?}");
        }
        validate_common_name("tenant-b@example.org").unwrap();
    }

    #[test]
    fn serial_numbers_differ_and_are_positive() {
        let pool = pool();
        let a = serial_number(&pool).unwrap();
        let b = serial_number(&pool).unwrap();
        assert_ne!(a, b);
        assert!(a.to_bytes()[0] & 0x80 == 0);
    }
}
