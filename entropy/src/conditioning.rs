//! Vetted conditioning (SP 800-90B 3.1.5) with min-entropy accounting.
//!
//! The conditioner is Hash_df with SHA-256 (SP 800-90A 10.3.1), one of the vetted conditioning functions of
//! SP 800-90B 3.1.5.1.1. It accumulates raw input and keeps two ledgers apart:
//! - *credited* input: samples from a health-tested, credited source, worth `H` bits of min-entropy per sample
//!   (the operator's assessment); only these count towards a seed;
//! - *uncredited* input: uncredited sources, KMIP RNG Seed data, an HSM's RNG output, anything a third party
//!   controls. It is hashed in (it can only help) but credited with nothing.
//!
//! A seed of `n` bits is released only when the credited input is worth at least `n + 64` bits
//! ([`FULL_ENTROPY_MARGIN_BITS`]): SP 800-90B 3.1.5.1.2 lets a vetted conditioner claim *full entropy* for its
//! `n`-bit output only then. Credit is counted in millionths of a bit and rounded down, so the ledger never
//! over-claims through floating-point rounding.
//!
//! Input is buffered (a seed needs at most a few KiB of raw samples) rather than streamed because Hash_df hashes
//! the whole input once per output block, each time behind a different counter.

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

/// Extra min-entropy, beyond the output length, that a vetted conditioner needs for a full-entropy claim.
pub const FULL_ENTROPY_MARGIN_BITS: u64 = 64;

/// Longest Hash_df output: 255 SHA-256 blocks (the counter is one byte).
pub const MAX_OUTPUT_BYTES: usize = 255 * 32;

/// Name of the conditioning function, as recorded in provenance.
pub const CONDITIONER_NAME: &str = "Hash_df SHA-256 (SP 800-90A 10.3.1)";

/// Framing bytes put before each absorbed piece so that the encoding of the input sequence is injective:
/// credited and uncredited input can never be confused, and piece boundaries are unambiguous.
const TAG_CREDITED: u8 = 1;
const TAG_UNCREDITED: u8 = 2;

/// Millionths of a bit: the unit of the credit ledger.
const MICROBITS_PER_BIT: u64 = 1_000_000;

/// The conditioner refused to produce output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditioningError {
    /// Not enough credited min-entropy for a full-entropy output of this length.
    #[error("insufficient credited entropy: {credited_bits} bits credited, {required_bits} needed for {output_bits} output bits")]
    InsufficientEntropy {
        credited_bits: u64,
        required_bits: u64,
        output_bits: u64,
    },
    /// The requested output length is zero or beyond what Hash_df can produce.
    #[error("invalid output length {len} bytes (1..={MAX_OUTPUT_BYTES})")]
    InvalidOutputLength { len: usize },
    /// An assessed min-entropy per sample that is not a finite number in (0, 8].
    #[error("invalid min-entropy per sample {0} (must be in (0, 8])")]
    InvalidMinEntropy(f64),
}

/// Credited bits needed for an `output_bits`-bit full-entropy output.
pub const fn required_credit_bits(output_bits: u64) -> u64 {
    output_bits + FULL_ENTROPY_MARGIN_BITS
}

/// Accumulates raw input with min-entropy accounting and derives full-entropy seeds from it.
///
/// The buffered input is zeroized when it is consumed and on drop; `Debug` shows only the ledger.
pub struct Conditioner {
    input: Zeroizing<Vec<u8>>,
    credited_microbits: u64,
    credited_samples: u64,
    uncredited_bytes: u64,
}

impl std::fmt::Debug for Conditioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conditioner")
            .field("credited_bits", &self.credited_bits())
            .field("credited_samples", &self.credited_samples)
            .field("uncredited_bytes", &self.uncredited_bytes)
            .field("input", &"<redacted>")
            .finish()
    }
}

impl Default for Conditioner {
    fn default() -> Self {
        Self::new()
    }
}

impl Conditioner {
    pub fn new() -> Self {
        Self {
            input: Zeroizing::new(Vec::new()),
            credited_microbits: 0,
            credited_samples: 0,
            uncredited_bytes: 0,
        }
    }

    /// Absorbs raw samples (one per byte) from a health-tested, credited source assessed at
    /// `min_entropy_per_sample` bits per sample, and credits them.
    pub fn absorb_credited(
        &mut self,
        samples: &[u8],
        min_entropy_per_sample: f64,
    ) -> Result<(), ConditioningError> {
        if !(min_entropy_per_sample.is_finite()
            && min_entropy_per_sample > 0.0
            && min_entropy_per_sample <= 8.0)
        {
            return Err(ConditioningError::InvalidMinEntropy(min_entropy_per_sample));
        }
        // Rounded down: the ledger may under-claim by a millionth of a bit per sample, never over-claim.
        let per_sample = (min_entropy_per_sample * MICROBITS_PER_BIT as f64).floor() as u64;
        let samples_len = samples.len() as u64;
        self.absorb(TAG_CREDITED, samples);
        self.credited_microbits = self
            .credited_microbits
            .saturating_add(per_sample.saturating_mul(samples_len));
        self.credited_samples += samples_len;
        Ok(())
    }

