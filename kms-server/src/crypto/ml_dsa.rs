//! ML-DSA (FIPS 204) over the RustCrypto `ml-dsa` crate: key generation from a 32-byte seed `xi` drawn from the
//! pool, hedged signing (the 32-byte `rnd` of ML-DSA.Sign drawn from the pool for every signature), verification,
//! and both interfaces FIPS 204 defines: pure ML-DSA (domain byte 0) and HashML-DSA (domain byte 1, the hash's
//! OID and the digest; the digest may be computed by the client), each with an optional context string of at
//! most 255 bytes.
//!
//! The message representative `mu = SHAKE256(tr || M', 64)` (`tr = SHAKE256(pk, 64)`, `M'` the domain byte,
//! context length, context and message or OID || digest) is computed here for both interfaces and signed with
//! the crate's `sign_mu_randomized`, so one code path serves both.
//!
//! Key encodings: the seed (what qkms generates and stores), the FIPS 204 expanded private key (2560 / 4032 /
//! 4896 bytes, produced on request and accepted from clients that only have it, after a check: the crate does
//! not validate that form), the FIPS 204 public key, PKCS#8 (RFC 9881, seed form) and SubjectPublicKeyInfo.

#![allow(deprecated)] // the expanded private-key form is deprecated by the crate, still defined by FIPS 204

use entropy::EntropyPool;
use ml_dsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ml_dsa::signature::Keypair;
use ml_dsa::{
    ExpandedSigningKey, MlDsa44, MlDsa65, MlDsa87, MlDsaParams, Signature, SigningKey, VerifyingKey,
};
use zeroize::Zeroizing;

pub use super::ml_dsa_message::MlDsaInput;
use super::ml_dsa_message::{message_representative, public_key_hash};
use super::CryptoError;

/// The 64-byte message representative as the crate takes it.
type Mu = hybrid_array::Array<u8, hybrid_array::sizes::U64>;

/// The ML-DSA parameter sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MlDsaLevel {
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

/// Length of the seed `xi`.
pub const SEED_LEN: usize = 32;
/// Longest context string FIPS 204 allows.
pub const MAX_CONTEXT_LEN: usize = 255;

impl MlDsaLevel {
    pub const ALL: [Self; 3] = [Self::MlDsa44, Self::MlDsa65, Self::MlDsa87];

    /// The parameter set's number (44, 65, 87): what qkms stores as Cryptographic Length.
    pub fn number(self) -> usize {
        match self {
            Self::MlDsa44 => 44,
            Self::MlDsa65 => 65,
            Self::MlDsa87 => 87,
        }
    }

    pub fn from_number(number: usize) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.number() == number)
    }

    pub fn public_key_len(self) -> usize {
        match self {
            Self::MlDsa44 => 1312,
            Self::MlDsa65 => 1952,
            Self::MlDsa87 => 2592,
        }
    }

    pub fn expanded_len(self) -> usize {
        match self {
            Self::MlDsa44 => 2560,
            Self::MlDsa65 => 4032,
            Self::MlDsa87 => 4896,
        }
    }

    pub fn signature_len(self) -> usize {
        match self {
            Self::MlDsa44 => 2420,
            Self::MlDsa65 => 3309,
            Self::MlDsa87 => 4627,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::MlDsa44 => "ML-DSA-44",
            Self::MlDsa65 => "ML-DSA-65",
            Self::MlDsa87 => "ML-DSA-87",
        }
    }
}

/// Runs `$body` with `$p` bound to the parameter-set type of `$level`.
macro_rules! with_level {
    ($level:expr, $p:ident => $body:expr) => {
        match $level {
            MlDsaLevel::MlDsa44 => {
                type $p = MlDsa44;
                $body
            }
            MlDsaLevel::MlDsa65 => {
                type $p = MlDsa65;
                $body
            }
            MlDsaLevel::MlDsa87 => {
                type $p = MlDsa87;
                $body
            }
        }
    };
}

/// An ML-DSA private key, held as its 32-byte seed (or, registered so, its expanded form). Zeroized on drop;
/// `Debug` shows only the parameter set.
#[derive(Clone)]
pub struct MlDsaPrivateKey {
    level: MlDsaLevel,
    /// The 32-byte seed, or the expanded key for keys registered only in that form.
    material: Zeroizing<Vec<u8>>,
}

/// Where `tr` sits in an expanded private key (after `rho` and `K`, 32 bytes each).
const TR_RANGE: std::ops::Range<usize> = 64..128;

