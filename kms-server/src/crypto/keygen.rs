//! Key generation from the entropy pool, and the key types the other modules take.
//!
//! Every generator draws through `pool.with_rng` (asymmetric keys) or `pool.fill` (symmetric keys), so a pool
//! that fails closed yields [`CryptoError::Entropy`] and no key.

use entropy::EntropyPool;
use p256::elliptic_curve::Generate;
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use zeroize::Zeroizing;

use super::ml_dsa::{MlDsaLevel, MlDsaPrivateKey, MlDsaPublicKey};
use super::ml_kem::{MlKemLevel, MlKemPrivateKey, MlKemPublicKey};
use super::CryptoError;

/// RSA modulus sizes we generate. 1024 is accepted only because KMIP conformance cases still ask for it.
pub const RSA_KEY_SIZES: [usize; 4] = [1024, 2048, 3072, 4096];

/// The RSA public exponent of generated keys (F4).
const RSA_PUBLIC_EXPONENT: u32 = 65_537;

/// The named elliptic curves for ECDSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcCurve {
    P256,
    P384,
}

impl EcCurve {
    /// Length in bytes of a field element / scalar.
    pub fn field_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }
}

/// What kind of key pair to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPairSpec {
    Rsa {
        bits: usize,
    },
    Ec(EcCurve),
    Ed25519,
    /// ML-KEM (FIPS 203), from a 64-byte pool seed.
    MlKem(MlKemLevel),
    /// ML-DSA (FIPS 204), from a 32-byte pool seed.
    MlDsa(MlDsaLevel),
}

/// A private key. Zeroized on drop (each inner type zeroizes itself); `Debug` shows only the kind and size.
#[derive(Clone)]
pub enum PrivateKey {
    Rsa(Box<RsaPrivateKey>),
    EcP256(p256::SecretKey),
    EcP384(p384::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
    MlKem(Box<MlKemPrivateKey>),
    MlDsa(Box<MlDsaPrivateKey>),
}

/// A public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Rsa(RsaPublicKey),
    EcP256(p256::PublicKey),
    EcP384(p384::PublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    MlKem(MlKemPublicKey),
    MlDsa(MlDsaPublicKey),
}

impl PrivateKey {
    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::Rsa(key) => PublicKey::Rsa(key.to_public_key()),
            Self::EcP256(key) => PublicKey::EcP256(key.public_key()),
            Self::EcP384(key) => PublicKey::EcP384(key.public_key()),
            Self::Ed25519(key) => PublicKey::Ed25519(key.verifying_key()),
            Self::MlKem(key) => PublicKey::MlKem(key.public_key()),
            Self::MlDsa(key) => PublicKey::MlDsa(key.public_key()),
        }
    }

    /// The key's spec (algorithm and size).
    pub fn spec(&self) -> KeyPairSpec {
        match self {
            Self::Rsa(key) => KeyPairSpec::Rsa {
                bits: rsa_bits(key.as_ref()),
            },
            Self::EcP256(_) => KeyPairSpec::Ec(EcCurve::P256),
            Self::EcP384(_) => KeyPairSpec::Ec(EcCurve::P384),
            Self::Ed25519(_) => KeyPairSpec::Ed25519,
            Self::MlKem(key) => KeyPairSpec::MlKem(key.level()),
            Self::MlDsa(key) => KeyPairSpec::MlDsa(key.level()),
        }
    }

    pub(crate) fn as_rsa(&self) -> Result<&RsaPrivateKey, CryptoError> {
        match self {
            Self::Rsa(key) => Ok(key),
            other => Err(CryptoError::InvalidKey(format!(
                "an RSA private key is required, got {:?}",
                other.spec()
            ))),
        }
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("spec", &self.spec())
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// The key's spec (algorithm and size).
    pub fn spec(&self) -> KeyPairSpec {
        match self {
            Self::Rsa(key) => KeyPairSpec::Rsa {
                bits: rsa_bits(key),
            },
            Self::EcP256(_) => KeyPairSpec::Ec(EcCurve::P256),
            Self::EcP384(_) => KeyPairSpec::Ec(EcCurve::P384),
            Self::Ed25519(_) => KeyPairSpec::Ed25519,
            Self::MlKem(key) => KeyPairSpec::MlKem(key.level()),
            Self::MlDsa(key) => KeyPairSpec::MlDsa(key.level()),
        }
    }

    pub(crate) fn as_rsa(&self) -> Result<&RsaPublicKey, CryptoError> {
        match self {
            Self::Rsa(key) => Ok(key),
            other => Err(CryptoError::InvalidKey(format!(
                "an RSA public key is required, got {:?}",
                other.spec()
            ))),
        }
    }
}