    /// Mixes in input that earns no credit (uncredited sources, additional input, third-party randomness).
    pub fn absorb_uncredited(&mut self, input: &[u8]) {
        self.absorb(TAG_UNCREDITED, input);
        self.uncredited_bytes += input.len() as u64;
    }

    fn absorb(&mut self, tag: u8, piece: &[u8]) {
        self.input.push(tag);
        self.input
            .extend_from_slice(&(piece.len() as u64).to_be_bytes());
        self.input.extend_from_slice(piece);
    }

    /// Min-entropy credited so far, in whole bits (rounded down).
    pub fn credited_bits(&self) -> u64 {
        self.credited_microbits / MICROBITS_PER_BIT
    }

    /// Credited samples absorbed so far.
    pub fn credited_samples(&self) -> u64 {
        self.credited_samples
    }

    /// Whether enough credit has been absorbed for `output_bytes` bytes of full-entropy output.
    pub fn can_extract(&self, output_bytes: usize) -> bool {
        self.credited_bits() >= required_credit_bits(output_bytes as u64 * 8)
    }

    /// Credited bits still missing before `output_bytes` bytes can be extracted.
    pub fn missing_bits(&self, output_bytes: usize) -> u64 {
        required_credit_bits(output_bytes as u64 * 8).saturating_sub(self.credited_bits())
    }

    /// Derives `out.len()` bytes of full-entropy output from everything absorbed, then forgets the input and
    /// resets the ledger (each input backs exactly one output). Refuses, changing nothing, when the credit does
    /// not reach `8 * out.len() + 64` bits.
    pub fn extract(&mut self, out: &mut [u8]) -> Result<(), ConditioningError> {
        if out.is_empty() || out.len() > MAX_OUTPUT_BYTES {
            return Err(ConditioningError::InvalidOutputLength { len: out.len() });
        }
        let output_bits = out.len() as u64 * 8;
        if !self.can_extract(out.len()) {
            return Err(ConditioningError::InsufficientEntropy {
                credited_bits: self.credited_bits(),
                required_bits: required_credit_bits(output_bits),
                output_bits,
            });
        }
        hash_df(&[self.input.as_slice()], out)?;
        self.input.zeroize();
        self.input.clear();
        self.credited_microbits = 0;
        self.credited_samples = 0;
        self.uncredited_bytes = 0;
        Ok(())
    }
}

/// Hash_df (SP 800-90A 10.3.1) with SHA-256 over the concatenation of `input`, writing `out.len()` bytes:
/// `Hash(counter || no_of_bits_to_return || input)` for counter = 1, 2, ..., truncated.
pub fn hash_df(input: &[&[u8]], out: &mut [u8]) -> Result<(), ConditioningError> {
    if out.is_empty() || out.len() > MAX_OUTPUT_BYTES {
        return Err(ConditioningError::InvalidOutputLength { len: out.len() });
    }
    let bits = u32::try_from(out.len() * 8)
        .map_err(|_| ConditioningError::InvalidOutputLength { len: out.len() })?;
    for (index, chunk) in out.chunks_mut(32).enumerate() {
        // index < 255 because out.len() <= 255 * 32, so the counter byte cannot wrap.
        let counter = (index + 1) as u8;
        let mut hasher = Sha256::new();
        hasher.update([counter]);
        hasher.update(bits.to_be_bytes());
        for piece in input {
            hasher.update(piece);
        }
        let mut block = hasher.finalize();
        chunk.copy_from_slice(&block[..chunk.len()]);
        block.as_mut_slice().zeroize();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_df_matches_independent_computation() {
        // Expected value computed independently with Python hashlib:
        // b''.join(sha256(bytes([c]) + (384).to_bytes(4,'big') + b'abc').digest() for c in (1,2))[:48]
        let mut out = [0u8; 48];
        hash_df(&[b"a", b"bc"], &mut out).unwrap();
        assert_eq!(hex::encode(out), HASH_DF_ABC_384);
    }

    const HASH_DF_ABC_384: &str =
        "d3317e0ef922883de460215a843cbb5b6bae1bc4799c8b472b8164926fa213a7c52d3b8aea03214a4475b68e7554007d";

    #[test]
    fn hash_df_rejects_empty_and_oversized_output() {
        assert!(hash_df(&[b"x"], &mut []).is_err());
        let mut big = vec![0u8; MAX_OUTPUT_BYTES + 1];
        assert!(hash_df(&[b"x"], &mut big).is_err());
    }

    #[test]
    fn debug_output_redacts_input() {
        let mut c = Conditioner::new();
        c.absorb_uncredited(b"secret-seed-material");
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret"));
        assert!(shown.contains("redacted"));
    }
}
