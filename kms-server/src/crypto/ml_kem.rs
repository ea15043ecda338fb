//! ML-KEM (FIPS 203) over the RustCrypto `ml-kem` crate: key generation from a 64-byte seed `d || z` drawn from
//! the pool, encapsulation with a 32-byte message `m` drawn from the pool, decapsulation (implicit rejection: a
//! tampered ciphertext decapsulates to a pseudo-random secret, never an error), and the key encodings:
//!
//! - the seed (64 bytes, what qkms generates and stores) and the FIPS 203 expanded decapsulation key
//!   (1632 / 2400 / 3168 bytes, accepted from clients that only have that form, and produced on request);
//! - the FIPS 203 encapsulation key (800 / 1184 / 1568 bytes);
//! - PKCS#8 (RFC 9935, seed form) and SubjectPublicKeyInfo, through the crate's `pkcs8` support.
//!
//! The randomness for keys and encapsulations is drawn here with `pool.fill` / `pool.try_fill`, then handed to
//! the crate's deterministic entry points (`from_seed`, `encapsulate_deterministic`), so a pool that fails
//! closed is [`CryptoError::Entropy`] and nothing is computed.

#![allow(deprecated)] // the expanded decapsulation-key form is deprecated by the crate, still defined by FIPS 203

use entropy::EntropyPool;
use ml_kem::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ml_kem::{Decapsulate, ExpandedKeyEncoding, KeyExport};
use zeroize::Zeroizing;

use super::CryptoError;

/// The ML-KEM parameter sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MlKemLevel {
    MlKem512,
    MlKem768,
    MlKem1024,
}

/// Length of the seed form `d || z` of a decapsulation key.
pub const SEED_LEN: usize = 64;
/// Length of the shared secret.
pub const SHARED_SECRET_LEN: usize = 32;

impl MlKemLevel {
    pub const ALL: [Self; 3] = [Self::MlKem512, Self::MlKem768, Self::MlKem1024];

    /// The parameter set's number (512, 768, 1024): what qkms stores as Cryptographic Length.
    pub fn bits(self) -> usize {
        match self {
            Self::MlKem512 => 512,
            Self::MlKem768 => 768,
            Self::MlKem1024 => 1024,
        }
    }

    /// The level whose parameter-set number is `bits`.
    pub fn from_bits(bits: usize) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.bits() == bits)
    }

    /// Length of the encapsulation (public) key.
    pub fn public_key_len(self) -> usize {
        match self {
            Self::MlKem512 => 800,
            Self::MlKem768 => 1184,
            Self::MlKem1024 => 1568,
        }
    }

    /// Length of the expanded decapsulation key.
    pub fn expanded_len(self) -> usize {
        match self {
            Self::MlKem512 => 1632,
            Self::MlKem768 => 2400,
            Self::MlKem1024 => 3168,
        }
    }

    /// Length of a ciphertext (the encapsulation).
    pub fn ciphertext_len(self) -> usize {
        match self {
            Self::MlKem512 => 768,
            Self::MlKem768 => 1088,
            Self::MlKem1024 => 1568,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::MlKem512 => "ML-KEM-512",
            Self::MlKem768 => "ML-KEM-768",
            Self::MlKem1024 => "ML-KEM-1024",
        }
    }
}

/// Runs `$body` with `$m` bound to the `ml_kem` module of `$level` (`ml_kem_512`, ...).
macro_rules! with_level {
    ($level:expr, $m:ident => $body:expr) => {
        match $level {
            MlKemLevel::MlKem512 => {
                use ml_kem::ml_kem_512 as $m;
                $body
            }
            MlKemLevel::MlKem768 => {
                use ml_kem::ml_kem_768 as $m;
                $body
            }
            MlKemLevel::MlKem1024 => {
                use ml_kem::ml_kem_1024 as $m;
                $body
            }
        }
    };
}

/// An ML-KEM decapsulation key as qkms keeps it: the 64-byte seed (generated keys, keys registered in seed
/// form) or the expanded FIPS 203 encoding (keys registered only in that form). Zeroized on drop; `Debug` shows
/// only the parameter set and the form.
#[derive(Clone)]
pub struct MlKemPrivateKey {
    level: MlKemLevel,
    material: Zeroizing<Vec<u8>>,
    /// Derived (and so checked) when the key is made or read.
    public: MlKemPublicKey,
}

