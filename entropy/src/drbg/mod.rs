//! SP 800-90A Rev. 1 deterministic random bit generators.
//!
//! Two mechanisms, both at a security strength of 256 bits:
//! - [`CtrDrbg`]: CTR_DRBG with AES-256 and the derivation function (the fast one: AES-NI over many blocks);
//! - [`HmacDrbg`]: HMAC_DRBG, generic over SHA-256 ([`HmacDrbgSha256`]) and SHA-512 ([`HmacDrbgSha512`]).
//!
//! Limits are those of SP 800-90A table 3 except where an implementation limit is stricter and said so here:
//! at most [`MAX_BYTES_PER_REQUEST`] bytes per generate call, a reseed interval of at most
//! [`MAX_RESEED_INTERVAL`] generate calls, and inputs (entropy, nonce, personalization, additional input) of at
//! most [`MAX_INPUT_LEN`] bytes each.
//!
//! Prediction resistance is the caller's [`Drbg::reseed`] with fresh entropy (and the request's additional input)
//! immediately before a [`Drbg::generate`] without additional input, exactly as SP 800-90A 9.3.1 step 7 does it.

mod block_cipher_df;
mod ctr;
mod hmac;
mod sha;

use std::fmt;

pub use self::ctr::CtrDrbg;
pub use self::hmac::{HmacDrbg, HmacDrbgHash, HmacDrbgSha256, HmacDrbgSha512};
pub use self::sha::{Sha256Core, Sha512Core, ShaCore};

/// Largest generate request, in bytes: 2^19 bits (SP 800-90A table 3, both mechanisms).
pub const MAX_BYTES_PER_REQUEST: usize = 1 << 16;

/// Largest reseed interval (generate calls between reseeds): 2^48 (SP 800-90A table 3).
pub const MAX_RESEED_INTERVAL: u64 = 1 << 48;

/// Reseed interval a freshly instantiated DRBG uses until told otherwise: the table 3 maximum. The pool, which
/// knows how fast its sources are, sets a shorter one.
pub const DEFAULT_RESEED_INTERVAL: u64 = MAX_RESEED_INTERVAL;

/// Longest entropy input, nonce, personalization string or additional input, in bytes. SP 800-90A allows
/// 2^35 bits; this implementation limit (1 MiB) keeps every derivation short and bounded.
pub const MAX_INPUT_LEN: usize = 1 << 20;

/// Security strength of both mechanisms, in bytes (256 bits): the minimum entropy input length.
pub const SECURITY_STRENGTH_BYTES: usize = 32;

/// Minimum nonce length, in bytes (half the security strength, SP 800-90A 8.6.7), unless the entropy input
/// itself carries 3/2 of the security strength ([`MIN_COMBINED_SEED_LEN`]), in which case the nonce may be empty.
pub const MIN_NONCE_LEN: usize = SECURITY_STRENGTH_BYTES / 2;

/// Entropy input plus nonce must reach 3/2 of the security strength (48 bytes), SP 800-90C.
pub const MIN_COMBINED_SEED_LEN: usize = SECURITY_STRENGTH_BYTES + MIN_NONCE_LEN;

/// Which SP 800-90A mechanism a DRBG instance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DrbgMechanism {
    /// CTR_DRBG with AES-256 and the derivation function.
    CtrAes256,
    /// HMAC_DRBG with SHA-256.
    HmacSha256,
    /// HMAC_DRBG with SHA-512.
    HmacSha512,
}

/// A DRBG refused a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DrbgError {
    #[error("reseed required: the reseed counter reached the reseed interval")]
    ReseedRequired,
    #[error("request too large: {requested} bytes, at most {max} per request")]
    RequestTooLarge { requested: usize, max: usize },
    #[error("input too long: {what} is {len} bytes, at most {max}")]
    InputTooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("entropy input too short: {len} bytes, at least {min}")]
    EntropyTooShort { len: usize, min: usize },
    #[error("nonce too short: {len} bytes, at least {min} (or an entropy input carrying the nonce's share)")]
    NonceTooShort { len: usize, min: usize },
    #[error("invalid reseed interval {requested}: must be between 1 and {max}")]
    InvalidReseedInterval { requested: u64, max: u64 },
}

