//! ChaCha20 (the stream cipher alone) and ChaCha20-Poly1305 (RFC 8439 AEAD) on the RustCrypto `chacha20` and
//! `chacha20poly1305` crates. Keys are 32 bytes.
//!
//! ChaCha20's IV/Counter/Nonce picks the variant, because KMIP clients send all three forms:
//! - 8 bytes: the original ("djb") ChaCha20 with a 64-bit nonce, block counter from 0 (the OASIS
//!   `CS-BC-M-CHACHA20` cases use this form);
//! - 12 bytes: RFC 8439 ChaCha20, block counter from 0;
//! - 16 bytes: OpenSSL's `chacha20` IV, a 32-bit little-endian initial block counter followed by the 12-byte
//!   RFC 8439 nonce.
//!
//! ChaCha20-Poly1305 takes a 12-byte nonce. Tags may be truncated to 12..=16 bytes (the OASIS case decrypts with
//! a 12-byte tag); a truncated tag is checked against the full tag's prefix in constant time. When the caller
//! gives no nonce, a 12-byte one is drawn from the pool and returned.

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20::{ChaCha20, ChaCha20Legacy};
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use entropy::EntropyPool;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::symmetric::{iv_or_draw, AeadCiphertext, IvCiphertext};
use super::CryptoError;

/// The only ChaCha20 key length.
pub const KEY_LEN: usize = 32;
/// The nonce length drawn when the caller gives none (RFC 8439's 96 bits).
pub const DEFAULT_NONCE_LEN: usize = 12;
/// Poly1305's full tag length.
pub const FULL_TAG_LEN: usize = 16;
/// Tag lengths accepted for ChaCha20-Poly1305 (the same truncation rule as GCM).
pub const TAG_LENGTHS: std::ops::RangeInclusive<usize> = 12..=FULL_TAG_LEN;
const BLOCK_LEN: u64 = 64;

fn check_key(key: &[u8]) -> Result<(), CryptoError> {
    if key.len() != KEY_LEN {
        return Err(CryptoError::InvalidKey(format!(
            "ChaCha20 key of {} bytes (32 expected)",
            key.len()
        )));
    }
    Ok(())
}

fn overflow() -> CryptoError {
    CryptoError::InvalidInput("ChaCha20 data longer than the block counter allows".into())
}

/// XORs `data` with the keystream the IV selects (see the module documentation).
fn apply_keystream(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), CryptoError> {
    check_key(key)?;
    let bad_iv = |_| CryptoError::InvalidInput("ChaCha20 key or IV length".into());
    match iv.len() {
        8 => ChaCha20Legacy::new_from_slices(key, iv)
            .map_err(bad_iv)?
            .try_apply_keystream(data)
            .map_err(|_| overflow()),
        12 => ChaCha20::new_from_slices(key, iv)
            .map_err(bad_iv)?
            .try_apply_keystream(data)
            .map_err(|_| overflow()),
        16 => {
            let (counter, nonce) = iv.split_at(4);
            let counter = u32::from_le_bytes([counter[0], counter[1], counter[2], counter[3]]);
            let mut cipher = ChaCha20::new_from_slices(key, nonce).map_err(bad_iv)?;
            cipher
                .try_seek(u64::from(counter) * BLOCK_LEN)
                .map_err(|_| overflow())?;
            cipher.try_apply_keystream(data).map_err(|_| overflow())
        }
        other => Err(CryptoError::InvalidInput(format!(
            "ChaCha20 needs an 8-, 12- or 16-byte IV/Counter/Nonce, got {other} bytes"
        ))),
    }
}

/// ChaCha20 encryption. `iv: None` draws a 12-byte RFC 8439 nonce from the pool.
pub fn chacha20_encrypt(
    pool: &EntropyPool,
    key: &[u8],
    iv: Option<&[u8]>,
    plaintext: &[u8],
) -> Result<IvCiphertext, CryptoError> {
    check_key(key)?;
    let iv = iv_or_draw(pool, iv, DEFAULT_NONCE_LEN)?;
    let mut ciphertext = plaintext.to_vec();
    apply_keystream(key, &iv, &mut ciphertext)?;
    Ok(IvCiphertext { iv, ciphertext })
}

