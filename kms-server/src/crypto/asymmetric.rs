//! RSA encryption and decryption: OAEP (any SHA hash, MGF1 with its own hash) and PKCS#1 v1.5.
//!
//! Encryption draws its padding randomness from the pool; decryption is blinded with pool randomness. Every
//! decryption failure is the same [`CryptoError::DecryptionFailed`], so callers cannot become a padding oracle
//! through error messages.
//!
//! The private-key operation is constant time (`rsa` 0.10 on `crypto-bigint`'s constant-time Montgomery
//! arithmetic; RUSTSEC-2023-0071, the Marvin attack on 0.9, is about that operation's timing). PKCS#1 v1.5
//! decryption uses *implicit rejection* (draft-irtf-cfrg-rsa-guidance §7.2, the construction OpenSSL 3.2 ships):
//! a ciphertext whose padding is wrong decrypts to a pseudo-random message derived from the private exponent
//! and the ciphertext (HMAC-SHA-256 keyed with SHA-256(d), then an HMAC-based PRF for a length and the bytes),
//! selected in constant time, so a bad padding is neither an error nor a different timing. The same bad
//! ciphertext always gives the same message; only a ciphertext of the wrong length (public) is refused.

use entropy::EntropyPool;
use rsa::Pkcs1v15Encrypt;
use zeroize::Zeroizing;

use super::hash::HashAlgorithm;
use super::keygen::{PrivateKey, PublicKey};
use super::CryptoError;

/// RSA encryption padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaEncryptionPadding {
    /// RSAES-OAEP with `hash` for the label and MGF1 over `mgf1_hash` (OpenSSL uses the same hash for both unless
    /// told otherwise; KMIP 2.1's Mask Generator Hashing Algorithm defaults to SHA-1).
    Oaep {
        hash: HashAlgorithm,
        mgf1_hash: HashAlgorithm,
    },
    /// RSAES-PKCS1-v1_5.
    Pkcs1v15,
}

impl RsaEncryptionPadding {
    /// OAEP with the same hash for the label and MGF1.
    pub fn oaep(hash: HashAlgorithm) -> Self {
        Self::Oaep {
            hash,
            mgf1_hash: hash,
        }
    }
}

/// Runs `$body` with `$scheme` bound to an `rsa::Oaep` over `$hash` (label) and `$mgf1` (MGF1) with `$label`
/// (an `Option<Box<[u8]>>`).
macro_rules! with_oaep {
    ($hash:expr, $mgf1:expr, $label:expr, $scheme:ident => $body:expr) => {
        $crate::crypto::hash::with_digest!($hash, LabelHash => {
            $crate::crypto::hash::with_digest!($mgf1, MaskHash => {
                let $scheme = ::rsa::Oaep::<LabelHash, MaskHash> {
                    digest: <LabelHash as ::sha2::Digest>::new(),
                    mgf_digest: <MaskHash as ::sha2::Digest>::new(),
                    label: $label,
                };
                $body
            })
        })
    };
}
pub(crate) use with_oaep;

/// The largest plaintext `key` can encrypt under `padding` (bytes).
pub fn max_plaintext_len(
    key: &PublicKey,
    padding: RsaEncryptionPadding,
) -> Result<usize, CryptoError> {
    use rsa::traits::PublicKeyParts;
    let modulus_len = key.as_rsa()?.size();
    let overhead = match padding {
        RsaEncryptionPadding::Oaep { hash, .. } => 2 * hash.output_len() + 2,
        RsaEncryptionPadding::Pkcs1v15 => 11,
    };
    Ok(modulus_len.saturating_sub(overhead))
}

/// Encrypts `plaintext` to an RSA public key.
pub fn rsa_encrypt(
    pool: &EntropyPool,
    key: &PublicKey,
    padding: RsaEncryptionPadding,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let rsa_key = key.as_rsa()?;
    let max = max_plaintext_len(key, padding)?;
    if plaintext.len() > max {
        return Err(CryptoError::InvalidInput(format!(
            "RSA plaintext of {} bytes exceeds {max} bytes for this key and padding",
            plaintext.len()
        )));
    }
    let result = pool.with_rng(|rng| match padding {
        RsaEncryptionPadding::Oaep { hash, mgf1_hash } => {
            with_oaep!(hash, mgf1_hash, None, scheme => rsa_key.encrypt(rng, scheme, plaintext))
        }
        RsaEncryptionPadding::Pkcs1v15 => rsa_key.encrypt(rng, Pkcs1v15Encrypt, plaintext),
    })?;
    result.map_err(|error| CryptoError::InvalidInput(format!("RSA encryption failed: {error}")))
}

/// Decrypts `ciphertext` with an RSA private key (blinded with pool randomness). PKCS#1 v1.5 with a bad padding
/// returns the implicit-rejection message (see the module documentation), not an error.
pub fn rsa_decrypt(
    pool: &EntropyPool,
    key: &PrivateKey,
    padding: RsaEncryptionPadding,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let rsa_key = key.as_rsa()?;
    let result = pool.with_rng(|rng| match padding {
        RsaEncryptionPadding::Oaep { hash, mgf1_hash } => {
            with_oaep!(hash, mgf1_hash, None, scheme => rsa_key.decrypt_blinded(rng, scheme, ciphertext))
        }
        RsaEncryptionPadding::Pkcs1v15 => rsa_key.decrypt_blinded(rng, Pkcs1v15Encrypt, ciphertext),
    })?;
    result
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::DecryptionFailed)
}
