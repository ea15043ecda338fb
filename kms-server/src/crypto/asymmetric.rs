//! RSA encryption and decryption: OAEP (any SHA hash, MGF1 with its own hash) and PKCS#1 v1.5.
//!
//! Encryption draws its padding randomness from the pool; decryption is blinded with pool randomness. Every
//! decryption failure is the same [`CryptoError::DecryptionFailed`], so callers cannot become a padding oracle
//! through error messages.

use entropy::EntropyPool;
use rsa::{Oaep, Pkcs1v15Encrypt};
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

fn oaep(hash: HashAlgorithm, mgf1_hash: HashAlgorithm) -> Oaep {
    Oaep {
        digest: hash.dyn_digest(),
        mgf_digest: mgf1_hash.dyn_digest(),
        label: None,
    }
}

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
            rsa_key.encrypt(rng, oaep(hash, mgf1_hash), plaintext)
        }
        RsaEncryptionPadding::Pkcs1v15 => rsa_key.encrypt(rng, Pkcs1v15Encrypt, plaintext),
    })?;
    result.map_err(|error| CryptoError::InvalidInput(format!("RSA encryption failed: {error}")))
}

/// Decrypts `ciphertext` with an RSA private key (blinded with pool randomness).
pub fn rsa_decrypt(
    pool: &EntropyPool,
    key: &PrivateKey,
    padding: RsaEncryptionPadding,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let rsa_key = key.as_rsa()?;
    let result = pool.with_rng(|rng| match padding {
        RsaEncryptionPadding::Oaep { hash, mgf1_hash } => {
            rsa_key.decrypt_blinded(rng, oaep(hash, mgf1_hash), ciphertext)
        }
        RsaEncryptionPadding::Pkcs1v15 => rsa_key.decrypt_blinded(rng, Pkcs1v15Encrypt, ciphertext),
    })?;
    result
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::DecryptionFailed)
}
