//! Constant-time fixed-base scalar multiplication k·G for P-256 and P-384, from a table of multiples of the
//! generator built once per process.
//!
//! Why this exists: `p256`/`p384` 0.13 compute k·G as a variable-base multiplication (about 256 doublings and
//! 64 additions for P-256), and ECDSA signing spends most of its time there. The newer `p256`/`p384` 0.14 have
//! precomputed base-point tables, but they belong to the next RustCrypto generation (`elliptic-curve` 0.14,
//! `hybrid-array`, a newer `rand_core`), which the workspace has not moved to; `ring` and `aws-lc-rs` draw ECDSA
//! nonces from their own sealed RNG, which our entropy rules exclude. So this module keeps the 0.13 field and
//! point arithmetic and only replaces how k·G is scheduled.
//!
//! Method (the signed radix-16 fixed-base method of curve25519-dalek's basepoint tables): the scalar is recoded
//! into W = ⌈bits/4⌉ + 1 signed digits d_i ∈ [-8, 8] with k = Σ d_i·16^i, and the table holds, for every i,
//! the affine points j·16^i·G for j = 1..=8. Then k·G = Σ d_i·16^i·G costs W mixed additions and no doublings
//! (65 additions for P-256 instead of ~320 point operations).
//!
//! Constant time: the recoding is branch-free integer arithmetic; every window reads *all eight* entries and keeps
//! the wanted one with `subtle::ConditionallySelectable` (no secret-dependent index or branch), negates with a
//! conditional select, and the mixed addition used (`primeorder`'s complete formulas) handles the identity
//! (digit 0) without branching. The table itself depends only on the public generator.

use std::sync::OnceLock;

use p256::elliptic_curve::ff::PrimeField as _;
use p256::elliptic_curve::group::prime::PrimeCurveAffine;
use p256::elliptic_curve::group::{Curve as _, Group as _};
use p256::elliptic_curve::{CurveArithmetic, PrimeCurveArithmetic};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

/// Entries per window: the multiples 1..=8 of the window's base 16^i·G (digit magnitudes after signed recoding).
const ENTRIES_PER_WINDOW: usize = 8;

/// The affine multiples j·16^i·G (j = 1..=8) for every window i of one curve.
struct FixedBaseTable<C: CurveArithmetic> {
    windows: Vec<[C::AffinePoint; ENTRIES_PER_WINDOW]>,
}

impl<C> FixedBaseTable<C>
where
    C: PrimeCurveArithmetic,
    C::AffinePoint: PrimeCurveAffine + std::ops::Neg<Output = C::AffinePoint>,
{
    /// Builds the table for a scalar of `scalar_bytes` bytes (⌈bits/4⌉ + 1 windows; the extra one takes the
    /// carry out of the top digit's recoding).
    fn new(scalar_bytes: usize) -> Self {
        let window_count = 2 * scalar_bytes + 1;
        let mut projective = Vec::with_capacity(window_count * ENTRIES_PER_WINDOW);
        let mut base = C::ProjectivePoint::generator();
        for _ in 0..window_count {
            let mut multiple = base;
            for _ in 0..ENTRIES_PER_WINDOW {
                projective.push(multiple);
                multiple += base;
            }
            // 16^(i+1)·G = 16·(16^i·G); `multiple` is now 9·base, so double the base four times.
            base = base.double().double().double().double();
        }
        let mut affine = vec![C::AffinePoint::default(); projective.len()];
        C::ProjectivePoint::batch_normalize(&projective, &mut affine);
        let windows = affine
            .chunks_exact(ENTRIES_PER_WINDOW)
            .map(|chunk| {
                let mut window = [C::AffinePoint::default(); ENTRIES_PER_WINDOW];
                window.copy_from_slice(chunk);
                window
            })
            .collect();
        Self { windows }
    }

    /// k·G for the scalar whose little-endian bytes are `scalar_le` (fixed length for the curve).
    fn mul(&self, scalar_le: &[u8]) -> C::ProjectivePoint {
        let mut digits = signed_radix16_digits(scalar_le);
        debug_assert_eq!(digits.len(), self.windows.len());
        let mut sum = C::ProjectivePoint::identity();
        for (window, &digit) in self.windows.iter().zip(digits.iter()) {
            sum += select_multiple::<C>(window, digit);
        }
        digits.zeroize();
        sum
    }
}

