//! AES-GCM per NIST SP 800-38D on the `aes`, `ctr` and `ghash` crates.
//!
//! Why not `aes-gcm` alone: it fixes the IV length and tag length at compile time, while KMIP clients send IVs
//! of any length (the OASIS GCM cases use 8-, 12- and 60-byte IVs) and tag lengths 12..=16. SP 800-38D defines
//! both: J0 = IV ‖ 0³¹1 for a 96-bit IV, otherwise GHASH(IV padded ‖ 0⁶⁴ ‖ [len(IV)]₆₄); the tag is the first
//! `t` bytes of E(K, J0) ⊕ S. The test suite checks this module against `aes-gcm` for 96-bit IVs and against the
//! McGrew–Viega vectors and OpenSSL for the others.

use aes::cipher::{BlockCipherEncrypt, BlockSizeUser, InnerIvInit, KeyInit, StreamCipher};
use aes::{Aes128, Aes192, Aes256, Block};
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::CryptoError;

/// Tag lengths SP 800-38D allows for general use.
pub(crate) const TAG_LENGTHS: std::ops::RangeInclusive<usize> = 12..=16;

/// SP 800-38D: plaintext at most 2³⁹ − 256 bits.
const MAX_DATA_LEN: u64 = (1 << 36) - 32;

/// Encrypts `data` in place; returns the tag truncated to `tag_len` bytes.
pub(crate) fn seal(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    data: &mut [u8],
    tag_len: usize,
) -> Result<Vec<u8>, CryptoError> {
    check_parameters(iv, data.len(), tag_len)?;
    let mut tag = match key.len() {
        16 => seal_with::<Aes128>(key, iv, aad, data),
        24 => seal_with::<Aes192>(key, iv, aad, data),
        32 => seal_with::<Aes256>(key, iv, aad, data),
        other => return Err(aes_key_length_error(other)),
    }?;
    let truncated = tag[..tag_len].to_vec();
    tag.as_mut_slice().zeroize();
    Ok(truncated)
}

/// Checks the tag over `data` (ciphertext) and, only if it matches, decrypts `data` in place.
pub(crate) fn open(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    data: &mut [u8],
    tag: &[u8],
) -> Result<(), CryptoError> {
    check_parameters(iv, data.len(), tag.len())?;
    match key.len() {
        16 => open_with::<Aes128>(key, iv, aad, data, tag),
        24 => open_with::<Aes192>(key, iv, aad, data, tag),
        32 => open_with::<Aes256>(key, iv, aad, data, tag),
        other => Err(aes_key_length_error(other)),
    }
}

pub(crate) fn aes_key_length_error(len: usize) -> CryptoError {
    CryptoError::InvalidKey(format!("AES key of {len} bytes (16, 24 or 32 expected)"))
}

fn check_parameters(iv: &[u8], data_len: usize, tag_len: usize) -> Result<(), CryptoError> {
    if iv.is_empty() {
        return Err(CryptoError::InvalidInput("GCM needs a non-empty IV".into()));
    }
    if !TAG_LENGTHS.contains(&tag_len) {
        return Err(CryptoError::InvalidInput(format!(
            "GCM tag length {tag_len} bytes (12 to 16 supported)"
        )));
    }
    if data_len as u64 > MAX_DATA_LEN {
        return Err(CryptoError::InvalidInput(
            "GCM data longer than 2^39 - 256 bits".into(),
        ));
    }
    Ok(())
}

trait Aes:
    BlockSizeUser<BlockSize = aes::cipher::consts::U16> + BlockCipherEncrypt + KeyInit + Clone
{
}
impl<
        T: BlockSizeUser<BlockSize = aes::cipher::consts::U16> + BlockCipherEncrypt + KeyInit + Clone,
    > Aes for T
{
}

/// The per-message state: the cipher, the hash key H and the pre-counter block J0.
struct Setup<C: Aes> {
    cipher: C,
    hash_key: Block,
    j0: Block,
}

impl<C: Aes> Drop for Setup<C> {
    fn drop(&mut self) {
        self.hash_key.as_mut_slice().zeroize();
        self.j0.as_mut_slice().zeroize();
    }
}

impl<C: Aes> Setup<C> {
    fn new(key: &[u8], iv: &[u8]) -> Result<Self, CryptoError> {
        let cipher = C::new_from_slice(key).map_err(|_| aes_key_length_error(key.len()))?;
        let mut hash_key = Block::default();
        cipher.encrypt_block(&mut hash_key);
        let j0 = if iv.len() == 12 {
            let mut j0 = Block::default();
            j0[..12].copy_from_slice(iv);
            j0[15] = 1;
            j0
        } else {
            let mut ghash = GHash::new(&hash_key);
            ghash.update_padded(iv);
            let mut lengths = Block::default();
            lengths[8..].copy_from_slice(&bit_len(iv.len()).to_be_bytes());
            ghash.update(&[lengths]);
            ghash.finalize()
        };
        Ok(Self {
            cipher,
            hash_key,
            j0,
        })
    }

    /// GCTR with the counter starting at inc32(J0), applied in place.
    fn apply_keystream(&self, data: &mut [u8]) {
        let mut counter = self.j0;
        let low = u32::from_be_bytes([counter[12], counter[13], counter[14], counter[15]])
            .wrapping_add(1);
        counter[12..].copy_from_slice(&low.to_be_bytes());
        let core =
            ctr::CtrCore::<C, ctr::flavors::Ctr32BE>::inner_iv_init(self.cipher.clone(), &counter);
        let mut keystream = ctr::Ctr32BE::<C>::from_core(core);
        keystream.apply_keystream(data);
    }

    /// E(K, J0) ⊕ GHASH(A padded ‖ C padded ‖ [len(A)]₆₄ ‖ [len(C)]₆₄), all 16 bytes.
    fn full_tag(&self, aad: &[u8], ciphertext: &[u8]) -> Block {
        let mut ghash = GHash::new(&self.hash_key);
        ghash.update_padded(aad);
        ghash.update_padded(ciphertext);
        let mut lengths = Block::default();
        lengths[..8].copy_from_slice(&bit_len(aad.len()).to_be_bytes());
        lengths[8..].copy_from_slice(&bit_len(ciphertext.len()).to_be_bytes());
        ghash.update(&[lengths]);
        let mut tag = ghash.finalize();
        let mut mask = self.j0;
        self.cipher.encrypt_block(&mut mask);
        for (t, m) in tag.iter_mut().zip(mask.iter()) {
            *t ^= m;
        }
        tag
    }
}

fn bit_len(len: usize) -> u64 {
    (len as u64) * 8
}

fn seal_with<C: Aes>(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    data: &mut [u8],
) -> Result<Block, CryptoError> {
    let setup = Setup::<C>::new(key, iv)?;
    setup.apply_keystream(data);
    Ok(setup.full_tag(aad, data))
}

fn open_with<C: Aes>(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    data: &mut [u8],
    tag: &[u8],
) -> Result<(), CryptoError> {
    let setup = Setup::<C>::new(key, iv)?;
    let mut expected = setup.full_tag(aad, data);
    let matches: bool = expected[..tag.len()].ct_eq(tag).into();
    expected.as_mut_slice().zeroize();
    if !matches {
        return Err(CryptoError::DecryptionFailed);
    }
    setup.apply_keystream(data);
    Ok(())
}
