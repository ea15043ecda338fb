//! RSA operations with parameters KMIP clients set explicitly and the general-purpose modules fix: an OAEP label
//! (KMIP P Source) and a PSS salt length (KMIP Salt Length). Randomness (OAEP seeds, PSS salts, blinding) comes
//! from the pool, as everywhere.

use entropy::EntropyPool;
use rsa::traits::PublicKeyParts;
use rsa::Pss;
use zeroize::Zeroizing;

use super::asymmetric::with_oaep;
use super::hash::{with_digest, HashAlgorithm};
use super::keygen::{rsa_bits, PrivateKey, PublicKey};
use super::signature::SignInput;
use super::CryptoError;

/// RSAES-OAEP parameters: label hash, MGF1 hash and the label (P Source; empty when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaepParams {
    pub hash: HashAlgorithm,
    pub mgf1_hash: HashAlgorithm,
    pub label: Vec<u8>,
}

impl OaepParams {
    /// The label as the `rsa` crate carries it (any bytes since 0.10; absent when empty).
    fn label(&self) -> Option<Box<[u8]>> {
        (!self.label.is_empty()).then(|| self.label.clone().into_boxed_slice())
    }
}

/// RSAES-OAEP encryption with a label.
pub fn oaep_encrypt(
    pool: &EntropyPool,
    key: &PublicKey,
    params: &OaepParams,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let rsa_key = key.as_rsa()?;
    let max = rsa_key
        .size()
        .saturating_sub(2 * params.hash.output_len() + 2);
    if plaintext.len() > max {
        return Err(CryptoError::InvalidInput(format!(
            "RSA-OAEP plaintext of {} bytes exceeds {max} bytes for this key",
            plaintext.len()
        )));
    }
    let (hash, mgf1_hash, label) = (params.hash, params.mgf1_hash, params.label());
    let encrypted = pool.with_rng(
        |rng| with_oaep!(hash, mgf1_hash, label, scheme => rsa_key.encrypt(rng, scheme, plaintext)),
    )?;
    encrypted.map_err(|e| CryptoError::InvalidInput(format!("RSA encryption failed: {e}")))
}

/// RSAES-OAEP decryption with a label; every failure is [`CryptoError::DecryptionFailed`].
pub fn oaep_decrypt(
    pool: &EntropyPool,
    key: &PrivateKey,
    params: &OaepParams,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let rsa_key = key.as_rsa()?;
    let (hash, mgf1_hash, label) = (params.hash, params.mgf1_hash, params.label());
    let decrypted = pool.with_rng(|rng| {
        with_oaep!(hash, mgf1_hash, label, scheme => rsa_key.decrypt_blinded(rng, scheme, ciphertext))
    })?;
    decrypted
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::DecryptionFailed)
}

/// The largest PSS salt a key allows with `hash`: emLen - hLen - 2, emLen = ceil((modBits - 1) / 8).
pub fn pss_max_salt_len(key: &PublicKey, hash: HashAlgorithm) -> Result<usize, CryptoError> {
    let bits = rsa_bits(key.as_rsa()?);
    Ok(bits
        .saturating_sub(1)
        .div_ceil(8)
        .saturating_sub(hash.output_len() + 2))
}

fn digest_of(input: SignInput<'_>, hash: HashAlgorithm) -> Result<Vec<u8>, CryptoError> {
    match input {
        SignInput::Data(data) => Ok(super::hash::digest(hash, data)),
        SignInput::Digest(d) if d.len() == hash.output_len() => Ok(d.to_vec()),
        SignInput::Digest(d) => Err(CryptoError::InvalidInput(format!(
            "a {hash:?} digest is {} bytes, got {}",
            hash.output_len(),
            d.len()
        ))),
    }
}

/// RSASSA-PSS signing (MGF1 with the same hash) with an explicit salt length.
pub fn pss_sign(
    pool: &EntropyPool,
    key: &PrivateKey,
    hash: HashAlgorithm,
    salt_len: usize,
    input: SignInput<'_>,
) -> Result<Vec<u8>, CryptoError> {
    let max = pss_max_salt_len(&key.public_key(), hash)?;
    if salt_len > max {
        return Err(CryptoError::InvalidInput(format!(
            "PSS salt of {salt_len} bytes exceeds {max} for this key and hash"
        )));
    }
    let digest = digest_of(input, hash)?;
    let rsa_key = key.as_rsa()?;
    pool.with_rng(|rng| {
        with_digest!(hash, D => rsa_key.sign_with_rng(rng, Pss::<D>::new_with_salt(salt_len), &digest))
    })?
    .map_err(|e| CryptoError::InvalidInput(format!("signing failed: {e}")))
}

/// RSASSA-PSS verification with an explicit salt length.
pub fn pss_verify(
    key: &PublicKey,
    hash: HashAlgorithm,
    salt_len: usize,
    input: SignInput<'_>,
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let digest = digest_of(input, hash)?;
    let rsa_key = key.as_rsa()?;
    Ok(with_digest!(hash, D => rsa_key.verify(Pss::<D>::new_with_salt(salt_len), &digest, signature)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keygen::{generate_key_pair, KeyPairSpec};

    #[test]
    fn oaep_with_a_label_round_trips_and_a_wrong_label_fails() {
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let key = generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 2048 }).unwrap();
        let params = OaepParams {
            hash: HashAlgorithm::Sha384,
            mgf1_hash: HashAlgorithm::Sha256,
            label: b"Kilroy was here".to_vec(),
        };
        let ct = oaep_encrypt(&pool, &key.public_key(), &params, b"secret").unwrap();
        assert_eq!(
            oaep_decrypt(&pool, &key, &params, &ct).unwrap().as_slice(),
            b"secret"
        );
        let other = OaepParams {
            label: b"other".to_vec(),
            ..params
        };
        assert_eq!(
            oaep_decrypt(&pool, &key, &other, &ct),
            Err(CryptoError::DecryptionFailed)
        );
    }

    #[test]
    fn pss_with_the_maximum_salt_verifies() {
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let key = generate_key_pair(&pool, KeyPairSpec::Rsa { bits: 2048 }).unwrap();
        let max = pss_max_salt_len(&key.public_key(), HashAlgorithm::Sha256).unwrap();
        assert_eq!(max, 222);
        let input = SignInput::Data(b"data");
        let sig = pss_sign(&pool, &key, HashAlgorithm::Sha256, max, input).unwrap();
        assert!(pss_verify(&key.public_key(), HashAlgorithm::Sha256, max, input, &sig).unwrap());
        assert!(!pss_verify(&key.public_key(), HashAlgorithm::Sha256, 32, input, &sig).unwrap());
    }
}
