//! P-256 keys drawn from the entropy pool, and an rcgen signer over them.
//!
//! rcgen's own key pairs sign through ring, whose ECDSA nonces come from the OS generator. Signing through
//! `p256::ecdsa` instead uses RFC 6979 deterministic nonces, so building a certificate needs no randomness at all
//! and the only random inputs (the keys, the serial numbers) come from the pool.

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::Generate;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use zeroize::Zeroizing;

use entropy::EntropyPool;

use super::PkiError;

/// A P-256 private key (zeroized on drop by `p256`).
pub struct EcKey {
    secret: p256::SecretKey,
}

impl std::fmt::Debug for EcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EcKey(P-256, [REDACTED])")
    }
}

impl EcKey {
    /// A fresh key from the pool; fails (rather than use weaker bytes) when the pool fails closed.
    pub fn generate(pool: &EntropyPool) -> Result<Self, PkiError> {
        let secret = p256::SecretKey::try_generate_from_rng(&mut pool.try_rng())?;
        Ok(Self { secret })
    }

    /// Reads a PKCS#8 PEM private key (the `*.key` files `--init` writes).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, PkiError> {
        let secret = p256::SecretKey::from_pkcs8_pem(pem)
            .map_err(|e| PkiError::Key(format!("not a PKCS#8 P-256 private key: {e}")))?;
        Ok(Self { secret })
    }

    /// The PKCS#8 DER encoding.
    pub fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, PkiError> {
        let doc = self
            .secret
            .to_pkcs8_der()
            .map_err(|e| PkiError::Key(format!("cannot encode the private key: {e}")))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// The PKCS#8 PEM encoding (`-----BEGIN PRIVATE KEY-----`).
    pub fn pkcs8_pem(&self) -> Result<Zeroizing<String>, PkiError> {
        let pem = self
            .secret
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .map_err(|e| PkiError::Key(format!("cannot encode the private key: {e}")))?;
        Ok(Zeroizing::new(pem.as_str().to_owned()))
    }

    /// An rcgen key pair that signs with this key (deterministic ECDSA, no RNG).
    pub fn rcgen_key_pair(&self) -> Result<rcgen::KeyPair, PkiError> {
        let signing_key = SigningKey::from(&self.secret);
        let public_key = signing_key
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        rcgen::KeyPair::from_remote(Box::new(P256Signer {
            signing_key,
            public_key,
        }))
        .map_err(PkiError::Certificate)
    }
}

/// rcgen's view of a P-256 key: the uncompressed public point and a deterministic signer.
struct P256Signer {
    signing_key: SigningKey,
    public_key: Vec<u8>,
}

impl rcgen::RemoteKeyPair for P256Signer {
    fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature: Signature = self.signing_key.sign(msg);
        Ok(signature.to_der().as_bytes().to_vec())
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_key() {
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let key = EcKey::generate(&pool).unwrap();
        let again = EcKey::from_pkcs8_pem(&key.pkcs8_pem().unwrap()).unwrap();
        assert_eq!(key.secret.to_bytes(), again.secret.to_bytes());
        assert_eq!(format!("{key:?}"), "EcKey(P-256, [REDACTED])");
    }

    #[test]
    fn garbage_key_file_is_an_error() {
        assert!(EcKey::from_pkcs8_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        )
        .is_err());
    }
}
