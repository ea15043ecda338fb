//! The entropy-as-a-service envelope key: Ed25519 from the pool, certified by the development CA.
//!
//! Ed25519 through ring (already under rustls): signing is deterministic, so signing envelopes draws no
//! randomness at all, and the only random input, the 32-byte seed, comes from the pool. The certificate has no
//! extended key usage and a `qkms eaas signing` subject, so it is no TLS identity; `eaas::verify` checks it.

use std::path::Path;

use base64::Engine;
use rcgen::{CertificateParams, KeyUsagePurpose};
use ring::signature::{Ed25519KeyPair, KeyPair};
use zeroize::Zeroizing;

use entropy::EntropyPool;

use super::{
    distinguished_name, serial_number, set_validity, CertificateAuthority, PkiError, LEAF_VALIDITY,
};

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A new envelope key and its certificate, as PEM texts (the key zeroized on drop).
pub struct IssuedEaasKey {
    pub certificate_pem: String,
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for IssuedEaasKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuedEaasKey([REDACTED])")
    }
}

impl CertificateAuthority {
    /// An Ed25519 envelope signing key from the pool and its certificate.
    pub fn issue_eaas_signing_key(&self, pool: &EntropyPool) -> Result<IssuedEaasKey, PkiError> {
        let mut pkcs8 = Zeroizing::new(Vec::with_capacity(48));
        pkcs8.extend_from_slice(&PKCS8_ED25519_PREFIX);
        let mut seed = Zeroizing::new([0u8; 32]);
        pool.fill(&mut seed[..])?;
        pkcs8.extend_from_slice(&seed[..]);
        let public = rcgen::KeyPair::try_from(&pkcs8[..])?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name("qkms eaas signing");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        set_validity(&mut params, LEAF_VALIDITY);
        params.serial_number = Some(serial_number(pool)?);
        params.use_authority_key_identifier_extension = true;
        let certificate = params.signed_by(&public, &self.certificate, &self.signer)?;
        Ok(IssuedEaasKey {
            certificate_pem: certificate.pem(),
            key_pem: Zeroizing::new(pem_encode("PRIVATE KEY", &pkcs8)),
        })
    }
}

/// The loaded envelope key: signs envelopes, names its certificate.
pub struct EaasSigningKey {
    pair: Ed25519KeyPair,
    certificate_der: Vec<u8>,
}

impl std::fmt::Debug for EaasSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EaasSigningKey")
            .field("public_key", &hex::encode(self.pair.public_key().as_ref()))
            .finish_non_exhaustive()
    }
}

impl EaasSigningKey {
    /// Reads the certificate and key `--init` wrote, and checks that they belong together.
    pub fn from_files(certificate: &Path, key: &Path) -> Result<Self, PkiError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| PkiError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        };
        let certificate_pem = read(certificate)?;
        let key_pem = Zeroizing::new(read(key)?);
        let certificate_der = kmip::client::certificates_from_pem(&certificate_pem)
            .map_err(|e| PkiError::Key(format!("{}: {e}", certificate.display())))?
            .into_iter()
            .next()
            .ok_or_else(|| PkiError::Key(format!("{}: no certificate", certificate.display())))?
            .to_vec();
        let key_der = kmip::client::private_key_from_pem(&key_pem)
            .map_err(|e| PkiError::Key(format!("{}: {e}", key.display())))?;
        let pair =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(key_der.secret_der()).map_err(|e| {
                PkiError::Key(format!("{}: not an Ed25519 PKCS#8 key: {e}", key.display()))
            })?;
        let signer = Self {
            pair,
            certificate_der,
        };
        if !signer.certificate_names_key() {
            return Err(PkiError::Key(format!(
                "{} does not certify the key in {}",
                certificate.display(),
                key.display()
            )));
        }
        Ok(signer)
    }

    /// Whether the certificate's SubjectPublicKeyInfo ends with this key's 32 public bytes (the Ed25519 SPKI is
    /// a fixed 12-byte header and the key).
    fn certificate_names_key(&self) -> bool {
        let public = self.pair.public_key().as_ref();
        let mut spki = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        spki.extend_from_slice(public);
        self.certificate_der
            .windows(spki.len())
            .any(|window| window == spki.as_slice())
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// A node id from the key: `qkms-` and the first 8 bytes of SHA-256 of the public key, hex. Stable for the
    /// node, distinct between nodes (each has its own key).
    pub fn node_id(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.pair.public_key().as_ref());
        format!("qkms-{}", hex::encode(&digest[..8]))
    }
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
