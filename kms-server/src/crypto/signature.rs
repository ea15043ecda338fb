//! Signatures: RSA PKCS#1 v1.5 and PSS, ECDSA on P-256/P-384, Ed25519, ML-DSA (pure and HashML-DSA); over data or over a digest the caller
//! computed. ECDSA signatures are DER (`Ecdsa-Sig-Value`, what OpenSSL and KMIP clients exchange); the fixed
//! r ‖ s form (PKCS#11) converts with [`ecdsa_der_to_fixed`] / [`ecdsa_fixed_to_der`].
//!
//! Randomness: RSA signing is blinded with pool bytes, PSS salts come from the pool, and ECDSA nonces are
//! RFC 6979 hedged with pool bytes (deterministic derivation plus fresh entropy, so neither a weak pool nor a
//! fault in the derivation alone can leak the key); ECDSA signing itself is in [`super::ecdsa_hedged`].

use entropy::EntropyPool;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::{Pkcs1v15Sign, Pss};
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};

use super::ecdsa_hedged;
use super::hash::{self, with_digest, HashAlgorithm};
use super::keygen::{rsa_bits, EcCurve, PrivateKey, PublicKey};
use super::ml_dsa::MlDsaInput;
use super::CryptoError;

/// A signature scheme with its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1v15(HashAlgorithm),
    /// RSASSA-PKCS1-v1_5 over an encoded value the caller made (a DigestInfo, or any T of at most k - 11
    /// bytes) with no DigestInfo added: what PKCS#11 CKM_RSA_PKCS signs. Digest input only.
    RsaPkcs1v15Unprefixed,
    /// RSASSA-PSS, MGF1 with the same hash. Signing uses a salt as long as the hash; verification accepts that
    /// salt length and the maximum one (what `cryptography`'s `PSS.MAX_LENGTH` produces).
    RsaPss(HashAlgorithm),
    /// ECDSA on the key's curve.
    Ecdsa(HashAlgorithm),
    /// Pure Ed25519 (data only; no pre-hashed variant).
    Ed25519,
    /// ML-DSA (FIPS 204), hedged: pure ML-DSA over the data when no hash is named, HashML-DSA with the named
    /// hash (over data, or over a digest the caller computed); empty context (see [`super::ml_dsa`]).
    MlDsa(Option<HashAlgorithm>),
}

impl SignatureAlgorithm {
    /// The ML-DSA input for this request.
    fn ml_dsa_input<'a>(
        pre_hash: Option<HashAlgorithm>,
        input: SignInput<'a>,
    ) -> Result<MlDsaInput<'a>, CryptoError> {
        match (pre_hash, input) {
            (None, SignInput::Data(data)) => Ok(MlDsaInput::Pure(data)),
            (Some(hash), SignInput::Data(data)) => Ok(MlDsaInput::PreHashData(hash, data)),
            (Some(hash), SignInput::Digest(digest)) => Ok(MlDsaInput::PreHashDigest(hash, digest)),
            (None, SignInput::Digest(_)) => Err(CryptoError::InvalidInput(
                "pure ML-DSA signs the message itself; name a Hashing Algorithm for HashML-DSA over a digest"
                    .into(),
            )),
        }
    }
}

/// What is signed: the message itself, or its digest under the algorithm's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInput<'a> {
    Data(&'a [u8]),
    Digest(&'a [u8]),
}

impl SignInput<'_> {
    /// The digest to sign, checking a given digest's length against the hash.
    fn digest(&self, algorithm: HashAlgorithm) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::Data(data) => Ok(hash::digest(algorithm, data)),
            Self::Digest(digest) if digest.len() == algorithm.output_len() => Ok(digest.to_vec()),
            Self::Digest(digest) => Err(CryptoError::InvalidInput(format!(
                "a {algorithm:?} digest is {} bytes, got {}",
                algorithm.output_len(),
                digest.len()
            ))),
        }
    }
}

/// The caller's encoded value for [`SignatureAlgorithm::RsaPkcs1v15Unprefixed`]: only a digest input has one
/// (over data there is no hash to encode); the key size bounds it (the `rsa` crate checks k - 11).
fn unprefixed_input(input: SignInput<'_>) -> Result<&[u8], CryptoError> {
    match input {
        SignInput::Digest(encoded) if !encoded.is_empty() => Ok(encoded),
        SignInput::Digest(_) => Err(CryptoError::InvalidInput(
            "PKCS#1 v1.5 without a hash signs a non-empty Digested Data".into(),
        )),
        SignInput::Data(_) => Err(CryptoError::InvalidInput(
            "PKCS#1 v1.5 over Data needs a Hashing Algorithm".into(),
        )),
    }
}

