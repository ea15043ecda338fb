//! The X25519 function of RFC 7748 §5, computed on the birationally equivalent Edwards curve where it can be.
//!
//! Why: `x25519-dalek` computes `X25519(k, u)` with curve25519-dalek's portable 64-bit Montgomery ladder, about a
//! quarter of a whole TLS handshake's CPU on both sides (BENCHMARKS.md, issue #18). curve25519-dalek's Edwards
//! variable-base multiplication instead dispatches at run time to its AVX2 backend (parallel Hisil-Wong-Carter-
//! Dawson formulas, four field elements per vector) when the CPU has AVX2, and is faster even with the two
//! field inversions and the square root the conversions cost; `benches/x25519.rs` measures both.
//!
//! Why it gives the same bytes: the Montgomery u-coordinate u maps to the Edwards point with y = (u - 1)/(u + 1)
//! and either sign of x (`MontgomeryPoint::to_edwards`); [k]P and [k](-P) share their u-coordinate, and the
//! map back (u = (1 + y)/(1 - y), `to_montgomery`) sends the identity to u = 0 as the ladder does. The input is
//! read as the ladder reads it (top bit masked, non-canonical values reduced modulo p) and the scalar is
//! clamped the same way (`mul_clamped`). A u-coordinate with no point on the curve (a point on the quadratic
//! twist, u = -1 among them) has no Edwards point: that input goes to the ladder itself, which RFC 7748 defines
//! for every u. `tests/tls_x25519_function.rs` checks equality with the ladder on RFC 7748's vectors, every
//! low-order point, twist points and random inputs.
//!
//! Constant time: the one branch (curve or twist) depends on the peer's public value only; both paths are
//! constant time in the secret scalar (curve25519-dalek's windowed multiplication reads its table with
//! conditional selects; the ladder swaps conditionally), and the conversions are constant-time field arithmetic
//! (inversion by a fixed addition chain). The AVX-512 IFMA/AVX2/serial dispatch depends on the CPU only.
//!
//! A server computes its public value and the shared secret together ([`public_and_shared`]): both Edwards
//! points go back to u-coordinates through one batched inversion (Montgomery's trick, curve25519-dalek's
//! `to_montgomery_batch`), one inversion fewer per handshake. The batch leaves a zero denominator (the
//! identity, from a low-order peer) at zero, so each result is still exactly the single conversion's.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use zeroize::Zeroize;

/// `X25519(scalar, u)`: the u-coordinate of [clamp(scalar)]·P for the point P with u-coordinate `u` (on the
/// curve or its twist), as RFC 7748 §5 defines it. The all-zero result (a low-order input) is the caller's to
/// refuse.
pub fn x25519(scalar: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    let point = MontgomeryPoint(u);
    match point.to_edwards(0) {
        Some(edwards) => edwards.mul_clamped(scalar).to_montgomery().to_bytes(),
        None => point.mul_clamped(scalar).to_bytes(),
    }
}

/// `(X25519(scalar, 9), X25519(scalar, u))`: our public value and the shared secret with the peer's `u`, as
/// [`x25519`] computes each, the two conversions back to u-coordinates sharing one field inversion. The
/// all-zero shared secret is the caller's to refuse.
pub fn public_and_shared(scalar: [u8; 32], u: [u8; 32]) -> ([u8; 32], [u8; 32]) {
    let public = EdwardsPoint::mul_base_clamped(scalar);
    let point = MontgomeryPoint(u);
    match point.to_edwards(0) {
        Some(edwards) => {
            let shared = edwards.mul_clamped(scalar);
            // One u-coordinate per point, in order; the heap copy of the secret is wiped before it is freed.
            let mut both = EdwardsPoint::to_montgomery_batch(&[public, shared]);
            let values = (both[0].to_bytes(), both[1].to_bytes());
            both.zeroize();
            values
        }
        None => (
            public.to_montgomery().to_bytes(),
            point.mul_clamped(scalar).to_bytes(),
        ),
    }
}
