//! The server's handshake signature (CertificateVerify in TLS 1.3, ServerKeyExchange in TLS 1.2) made with
//! qkms' hedged RFC 6979 ECDSA ([`crate::crypto::ecdsa_hedged`]) instead of ring's signer, whose nonces come
//! from the OS generator.
//!
//! The hedging bytes come from the provider's random source (`entropy::tls::TlsRandomness`: the pool, with the
//! `[tls] on_entropy_failure` policy), so the signature follows the same rule as the rest of the handshake.
//! ECDSA P-256 (the key `--init` makes) and P-384 keys are signed here; any other key type (an operator's RSA
//! key) is handed to ring, whose PSS salts then come from the OS, which the README says.

use std::sync::Arc;

use rustls::crypto::SecureRandom;
use rustls::pki_types::{PrivateKeyDer, SubjectPublicKeyInfoDer};
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use sha2::{Digest, Sha256, Sha384};
use zeroize::Zeroizing;

use crate::crypto::ecdsa_hedged;

/// The signing key for `key`: our hedged ECDSA for P-256 and P-384 keys, ring's otherwise.
pub fn server_signing_key(
    random: &'static dyn SecureRandom,
    key: &PrivateKeyDer<'_>,
) -> Result<Arc<dyn SigningKey>, rustls::Error> {
    if let Some(ec_key) = EcKey::parse(key) {
        let spki = ec_key.spki_der()?;
        return Ok(Arc::new(HedgedEcdsaKey {
            key: Arc::new(ec_key),
            random,
            spki,
        }));
    }
    rustls::crypto::ring::sign::any_supported_type(key)
}

/// A NIST-curve ECDSA private key (zeroized on drop by the curve crates).
enum EcKey {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
}

impl EcKey {
    fn parse(key: &PrivateKeyDer<'_>) -> Option<Self> {
        use p256::pkcs8::DecodePrivateKey;
        match key {
            PrivateKeyDer::Pkcs8(der) => {
                let der = der.secret_pkcs8_der();
                p256::SecretKey::from_pkcs8_der(der)
                    .map(Self::P256)
                    .or_else(|_| p384::SecretKey::from_pkcs8_der(der).map(Self::P384))
                    .ok()
            }
            PrivateKeyDer::Sec1(der) => {
                let der = der.secret_sec1_der();
                p256::SecretKey::from_sec1_der(der)
                    .map(Self::P256)
                    .or_else(|_| p384::SecretKey::from_sec1_der(der).map(Self::P384))
                    .ok()
            }
            _ => None,
        }
    }

    fn scheme(&self) -> SignatureScheme {
        match self {
            Self::P256(_) => SignatureScheme::ECDSA_NISTP256_SHA256,
            Self::P384(_) => SignatureScheme::ECDSA_NISTP384_SHA384,
        }
    }

    fn spki_der(&self) -> Result<Vec<u8>, rustls::Error> {
        use p256::pkcs8::EncodePublicKey;
        let document = match self {
            Self::P256(key) => key.public_key().to_public_key_der(),
            Self::P384(key) => key.public_key().to_public_key_der(),
        };
        document
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| rustls::Error::General(format!("server public key encoding: {e}")))
    }

    /// Hashes `message` with the scheme's hash and signs it, hedging the nonce with bytes from `random`;
    /// returns the DER signature TLS carries.
    fn sign(&self, random: &dyn SecureRandom, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        let refused = |_| rustls::Error::FailedToGetRandomBytes;
        let failed = |e: crate::crypto::CryptoError| rustls::Error::General(e.to_string());
        match self {
            Self::P256(key) => {
                let mut added = Zeroizing::new([0u8; 32]);
                random.fill(added.as_mut()).map_err(refused)?;
                let digest = Sha256::digest(message);
                ecdsa_hedged::sign_p256_with_added_entropy(key, &digest, &added)
                    .map(|signature| signature.to_der().as_bytes().to_vec())
                    .map_err(failed)
            }
            Self::P384(key) => {
                let mut added = Zeroizing::new([0u8; 48]);
                random.fill(added.as_mut()).map_err(refused)?;
                let digest = Sha384::digest(message);
                ecdsa_hedged::sign_p384_with_added_entropy(key, &digest, &added)
                    .map(|signature| signature.to_der().as_bytes().to_vec())
                    .map_err(failed)
            }
        }
    }
}