fn pkcs1v15_scheme(algorithm: HashAlgorithm) -> Pkcs1v15Sign {
    match algorithm {
        HashAlgorithm::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
        HashAlgorithm::Sha224 => Pkcs1v15Sign::new::<Sha224>(),
        HashAlgorithm::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
        HashAlgorithm::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
        HashAlgorithm::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
    }
}

fn wrong_key(algorithm: SignatureAlgorithm, key: impl std::fmt::Debug) -> CryptoError {
    CryptoError::InvalidKey(format!("{algorithm:?} cannot use a {key:?} key"))
}

/// Signs `input` with `key`.
pub fn sign(
    pool: &EntropyPool,
    key: &PrivateKey,
    algorithm: SignatureAlgorithm,
    input: SignInput<'_>,
) -> Result<Vec<u8>, CryptoError> {
    let failed = |error: &dyn std::fmt::Display| {
        CryptoError::InvalidInput(format!("signing failed: {error}"))
    };
    match (algorithm, key) {
        (SignatureAlgorithm::RsaPkcs1v15(hash), PrivateKey::Rsa(rsa_key)) => {
            let digest = input.digest(hash)?;
            pool.with_rng(|rng| rsa_key.sign_with_rng(rng, pkcs1v15_scheme(hash), &digest))?
                .map_err(|e| failed(&e))
        }
        (SignatureAlgorithm::RsaPkcs1v15Unprefixed, PrivateKey::Rsa(rsa_key)) => {
            let encoded = unprefixed_input(input)?;
            pool.with_rng(|rng| {
                rsa_key.sign_with_rng(rng, Pkcs1v15Sign::new_unprefixed(), encoded)
            })?
            .map_err(|e| failed(&e))
        }
        (SignatureAlgorithm::RsaPss(hash), PrivateKey::Rsa(rsa_key)) => {
            let digest = input.digest(hash)?;
            pool.with_rng(
                |rng| with_digest!(hash, D => rsa_key.sign_with_rng(rng, Pss::<D>::new(), &digest)),
            )?
            .map_err(|e| failed(&e))
        }
        // Hedged RFC 6979 nonce (pool bytes as additional data), k·G from the curve crate.s precomputed table
        // (see `ecdsa_hedged` for why).
        (SignatureAlgorithm::Ecdsa(hash), PrivateKey::EcP256(secret)) => {
            let digest = input.digest(hash)?;
            let signature = ecdsa_hedged::sign_p256(pool, secret, &digest)?;
            Ok(signature.to_der().as_bytes().to_vec())
        }
        (SignatureAlgorithm::Ecdsa(hash), PrivateKey::EcP384(secret)) => {
            let digest = input.digest(hash)?;
            let signature = ecdsa_hedged::sign_p384(pool, secret, &digest)?;
            Ok(signature.to_der().as_bytes().to_vec())
        }
        (SignatureAlgorithm::Ed25519, PrivateKey::Ed25519(signing_key)) => match input {
            SignInput::Data(data) => {
                use ed25519_dalek::Signer;
                Ok(signing_key.sign(data).to_bytes().to_vec())
            }
            SignInput::Digest(_) => Err(CryptoError::Unsupported(
                "Ed25519 over a pre-computed digest".into(),
            )),
        },
        (SignatureAlgorithm::MlDsa(pre_hash), PrivateKey::MlDsa(key)) => key.sign(
            pool,
            &[],
            SignatureAlgorithm::ml_dsa_input(pre_hash, input)?,
        ),
        (algorithm, key) => Err(wrong_key(algorithm, key.spec())),
    }
}

