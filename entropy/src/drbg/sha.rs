//! HMAC-SHA-256 and HMAC-SHA-512 over `sha2`'s compression functions, with wipeable state.
//!
//! HMAC_DRBG's key is only ever used through HMAC's two keyed midstates, which are as secret as the key. The
//! `hmac`/`sha2` types only wipe themselves with an extra feature and a copy per use, so HMAC is built here on
//! `sha2::block_api::compress256/512` with state we
//! own and wipe. Keys are at most one block (HMAC_DRBG keys are one digest long), so no key hashing is needed.

use zeroize::Zeroize;

/// Largest block length (SHA-512), bytes.
pub(crate) const MAX_BLOCK_LEN: usize = 128;
/// Largest digest length (SHA-512), bytes.
pub(crate) const MAX_DIGEST_LEN: usize = 64;

mod sealed {
    /// Only this module's SHA-2 cores implement [`ShaCore`](super::ShaCore): the HMAC code relies on their
    /// block and digest lengths staying within its fixed buffers.
    pub trait Sealed {}
    impl Sealed for super::Sha256Core {}
    impl Sealed for super::Sha512Core {}
}

/// A Merkle-Damgard SHA-2 function as HMAC needs it (sealed: SHA-256 and SHA-512 only).
pub trait ShaCore: sealed::Sealed {
    /// Chaining state.
    type State: Copy + Zeroize + Send + Sync;
    const INITIAL_STATE: Self::State;
    /// Block length, bytes (at most 128).
    const BLOCK_LEN: usize;
    /// Digest length, bytes (at most 64).
    const DIGEST_LEN: usize;
    /// Width of the big-endian message length field in the final block, bytes.
    const LENGTH_FIELD_LEN: usize;
    /// Compresses whole blocks (`blocks.len()` is a multiple of `BLOCK_LEN`).
    fn compress(state: &mut Self::State, blocks: &[u8]);
    /// Writes the digest (`out.len() == DIGEST_LEN`).
    fn write_digest(state: &Self::State, out: &mut [u8]);
}

/// SHA-256's compression function.
#[derive(Debug)]
pub struct Sha256Core;

impl ShaCore for Sha256Core {
    type State = [u32; 8];
    const INITIAL_STATE: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    const BLOCK_LEN: usize = 64;
    const DIGEST_LEN: usize = 32;
    const LENGTH_FIELD_LEN: usize = 8;

    fn compress(state: &mut [u32; 8], blocks: &[u8]) {
        for block in blocks.chunks_exact(Self::BLOCK_LEN) {
            let block: &[u8; 64] = block.try_into().expect("chunks_exact yields whole blocks");
            sha2::block_api::compress256(state, core::slice::from_ref(block));
        }
    }

    fn write_digest(state: &[u32; 8], out: &mut [u8]) {
        for (dst, word) in out.chunks_exact_mut(4).zip(state) {
            dst.copy_from_slice(&word.to_be_bytes());
        }
    }
}

/// SHA-512's compression function.
#[derive(Debug)]
pub struct Sha512Core;

impl ShaCore for Sha512Core {
    type State = [u64; 8];
    const INITIAL_STATE: [u64; 8] = [
        0x6a09e667f3bcc908,
        0xbb67ae8584caa73b,
        0x3c6ef372fe94f82b,
        0xa54ff53a5f1d36f1,
        0x510e527fade682d1,
        0x9b05688c2b3e6c1f,
        0x1f83d9abfb41bd6b,
        0x5be0cd19137e2179,
    ];
    const BLOCK_LEN: usize = 128;
    const DIGEST_LEN: usize = 64;
    const LENGTH_FIELD_LEN: usize = 16;

    fn compress(state: &mut [u64; 8], blocks: &[u8]) {
        for block in blocks.chunks_exact(Self::BLOCK_LEN) {
            let block: &[u8; 128] = block.try_into().expect("chunks_exact yields whole blocks");
            sha2::block_api::compress512(state, core::slice::from_ref(block));
        }
    }

    fn write_digest(state: &[u64; 8], out: &mut [u8]) {
        for (dst, word) in out.chunks_exact_mut(8).zip(state) {
            dst.copy_from_slice(&word.to_be_bytes());
        }
    }
}

