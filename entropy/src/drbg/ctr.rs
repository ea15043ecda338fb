//! CTR_DRBG with AES-256 and the derivation function (SP 800-90A Rev. 1, 10.2.1), ctr_len = blocklen = 128.
//!
//! Speed comes from generating straight into the caller's buffer: the output slice is viewed as AES blocks,
//! each chunk is filled with the successive counter values V+1, V+2, ... and encrypted in place with one
//! `encrypt_blocks` call, which the `aes` crate runs 8 blocks at a time on AES-NI (detected at run time).
//! Chunks stay small enough to remain in L1 between the counter fill and the encryption.

use std::fmt;

use aes::cipher::consts::U16;
use aes::cipher::inout::InOutBuf;
use aes::cipher::Array;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes256Enc;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::block_cipher_df::{block_cipher_df, KEY_LEN, SEED_LEN};
use super::{
    check_entropy_input, check_generate, check_instantiate_inputs, check_reseed_interval, Drbg,
    DrbgError, DrbgMechanism, DEFAULT_RESEED_INTERVAL,
};

/// Counter blocks filled and encrypted per `encrypt_blocks` call: 2 KiB, a multiple of the 8-block AES-NI
/// pipeline that stays in L1 between the two passes.
const CHUNK_BLOCKS: usize = 128;

/// A CTR_DRBG (AES-256, derivation function) instance. Its working state (Key, V) is zeroized on drop: the key
/// lives only as the AES key schedule, which the `aes` crate zeroizes, and V is wiped by `Drop`.
pub struct CtrDrbg {
    /// Key, expanded.
    cipher: Aes256Enc,
    /// V, as a 128-bit big-endian counter.
    v: u128,
    reseed_counter: u64,
    reseed_interval: u64,
}

impl CtrDrbg {
    /// CTR_DRBG_Instantiate_algorithm with the derivation function (10.2.1.3.2).
    ///
    /// `entropy_input` must hold at least 32 bytes (the 256-bit security strength); `nonce` at least 16 bytes,
    /// or may be shorter (even empty) when `entropy_input` holds at least 48 bytes and so carries the nonce's
    /// share. Every input is at most [`MAX_INPUT_LEN`](super::MAX_INPUT_LEN) bytes.
    pub fn instantiate(
        entropy_input: &[u8],
        nonce: &[u8],
        personalization: &[u8],
    ) -> Result<Self, DrbgError> {
        check_instantiate_inputs(entropy_input, nonce, personalization)?;
        let seed_material = block_cipher_df(&[entropy_input, nonce, personalization]);
        let mut drbg = Self {
            cipher: Aes256Enc::new(&Array::from([0u8; KEY_LEN])),
            v: 0,
            reseed_counter: 1,
            reseed_interval: DEFAULT_RESEED_INTERVAL,
        };
        drbg.update(Some(&seed_material));
        Ok(drbg)
    }

    /// Sets the reseed interval: the number of generate requests allowed between reseeds,
    /// 1 ..= [`MAX_RESEED_INTERVAL`](super::MAX_RESEED_INTERVAL).
    pub fn set_reseed_interval(&mut self, interval: u64) -> Result<(), DrbgError> {
        self.reseed_interval = check_reseed_interval(interval)?;
        Ok(())
    }

    /// CTR_DRBG_Update (10.2.1.2): three counter blocks under the current key, XOR provided_data (`None` is
    /// seedlen zero bits), split into the new Key and V.
    fn update(&mut self, provided_data: Option<&[u8; SEED_LEN]>) {
        let mut seed = [0u8; SEED_LEN];
        let (mut blocks, _) = InOutBuf::from(&mut seed[..]).into_chunks::<U16>();
        for block in blocks.get_out() {
            self.v = self.v.wrapping_add(1);
            *block = Array::from(self.v.to_be_bytes());
        }
        self.cipher.encrypt_blocks(blocks.get_out());
        if let Some(data) = provided_data {
            seed.iter_mut().zip(data).for_each(|(s, d)| *s ^= d);
        }
        let (key, v) = seed.split_at(KEY_LEN);
        self.cipher = Aes256Enc::new_from_slice(key).expect("the key half of seedlen is 32 bytes");
        self.v = u128::from_be_bytes(v.try_into().expect("seedlen - keylen is one 16-byte block"));
        seed.zeroize();
    }

    /// Writes E(Key, V+1) || E(Key, V+2) || ... into `out`, advancing V by one per (partial) block.
    fn keystream(&mut self, out: &mut [u8]) {
        let (mut blocks, mut tail) = InOutBuf::from(out).into_chunks::<U16>();
        for chunk in blocks.get_out().chunks_mut(CHUNK_BLOCKS) {
            self.v = fill_counter_blocks(chunk, self.v);
            self.cipher.encrypt_blocks(chunk);
        }
        let tail = tail.get_out();
        if !tail.is_empty() {
            self.v = self.v.wrapping_add(1);
            let mut block = Array::from(self.v.to_be_bytes());
            self.cipher.encrypt_block(&mut block);
            tail.copy_from_slice(&block[..tail.len()]);
            block.as_mut_slice().zeroize();
        }
    }
}