/// One SP 800-90A DRBG instance. Instantiate is each mechanism's constructor.
pub trait Drbg: Send + fmt::Debug {
    fn mechanism(&self) -> DrbgMechanism;

    /// Reseed with fresh entropy input and optional additional input (empty = none).
    fn reseed(&mut self, entropy_input: &[u8], additional_input: &[u8]) -> Result<(), DrbgError>;

    /// Generate `out.len()` bytes with optional additional input (empty = none). Fails with
    /// [`DrbgError::ReseedRequired`] once [`Drbg::reseed_interval`] requests have been served since the last
    /// (re)seed, and with [`DrbgError::RequestTooLarge`] above [`MAX_BYTES_PER_REQUEST`]. On error nothing is
    /// written and the state is unchanged.
    fn generate(&mut self, out: &mut [u8], additional_input: &[u8]) -> Result<(), DrbgError>;

    /// Generate requests served since the last (re)seed, as SP 800-90A counts them (starts at 1).
    fn reseed_counter(&self) -> u64;

    /// Generate requests allowed between reseeds (1 ..= [`MAX_RESEED_INTERVAL`]).
    fn reseed_interval(&self) -> u64;
}

/// Checks one caller-supplied input against [`MAX_INPUT_LEN`].
fn check_input_len(what: &'static str, input: &[u8]) -> Result<(), DrbgError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(DrbgError::InputTooLong {
            what,
            len: input.len(),
            max: MAX_INPUT_LEN,
        });
    }
    Ok(())
}

/// Checks an entropy input for instantiate or reseed: long enough for the security strength, not too long.
fn check_entropy_input(entropy_input: &[u8]) -> Result<(), DrbgError> {
    check_input_len("entropy input", entropy_input)?;
    if entropy_input.len() < SECURITY_STRENGTH_BYTES {
        return Err(DrbgError::EntropyTooShort {
            len: entropy_input.len(),
            min: SECURITY_STRENGTH_BYTES,
        });
    }
    Ok(())
}

/// Checks the three instantiate inputs. The nonce may be short (or empty) only when the entropy input already
/// carries 3/2 of the security strength, as SP 800-90A 8.6.7 allows for a combined entropy-and-nonce draw.
fn check_instantiate_inputs(
    entropy_input: &[u8],
    nonce: &[u8],
    personalization: &[u8],
) -> Result<(), DrbgError> {
    check_entropy_input(entropy_input)?;
    check_input_len("nonce", nonce)?;
    check_input_len("personalization string", personalization)?;
    if nonce.len() < MIN_NONCE_LEN && entropy_input.len() + nonce.len() < MIN_COMBINED_SEED_LEN {
        return Err(DrbgError::NonceTooShort {
            len: nonce.len(),
            min: MIN_NONCE_LEN,
        });
    }
    Ok(())
}

/// Checks a generate request before any state changes.
fn check_generate(
    out_len: usize,
    additional_input: &[u8],
    reseed_counter: u64,
    interval: u64,
) -> Result<(), DrbgError> {
    if out_len > MAX_BYTES_PER_REQUEST {
        return Err(DrbgError::RequestTooLarge {
            requested: out_len,
            max: MAX_BYTES_PER_REQUEST,
        });
    }
    check_input_len("additional input", additional_input)?;
    if reseed_counter > interval {
        return Err(DrbgError::ReseedRequired);
    }
    Ok(())
}

/// Validates a reseed interval setting.
fn check_reseed_interval(interval: u64) -> Result<u64, DrbgError> {
    if interval == 0 || interval > MAX_RESEED_INTERVAL {
        return Err(DrbgError::InvalidReseedInterval {
            requested: interval,
            max: MAX_RESEED_INTERVAL,
        });
    }
    Ok(interval)
}