/// `digit`·(window base) read in constant time: every entry is touched, the match is kept by a mask.
fn select_multiple<C>(window: &[C::AffinePoint; ENTRIES_PER_WINDOW], digit: i8) -> C::AffinePoint
where
    C: PrimeCurveArithmetic,
    C::AffinePoint: PrimeCurveAffine + std::ops::Neg<Output = C::AffinePoint>,
{
    // mask = -1 for a negative digit, 0 otherwise; |digit| = (digit ^ mask) - mask, all without branches.
    let mask = digit >> 7;
    let magnitude = ((digit ^ mask).wrapping_sub(mask)) as u8;
    let is_negative = Choice::from((mask & 1) as u8);
    let mut selected = C::AffinePoint::identity();
    for (j, entry) in (1u8..).zip(window.iter()) {
        selected.conditional_assign(entry, magnitude.ct_eq(&j));
    }
    let negated = -selected;
    selected.conditional_assign(&negated, is_negative);
    selected
}

/// Recodes a little-endian scalar into signed base-16 digits d_i ∈ [-8, 8) (the last one ∈ {0, 1}) with
/// Σ d_i·16^i equal to the scalar: one more digit than nibbles, to hold the final carry.
fn signed_radix16_digits(scalar_le: &[u8]) -> Vec<i8> {
    let mut digits = vec![0i8; 2 * scalar_le.len() + 1];
    for (i, byte) in scalar_le.iter().enumerate() {
        digits[2 * i] = (byte & 0x0f) as i8;
        digits[2 * i + 1] = (byte >> 4) as i8;
    }
    // Each digit is in [0, 16] before its turn (a nibble plus a carry of at most 1); subtract 16 when it is
    // >= 8 and carry 1 upwards. `(d + 8) >> 4` is that carry, computed without a branch.
    for i in 0..digits.len() - 1 {
        let carry = (digits[i] + 8) >> 4;
        digits[i] -= carry << 4;
        digits[i + 1] += carry;
    }
    digits
}

fn p256_table() -> &'static FixedBaseTable<p256::NistP256> {
    static TABLE: OnceLock<FixedBaseTable<p256::NistP256>> = OnceLock::new();
    TABLE.get_or_init(|| FixedBaseTable::new(32))
}

fn p384_table() -> &'static FixedBaseTable<p384::NistP384> {
    static TABLE: OnceLock<FixedBaseTable<p384::NistP384>> = OnceLock::new();
    TABLE.get_or_init(|| FixedBaseTable::new(48))
}

/// Builds both tables now instead of on the first signature: measured ≈ 3 ms for P-256 and ≈ 125 ms for P-384
/// (`p384` 0.13's batch normalisation inverts each of the 776 points separately), once per process.
pub fn warm_up() {
    p256_table();
    p384_table();
}

/// k·G on P-256, constant time in `k`.
pub fn p256_mul_generator(k: &p256::Scalar) -> p256::ProjectivePoint {
    let mut scalar_le = [0u8; 32];
    scalar_le.copy_from_slice(&k.to_repr());
    scalar_le.reverse();
    let point = p256_table().mul(&scalar_le);
    scalar_le.zeroize();
    point
}

/// k·G on P-384, constant time in `k`.
pub fn p384_mul_generator(k: &p384::Scalar) -> p384::ProjectivePoint {
    let mut scalar_le = [0u8; 48];
    scalar_le.copy_from_slice(&k.to_repr());
    scalar_le.reverse();
    let point = p384_table().mul(&scalar_le);
    scalar_le.zeroize();
    point
}

/// The public key of a P-256 secret key, computed with the table (`SecretKey::public_key` multiplies
/// variable-base, ~4x slower: it was two thirds of a Sign's server time, called to parse and check stored keys).
pub fn p256_public_key(secret: &p256::SecretKey) -> p256::PublicKey {
    let point = p256_mul_generator(&secret.to_nonzero_scalar());
    p256::PublicKey::from_affine(point.to_affine())
        .expect("k·G for a non-zero k below the group order is never the identity")
}