impl std::fmt::Debug for MlKemPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlKemPrivateKey")
            .field("level", &self.level)
            .field("seed_form", &self.is_seed())
            .finish_non_exhaustive()
    }
}

/// An ML-KEM encapsulation key (its FIPS 203 encoding, checked on the way in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlKemPublicKey {
    level: MlKemLevel,
    encoded: Vec<u8>,
}

fn wrong_len(what: &str, level: MlKemLevel, got: usize, expected: &[usize]) -> CryptoError {
    CryptoError::InvalidKey(format!(
        "an {} {what} is {} bytes, not {got}",
        level.name(),
        expected
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" or ")
    ))
}

impl MlKemPrivateKey {
    /// A new key from a seed drawn from the pool.
    pub fn generate(pool: &EntropyPool, level: MlKemLevel) -> Result<Self, CryptoError> {
        let mut seed = Zeroizing::new(vec![0u8; SEED_LEN]);
        pool.try_fill(&mut seed)?;
        Self::from_bytes(level, &seed)
    }

    /// A key from its seed (64 bytes) or expanded encoding (checked: the embedded encapsulation key must be
    /// well formed and its hash must match).
    pub fn from_bytes(level: MlKemLevel, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != SEED_LEN && bytes.len() != level.expanded_len() {
            return Err(wrong_len(
                "private key",
                level,
                bytes.len(),
                &[SEED_LEN, level.expanded_len()],
            ));
        }
        let encoded = with_level!(level, m => m::DecapsulationKey::from_material(bytes)?
            .encapsulation_key()
            .to_bytes()
            .to_vec());
        Ok(Self {
            level,
            material: Zeroizing::new(bytes.to_vec()),
            public: MlKemPublicKey { level, encoded },
        })
    }

    pub fn level(&self) -> MlKemLevel {
        self.level
    }

    /// Whether the key is held in seed form.
    pub fn is_seed(&self) -> bool {
        self.material.len() == SEED_LEN
    }

    /// The stored form: the seed, or the expanded key for keys registered only in that form.
    pub fn stored_bytes(&self) -> &[u8] {
        &self.material
    }

    /// The seed, if the key has one.
    pub fn seed(&self) -> Option<&[u8]> {
        self.is_seed().then_some(&self.material[..])
    }

    /// The FIPS 203 expanded decapsulation key.
    pub fn expanded(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        with_level!(self.level, m => {
            let key = self.decapsulation_key_of::<m::DecapsulationKey>()?;
            Ok(Zeroizing::new(key.to_expanded_bytes().to_vec()))
        })
    }

    /// The matching encapsulation key.
    pub fn public_key(&self) -> MlKemPublicKey {
        self.public.clone()
    }

    /// Decapsulates `ciphertext` (which must have the parameter set's length) to the shared secret.
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if ciphertext.len() != self.level.ciphertext_len() {
            return Err(CryptoError::InvalidInput(format!(
                "an {} ciphertext is {} bytes, not {}",
                self.level.name(),
                self.level.ciphertext_len(),
                ciphertext.len()
            )));
        }
        with_level!(self.level, m => {
            let key = self.decapsulation_key_of::<m::DecapsulationKey>()?;
            let ct = m::Ciphertext::try_from(ciphertext)
                .map_err(|_| CryptoError::InvalidInput("ciphertext length".into()))?;
            let shared = key.decapsulate(&ct);
            Ok(Zeroizing::new(shared.to_vec()))
        })
    }

    /// PKCS#8 (RFC 9935) in the seed form; a key held only in expanded form has no seed to give.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if !self.is_seed() {
            return Err(CryptoError::Unsupported(
                "PKCS#8 of an ML-KEM key registered without its seed (the seed form is the one qkms writes)"
                    .into(),
            ));
        }
        with_level!(self.level, m => {
            let key = self.decapsulation_key_of::<m::DecapsulationKey>()?;
            let doc = key
                .to_pkcs8_der()
                .map_err(|e| CryptoError::malformed("ML-KEM PKCS#8", e))?;
            Ok(Zeroizing::new(doc.as_bytes().to_vec()))
        })
    }

    /// A key from PKCS#8 (RFC 9935 seed form), with its parameter set from the algorithm identifier.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        for level in MlKemLevel::ALL {
            let seed = with_level!(level, m => m::DecapsulationKey::from_pkcs8_der(der)
                .ok()
                .and_then(|k| k.to_seed()));
            if let Some(seed) = seed {
                return Self::from_bytes(level, &Zeroizing::new(seed.to_vec()));
            }
        }
        Err(CryptoError::malformed(
            "ML-KEM PKCS#8",
            "not an RFC 9935 ML-KEM private key in seed form",
        ))
    }

    fn decapsulation_key_of<K: KemKey>(&self) -> Result<K, CryptoError> {
        K::from_material(&self.material)
    }
}

