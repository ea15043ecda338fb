//! AES encryption and decryption: GCM (any IV length, tags of 12..=16 bytes), CBC and ECB (PKCS#5/7 padding or
//! none), CTR (128-bit big-endian counter, as OpenSSL's `aes-*-ctr`). The key length (16, 24, 32 bytes) picks
//! AES-128/192/256. When the caller gives no IV, one is drawn from the pool and returned.

use aes::cipher::block_padding::{NoPadding, Pkcs7};
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit, StreamCipher};
use aes::{Aes128, Aes192, Aes256};
use entropy::EntropyPool;
use zeroize::Zeroizing;

use super::gcm::{self, aes_key_length_error};
use super::CryptoError;

/// The IV length drawn for GCM when the caller gives none (SP 800-38D's recommended 96 bits).
pub const GCM_DEFAULT_IV_LEN: usize = 12;
/// The GCM tag length when the caller asks for none.
pub const GCM_DEFAULT_TAG_LEN: usize = 16;
const BLOCK_LEN: usize = 16;

/// Block padding for CBC and ECB. PKCS#5 is PKCS#7 on 16-byte blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    None,
    Pkcs5,
}

/// The output of an AEAD encryption: the IV used (given or drawn), the ciphertext and the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AeadCiphertext {
    pub iv: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub tag: Vec<u8>,
}

/// The output of an IV-based encryption: the IV used (given or drawn) and the ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvCiphertext {
    pub iv: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

pub(crate) fn iv_or_draw(
    pool: &EntropyPool,
    iv: Option<&[u8]>,
    len: usize,
) -> Result<Vec<u8>, CryptoError> {
    match iv {
        Some(iv) => Ok(iv.to_vec()),
        None => {
            let mut drawn = vec![0u8; len];
            pool.fill(&mut drawn)?;
            Ok(drawn)
        }
    }
}

/// AES-GCM encryption. `iv: None` draws a 12-byte IV from the pool; `tag_len` is 12..=16 bytes.
pub fn aes_gcm_encrypt(
    pool: &EntropyPool,
    key: &[u8],
    iv: Option<&[u8]>,
    aad: &[u8],
    plaintext: &[u8],
    tag_len: usize,
) -> Result<AeadCiphertext, CryptoError> {
    let iv = iv_or_draw(pool, iv, GCM_DEFAULT_IV_LEN)?;
    let mut ciphertext = plaintext.to_vec();
    let tag = gcm::seal(key, &iv, aad, &mut ciphertext, tag_len)?;
    Ok(AeadCiphertext {
        iv,
        ciphertext,
        tag,
    })
}

/// AES-GCM decryption; the tag's length is the tag length. A wrong key, IV, AAD or tag is
/// [`CryptoError::DecryptionFailed`] and no plaintext is released.
pub fn aes_gcm_decrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    gcm::open(key, iv, aad, &mut plaintext, tag)?;
    Ok(plaintext)
}

fn check_iv(iv: &[u8], mode: &str) -> Result<(), CryptoError> {
    if iv.len() != BLOCK_LEN {
        return Err(CryptoError::InvalidInput(format!(
            "AES-{mode} needs a 16-byte IV, got {} bytes",
            iv.len()
        )));
    }
    Ok(())
}

fn check_unpadded(len: usize, mode: &str) -> Result<(), CryptoError> {
    if !len.is_multiple_of(BLOCK_LEN) {
        return Err(CryptoError::InvalidInput(format!(
            "AES-{mode} without padding needs a multiple of 16 bytes, got {len}"
        )));
    }
    Ok(())
}

/// Runs `$body` with `$cipher` bound to the AES variant that fits `$key`'s length.
macro_rules! with_aes {
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
            other => Err(aes_key_length_error(other)),
        }
    };
}

/// AES-CBC encryption. `iv: None` draws a 16-byte IV from the pool.
pub fn aes_cbc_encrypt(
    pool: &EntropyPool,
    key: &[u8],
    iv: Option<&[u8]>,
    padding: Padding,
    plaintext: &[u8],
) -> Result<IvCiphertext, CryptoError> {
    let iv = iv_or_draw(pool, iv, BLOCK_LEN)?;
    check_iv(&iv, "CBC")?;
    if padding == Padding::None {
        check_unpadded(plaintext.len(), "CBC")?;
    }
    let ciphertext = with_aes!(key, C => {
        let encryptor = cbc::Encryptor::<C>::new_from_slices(key, &iv).map_err(|_| aes_key_length_error(key.len()))?;
        Ok(match padding {
            Padding::Pkcs5 => encryptor.encrypt_padded_vec::<Pkcs7>(plaintext),
            Padding::None => encryptor.encrypt_padded_vec::<NoPadding>(plaintext),
        })
    })?;
    Ok(IvCiphertext { iv, ciphertext })
}

