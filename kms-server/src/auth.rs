//! Who a verified client certificate is: its tenant (by subject CN or by fingerprint) and its role.
//!
//! The TLS layer has already checked the chain against the configured CAs; this only names the caller.

use std::collections::{HashMap, HashSet};

use der::Decode;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};

use crate::config::{AuthConfig, ConfigError, TenantMapping};
use crate::tenant::{Caller, Role, TenantId};

/// The subject Common Name attribute (2.5.4.3).
const COMMON_NAME: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("2.5.4.3");
/// Longest tenant name taken from a certificate.
const MAX_TENANT_LEN: usize = 256;

/// A verified certificate that names no tenant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the TLS session carries no client certificate")]
    NoCertificate,
    #[error("the client certificate cannot be parsed: {0}")]
    Unparseable(String),
    #[error("the client certificate's subject has no usable Common Name: {0}")]
    NoCommonName(String),
    #[error(
        "the client certificate (SHA-256 {0}) is not in the tenant mapping [auth.fingerprints]"
    )]
    UnknownFingerprint(String),
}

/// Maps client certificates to callers, per `[auth]`.
#[derive(Clone, Debug)]
pub struct Authenticator {
    mapping: TenantMapping,
    fingerprints: HashMap<[u8; 32], TenantId>,
    operators: HashSet<String>,
}

impl Authenticator {
    pub fn new(config: &AuthConfig) -> Result<Self, ConfigError> {
        let mut fingerprints = HashMap::new();
        for (text, tenant) in &config.fingerprints {
            let fingerprint = normalise_fingerprint(text).ok_or_else(|| {
                ConfigError::Invalid(format!("auth.fingerprints: {text:?} is not 64 hex digits"))
            })?;
            fingerprints.insert(fingerprint, TenantId(tenant.clone()));
        }
        Ok(Self {
            mapping: config.tenant_mapping,
            fingerprints,
            operators: config.operators.iter().cloned().collect(),
        })
    }

    /// The caller a verified leaf certificate stands for.
    pub fn identify(&self, leaf: &CertificateDer<'_>) -> Result<Caller, AuthError> {
        let tenant = match self.mapping {
            TenantMapping::SubjectCn => TenantId(subject_common_name(leaf)?),
            TenantMapping::Fingerprint => {
                let fingerprint = certificate_fingerprint(leaf);
                self.fingerprints
                    .get(&fingerprint)
                    .cloned()
                    .ok_or_else(|| AuthError::UnknownFingerprint(hex::encode(fingerprint)))?
            }
        };
        let role = if self.operators.contains(&tenant.0) {
            Role::Operator
        } else {
            Role::Tenant
        };
        Ok(Caller::new(tenant, role))
    }
}

/// SHA-256 over the certificate's DER encoding (what `openssl x509 -fingerprint -sha256` prints).
pub fn certificate_fingerprint(certificate: &CertificateDer<'_>) -> [u8; 32] {
    Sha256::digest(certificate.as_ref()).into()
}

/// A fingerprint written as hex, with or without colons, in either case; `None` unless it is 32 bytes.
pub fn normalise_fingerprint(text: &str) -> Option<[u8; 32]> {
    let digits: String = text.chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(digits.to_ascii_lowercase()).ok()?;
    bytes.try_into().ok()
}

/// The single subject Common Name of a certificate, as text.
pub fn subject_common_name(certificate: &CertificateDer<'_>) -> Result<String, AuthError> {
    let parsed = x509_cert::Certificate::from_der(certificate.as_ref())
        .map_err(|e| AuthError::Unparseable(e.to_string()))?;
    let mut names = parsed
        .tbs_certificate()
        .subject()
        .iter()
        .filter(|attribute| attribute.oid == COMMON_NAME);
    let first = names
        .next()
        .ok_or_else(|| AuthError::NoCommonName("the subject has no CN".into()))?;
    if names.next().is_some() {
        return Err(AuthError::NoCommonName(
            "the subject has several CNs".into(),
        ));
    }
    let value = &first.value;
    let text = value
        .decode_as::<String>()
        .or_else(|_| {
            value
                .decode_as::<der::asn1::PrintableStringRef<'_>>()
                .map(|s| s.to_string())
        })
        .or_else(|_| {
            value
                .decode_as::<der::asn1::Ia5StringRef<'_>>()
                .map(|s| s.to_string())
        })
        .map_err(|_| {
            AuthError::NoCommonName("the CN is not a UTF8, Printable or IA5 string".into())
        })?;
    if text.is_empty() || text.len() > MAX_TENANT_LEN || text.chars().any(char::is_control) {
        return Err(AuthError::NoCommonName(format!(
            "the CN must be 1-{MAX_TENANT_LEN} printable characters"
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(common_name: &str) -> CertificateDer<'static> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "qkms");
        if !common_name.is_empty() {
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, common_name);
        }
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn subject_cn_names_the_tenant_and_operators_get_their_role() {
        let config = AuthConfig {
            operators: vec!["ops".into()],
            ..AuthConfig::default()
        };
        let auth = Authenticator::new(&config).unwrap();
        let tenant = auth.identify(&certificate("tenant-a")).unwrap();
        assert_eq!(
            tenant,
            Caller::new(TenantId("tenant-a".into()), Role::Tenant)
        );
        assert_eq!(
            auth.identify(&certificate("ops")).unwrap().role,
            Role::Operator
        );
    }

    #[test]
    fn certificate_without_cn_is_refused() {
        let auth = Authenticator::new(&AuthConfig::default()).unwrap();
        assert!(matches!(
            auth.identify(&certificate("")),
            Err(AuthError::NoCommonName(_))
        ));
        assert!(matches!(
            auth.identify(&CertificateDer::from(vec![0x30, 0x00])),
            Err(AuthError::Unparseable(_))
        ));
    }

    #[test]
    fn fingerprint_mapping_ignores_the_cn_and_refuses_unlisted_certificates() {
        let listed = certificate("whatever");
        let fingerprint = certificate_fingerprint(&listed);
        let colon_form: Vec<String> = fingerprint.iter().map(|b| format!("{b:02X}")).collect();
        let mut config = AuthConfig {
            tenant_mapping: TenantMapping::Fingerprint,
            ..AuthConfig::default()
        };
        config
            .fingerprints
            .insert(colon_form.join(":"), "tenant-f".into());
        let auth = Authenticator::new(&config).unwrap();
        assert_eq!(
            auth.identify(&listed).unwrap().tenant,
            TenantId("tenant-f".into())
        );
        assert!(matches!(
            auth.identify(&certificate("tenant-f")),
            Err(AuthError::UnknownFingerprint(_))
        ));
    }

    #[test]
    fn fingerprints_must_be_sha256_hex() {
        assert!(normalise_fingerprint(&"0".repeat(64)).is_some());
        assert!(normalise_fingerprint(&"0".repeat(62)).is_none());
        assert!(normalise_fingerprint("xyz").is_none());
    }
}
