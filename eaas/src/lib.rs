//! qkms entropy as a service: random bytes over HTTPS in a signed, timestamped, chained envelope.
//!
//! A client asks `GET /v1/random?bytes=N&nonce=HEX` on a qkms server's HTTPS listener (mutual TLS) and gets an
//! [`Envelope`]: the bytes, the client's nonce, the server's time and sequence number, the hash of the server's
//! previous envelope, where the bytes' entropy came from, and an Ed25519 signature by a key whose certificate the
//! qkms CA issued. [`verify`] checks all of it; [`fetch`] asks and verifies in one call.
//!
//! ```no_run
//! # async fn demo(tls: std::sync::Arc<rustls::ClientConfig>, ca: rustls::pki_types::CertificateDer<'static>)
//! # -> Result<(), eaas::EaasError> {
//! let nonce = "00112233445566778899aabbccddeeff"; // fresh random bytes from your own generator
//! let envelope = eaas::fetch(tls, "localhost:8443", "localhost", 32, nonce).await?;
//! let checks = eaas::VerifyOptions::new(vec![ca]).expect_nonce(nonce);
//! let verified = eaas::verify(&envelope, &checks)?;
//! assert_eq!(verified.data.len(), 32);
//! # Ok(()) }
//! ```
//!
//! With `&encrypt=KEYID` ([`fetch_encrypted`]) the server encrypts the bytes with HPKE ([`hpke`]) to an X25519
//! public key the tenant registered through KMIP, so they stay secret past a TLS-terminating proxy; give
//! [`VerifyOptions::decryption_key`] to get them back.
//!
//! Several server nodes each sign with their own key and keep their own chain: `server` names the node, and a
//! client that follows chains keeps the last envelope per `server` (see the README, "Entropy as a service").

mod envelope;
mod fetch;
pub mod hpke;
mod pulse;
mod verify;

pub use envelope::{
    chain_hash, Envelope, EnvelopeEncryption, EnvelopeProvenance, ALGORITHM_ED25519,
    ENVELOPE_HEADER, ENVELOPE_VERSION, GENESIS_PREVIOUS,
};
pub use fetch::{fetch, fetch_encrypted};
pub use pulse::{verify_pulse, Pulse, GENESIS_PULSE};
pub use verify::{verify, Verified, VerifyOptions};

/// Why an envelope was refused, or a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum EaasError {
    #[error("malformed envelope: {0}")]
    Malformed(String),
    #[error("the signing certificate does not chain to the given CA: {0}")]
    Certificate(String),
    #[error("the signature does not verify: the envelope was altered or not signed by its certificate's key")]
    Signature,
    #[error("the nonce is {found:?}, not the {expected:?} this request sent: a replayed or misrouted envelope")]
    Nonce { expected: String, found: String },
    #[error("the envelope's time {time} is {skew_secs} s from this machine's clock, more than the {allowed_secs} s allowed: stale or replayed")]
    Stale {
        time: String,
        skew_secs: i64,
        allowed_secs: u64,
    },
    #[error("the chain link is broken: {0}")]
    Chain(String),
    #[error("the data does not match the envelope: {0}")]
    Data(String),
    #[error("the encrypted data does not open: {0}")]
    Decryption(String),
    #[error("the server refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("transport: {0}")]
    Transport(String),
}