/// A running hash: state, a partial block, and the byte count (including any blocks absorbed before).
struct Hasher<C: ShaCore> {
    state: C::State,
    pending: [u8; MAX_BLOCK_LEN],
    pending_len: usize,
    total_len: u64,
}

impl<C: ShaCore> Hasher<C> {
    fn resume(state: C::State, absorbed_len: u64) -> Self {
        Self {
            state,
            pending: [0; MAX_BLOCK_LEN],
            pending_len: 0,
            total_len: absorbed_len,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total_len += data.len() as u64;
        if self.pending_len > 0 {
            let take = (C::BLOCK_LEN - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < C::BLOCK_LEN {
                return;
            }
            C::compress(&mut self.state, &self.pending[..C::BLOCK_LEN]);
            self.pending_len = 0;
        }
        let whole = data.len() - data.len() % C::BLOCK_LEN;
        C::compress(&mut self.state, &data[..whole]);
        let rest = &data[whole..];
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// Pads (0x80, zeros, bit length) and writes the digest into `out` (`DIGEST_LEN` bytes).
    fn finish(mut self, out: &mut [u8]) {
        let bit_len = u128::from(self.total_len) * 8;
        let mut tail = [0u8; 2 * MAX_BLOCK_LEN];
        tail[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
        tail[self.pending_len] = 0x80;
        let tail_len = if self.pending_len + 1 + C::LENGTH_FIELD_LEN <= C::BLOCK_LEN {
            C::BLOCK_LEN
        } else {
            2 * C::BLOCK_LEN
        };
        tail[tail_len - C::LENGTH_FIELD_LEN..tail_len]
            .copy_from_slice(&bit_len.to_be_bytes()[16 - C::LENGTH_FIELD_LEN..]);
        C::compress(&mut self.state, &tail[..tail_len]);
        tail[..tail_len].zeroize();
        C::write_digest(&self.state, out);
    }
}

impl<C: ShaCore> Drop for Hasher<C> {
    fn drop(&mut self) {
        self.state.zeroize();
        self.pending[..C::BLOCK_LEN].zeroize();
    }
}

/// HMAC keyed with one key: the inner and outer midstates after absorbing key^ipad and key^opad.
pub(crate) struct HmacKey<C: ShaCore> {
    inner: C::State,
    outer: C::State,
}

impl<C: ShaCore> HmacKey<C> {
    /// `key` is at most one block long (HMAC_DRBG keys are one digest long).
    pub(crate) fn new(key: &[u8]) -> Self {
        debug_assert!(
            key.len() <= C::BLOCK_LEN,
            "HMAC_DRBG keys are one digest long, shorter than a block"
        );
        let mut pad = [0u8; MAX_BLOCK_LEN];
        pad[..key.len()].copy_from_slice(key);
        let pad = &mut pad[..C::BLOCK_LEN];
        pad.iter_mut().for_each(|b| *b ^= 0x36);
        let mut inner = C::INITIAL_STATE;
        C::compress(&mut inner, pad);
        pad.iter_mut().for_each(|b| *b ^= 0x36 ^ 0x5c);
        let mut outer = C::INITIAL_STATE;
        C::compress(&mut outer, pad);
        pad.zeroize();
        Self { inner, outer }
    }

    /// Starts HMAC(key, message); feed the message with [`HmacWriter::update`].
    pub(crate) fn writer(&self) -> HmacWriter<'_, C> {
        HmacWriter {
            key: self,
            inner: Hasher::resume(self.inner, C::BLOCK_LEN as u64),
        }
    }

    /// HMAC(key, concatenation of `message`) into `out` (`DIGEST_LEN` bytes).
    #[cfg(test)]
    pub(crate) fn mac(&self, message: &[&[u8]], out: &mut [u8]) {
        let mut writer = self.writer();
        for part in message {
            writer.update(part);
        }
        writer.finish(out);
    }
}

/// One HMAC computation in progress: the inner hash absorbing the message.
pub(crate) struct HmacWriter<'k, C: ShaCore> {
    key: &'k HmacKey<C>,
    inner: Hasher<C>,
}

impl<C: ShaCore> HmacWriter<'_, C> {
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// Writes the MAC into `out` (`DIGEST_LEN` bytes).
    pub(crate) fn finish(self, out: &mut [u8]) {
        let mut inner_digest = [0u8; MAX_DIGEST_LEN];
        self.inner.finish(&mut inner_digest[..C::DIGEST_LEN]);
        let mut outer = Hasher::<C>::resume(self.key.outer, C::BLOCK_LEN as u64);
        outer.update(&inner_digest[..C::DIGEST_LEN]);
        outer.finish(out);
        inner_digest.zeroize();
    }
}

impl<C: ShaCore> HmacKey<C> {
    /// Iterates V = HMAC(key, V) `count` times, handing each new V to `sink`; `v` (`DIGEST_LEN` bytes) ends as
    /// the last V.
    ///
    /// HMAC_DRBG's output loop. A digest-long message fits in one block after the key block, and so does the
    /// inner digest for the outer hash, with the same padding and length: one block buffer serves both hashes,
    /// and the outer digest lands where the next iteration's message goes. Two compressions per V, no copies.
    pub(crate) fn chain(&self, v: &mut [u8], count: usize, mut sink: impl FnMut(&[u8])) {
        let digest_len = C::DIGEST_LEN;
        let mut block = [0u8; MAX_BLOCK_LEN];
        let block = &mut block[..C::BLOCK_LEN];
        block[..digest_len].copy_from_slice(v);
        block[digest_len] = 0x80;
        let bit_len = ((C::BLOCK_LEN + digest_len) as u128) * 8;
        block[C::BLOCK_LEN - C::LENGTH_FIELD_LEN..]
            .copy_from_slice(&bit_len.to_be_bytes()[16 - C::LENGTH_FIELD_LEN..]);
        let mut state;
        for _ in 0..count {
            state = self.inner;
            C::compress(&mut state, block);
            C::write_digest(&state, &mut block[..digest_len]);
            state = self.outer;
            C::compress(&mut state, block);
            C::write_digest(&state, &mut block[..digest_len]);
            state.zeroize();
            sink(&block[..digest_len]);
        }
        v.copy_from_slice(&block[..digest_len]);
        block.zeroize();
    }
}

impl<C: ShaCore> Drop for HmacKey<C> {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    fn check_against_hmac_crate<C: ShaCore, M: Mac + hmac::digest::KeyInit>() {
        for key_len in [0, 1, C::DIGEST_LEN, C::BLOCK_LEN] {
            let key: Vec<u8> = (0..key_len).map(|i| i as u8 ^ 0xa5).collect();
            let ours = HmacKey::<C>::new(&key);
            for msg_len in [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 300] {
                let msg: Vec<u8> = (0..msg_len).map(|i| (i * 7) as u8).collect();
                let (a, b) = msg.split_at(msg_len / 3);
                let mut got = [0u8; MAX_DIGEST_LEN];
                ours.mac(&[a, b], &mut got[..C::DIGEST_LEN]);
                let mut reference = <M as hmac::digest::KeyInit>::new_from_slice(&key).unwrap();
                reference.update(&msg);
                let want = reference.finalize().into_bytes();
                assert_eq!(
                    &got[..C::DIGEST_LEN],
                    want.as_slice(),
                    "key {key_len} message {msg_len}"
                );
            }
        }
    }

    fn check_chain_against_mac<C: ShaCore>() {
        let key = HmacKey::<C>::new(&[0x42; 40][..C::DIGEST_LEN.min(40)]);
        let mut v = vec![0x17u8; C::DIGEST_LEN];
        let mut expected_v = v.clone();
        let mut expected = Vec::new();
        for _ in 0..5 {
            let mut next = vec![0u8; C::DIGEST_LEN];
            key.mac(&[&expected_v], &mut next);
            expected.extend_from_slice(&next);
            expected_v = next;
        }
        let mut got = Vec::new();
        key.chain(&mut v, 5, |x| got.extend_from_slice(x));
        assert_eq!(got, expected);
        assert_eq!(v, expected_v);
    }

    #[test]
    fn chained_hmac_equals_repeated_general_hmac() {
        check_chain_against_mac::<Sha256Core>();
        check_chain_against_mac::<Sha512Core>();
    }

    #[test]
    fn hmac_sha256_matches_the_hmac_crate() {
        check_against_hmac_crate::<Sha256Core, Hmac<sha2::Sha256>>();
    }

    #[test]
    fn hmac_sha512_matches_the_hmac_crate() {
        check_against_hmac_crate::<Sha512Core, Hmac<sha2::Sha512>>();
    }
}