/// Writes V+1, V+2, ... (128-bit big-endian, wrapping) into `blocks`; returns the last value written.
///
/// Within a chunk the low 64 bits almost never carry, so the common path writes the fixed high half and a
/// 64-bit counter: half the work of a 128-bit add and byte swap per block.
fn fill_counter_blocks(blocks: &mut [Array<u8, U16>], v: u128) -> u128 {
    let count = blocks.len() as u64;
    let (high, low) = ((v >> 64) as u64, v as u64);
    if low.checked_add(count).is_some() {
        let high = high.to_be_bytes();
        for (block, low) in blocks.iter_mut().zip(low + 1..) {
            block[..8].copy_from_slice(&high);
            block[8..].copy_from_slice(&low.to_be_bytes());
        }
        return v + u128::from(count);
    }
    let mut v = v;
    for block in blocks {
        v = v.wrapping_add(1);
        *block = Array::from(v.to_be_bytes());
    }
    v
}

impl Drbg for CtrDrbg {
    fn mechanism(&self) -> DrbgMechanism {
        DrbgMechanism::CtrAes256
    }

    /// CTR_DRBG_Reseed_algorithm with the derivation function (10.2.1.4.2).
    fn reseed(&mut self, entropy_input: &[u8], additional_input: &[u8]) -> Result<(), DrbgError> {
        check_entropy_input(entropy_input)?;
        super::check_input_len("additional input", additional_input)?;
        let seed_material = block_cipher_df(&[entropy_input, additional_input]);
        self.update(Some(&seed_material));
        self.reseed_counter = 1;
        Ok(())
    }

    /// CTR_DRBG_Generate_algorithm with the derivation function (10.2.1.5.2).
    fn generate(&mut self, out: &mut [u8], additional_input: &[u8]) -> Result<(), DrbgError> {
        check_generate(
            out.len(),
            additional_input,
            self.reseed_counter,
            self.reseed_interval,
        )?;
        let additional = if additional_input.is_empty() {
            None
        } else {
            let derived = block_cipher_df(&[additional_input]);
            self.update(Some(&derived));
            Some(derived)
        };
        self.keystream(out);
        self.update(additional.as_deref());
        self.reseed_counter += 1;
        Ok(())
    }

    fn reseed_counter(&self) -> u64 {
        self.reseed_counter
    }

    fn reseed_interval(&self) -> u64 {
        self.reseed_interval
    }
}

impl Drop for CtrDrbg {
    fn drop(&mut self) {
        // The key schedule zeroizes itself (aes "zeroize" feature); V is ours to wipe.
        self.v.zeroize();
    }
}

impl ZeroizeOnDrop for CtrDrbg {}

impl fmt::Debug for CtrDrbg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CtrDrbg")
            .field("mechanism", &DrbgMechanism::CtrAes256)
            .field("key", &"<redacted>")
            .field("v", &"<redacted>")
            .field("reseed_counter", &self.reseed_counter)
            .field("reseed_interval", &self.reseed_interval)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::block_cipher_df::BLOCK_LEN;
    use super::*;

    fn assert_zeroize_on_drop<T: ZeroizeOnDrop>() {}

    /// The key lives only in the AES key schedule: that type must wipe itself, or the "zeroize" feature of
    /// `aes` was lost and this stops compiling.
    #[test]
    fn key_schedule_and_drbg_zeroize_on_drop() {
        assert_zeroize_on_drop::<Aes256Enc>();
        assert_zeroize_on_drop::<CtrDrbg>();
    }

    /// The bulk path (chunks of blocks encrypted in place) must equal SP 800-90A's one-block-at-a-time loop,
    /// for every length around block and chunk boundaries, and from counters about to carry into the high
    /// 64 bits or to wrap around 2^128.
    #[test]
    fn bulk_keystream_matches_block_at_a_time_definition() {
        let lens = [
            0,
            1,
            15,
            16,
            17,
            31,
            32,
            33,
            127,
            128,
            129,
            2047,
            2048,
            2049,
            2064,
            4096 + 5,
            65536,
        ];
        let starts = [
            None,
            Some((5u128 << 64) | u128::from(u64::MAX - 3)),
            Some(u128::MAX - 70),
        ];
        for start in starts {
            for len in lens {
                let mut fast = CtrDrbg::instantiate(&[7u8; 32], &[9u8; 16], b"bulk").unwrap();
                let mut slow = CtrDrbg::instantiate(&[7u8; 32], &[9u8; 16], b"bulk").unwrap();
                if let Some(v) = start {
                    (fast.v, slow.v) = (v, v);
                }
                let mut got = vec![0u8; len];
                fast.keystream(&mut got);
                let mut want = Vec::with_capacity(len + BLOCK_LEN);
                while want.len() < len {
                    slow.v = slow.v.wrapping_add(1);
                    let mut block = Array::from(slow.v.to_be_bytes());
                    slow.cipher.encrypt_block(&mut block);
                    want.extend_from_slice(&block);
                }
                want.truncate(len);
                assert_eq!(got, want, "length {len} from {start:?}");
                assert_eq!(fast.v, slow.v, "V after {len} bytes from {start:?}");
            }
        }
    }

    #[test]
    fn counter_wraps_modulo_2_pow_128() {
        let mut drbg = CtrDrbg::instantiate(&[1u8; 32], &[2u8; 16], b"").unwrap();
        drbg.v = u128::MAX - 1;
        let mut out = [0u8; 48];
        drbg.keystream(&mut out);
        assert_eq!(drbg.v, 1, "V = 2^128 - 1 + 3 wraps to 1");
    }
}