/// ChaCha20 decryption (the same keystream as encryption).
pub fn chacha20_decrypt(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    apply_keystream(key, iv, &mut plaintext)?;
    Ok(plaintext)
}

/// A nonce [`aead_setup`] checked to be 12 bytes, as the AEAD's array type.
fn nonce_array(nonce: &[u8]) -> Nonce {
    Nonce::try_from(nonce).expect("aead_setup checked the nonce is 12 bytes")
}

/// A full 16-byte tag as the AEAD's array type.
fn tag_array(tag: &[u8]) -> Tag {
    Tag::try_from(tag).expect("only a full tag is passed")
}

fn aead_setup(key: &[u8], nonce: &[u8], tag_len: usize) -> Result<ChaCha20Poly1305, CryptoError> {
    check_key(key)?;
    if nonce.len() != DEFAULT_NONCE_LEN {
        return Err(CryptoError::InvalidInput(format!(
            "ChaCha20-Poly1305 needs a 12-byte nonce, got {} bytes",
            nonce.len()
        )));
    }
    if !TAG_LENGTHS.contains(&tag_len) {
        return Err(CryptoError::InvalidInput(format!(
            "ChaCha20-Poly1305 tag length {tag_len} bytes (12 to 16 supported)"
        )));
    }
    ChaCha20Poly1305::new_from_slice(key)
        .map_err(|_| CryptoError::InvalidKey("ChaCha20-Poly1305 key length".into()))
}

/// ChaCha20-Poly1305 encryption; the tag is truncated to `tag_len` (12..=16) bytes. `nonce: None` draws a
/// 12-byte nonce from the pool.
pub fn chacha20_poly1305_encrypt(
    pool: &EntropyPool,
    key: &[u8],
    nonce: Option<&[u8]>,
    aad: &[u8],
    plaintext: &[u8],
    tag_len: usize,
) -> Result<AeadCiphertext, CryptoError> {
    if let Some(nonce) = nonce {
        aead_setup(key, nonce, tag_len)?;
    }
    let iv = iv_or_draw(pool, nonce, DEFAULT_NONCE_LEN)?;
    let cipher = aead_setup(key, &iv, tag_len)?;
    let mut ciphertext = plaintext.to_vec();
    let mut full = cipher
        .encrypt_inout_detached(&nonce_array(&iv), aad, (&mut ciphertext[..]).into())
        .map_err(|_| CryptoError::InvalidInput("ChaCha20-Poly1305 data too long".into()))?;
    let tag = full[..tag_len].to_vec();
    full.as_mut_slice().zeroize();
    Ok(AeadCiphertext {
        iv,
        ciphertext,
        tag,
    })
}

