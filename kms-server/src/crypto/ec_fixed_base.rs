//! Constant-time fixed-base scalar multiplication k·G for P-256 and P-384 from a table of affine multiples of
//! the generator, built once per process: the k·G of every ECDSA signature ([`super::ecdsa_hedged`]), the TLS
//! server's CertificateVerify included.
//!
//! Why our own table when `p256`/`p384` 0.14 have one (`precomputed-tables`): theirs stores projective points
//! 8·16 bits apart and pays 64 full projective additions plus 4 doublings; this one stores the affine points
//! j·16^i·G for every nibble position i, so k·G is 65 mixed additions (an affine point added to a projective
//! one, cheaper than a full addition) and no doubling, for a table of 33 KiB (P-256) instead of 25 KiB.
//! Measured (BENCHMARKS.md, issue #18, thread CPU time): P-256 k·G 26.0 µs against the crate table's 30.8 µs,
//! P-384 91.5 against 108.5 µs; 4 µs of every TLS handshake's server CPU, kept because the handshake goal (90 %
//! of ring's rate) is not met yet and this is one of its few levers. Issue #13 deleted the 0.13 version of this
//! file; on 0.13's field arithmetic it ran at 16 µs, twice the 0.14 table's speed: most of that gap was the
//! field arithmetic, not the table.
//!
//! Method (the signed radix-16 fixed-base method of curve25519-dalek's base-point tables): the scalar is recoded
//! into ⌈bits/4⌉ + 1 signed digits d_i ∈ [-8, 8] with k = Σ d_i·16^i, then k·G = Σ d_i·(16^i·G).
//!
//! Constant time: the recoding is branch-free integer arithmetic; every window reads *all eight* entries and
//! keeps the wanted one with `subtle::ConditionallySelectable` (no secret-dependent index or branch), negates
//! with a conditional select, and the mixed addition (`primeorder`'s complete formulas) handles the identity
//! (digit 0) without branching. The table depends only on the public generator.

use std::ops::Neg;
use std::sync::OnceLock;

use p256::elliptic_curve::ff::PrimeField;
use p256::elliptic_curve::group::{Curve as CurveGroup, Group};
use p256::elliptic_curve::CurveArithmetic;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

/// Entries per window: the multiples 1..=8 of the window's base 16^i·G (digit magnitudes after recoding).
const ENTRIES_PER_WINDOW: usize = 8;

/// The affine multiples j·16^i·G (j = 1..=8) for every window i of one curve.
pub struct FixedBaseTable<C: CurveArithmetic> {
    windows: Vec<[C::AffinePoint; ENTRIES_PER_WINDOW]>,
}

impl<C: CurveArithmetic> std::fmt::Debug for FixedBaseTable<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedBaseTable")
            .field("windows", &self.windows.len())
            .finish()
    }
}

impl<C: CurveArithmetic> FixedBaseTable<C>
where
    C::AffinePoint: Neg<Output = C::AffinePoint>,
{
    /// Builds the table for scalars of `scalar_bytes` bytes (⌈bits/4⌉ + 1 windows; the extra one takes the carry
    /// out of the top digit's recoding). One batch inversion for all points.
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
            // 16^(i+1)·G = 16·(16^i·G).
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

    /// k·G for the scalar whose big-endian representation (`PrimeField::to_repr`) is `k`.
    pub fn mul(&self, k: &C::Scalar) -> C::ProjectivePoint {
        let mut repr = k.to_repr();
        let repr_bytes: &mut [u8] = repr.as_mut();
        let mut scalar_le: Vec<u8> = repr_bytes.iter().rev().copied().collect();
        repr_bytes.zeroize();
        let mut digits = signed_radix16_digits(&scalar_le);
        debug_assert_eq!(digits.len(), self.windows.len());
        let mut sum = C::ProjectivePoint::identity();
        for (window, &digit) in self.windows.iter().zip(digits.iter()) {
            sum += select_multiple::<C>(window, digit);
        }
        digits.zeroize();
        scalar_le.zeroize();
        sum
    }
}