/// The public key of a P-384 secret key, computed with the table (see [`p256_public_key`]).
pub fn p384_public_key(secret: &p384::SecretKey) -> p384::PublicKey {
    let point = p384_mul_generator(&secret.to_nonzero_scalar());
    p384::PublicKey::from_affine(point.to_affine())
        .expect("k·G for a non-zero k below the group order is never the identity")
}

/// The variable-base multiplication the crates use, kept to compare against in tests.
#[cfg(test)]
fn reference<C: CurveArithmetic>(k: &C::Scalar) -> C::ProjectivePoint {
    use p256::elliptic_curve::ops::MulByGenerator;
    C::ProjectivePoint::mul_by_generator(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::ff::PrimeField;
    use proptest::prelude::*;

    fn p256_edge_scalars() -> Vec<p256::Scalar> {
        let mut scalars = vec![p256::Scalar::ZERO, p256::Scalar::ONE, -p256::Scalar::ONE];
        let mut power = p256::Scalar::ONE;
        for _ in 0..256 {
            scalars.push(power);
            scalars.push(-power);
            scalars.push(power - p256::Scalar::ONE);
            power = power.double();
        }
        // Every nibble 8 (the recoding's carry boundary) and every nibble 0xf.
        scalars.push(p256::Scalar::from_repr([0x88; 32].into()).unwrap());
        scalars.push(p256::Scalar::from_repr([0x77; 32].into()).unwrap());
        scalars.push(-p256::Scalar::from(2u64).invert().unwrap());
        scalars
    }

    #[test]
    fn p256_table_matches_variable_base_on_edge_scalars() {
        for k in p256_edge_scalars() {
            assert_eq!(
                p256_mul_generator(&k).to_affine(),
                reference::<p256::NistP256>(&k).to_affine(),
                "k = {k:?}"
            );
        }
    }

    #[test]
    fn p384_table_matches_variable_base_on_edge_scalars() {
        let mut scalars = vec![p384::Scalar::ZERO, p384::Scalar::ONE, -p384::Scalar::ONE];
        let mut power = p384::Scalar::ONE;
        for _ in 0..384 {
            scalars.extend([power, -power, power - p384::Scalar::ONE]);
            power = power.double();
        }
        scalars.push(p384::Scalar::from_repr([0x88; 48].into()).unwrap());
        for k in scalars {
            assert_eq!(
                p384_mul_generator(&k).to_affine(),
                reference::<p384::NistP384>(&k).to_affine(),
                "k = {k:?}"
            );
        }
    }

    #[test]
    fn recoding_stays_in_range_and_sums_to_the_scalar() {
        for k in p256_edge_scalars() {
            let mut le: [u8; 32] = k.to_repr().into();
            le.reverse();
            let digits = signed_radix16_digits(&le);
            assert!(
                digits[..64].iter().all(|d| (-8..8).contains(d)),
                "{digits:?}"
            );
            assert!((0..=1).contains(&digits[64]));
            // Σ d_i·16^i, evaluated in the scalar field.
            let sixteen = p256::Scalar::from(16u64);
            let value = digits.iter().rev().fold(p256::Scalar::ZERO, |acc, &d| {
                let magnitude = p256::Scalar::from(u64::from(d.unsigned_abs()));
                acc * sixteen + if d < 0 { -magnitude } else { magnitude }
            });
            assert_eq!(value, k);
        }
    }

    proptest! {
        #[test]
        fn p256_table_matches_variable_base_on_random_scalars(bytes in any::<[u8; 32]>()) {
            let k = <p256::Scalar as p256::elliptic_curve::ops::Reduce<p256::U256>>::reduce_bytes(&bytes.into());
            prop_assert_eq!(p256_mul_generator(&k).to_affine(), reference::<p256::NistP256>(&k).to_affine());
        }

        #[test]
        fn p384_table_matches_variable_base_on_random_scalars(bytes in proptest::collection::vec(any::<u8>(), 48)) {
            let k = <p384::Scalar as p384::elliptic_curve::ops::Reduce<p384::elliptic_curve::bigint::U384>>::reduce_bytes(
                &p384::FieldBytes::clone_from_slice(&bytes),
            );
            prop_assert_eq!(p384_mul_generator(&k).to_affine(), reference::<p384::NistP384>(&k).to_affine());
        }
    }
}