/// Verifies `signature` over `input`. `Ok(false)` means the signature does not verify (including a signature
/// that is not even well-formed); `Err` means the request itself is wrong (key type, digest length, ...).
pub fn verify(
    key: &PublicKey,
    algorithm: SignatureAlgorithm,
    input: SignInput<'_>,
    signature: &[u8],
) -> Result<bool, CryptoError> {
    match (algorithm, key) {
        (SignatureAlgorithm::RsaPkcs1v15(hash), PublicKey::Rsa(rsa_key)) => {
            let digest = input.digest(hash)?;
            Ok(rsa_key
                .verify(pkcs1v15_scheme(hash), &digest, signature)
                .is_ok())
        }
        (SignatureAlgorithm::RsaPkcs1v15Unprefixed, PublicKey::Rsa(rsa_key)) => {
            let encoded = unprefixed_input(input)?;
            Ok(rsa_key
                .verify(Pkcs1v15Sign::new_unprefixed(), encoded, signature)
                .is_ok())
        }
        (SignatureAlgorithm::RsaPss(hash), PublicKey::Rsa(rsa_key)) => {
            let digest = input.digest(hash)?;
            // emLen = ceil((modBits - 1) / 8); the largest salt leaves room for the hash and two bytes.
            let em_len = (rsa_bits(rsa_key) - 1).div_ceil(8);
            let max_salt = em_len.saturating_sub(hash.output_len() + 2);
            Ok([hash.output_len(), max_salt].into_iter().any(|salt_len| {
                with_digest!(hash, D => rsa_key.verify(Pss::<D>::new_with_salt(salt_len), &digest, signature))
                    .is_ok()
            }))
        }
        (SignatureAlgorithm::Ecdsa(hash), PublicKey::EcP256(public)) => {
            let digest = input.digest(hash)?;
            let Some(signature) = parse_ecdsa!(p256::ecdsa::Signature, signature) else {
                return Ok(false);
            };
            Ok(p256::ecdsa::VerifyingKey::from(public)
                .verify_prehash(&digest, &signature)
                .is_ok())
        }
        (SignatureAlgorithm::Ecdsa(hash), PublicKey::EcP384(public)) => {
            let digest = input.digest(hash)?;
            let Some(signature) = parse_ecdsa!(p384::ecdsa::Signature, signature) else {
                return Ok(false);
            };
            Ok(p384::ecdsa::VerifyingKey::from(public)
                .verify_prehash(&digest, &signature)
                .is_ok())
        }
        (SignatureAlgorithm::Ed25519, PublicKey::Ed25519(verifying_key)) => match input {
            SignInput::Data(data) => {
                let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
                    return Ok(false);
                };
                Ok(verifying_key.verify_strict(data, &signature).is_ok())
            }
            SignInput::Digest(_) => Err(CryptoError::Unsupported(
                "Ed25519 over a pre-computed digest".into(),
            )),
        },
        (SignatureAlgorithm::MlDsa(pre_hash), PublicKey::MlDsa(key)) => key.verify(
            &[],
            SignatureAlgorithm::ml_dsa_input(pre_hash, input)?,
            signature,
        ),
        (algorithm, key) => Err(wrong_key(algorithm, key.spec())),
    }
}

/// An ECDSA signature in DER, or failing that in the fixed r ‖ s form (`$signature` names the curve's type).
macro_rules! parse_ecdsa {
    ($signature:ty, $bytes:expr) => {
        <$signature>::from_der($bytes)
            .or_else(|_| <$signature>::from_slice($bytes))
            .ok()
    };
}
use parse_ecdsa;

/// Converts a DER ECDSA signature to the fixed r ‖ s form (each padded to the curve's field length).
pub fn ecdsa_der_to_fixed(curve: EcCurve, der_signature: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let malformed = |e: p256::ecdsa::Error| CryptoError::malformed("DER ECDSA signature", e);
    Ok(match curve {
        EcCurve::P256 => p256::ecdsa::Signature::from_der(der_signature)
            .map_err(malformed)?
            .to_vec(),
        EcCurve::P384 => p384::ecdsa::Signature::from_der(der_signature)
            .map_err(malformed)?
            .to_vec(),
    })
}

/// Converts a fixed r ‖ s ECDSA signature to DER.
pub fn ecdsa_fixed_to_der(curve: EcCurve, fixed_signature: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let malformed = |e: p256::ecdsa::Error| CryptoError::malformed("fixed-size ECDSA signature", e);
    Ok(match curve {
        EcCurve::P256 => p256::ecdsa::Signature::from_slice(fixed_signature)
            .map_err(malformed)?
            .to_der()
            .as_bytes()
            .to_vec(),
        EcCurve::P384 => p384::ecdsa::Signature::from_slice(fixed_signature)
            .map_err(malformed)?
            .to_der()
            .as_bytes()
            .to_vec(),
    })
}