/// Checks a client's expanded key (see [`MlDsaPrivateKey::from_bytes`]). The crate's decoder does not validate
/// and may panic on a malformed encoding: that panic is caught here and refused like any other bad key.
fn check_expanded<P: MlDsaParams>(level: MlDsaLevel, bytes: &[u8]) -> Result<(), CryptoError> {
    let invalid = || {
        CryptoError::InvalidKey(format!(
            "not a valid {} expanded private key (it does not re-encode to itself, or its tr is not the hash of \
             its public key)",
            level.name()
        ))
    };
    let mut encoded = ml_dsa::ExpandedSigningKeyBytes::<P>::default();
    encoded.copy_from_slice(bytes);
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let key = ExpandedSigningKey::<P>::from_expanded(&encoded);
        let public = Keypair::verifying_key(&key).encode();
        key.to_expanded().as_slice() == bytes && public_key_hash(&public)[..] == bytes[TR_RANGE]
    }));
    match checked {
        Ok(true) => Ok(()),
        _ => Err(invalid()),
    }
}

impl std::fmt::Debug for MlDsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlDsaPrivateKey")
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

/// An ML-DSA public key (its FIPS 204 encoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlDsaPublicKey {
    level: MlDsaLevel,
    encoded: Vec<u8>,
}

/// The verifying key key generation computed with the signing key (`Keypair::verifying_key` would compute it
/// again from the expanded key: a matrix-vector product per call).
fn verifying_key_of<P: MlDsaParams>(key: &SigningKey<P>) -> &VerifyingKey<P> {
    key.as_ref()
}

impl MlDsaPrivateKey {
    /// A new key from a seed drawn from the pool.
    pub fn generate(pool: &EntropyPool, level: MlDsaLevel) -> Result<Self, CryptoError> {
        let mut seed = Zeroizing::new(vec![0u8; SEED_LEN]);
        pool.try_fill(&mut seed)?;
        Ok(Self {
            level,
            material: seed,
        })
    }

    /// A key from its 32-byte seed or its FIPS 204 expanded encoding. An expanded key is checked: it must decode
    /// and re-encode to the same bytes (every coefficient in range) and its `tr` must be the hash of the public
    /// key its own secrets give.
    pub fn from_bytes(level: MlDsaLevel, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != SEED_LEN && bytes.len() != level.expanded_len() {
            return Err(CryptoError::InvalidKey(format!(
                "an {} private key is its {SEED_LEN}-byte seed or its {}-byte expanded form, not {} bytes",
                level.name(),
                level.expanded_len(),
                bytes.len()
            )));
        }
        if bytes.len() == level.expanded_len() {
            with_level!(level, P => check_expanded::<P>(level, bytes)?);
        }
        Ok(Self {
            level,
            material: Zeroizing::new(bytes.to_vec()),
        })
    }

    pub fn level(&self) -> MlDsaLevel {
        self.level
    }

    /// The seed, if the key has one (keys registered only in expanded form have none).
    pub fn seed(&self) -> Option<&[u8]> {
        (self.material.len() == SEED_LEN).then_some(&self.material[..])
    }

    /// The stored form: the seed, or the expanded key for keys registered only in that form.
    pub fn stored_bytes(&self) -> &[u8] {
        &self.material
    }

    /// The expanded key and the public key's hash `tr`.
    fn expanded_key<P: MlDsaParams>(&self) -> (ExpandedSigningKey<P>, [u8; 64]) {
        match self.seed() {
            Some(seed) => {
                let mut xi = ml_dsa::Seed::default();
                xi.copy_from_slice(seed);
                let key = SigningKey::<P>::from_seed(&xi);
                let tr = public_key_hash(&verifying_key_of(&key).encode());
                (key.expanded_key().clone(), tr)
            }
            // Checked by `from_bytes` when it came in (and authenticated by the store since).
            None => {
                let mut tr = [0u8; 64];
                tr.copy_from_slice(&self.material[TR_RANGE]);
                let mut encoded = ml_dsa::ExpandedSigningKeyBytes::<P>::default();
                encoded.copy_from_slice(&self.material);
                (ExpandedSigningKey::<P>::from_expanded(&encoded), tr)
            }
        }
    }

    /// The FIPS 204 expanded private key.
    pub fn expanded(&self) -> Zeroizing<Vec<u8>> {
        with_level!(self.level, P => Zeroizing::new(
            self.expanded_key::<P>().0.to_expanded().to_vec()
        ))
    }

