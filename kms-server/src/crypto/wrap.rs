//! Key wrapping: AES Key Wrap (RFC 3394 / NIST SP 800-38F KW) and AES Key Wrap with Padding (RFC 5649 / KWP)
//! through `aes-kw`, and RSA-OAEP wrapping of key material.

use aes::{Aes128, Aes192, Aes256};
use aes_kw::cipher::consts::U16;
use aes_kw::cipher::{BlockCipherDecrypt, BlockCipherEncrypt};
use aes_kw::{AesKw, AesKwp, KeyInit};
use entropy::EntropyPool;
use zeroize::Zeroizing;

use super::asymmetric::{rsa_decrypt, rsa_encrypt, RsaEncryptionPadding};
use super::hash::HashAlgorithm;
use super::keygen::{PrivateKey, PublicKey};
use super::CryptoError;

fn kek_length_error(len: usize) -> CryptoError {
    CryptoError::InvalidKey(format!(
        "AES key-encryption key of {len} bytes (16, 24 or 32 expected)"
    ))
}

/// Runs `$body` with `$cipher` bound to the AES type that fits `$key`'s length (a type, for `$body` to name
/// `AesKw<$cipher>` or `AesKwp<$cipher>`).
macro_rules! with_kek {
    ($key:expr, $cipher:ident => $body:expr) => {
        match $key.len() {
            16 => {
                type $cipher = Aes128;
                $body
            }
            24 => {
                type $cipher = Aes192;
                $body
            }
            32 => {
                type $cipher = Aes256;
                $body
            }
            other => Err(kek_length_error(other)),
        }
    };
}

/// RFC 3394 (KW) wrap of `data` into a new vector (`aes-kw` 0.3 writes into caller buffers only).
fn kw_wrap<C: BlockCipherEncrypt<BlockSize = U16> + KeyInit>(
    kek: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let kw = AesKw::<C>::new_from_slice(kek).map_err(|_| kek_length_error(kek.len()))?;
    let mut out = vec![0u8; data.len() + aes_kw::IV_LEN];
    kw.wrap_key(data, &mut out)
        .map_err(|e| CryptoError::InvalidInput(format!("AES key wrap: {e}")))?;
    Ok(out)
}

/// RFC 3394 (KW) unwrap; a failed integrity check is [`CryptoError::UnwrapFailed`].
fn kw_unwrap<C: BlockCipherDecrypt<BlockSize = U16> + KeyInit>(
    kek: &[u8],
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let kw = AesKw::<C>::new_from_slice(kek).map_err(|_| kek_length_error(kek.len()))?;
    let mut out = Zeroizing::new(vec![0u8; wrapped.len().saturating_sub(aes_kw::IV_LEN)]);
    let len = kw
        .unwrap_key(wrapped, &mut out)
        .map_err(|_| CryptoError::UnwrapFailed)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// RFC 5649 (KWP) wrap of `data` into a new vector: the data padded to a multiple of 8 bytes, plus the 8-byte
/// integrity block.
pub(crate) fn kwp_wrap<C: BlockCipherEncrypt<BlockSize = U16> + KeyInit>(
    kek: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let kwp = AesKwp::<C>::new_from_slice(kek).map_err(|_| kek_length_error(kek.len()))?;
    let mut out = vec![0u8; data.len().div_ceil(aes_kw::IV_LEN) * aes_kw::IV_LEN + aes_kw::IV_LEN];
    kwp.wrap_key(data, &mut out)
        .map_err(|e| CryptoError::InvalidInput(format!("AES key wrap with padding: {e}")))?;
    Ok(out)
}

/// RFC 5649 (KWP) unwrap; a failed integrity or padding check is [`CryptoError::UnwrapFailed`].
pub(crate) fn kwp_unwrap<C: BlockCipherDecrypt<BlockSize = U16> + KeyInit>(
    kek: &[u8],
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let kwp = AesKwp::<C>::new_from_slice(kek).map_err(|_| kek_length_error(kek.len()))?;
    let mut out = Zeroizing::new(vec![0u8; wrapped.len().saturating_sub(aes_kw::IV_LEN)]);
    let len = kwp
        .unwrap_key(wrapped, &mut out)
        .map_err(|_| CryptoError::UnwrapFailed)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// RFC 3394 wrap (default IV A6A6A6A6A6A6A6A6). The key data must be a multiple of 8 bytes, at least 16.
pub fn aes_key_wrap(kek: &[u8], key_data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if key_data.len() < 16 || !key_data.len().is_multiple_of(8) {
        return Err(CryptoError::InvalidInput(format!(
            "RFC 3394 wraps a multiple of 8 bytes, at least 16; got {} (use the padded variant)",
            key_data.len()
        )));
    }
    with_kek!(kek, C => kw_wrap::<C>(kek, key_data))
}

/// RFC 3394 unwrap; a failed integrity check is [`CryptoError::UnwrapFailed`].
pub fn aes_key_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err(CryptoError::InvalidInput(format!(
            "an RFC 3394 wrapped key is a multiple of 8 bytes, at least 24; got {}",
            wrapped.len()
        )));
    }
    with_kek!(kek, C => kw_unwrap::<C>(kek, wrapped))
}

/// RFC 5649 wrap with padding (alternative IV A65959A6 ‖ length), for key data of any length from 1 byte.
pub fn aes_key_wrap_with_padding(kek: &[u8], key_data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if key_data.is_empty() || u32::try_from(key_data.len()).is_err() {
        return Err(CryptoError::InvalidInput(format!(
            "RFC 5649 wraps 1 to 2^32 - 1 bytes; got {}",
            key_data.len()
        )));
    }
    with_kek!(kek, C => kwp_wrap::<C>(kek, key_data))
}

/// RFC 5649 unwrap; a failed integrity or padding check is [`CryptoError::UnwrapFailed`].
pub fn aes_key_unwrap_with_padding(
    kek: &[u8],
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if wrapped.len() < 16 || !wrapped.len().is_multiple_of(8) {
        return Err(CryptoError::InvalidInput(format!(
            "an RFC 5649 wrapped key is a multiple of 8 bytes, at least 16; got {}",
            wrapped.len()
        )));
    }
    with_kek!(kek, C => kwp_unwrap::<C>(kek, wrapped))
}

/// Wraps key material to an RSA public key with OAEP (`hash` for the label, `mgf1_hash` for MGF1).
pub fn rsa_oaep_wrap(
    pool: &EntropyPool,
    wrapping_key: &PublicKey,
    hash: HashAlgorithm,
    mgf1_hash: HashAlgorithm,
    key_data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    rsa_encrypt(
        pool,
        wrapping_key,
        RsaEncryptionPadding::Oaep { hash, mgf1_hash },
        key_data,
    )
}

/// Unwraps RSA-OAEP wrapped key material; any failure is [`CryptoError::UnwrapFailed`].
pub fn rsa_oaep_unwrap(
    pool: &EntropyPool,
    unwrapping_key: &PrivateKey,
    hash: HashAlgorithm,
    mgf1_hash: HashAlgorithm,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    rsa_decrypt(
        pool,
        unwrapping_key,
        RsaEncryptionPadding::Oaep { hash, mgf1_hash },
        wrapped,
    )
    .map_err(|error| match error {
        CryptoError::DecryptionFailed => CryptoError::UnwrapFailed,
        other => other,
    })
}