/// Building a decapsulation key of one parameter set from the stored form.
trait KemKey: Sized {
    fn from_material(material: &[u8]) -> Result<Self, CryptoError>;
}

macro_rules! kem_key {
    ($m:ident) => {
        impl KemKey for ml_kem::$m::DecapsulationKey {
            fn from_material(material: &[u8]) -> Result<Self, CryptoError> {
                if let Ok(seed) = ml_kem::Seed::try_from(material) {
                    return Ok(Self::from_seed(seed));
                }
                let expanded = ml_kem::$m::ExpandedDecapsulationKey::try_from(material).map_err(|_| {
                    CryptoError::InvalidKey("ML-KEM private key of the wrong length".into())
                })?;
                Self::from_expanded_bytes(&expanded).map_err(|_| {
                    CryptoError::InvalidKey(
                        "the expanded ML-KEM private key does not validate (its encapsulation key or hash is wrong)"
                            .into(),
                    )
                })
            }
        }
    };
}
kem_key!(ml_kem_512);
kem_key!(ml_kem_768);
kem_key!(ml_kem_1024);

impl MlKemPublicKey {
    /// An encapsulation key from its FIPS 203 encoding, with the modulus check FIPS 203 requires.
    pub fn from_bytes(level: MlKemLevel, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != level.public_key_len() {
            return Err(wrong_len(
                "public key",
                level,
                bytes.len(),
                &[level.public_key_len()],
            ));
        }
        with_level!(level, m => {
            let key = ml_kem::Key::<m::EncapsulationKey>::try_from(bytes)
                .map_err(|_| CryptoError::InvalidKey("ML-KEM public key length".into()))?;
            m::EncapsulationKey::new(&key).map_err(|_| {
                CryptoError::InvalidKey(format!(
                    "not a valid {} public key (a coefficient is not reduced modulo q)",
                    level.name()
                ))
            })?;
        });
        Ok(Self {
            level,
            encoded: bytes.to_vec(),
        })
    }

    pub fn level(&self) -> MlKemLevel {
        self.level
    }