    pub fn public_key(&self) -> MlDsaPublicKey {
        let encoded = with_level!(self.level, P => match self.seed() {
            Some(_) => {
                let mut xi = ml_dsa::Seed::default();
                xi.copy_from_slice(&self.material);
                verifying_key_of(&SigningKey::<P>::from_seed(&xi)).encode().to_vec()
            }
            None => Keypair::verifying_key(&self.expanded_key::<P>().0).encode().to_vec(),
        });
        MlDsaPublicKey {
            level: self.level,
            encoded,
        }
    }

    /// A hedged signature over `input` with context `context` (`rnd` drawn from the pool).
    pub fn sign(
        &self,
        pool: &EntropyPool,
        context: &[u8],
        input: MlDsaInput<'_>,
    ) -> Result<Vec<u8>, CryptoError> {
        with_level!(self.level, P => {
            let (key, tr) = self.expanded_key::<P>();
            let mu = Mu::from(message_representative(&tr, context, input)?);
            let signature = pool
                .with_rng(|rng| key.sign_mu_randomized(&mu, rng))?
                .map_err(|_| CryptoError::InvalidInput("ML-DSA signing found no signature".into()))?;
            Ok(signature.encode().to_vec())
        })
    }

    /// PKCS#8 (RFC 9881, seed form); a key held only in expanded form has no seed to give.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let Some(seed) = self.seed() else {
            return Err(CryptoError::Unsupported(
                "PKCS#8 of an ML-DSA key registered without its seed (the seed form is the one qkms writes)"
                    .into(),
            ));
        };
        let mut xi = ml_dsa::Seed::default();
        xi.copy_from_slice(seed);
        with_level!(self.level, P => {
            let doc = SigningKey::<P>::from_seed(&xi)
                .to_pkcs8_der()
                .map_err(|e| CryptoError::malformed("ML-DSA PKCS#8", e))?;
            Ok(Zeroizing::new(doc.as_bytes().to_vec()))
        })
    }

    /// A key from PKCS#8 (RFC 9881 seed form), with its parameter set from the algorithm identifier.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        for level in MlDsaLevel::ALL {
            let seed = with_level!(level, P => SigningKey::<P>::from_pkcs8_der(der)
                .ok()
                .map(|k| Zeroizing::new(k.to_seed().to_vec())));
            if let Some(material) = seed {
                return Ok(Self { level, material });
            }
        }
        Err(CryptoError::malformed(
            "ML-DSA PKCS#8",
            "not an RFC 9881 ML-DSA private key in seed form",
        ))
    }
}

impl MlDsaPublicKey {
    /// A public key from its FIPS 204 encoding (every string of the right length is one).
    pub fn from_bytes(level: MlDsaLevel, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != level.public_key_len() {
            return Err(CryptoError::InvalidKey(format!(
                "an {} public key is {} bytes, not {}",
                level.name(),
                level.public_key_len(),
                bytes.len()
            )));
        }
        Ok(Self {
            level,
            encoded: bytes.to_vec(),
        })
    }

    pub fn level(&self) -> MlDsaLevel {
        self.level
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.encoded
    }

    fn verifying_key<P: MlDsaParams>(&self) -> Result<VerifyingKey<P>, CryptoError> {
        let encoded = ml_dsa::EncodedVerifyingKey::<P>::try_from(&self.encoded[..])
            .map_err(|_| CryptoError::InvalidKey("ML-DSA public key length".into()))?;
        Ok(VerifyingKey::<P>::decode(&encoded))
    }

    /// Whether `signature` is valid for `input` under context `context`. A signature of the wrong length is
    /// simply invalid.
    pub fn verify(
        &self,
        context: &[u8],
        input: MlDsaInput<'_>,
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        let tr = public_key_hash(&self.encoded);
        let mu = message_representative(&tr, context, input)?;
        with_level!(self.level, P => {
            let key = self.verifying_key::<P>()?;
            let Ok(signature) = Signature::<P>::try_from(signature) else {
                return Ok(false);
            };
            Ok(key.verify_mu(&Mu::from(mu), &signature))
        })
    }

