//! Cryptographic primitives for the KMIP handlers: plain functions with typed errors, every random byte (keys,
//! IVs, nonces, salts, blinding, serial numbers) drawn from the `entropy` pool.
//!
//! One file per concern: [`keygen`] (key generation and the key types), [`key_formats`] (PKCS#1, PKCS#8, SEC1,
//! SubjectPublicKeyInfo, transparent components), [`symmetric`] (AES modes), [`chacha`] (ChaCha20 and
//! ChaCha20-Poly1305), [`asymmetric`] (RSA encryption), [`signature`], [`mac`], [`hash`], [`wrap`] (AES key
//! wrap, RSA-OAEP wrap), [`certificate`] (X.509 issuance), and the post-quantum [`ml_kem`] (FIPS 203) and
//! [`ml_dsa`] (FIPS 204).

pub mod asymmetric;
pub mod certificate;
pub mod chacha;
pub mod derivation;
pub mod ec_fixed_base;
pub mod ecdsa_hedged;
mod gcm;
pub mod hash;
pub mod key_formats;
pub mod keygen;
pub mod mac;
pub mod ml_dsa;
mod ml_dsa_message;
pub mod ml_kem;
mod pq_keys;
pub mod rsa_params;
pub mod secret_sharing;
pub mod signature;
pub mod symmetric;
pub mod wrap;

pub use hash::HashAlgorithm;
pub use keygen::{EcCurve, KeyPairSpec, PrivateKey, PublicKey};

use entropy::EntropyError;

/// Why a cryptographic primitive refused. Messages name what was wrong but never contain key material; a failed
/// decryption or unwrap says only that it failed (no padding or tag oracle).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CryptoError {
    /// The entropy pool failed closed: no key, IV or nonce was produced.
    #[error("the entropy pool refused the draw: {0}")]
    Entropy(#[from] EntropyError),
    /// The algorithm, mode, key size or parameter combination is not supported.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The key does not fit the operation (wrong length, wrong type, inconsistent components).
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The input does not fit the operation (IV length, data length, tag length, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An encoding could not be parsed (`what` names the format).
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// Authenticated decryption, padding removal or RSA decryption failed.
    #[error("decryption failed")]
    DecryptionFailed,
    /// An AES key unwrap failed its integrity check.
    #[error("key unwrap failed: integrity check value mismatch")]
    UnwrapFailed,
    /// A certificate signing request's signature does not verify.
    #[error("the certificate signing request's signature does not verify")]
    CsrSignatureInvalid,
    /// Building or signing a certificate failed.
    #[error("certificate issuance failed: {0}")]
    Certificate(String),
}

impl CryptoError {
    pub(crate) fn malformed(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::Malformed {
            what,
            reason: reason.to_string(),
        }
    }
}