/// AES-CBC decryption. Bad padding is [`CryptoError::DecryptionFailed`].
pub fn aes_cbc_decrypt(
    key: &[u8],
    iv: &[u8],
    padding: Padding,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_iv(iv, "CBC")?;
    check_unpadded(ciphertext.len(), "CBC ciphertext")?;
    with_aes!(key, C => {
        let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| aes_key_length_error(key.len()))?;
        match padding {
            Padding::Pkcs5 => decryptor.decrypt_padded_vec::<Pkcs7>(ciphertext),
            Padding::None => decryptor.decrypt_padded_vec::<NoPadding>(ciphertext),
        }
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::DecryptionFailed)
    })
}

/// AES-ECB encryption (no IV; each block alone — for KMIP conformance and key checks, not for data).
pub fn aes_ecb_encrypt(
    key: &[u8],
    padding: Padding,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if padding == Padding::None {
        check_unpadded(plaintext.len(), "ECB")?;
    }
    with_aes!(key, C => {
        let encryptor = ecb::Encryptor::<C>::new_from_slice(key).map_err(|_| aes_key_length_error(key.len()))?;
        Ok(match padding {
            Padding::Pkcs5 => encryptor.encrypt_padded_vec::<Pkcs7>(plaintext),
            Padding::None => encryptor.encrypt_padded_vec::<NoPadding>(plaintext),
        })
    })
}

/// AES-ECB decryption. Bad padding is [`CryptoError::DecryptionFailed`].
pub fn aes_ecb_decrypt(
    key: &[u8],
    padding: Padding,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_unpadded(ciphertext.len(), "ECB ciphertext")?;
    with_aes!(key, C => {
        let decryptor = ecb::Decryptor::<C>::new_from_slice(key).map_err(|_| aes_key_length_error(key.len()))?;
        match padding {
            Padding::Pkcs5 => decryptor.decrypt_padded_vec::<Pkcs7>(ciphertext),
            Padding::None => decryptor.decrypt_padded_vec::<NoPadding>(ciphertext),
        }
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::DecryptionFailed)
    })
}

/// AES-CTR encryption; `iv` is the 16-byte initial counter block (`None` draws one from the pool).
pub fn aes_ctr_encrypt(
    pool: &EntropyPool,
    key: &[u8],
    iv: Option<&[u8]>,
    plaintext: &[u8],
) -> Result<IvCiphertext, CryptoError> {
    let iv = iv_or_draw(pool, iv, BLOCK_LEN)?;
    let ciphertext = aes_ctr_apply(key, &iv, plaintext)?;
    Ok(IvCiphertext { iv, ciphertext })
}

/// AES-CTR decryption (the same keystream as encryption).
pub fn aes_ctr_decrypt(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    aes_ctr_apply(key, iv, ciphertext).map(Zeroizing::new)
}

fn aes_ctr_apply(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    check_iv(iv, "CTR")?;
    let mut out = data.to_vec();
    with_aes!(key, C => {
        let mut keystream =
            ctr::Ctr128BE::<C>::new_from_slices(key, iv).map_err(|_| aes_key_length_error(key.len()))?;
        keystream
            .try_apply_keystream(&mut out)
            .map_err(|_| CryptoError::InvalidInput("AES-CTR data longer than the counter space".into()))
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_key_and_iv_lengths_are_typed_errors() {
        assert!(matches!(
            aes_ecb_encrypt(&[0; 15], Padding::Pkcs5, b"x"),
            Err(CryptoError::InvalidKey(_))
        ));
        assert!(matches!(
            aes_cbc_decrypt(&[0; 16], &[0; 8], Padding::Pkcs5, &[0; 16]),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(matches!(
            aes_ecb_encrypt(&[0; 16], Padding::None, &[0; 15]),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(matches!(
            aes_gcm_decrypt(&[0; 32], &[0; 12], b"", b"", &[0; 11]),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(matches!(
            aes_gcm_decrypt(&[0; 32], &[], b"", b"", &[0; 16]),
            Err(CryptoError::InvalidInput(_))
        ));
    }

    #[test]
    fn bad_cbc_padding_is_a_decryption_failure() {
        let key = [7u8; 16];
        let ciphertext = aes_ecb_encrypt(&key, Padding::None, &[0u8; 16]).unwrap();
        // The block decrypts to sixteen zero bytes: not valid PKCS#7.
        assert_eq!(
            aes_ecb_decrypt(&key, Padding::Pkcs5, &ciphertext),
            Err(CryptoError::DecryptionFailed)
        );
    }
}