    pub fn to_spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        with_level!(self.level, P => {
            let doc = self
                .verifying_key::<P>()?
                .to_public_key_der()
                .map_err(|e| CryptoError::malformed("ML-DSA SubjectPublicKeyInfo", e))?;
            Ok(doc.as_bytes().to_vec())
        })
    }

    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        for level in MlDsaLevel::ALL {
            let encoded = with_level!(level, P => VerifyingKey::<P>::from_public_key_der(der)
                .ok()
                .map(|k| k.encode().to_vec()));
            if let Some(encoded) = encoded {
                return Ok(Self { level, encoded });
            }
        }
        Err(CryptoError::malformed(
            "ML-DSA SubjectPublicKeyInfo",
            "not an RFC 9881 ML-DSA public key",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::HashAlgorithm;

    fn pool() -> EntropyPool {
        EntropyPool::new(entropy::EntropyConfig::default()).unwrap()
    }

    #[test]
    fn every_level_signs_and_verifies_pure_and_pre_hashed() {
        let pool = pool();
        for level in MlDsaLevel::ALL {
            let private = MlDsaPrivateKey::generate(&pool, level).unwrap();
            let public = private.public_key();
            assert_eq!(public.as_bytes().len(), level.public_key_len());
            assert_eq!(private.expanded().len(), level.expanded_len());
            let pure = MlDsaInput::Pure(b"message");
            let sig = private.sign(&pool, b"ctx", pure).unwrap();
            assert_eq!(sig.len(), level.signature_len());
            assert!(public.verify(b"ctx", pure, &sig).unwrap());
            assert!(!public.verify(b"other", pure, &sig).unwrap());
            assert!(!public
                .verify(b"ctx", MlDsaInput::Pure(b"messagE"), &sig)
                .unwrap());
            let digest = super::super::hash::digest(HashAlgorithm::Sha256, b"message");
            let sig = private
                .sign(
                    &pool,
                    b"",
                    MlDsaInput::PreHashData(HashAlgorithm::Sha256, b"message"),
                )
                .unwrap();
            let by_digest = MlDsaInput::PreHashDigest(HashAlgorithm::Sha256, &digest);
            assert!(public.verify(b"", by_digest, &sig).unwrap());
            assert!(!public
                .verify(b"", MlDsaInput::Pure(b"message"), &sig)
                .unwrap());
            let pkcs8 = private.to_pkcs8_der().unwrap();
            let back = MlDsaPrivateKey::from_pkcs8_der(&pkcs8).unwrap();
            assert_eq!((back.level(), back.seed()), (level, private.seed()));
            let spki = public.to_spki_der().unwrap();
            assert_eq!(MlDsaPublicKey::from_spki_der(&spki).unwrap(), public);
            // The expanded form, registered as such, signs for the same public key.
            let expanded = MlDsaPrivateKey::from_bytes(level, &private.expanded()).unwrap();
            assert_eq!(expanded.public_key(), public);
            let sig = expanded.sign(&pool, b"", pure).unwrap();
            assert!(public.verify(b"", pure, &sig).unwrap());
            assert!(expanded.to_pkcs8_der().is_err());
        }
    }

    #[test]
    fn signing_is_hedged_two_signatures_differ() {
        let pool = pool();
        let private = MlDsaPrivateKey::generate(&pool, MlDsaLevel::MlDsa65).unwrap();
        let a = private.sign(&pool, b"", MlDsaInput::Pure(b"m")).unwrap();
        let b = private.sign(&pool, b"", MlDsaInput::Pure(b"m")).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let pool = pool();
        let private = MlDsaPrivateKey::generate(&pool, MlDsaLevel::MlDsa44).unwrap();
        assert!(matches!(
            private.sign(&pool, &[0u8; 256], MlDsaInput::Pure(b"m")),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(matches!(
            private.sign(
                &pool,
                b"",
                MlDsaInput::PreHashDigest(HashAlgorithm::Sha256, &[0; 31])
            ),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(matches!(
            MlDsaPrivateKey::from_bytes(MlDsaLevel::MlDsa44, &[0; 33]),
            Err(CryptoError::InvalidKey(_))
        ));
        // Expanded keys that are not well formed: garbage, and a real one with its tr changed.
        assert!(matches!(
            MlDsaPrivateKey::from_bytes(MlDsaLevel::MlDsa44, &[0xFF; 2560]),
            Err(CryptoError::InvalidKey(_))
        ));
        let mut expanded = private.expanded();
        expanded[70] ^= 1;
        assert!(matches!(
            MlDsaPrivateKey::from_bytes(MlDsaLevel::MlDsa44, &expanded),
            Err(CryptoError::InvalidKey(_))
        ));
        let public = private.public_key();
        assert!(!public
            .verify(b"", MlDsaInput::Pure(b"m"), &[0u8; 10])
            .unwrap());
    }
}