    /// The FIPS 203 encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.encoded
    }

    /// Encapsulates to this key with a 32-byte message drawn from the pool: (ciphertext, shared secret).
    pub fn encapsulate(
        &self,
        pool: &EntropyPool,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), CryptoError> {
        let mut message = Zeroizing::new([0u8; 32]);
        pool.try_fill(&mut message[..])?;
        self.encapsulate_with(&message)
    }

    /// Encapsulation with the caller's 32-byte message (FIPS 203 ML-KEM.Encaps_internal): for known-answer tests.
    pub fn encapsulate_with(
        &self,
        message: &[u8; 32],
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), CryptoError> {
        with_level!(self.level, m => {
            let key = ml_kem::Key::<m::EncapsulationKey>::try_from(&self.encoded[..])
                .map_err(|_| CryptoError::InvalidKey("ML-KEM public key length".into()))?;
            let key = m::EncapsulationKey::new(&key)
                .map_err(|_| CryptoError::InvalidKey("invalid ML-KEM public key".into()))?;
            let (ct, shared) = key.encapsulate_deterministic(&ml_kem::B32::from(*message));
            Ok((ct.to_vec(), Zeroizing::new(shared.to_vec())))
        })
    }

    /// SubjectPublicKeyInfo (RFC 9935).
    pub fn to_spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        with_level!(self.level, m => {
            let key = ml_kem::Key::<m::EncapsulationKey>::try_from(&self.encoded[..])
                .map_err(|_| CryptoError::InvalidKey("ML-KEM public key length".into()))?;
            let key = m::EncapsulationKey::new(&key)
                .map_err(|_| CryptoError::InvalidKey("invalid ML-KEM public key".into()))?;
            let doc = key
                .to_public_key_der()
                .map_err(|e| CryptoError::malformed("ML-KEM SubjectPublicKeyInfo", e))?;
            Ok(doc.as_bytes().to_vec())
        })
    }

    /// A key from SubjectPublicKeyInfo (RFC 9935), with its parameter set from the algorithm identifier.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        for level in MlKemLevel::ALL {
            let encoded = with_level!(level, m => m::EncapsulationKey::from_public_key_der(der)
                .ok()
                .map(|k| k.to_bytes().to_vec()));
            if let Some(encoded) = encoded {
                return Ok(Self { level, encoded });
            }
        }
        Err(CryptoError::malformed(
            "ML-KEM SubjectPublicKeyInfo",
            "not an RFC 9935 ML-KEM public key",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> EntropyPool {
        EntropyPool::new(entropy::EntropyConfig::default()).unwrap()
    }

    #[test]
    fn every_level_round_trips_an_encapsulation_and_its_encodings() {
        let pool = pool();
        for level in MlKemLevel::ALL {
            let private = MlKemPrivateKey::generate(&pool, level).unwrap();
            let public = private.public_key();
            assert_eq!(public.as_bytes().len(), level.public_key_len());
            let (ct, shared) = public.encapsulate(&pool).unwrap();
            assert_eq!(ct.len(), level.ciphertext_len());
            assert_eq!(*private.decapsulate(&ct).unwrap(), *shared);
            let expanded = private.expanded().unwrap();
            assert_eq!(expanded.len(), level.expanded_len());
            let from_expanded = MlKemPrivateKey::from_bytes(level, &expanded).unwrap();
            assert_eq!(*from_expanded.decapsulate(&ct).unwrap(), *shared);
            let pkcs8 = private.to_pkcs8_der().unwrap();
            let back = MlKemPrivateKey::from_pkcs8_der(&pkcs8).unwrap();
            assert_eq!((back.level(), back.seed()), (level, private.seed()));
            let spki = public.to_spki_der().unwrap();
            assert_eq!(MlKemPublicKey::from_spki_der(&spki).unwrap(), public);
        }
    }

    #[test]
    fn wrong_lengths_and_tampered_keys_are_refused() {
        let level = MlKemLevel::MlKem768;
        assert!(matches!(
            MlKemPrivateKey::from_bytes(level, &[0u8; 63]),
            Err(CryptoError::InvalidKey(_))
        ));
        assert!(matches!(
            MlKemPublicKey::from_bytes(level, &[0u8; 800]),
            Err(CryptoError::InvalidKey(_))
        ));
        // 0xFF.. encodes coefficients of 4095, above q = 3329: the modulus check refuses it.
        assert!(matches!(
            MlKemPublicKey::from_bytes(level, &[0xFF; 1184]),
            Err(CryptoError::InvalidKey(_))
        ));
        let private = MlKemPrivateKey::generate(&pool(), level).unwrap();
        let mut expanded = private.expanded().unwrap();
        let h_at = expanded.len() - 64;
        expanded[h_at] ^= 1;
        assert!(matches!(
            MlKemPrivateKey::from_bytes(level, &expanded),
            Err(CryptoError::InvalidKey(_))
        ));
        assert!(matches!(
            private.decapsulate(&[0u8; 1087]),
            Err(CryptoError::InvalidInput(_))
        ));
    }

    #[test]
    fn a_tampered_ciphertext_decapsulates_to_another_secret_not_an_error() {
        let pool = pool();
        let private = MlKemPrivateKey::generate(&pool, MlKemLevel::MlKem512).unwrap();
        let (mut ct, shared) = private.public_key().encapsulate(&pool).unwrap();
        ct[0] ^= 1;
        let other = private.decapsulate(&ct).unwrap();
        assert_ne!(*other, *shared);
        assert_eq!(*private.decapsulate(&ct).unwrap(), *other);
    }

    #[test]
    fn debug_shows_no_key_material() {
        let private = MlKemPrivateKey::generate(&pool(), MlKemLevel::MlKem1024).unwrap();
        let shown = format!("{private:?}");
        assert!(shown.contains("MlKem1024"), "{shown}");
        assert!(!shown.contains(&hex::encode(private.stored_bytes())));
    }
}