/// ChaCha20-Poly1305 decryption; the tag's length (12..=16 bytes) is the tag length. A wrong key, nonce, AAD or
/// tag is [`CryptoError::DecryptionFailed`] and no plaintext is released.
pub fn chacha20_poly1305_decrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let cipher = aead_setup(key, nonce, tag.len())?;
    let nonce = nonce_array(nonce);
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    if tag.len() == FULL_TAG_LEN {
        cipher
            .decrypt_inout_detached(&nonce, aad, (&mut plaintext[..]).into(), &tag_array(tag))
            .map_err(|_| CryptoError::DecryptionFailed)?;
        return Ok(plaintext);
    }
    // A truncated tag: the crate checks full tags only, so recover the candidate plaintext (RFC 8439 encrypts
    // from block 1), seal it again to learn the full tag, and release the plaintext only if the prefix matches.
    let mut keystream = ChaCha20::new_from_slices(key, &nonce)
        .map_err(|_| CryptoError::InvalidKey("ChaCha20-Poly1305 key length".into()))?;
    keystream
        .try_seek(BLOCK_LEN)
        .and_then(|()| keystream.try_apply_keystream(&mut plaintext))
        .map_err(|_| overflow())?;
    let mut resealed = Zeroizing::new(plaintext.to_vec());
    let mut full = cipher
        .encrypt_inout_detached(&nonce, aad, (&mut resealed[..]).into())
        .map_err(|_| overflow())?;
    let matches: bool = full[..tag.len()].ct_eq(tag).into();
    full.as_mut_slice().zeroize();
    if !matches {
        return Err(CryptoError::DecryptionFailed);
    }
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn rfc8439_chacha20_encryption_vector_2_4_2() {
        // RFC 8439 §2.4.2 starts at block counter 1: the 16-byte OpenSSL-style IV carries that counter.
        let key = unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        let iv = unhex("01000000000000000000004a00000000");
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut data = plaintext.to_vec();
        apply_keystream(&key, &iv, &mut data).unwrap();
        assert_eq!(
            hex::encode(&data[..32]),
            "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
        );
        assert_eq!(
            &chacha20_decrypt(&key, &iv, &data).unwrap()[..],
            &plaintext[..]
        );
    }

    #[test]
    fn djb_chacha20_with_a_64_bit_nonce_matches_the_classic_vector() {
        let mut data = [0u8; 64];
        apply_keystream(&[0; 32], &[0, 0, 0, 0, 0, 0, 0, 1], &mut data).unwrap();
        assert_eq!(hex::encode(&data[..16]), "de9cba7bf3d69ef5e786dc63973f653a");
    }

    #[test]
    fn rfc8439_aead_vector_with_full_and_truncated_tags() {
        let key = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        let nonce = unhex("070000004041424344454647");
        let aad = unhex("50515253c0c1c2c3c4c5c6c7");
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut ciphertext = plaintext.to_vec();
        let cipher = aead_setup(&key, &nonce, 16).unwrap();
        let tag = cipher
            .encrypt_inout_detached(&nonce_array(&nonce), &aad, (&mut ciphertext[..]).into())
            .unwrap();
        assert_eq!(hex::encode(tag), "1ae10b594f09e26a7e902ecbd0600691");
        assert_eq!(hex::encode(&ciphertext[..8]), "d31a8d34648e60db");
        for len in 12..=16 {
            let opened =
                chacha20_poly1305_decrypt(&key, &nonce, &aad, &ciphertext, &tag[..len]).unwrap();
            assert_eq!(&opened[..], &plaintext[..]);
            let mut bad = tag[..len].to_vec();
            bad[len - 1] ^= 1;
            assert_eq!(
                chacha20_poly1305_decrypt(&key, &nonce, &aad, &ciphertext, &bad),
                Err(CryptoError::DecryptionFailed)
            );
        }
        assert!(matches!(
            chacha20_poly1305_decrypt(&key, &nonce, &aad, &ciphertext, &tag[..11]),
            Err(CryptoError::InvalidInput(_))
        ));
    }

    #[test]
    fn a_missing_nonce_is_drawn_from_the_pool_and_returned() {
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let key = [9u8; 32];
        let sealed = chacha20_poly1305_encrypt(&pool, &key, None, b"aad", b"secret", 16).unwrap();
        assert_eq!(sealed.iv.len(), DEFAULT_NONCE_LEN);
        let opened =
            chacha20_poly1305_decrypt(&key, &sealed.iv, b"aad", &sealed.ciphertext, &sealed.tag)
                .unwrap();
        assert_eq!(&opened[..], b"secret");
        let first = chacha20_encrypt(&pool, &key, None, b"secret").unwrap();
        let second = chacha20_encrypt(&pool, &key, None, b"secret").unwrap();
        assert_ne!(first.iv, second.iv);
        assert_eq!(
            &chacha20_decrypt(&key, &first.iv, &first.ciphertext).unwrap()[..],
            b"secret"
        );
    }

    #[test]
    fn bad_key_and_nonce_lengths_are_typed_errors() {
        assert!(matches!(
            chacha20_decrypt(&[0; 16], &[0; 12], b"x"),
            Err(CryptoError::InvalidKey(_))
        ));
        assert!(matches!(
            chacha20_decrypt(&[0; 32], &[0; 10], b"x"),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(matches!(
            chacha20_poly1305_decrypt(&[0; 32], &[0; 8], b"", b"", &[0; 16]),
            Err(CryptoError::InvalidInput(_))
        ));
    }
}
