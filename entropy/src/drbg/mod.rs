//! SP 800-90A Rev. 1 deterministic random bit generators.

use std::fmt;

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
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DrbgError {
    #[error("reseed required: the reseed counter reached the reseed interval")]
    ReseedRequired,
    #[error("request too large: {requested} bytes, at most {max} per request")]
    RequestTooLarge { requested: usize, max: usize },
    #[error("input too long: {what} is {len} bytes, at most {max}")]
    InputTooLong { what: &'static str, len: usize, max: usize },
    #[error("entropy input too short: {len} bytes, at least {min}")]
    EntropyTooShort { len: usize, min: usize },
}

/// One SP 800-90A DRBG instance. Instantiate is each mechanism's constructor.
pub trait Drbg: Send + fmt::Debug {
    fn mechanism(&self) -> DrbgMechanism;

    /// Reseed with fresh entropy input and optional additional input (empty = none).
    fn reseed(&mut self, entropy_input: &[u8], additional_input: &[u8]) -> Result<(), DrbgError>;

    /// Generate `out.len()` bytes with optional additional input (empty = none).
    fn generate(&mut self, out: &mut [u8], additional_input: &[u8]) -> Result<(), DrbgError>;

    /// Generate requests served since the last (re)seed, as SP 800-90A counts them (starts at 1).
    fn reseed_counter(&self) -> u64;
}