/// `digit`·(window base) read in constant time: every entry is touched, the match is kept by a mask.
fn select_multiple<C: CurveArithmetic>(
    window: &[C::AffinePoint; ENTRIES_PER_WINDOW],
    digit: i8,
) -> C::AffinePoint
where
    C::AffinePoint: Neg<Output = C::AffinePoint>,
{
    // mask = -1 for a negative digit, 0 otherwise; |digit| = (digit ^ mask) - mask, all without branches.
    let mask = digit >> 7;
    let magnitude = ((digit ^ mask).wrapping_sub(mask)) as u8;
    let is_negative = Choice::from((mask & 1) as u8);
    // `Default` is the identity (point at infinity) for the `primeorder` curves.
    let mut selected = C::AffinePoint::default();
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

/// The P-256 table (65 windows), built on first use.
pub fn p256_table() -> &'static FixedBaseTable<p256::NistP256> {
    static TABLE: OnceLock<FixedBaseTable<p256::NistP256>> = OnceLock::new();
    TABLE.get_or_init(|| FixedBaseTable::new(32))
}

/// The P-384 table (97 windows), built on first use.
pub fn p384_table() -> &'static FixedBaseTable<p384::NistP384> {
    static TABLE: OnceLock<FixedBaseTable<p384::NistP384>> = OnceLock::new();
    TABLE.get_or_init(|| FixedBaseTable::new(48))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::ops::Reduce;
    use proptest::prelude::*;

    fn p256_edge_scalars() -> Vec<p256::Scalar> {
        let mut scalars = vec![p256::Scalar::ZERO, p256::Scalar::ONE, -p256::Scalar::ONE];
        let mut power = p256::Scalar::ONE;
        for _ in 0..256 {
            scalars.extend([power, -power, power - p256::Scalar::ONE]);
            power = power.double();
        }
        // Every nibble 8 (the recoding's carry boundary) and every nibble 7.
        scalars.push(p256::Scalar::from_repr([0x88; 32].into()).unwrap());
        scalars.push(p256::Scalar::from_repr([0x77; 32].into()).unwrap());
        scalars.push(-p256::Scalar::from(2u64).invert().unwrap());
        scalars
    }

    #[test]
    fn p256_table_matches_the_crate_on_edge_scalars() {
        for k in p256_edge_scalars() {
            assert_eq!(
                p256_table().mul(&k).to_affine(),
                p256::ProjectivePoint::mul_by_generator(&k).to_affine(),
                "k = {k:?}"
            );
        }
    }

    #[test]
    fn p384_table_matches_the_crate_on_edge_scalars() {
        let mut scalars = vec![p384::Scalar::ZERO, p384::Scalar::ONE, -p384::Scalar::ONE];
        let mut power = p384::Scalar::ONE;
        for _ in 0..384 {
            scalars.extend([power, -power, power - p384::Scalar::ONE]);
            power = power.double();
        }
        scalars.push(p384::Scalar::from_repr([0x88; 48].into()).unwrap());
        for k in scalars {
            assert_eq!(
                p384_table().mul(&k).to_affine(),
                p384::ProjectivePoint::mul_by_generator(&k).to_affine(),
                "k = {k:?}"
            );
        }
    }

    #[test]
    fn recoding_stays_in_range_and_sums_to_the_scalar() {
        for k in p256_edge_scalars() {
            let le: Vec<u8> = k.to_repr().iter().rev().copied().collect();
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
        fn p256_table_matches_the_crate_on_random_scalars(bytes in any::<[u8; 32]>()) {
            let k = p256::Scalar::reduce(&p256::FieldBytes::from(bytes));
            prop_assert_eq!(
                p256_table().mul(&k).to_affine(),
                p256::ProjectivePoint::mul_by_generator(&k).to_affine()
            );
        }

        #[test]
        fn p384_table_matches_the_crate_on_random_scalars(bytes in proptest::collection::vec(any::<u8>(), 48)) {
            let k = p384::Scalar::reduce(&p384::FieldBytes::try_from(bytes.as_slice()).unwrap());
            prop_assert_eq!(
                p384_table().mul(&k).to_affine(),
                p384::ProjectivePoint::mul_by_generator(&k).to_affine()
            );
        }
    }
}
