//! HMAC_DRBG (SP 800-90A Rev. 1, 10.1.2) over SHA-256 or SHA-512.
//!
//! The key K is held only as HMAC's two keyed midstates ([`HmacKey`]), recomputed when K changes; V is a digest-
//! long array. Both are wiped on drop.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::sha::{HmacKey, Sha256Core, Sha512Core, ShaCore, MAX_DIGEST_LEN};
use super::{
    check_entropy_input, check_generate, check_input_len, check_instantiate_inputs,
    check_reseed_interval, Drbg, DrbgError, DrbgMechanism, DEFAULT_RESEED_INTERVAL,
};

/// A hash HMAC_DRBG can run on: SHA-256 ([`Sha256Core`]) or SHA-512 ([`Sha512Core`]). Both give the 256-bit
/// security strength SP 800-90A table 2 allows for HMAC_DRBG.
pub trait HmacDrbgHash: ShaCore + Send + Sync + 'static {
    /// The mechanism this hash makes.
    const MECHANISM: DrbgMechanism;
}

impl HmacDrbgHash for Sha256Core {
    const MECHANISM: DrbgMechanism = DrbgMechanism::HmacSha256;
}

impl HmacDrbgHash for Sha512Core {
    const MECHANISM: DrbgMechanism = DrbgMechanism::HmacSha512;
}

/// HMAC_DRBG with SHA-256.
pub type HmacDrbgSha256 = HmacDrbg<Sha256Core>;
/// HMAC_DRBG with SHA-512.
pub type HmacDrbgSha512 = HmacDrbg<Sha512Core>;

/// An HMAC_DRBG instance.
pub struct HmacDrbg<H: HmacDrbgHash> {
    /// HMAC keyed with K.
    key: HmacKey<H>,
    /// V; the first `H::DIGEST_LEN` bytes are used.
    v: [u8; MAX_DIGEST_LEN],
    reseed_counter: u64,
    reseed_interval: u64,
}

impl<H: HmacDrbgHash> HmacDrbg<H> {
    /// HMAC_DRBG_Instantiate_algorithm (10.1.2.3).
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
        let mut v = [0u8; MAX_DIGEST_LEN];
        v[..H::DIGEST_LEN].fill(0x01);
        let mut drbg = Self {
            key: HmacKey::new(&[0u8; MAX_DIGEST_LEN][..H::DIGEST_LEN]),
            v,
            reseed_counter: 1,
            reseed_interval: DEFAULT_RESEED_INTERVAL,
        };
        drbg.update(&[entropy_input, nonce, personalization]);
        Ok(drbg)
    }

    /// Sets the reseed interval: the number of generate requests allowed between reseeds,
    /// 1 ..= [`MAX_RESEED_INTERVAL`](super::MAX_RESEED_INTERVAL).
    pub fn set_reseed_interval(&mut self, interval: u64) -> Result<(), DrbgError> {
        self.reseed_interval = check_reseed_interval(interval)?;
        Ok(())
    }

    /// V = HMAC(K, V).
    fn advance_v(&mut self) {
        self.key.chain(&mut self.v[..H::DIGEST_LEN], 1, |_| {});
    }

    /// K = HMAC(K, V || separator || provided_data); V = HMAC(K, V).
    fn update_round(&mut self, separator: u8, provided_data: &[&[u8]]) {
        let mut new_key = [0u8; MAX_DIGEST_LEN];
        let mut mac = self.key.writer();
        mac.update(&self.v[..H::DIGEST_LEN]);
        mac.update(&[separator]);
        for part in provided_data {
            mac.update(part);
        }
        mac.finish(&mut new_key[..H::DIGEST_LEN]);
        self.key = HmacKey::new(&new_key[..H::DIGEST_LEN]);
        new_key.zeroize();
        self.advance_v();
    }

    /// HMAC_DRBG_Update (10.1.2.2); `provided_data` is the concatenation of the parts.
    fn update(&mut self, provided_data: &[&[u8]]) {
        self.update_round(0x00, provided_data);
        if provided_data.iter().all(|part| part.is_empty()) {
            return;
        }
        self.update_round(0x01, provided_data);
    }
}

impl<H: HmacDrbgHash> Drbg for HmacDrbg<H> {
    fn mechanism(&self) -> DrbgMechanism {
        H::MECHANISM
    }

    /// HMAC_DRBG_Reseed_algorithm (10.1.2.4).
    fn reseed(&mut self, entropy_input: &[u8], additional_input: &[u8]) -> Result<(), DrbgError> {
        check_entropy_input(entropy_input)?;
        check_input_len("additional input", additional_input)?;
        self.update(&[entropy_input, additional_input]);
        self.reseed_counter = 1;
        Ok(())
    }

    /// HMAC_DRBG_Generate_algorithm (10.1.2.5).
    fn generate(&mut self, out: &mut [u8], additional_input: &[u8]) -> Result<(), DrbgError> {
        check_generate(
            out.len(),
            additional_input,
            self.reseed_counter,
            self.reseed_interval,
        )?;
        if !additional_input.is_empty() {
            self.update(&[additional_input]);
        }
        let mut chunks = out.chunks_mut(H::DIGEST_LEN);
        let count = chunks.len();
        self.key.chain(&mut self.v[..H::DIGEST_LEN], count, |v| {
            let chunk = chunks.next().expect("chain runs once per output chunk");
            chunk.copy_from_slice(&v[..chunk.len()]);
        });
        self.update(&[additional_input]);
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

impl<H: HmacDrbgHash> Drop for HmacDrbg<H> {
    fn drop(&mut self) {
        // The keyed midstates wipe themselves (HmacKey's Drop); V is wiped here.
        self.v.zeroize();
    }
}

impl<H: HmacDrbgHash> ZeroizeOnDrop for HmacDrbg<H> {}

impl<H: HmacDrbgHash> fmt::Debug for HmacDrbg<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacDrbg")
            .field("mechanism", &H::MECHANISM)
            .field("key", &"<redacted>")
            .field("v", &"<redacted>")
            .field("reseed_counter", &self.reseed_counter)
            .field("reseed_interval", &self.reseed_interval)
            .finish()
    }
}