/// The rustls signing key over an [`EcKey`].
struct HedgedEcdsaKey {
    key: Arc<EcKey>,
    random: &'static dyn SecureRandom,
    spki: Vec<u8>,
}

impl std::fmt::Debug for HedgedEcdsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HedgedEcdsaKey")
            .field("scheme", &self.key.scheme())
            .finish_non_exhaustive()
    }
}

impl SigningKey for HedgedEcdsaKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = self.key.scheme();
        offered.contains(&scheme).then(|| {
            Box::new(HedgedEcdsaSigner {
                key: Arc::clone(&self.key),
                random: self.random,
                scheme,
            }) as Box<dyn Signer>
        })
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.spki.as_slice()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

/// One handshake's signer.
struct HedgedEcdsaSigner {
    key: Arc<EcKey>,
    random: &'static dyn SecureRandom,
    scheme: SignatureScheme,
}

impl std::fmt::Debug for HedgedEcdsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HedgedEcdsaSigner")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl Signer for HedgedEcdsaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.key.sign(self.random, message)
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::GetRandomFailed;
    use rustls::pki_types::PrivatePkcs8KeyDer;

    /// A source returning one byte value over and over.
    #[derive(Debug)]
    struct Constant(u8);

    impl SecureRandom for Constant {
        fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
            buf.fill(self.0);
            Ok(())
        }
    }

    /// A source that always refuses (a pool failed closed under `refuse`).
    #[derive(Debug)]
    struct Refusing;

    impl SecureRandom for Refusing {
        fn fill(&self, _: &mut [u8]) -> Result<(), GetRandomFailed> {
            Err(GetRandomFailed)
        }
    }

    fn leak(random: impl SecureRandom + 'static) -> &'static dyn SecureRandom {
        Box::leak(Box::new(random))
    }

    fn p256_key() -> (PrivateKeyDer<'static>, Vec<u8>) {
        use p256::pkcs8::EncodePrivateKey;
        let secret = p256::SecretKey::from_bytes(&[7u8; 32].into()).unwrap();
        let der = secret.to_pkcs8_der().unwrap().as_bytes().to_vec();
        let point = secret.public_key().to_sec1_bytes().to_vec();
        (PrivatePkcs8KeyDer::from(der).into(), point)
    }

    fn sign_with(random: &'static dyn SecureRandom, message: &[u8]) -> Vec<u8> {
        let (key, _) = p256_key();
        let key = server_signing_key(random, &key).unwrap();
        let signer = key
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
            .unwrap();
        signer.sign(message).unwrap()
    }

    #[test]
    fn p256_signatures_verify_with_ring_and_their_nonce_is_hedged_by_the_source() {
        let (_, point) = p256_key();
        let message = b"TLS 1.3, server CertificateVerify";
        let a = sign_with(leak(Constant(1)), message);
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, &point)
            .verify(message, &a)
            .expect("ring verifies the hedged signature");
        // Same key, message and source bytes: same nonce, same signature; other source bytes: another nonce.
        assert_eq!(a, sign_with(leak(Constant(1)), message));
        assert_ne!(a, sign_with(leak(Constant(2)), message));
    }

    #[test]
    fn schemes_and_refusals() {
        let (key, _) = p256_key();
        let key = server_signing_key(leak(Constant(3)), &key).unwrap();
        assert_eq!(key.algorithm(), SignatureAlgorithm::ECDSA);
        assert!(key.public_key().is_some());
        assert!(key
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP384_SHA384])
            .is_none());
        let (key, _) = p256_key();
        let refusing = server_signing_key(leak(Refusing), &key).unwrap();
        let signer = refusing
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
            .unwrap();
        assert_eq!(
            signer.sign(b"message"),
            Err(rustls::Error::FailedToGetRandomBytes)
        );
        assert!(
            format!("{refusing:?}").contains("ECDSA_NISTP256_SHA256"),
            "{refusing:?}"
        );
    }
}
