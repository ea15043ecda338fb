//! rustls key-exchange groups whose ephemeral secrets come from the provider's random source (the pool, see
//! [`super::randomness`]), never from an implementation's own generator: X25519MLKEM768 (hybrid, offered
//! first), X25519, secp256r1, secp384r1.
//!
//! Why our own groups instead of ring's: ring draws its ephemeral keys from the OS (`SystemRandom`) and offers
//! no way to hand it another generator, and it has no ML-KEM. Each group here draws its secret as bytes from
//! the source and derives the key deterministically from them (X25519 scalar, NIST scalar by rejection
//! sampling, ML-KEM-768 seed `d || z` and encapsulation message `m`), so the same bytes give the same key
//! share: `tests/tls_groups.rs` proves it with a deterministic source. The arithmetic is RustCrypto's
//! (`curve25519-dalek`, `p256`, `p384`, `ml-kem`); one file per family, and the X25519 function itself in
//! [`x25519_function`] (Edwards form, vectorised).

mod nist;
mod x25519;
pub mod x25519_function;
mod x25519_mlkem768;

use rustls::crypto::{SecureRandom, SupportedKxGroup};
use rustls::{Error, PeerMisbehaved};

pub use nist::{Secp256r1, Secp384r1};
pub use x25519::X25519;
pub use x25519_mlkem768::X25519MlKem768;

/// The groups in qkms' preference order (hybrid first), each drawing from `random`. The groups are leaked:
/// rustls takes `&'static dyn SupportedKxGroup`, and a provider lives as long as the process (the pool caches
/// its providers).
pub fn all_groups(random: &'static dyn SecureRandom) -> Vec<&'static dyn SupportedKxGroup> {
    vec![
        Box::leak(Box::new(X25519MlKem768::new(random))),
        Box::leak(Box::new(X25519::new(random))),
        Box::leak(Box::new(Secp256r1::new(random))),
        Box::leak(Box::new(Secp384r1::new(random))),
    ]
}

/// Fills `buf` from the group's source; a refusal fails the handshake.
fn draw(random: &dyn SecureRandom, buf: &mut [u8]) -> Result<(), Error> {
    random.fill(buf).map_err(|_| Error::FailedToGetRandomBytes)
}

/// The peer's key share is malformed or not a valid public key.
fn invalid_share() -> Error {
    Error::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare)
}