/// Generates a key pair; the public key is `private.public_key()`.
pub fn generate_key_pair(pool: &EntropyPool, spec: KeyPairSpec) -> Result<PrivateKey, CryptoError> {
    match spec {
        KeyPairSpec::Rsa { bits } => {
            generate_rsa(pool, bits).map(|key| PrivateKey::Rsa(Box::new(key)))
        }
        KeyPairSpec::Ec(EcCurve::P256) => Ok(PrivateKey::EcP256(
            p256::SecretKey::try_generate_from_rng(&mut pool.try_rng())?,
        )),
        KeyPairSpec::Ec(EcCurve::P384) => Ok(PrivateKey::EcP384(
            p384::SecretKey::try_generate_from_rng(&mut pool.try_rng())?,
        )),
        // `ed25519-dalek` takes only an infallible RNG: the panicking adapter under `with_rng`.
        KeyPairSpec::Ed25519 => {
            Ok(PrivateKey::Ed25519(Box::new(pool.with_rng(|rng| {
                ed25519_dalek::SigningKey::generate(rng)
            })?)))
        }
        KeyPairSpec::MlKem(level) => Ok(PrivateKey::MlKem(Box::new(MlKemPrivateKey::generate(
            pool, level,
        )?))),
        KeyPairSpec::MlDsa(level) => Ok(PrivateKey::MlDsa(Box::new(MlDsaPrivateKey::generate(
            pool, level,
        )?))),
    }
}

fn generate_rsa(pool: &EntropyPool, bits: usize) -> Result<RsaPrivateKey, CryptoError> {
    if !RSA_KEY_SIZES.contains(&bits) {
        return Err(CryptoError::Unsupported(format!(
            "RSA key size {bits} bits (supported: {RSA_KEY_SIZES:?})"
        )));
    }
    let exponent = BoxedUint::from(RSA_PUBLIC_EXPONENT);
    // Under `with_rng` (not `try_rng`): the `rsa` crate turns a refused draw into `Error::Rng` and drops the
    // pool's error, while the panicking adapter brings the pool's error back.
    pool.with_rng(|rng| RsaPrivateKey::new_with_exp(rng, bits, exponent))?
        .map_err(|error| CryptoError::InvalidKey(format!("RSA key generation failed: {error}")))
}

/// Generates an AES key of 128, 192 or 256 bits.
/// The modulus length of an RSA key, in bits.
pub(crate) fn rsa_bits(key: &impl PublicKeyParts) -> usize {
    key.n().bit_width_vartime() as usize
}

pub fn generate_aes_key(
    pool: &EntropyPool,
    bits: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if !matches!(bits, 128 | 192 | 256) {
        return Err(CryptoError::Unsupported(format!(
            "AES key length {bits} bits (supported: 128, 192, 256)"
        )));
    }
    random_key(pool, bits / 8)
}

/// Generates an HMAC key. RFC 2104 recommends at least the hash's output length; we require at least 112 bits
/// (SP 800-131A) and at most 8192, in whole bytes.
pub fn generate_hmac_key(
    pool: &EntropyPool,
    bits: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if !bits.is_multiple_of(8) || !(112..=8192).contains(&bits) {
        return Err(CryptoError::Unsupported(format!(
            "HMAC key length {bits} bits (a multiple of 8 from 112 to 8192)"
        )));
    }
    random_key(pool, bits / 8)
}

fn random_key(pool: &EntropyPool, len: usize) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut key = Zeroizing::new(vec![0u8; len]);
    pool.fill(&mut key)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> EntropyPool {
        EntropyPool::new(entropy::EntropyConfig::default()).unwrap()
    }

    #[test]
    fn unsupported_sizes_are_refused_with_a_message() {
        let pool = pool();
        assert!(matches!(
            generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 1000 }),
            Err(CryptoError::Unsupported(_))
        ));
        assert!(matches!(
            generate_aes_key(&pool, 64),
            Err(CryptoError::Unsupported(_))
        ));
        assert!(matches!(
            generate_hmac_key(&pool, 100),
            Err(CryptoError::Unsupported(_))
        ));
    }

    #[test]
    fn private_key_debug_does_not_show_material() {
        let key = generate_key_pair(&pool(), KeyPairSpec::Ec(EcCurve::P256)).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("P256"), "{shown}");
        let PrivateKey::EcP256(secret) = &key else {
            panic!("expected P-256")
        };
        assert!(!shown.contains(&hex::encode(secret.to_bytes())));
    }

    #[test]
    fn two_generated_aes_keys_differ() {
        let pool = pool();
        let a = generate_aes_key(&pool, 256).unwrap();
        let b = generate_aes_key(&pool, 256).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(*a, *b);
    }
}
