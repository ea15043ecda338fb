//! Block_Cipher_df and BCC (SP 800-90A Rev. 1, 10.3.2 and 10.3.3) for AES-256, returning seedlen = 384 bits.
//!
//! The input string is streamed from several slices (entropy input || nonce || personalization, for example),
//! so the secret concatenation is never copied into a heap buffer. The three BCC chains the derivation needs
//! (IV = 0, 1, 2) read the same data, so they run side by side: each data block costs one 3-block AES call that
//! AES-NI pipelines, instead of three serial passes.

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes256Enc;
use zeroize::{Zeroize, Zeroizing};

/// AES block length (outlen), bytes.
pub(crate) const BLOCK_LEN: usize = 16;
/// AES-256 key length (keylen), bytes.
pub(crate) const KEY_LEN: usize = 32;
/// seedlen = keylen + outlen, bytes.
pub(crate) const SEED_LEN: usize = KEY_LEN + BLOCK_LEN;

/// Number of BCC chains: (keylen + outlen) / outlen.
const CHAINS: usize = SEED_LEN / BLOCK_LEN;

/// The df's fixed key: the leftmost keylen bits of 0x00010203...1F.
const DF_KEY: [u8; KEY_LEN] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];

type Block = Array<u8, aes::cipher::consts::U16>;

/// The three BCC chains, absorbing S = L || N || input_string || 0x80 || 0* block by block.
struct BccChains {
    cipher: Aes256Enc,
    chains: [Block; CHAINS],
    pending: [u8; BLOCK_LEN],
    pending_len: usize,
}

impl BccChains {
    fn new() -> Self {
        let cipher = Aes256Enc::new(&Array::from(DF_KEY));
        // BCC's first step encrypts IV_i = i (32-bit big-endian) || 0^96 with a zero chaining value.
        let mut chains = [Block::default(); CHAINS];
        for (i, chain) in chains.iter_mut().enumerate() {
            chain[3] = i as u8;
        }
        cipher.encrypt_blocks(&mut chains);
        Self {
            cipher,
            chains,
            pending: [0; BLOCK_LEN],
            pending_len: 0,
        }
    }

    fn absorb_block(&mut self, block: &[u8; BLOCK_LEN]) {
        for chain in &mut self.chains {
            for (c, b) in chain.iter_mut().zip(block) {
                *c ^= b;
            }
        }
        self.cipher.encrypt_blocks(&mut self.chains);
    }

    fn absorb(&mut self, mut data: &[u8]) {
        if self.pending_len > 0 {
            let take = (BLOCK_LEN - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < BLOCK_LEN {
                return;
            }
            let block = self.pending;
            self.absorb_block(&block);
            self.pending_len = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK_LEN);
        for block in &mut blocks {
            let block: &[u8; BLOCK_LEN] = block
                .try_into()
                .expect("chunks_exact yields BLOCK_LEN-byte chunks");
            self.absorb_block(block);
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// Appends 0x80 and zero padding to a block boundary; returns K || X (the chains' concatenation).
    fn finish(mut self) -> Zeroizing<[u8; SEED_LEN]> {
        self.pending[self.pending_len] = 0x80;
        self.pending[self.pending_len + 1..].fill(0);
        let block = self.pending;
        self.absorb_block(&block);
        let mut temp = Zeroizing::new([0u8; SEED_LEN]);
        for (dst, chain) in temp.chunks_exact_mut(BLOCK_LEN).zip(&self.chains) {
            dst.copy_from_slice(chain);
        }
        temp
    }
}

impl Drop for BccChains {
    fn drop(&mut self) {
        self.chains
            .iter_mut()
            .for_each(|c| c.as_mut_slice().zeroize());
        self.pending.zeroize();
    }
}

/// Block_Cipher_df(input_string, 384) where input_string is the concatenation of `inputs`.
///
/// The caller guarantees the total length fits in 32 bits (every input is capped at `MAX_INPUT_LEN`).
pub(crate) fn block_cipher_df(inputs: &[&[u8]]) -> Zeroizing<[u8; SEED_LEN]> {
    let total: usize = inputs.iter().map(|i| i.len()).sum();
    let l = u32::try_from(total)
        .expect("inputs are capped at MAX_INPUT_LEN each, far below 2^32 bytes in total");
    let mut bcc = BccChains::new();
    bcc.absorb(&l.to_be_bytes());
    bcc.absorb(&(SEED_LEN as u32).to_be_bytes());
    for input in inputs {
        bcc.absorb(input);
    }
    let temp = bcc.finish();

    let (key, x) = temp.split_at(KEY_LEN);
    let cipher = Aes256Enc::new_from_slice(key).expect("the key part of temp is 32 bytes");
    let mut x = Block::try_from(x).expect("the X part of temp is one block");
    let mut out = Zeroizing::new([0u8; SEED_LEN]);
    for dst in out.chunks_exact_mut(BLOCK_LEN) {
        cipher.encrypt_block(&mut x);
        dst.copy_from_slice(&x);
    }
    x.as_mut_slice().zeroize();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streaming BCC must not depend on how the input string is split into slices.
    #[test]
    fn df_output_is_independent_of_input_slicing() {
        let data: Vec<u8> = (0..=200u8).collect();
        let whole = block_cipher_df(&[&data]);
        for split in [0, 1, 7, 15, 16, 17, 31, 32, 100, 200, 201] {
            let (a, b) = data.split_at(split);
            assert_eq!(*block_cipher_df(&[a, b]), *whole, "split at {split}");
            assert_eq!(
                *block_cipher_df(&[a, &[], b]),
                *whole,
                "split at {split} with an empty piece"
            );
        }
    }

    #[test]
    fn df_output_depends_on_every_input_byte() {
        let mut data = [0u8; 40];
        let base = block_cipher_df(&[&data]);
        data[39] = 1;
        assert_ne!(*block_cipher_df(&[&data]), *base);
        assert_ne!(
            *block_cipher_df(&[&data[..39]]),
            *base,
            "length is part of S"
        );
    }
}
