//! ECDSA signing on P-256 and P-384 with a hedged RFC 6979 nonce.
//!
//! The nonce is k = RFC 6979 HMAC_DRBG(d, bits2field(h)) with a field-sized string of fresh pool bytes as the
//! "additional data" (RFC 6979 §3.6, the `rfc6979` crate's `KGenerator`, as `ecdsa::hazmat` uses it). A weak
//! pool alone or a fault in the derivation alone cannot repeat or bias k. The signature itself is the textbook
//! r = x(k·G) mod n, s = k⁻¹(z + r·d) mod n, with k·G from our fixed-base table ([`super::ec_fixed_base`], 15 %
//! faster than the curve crates' own table, BENCHMARKS.md issue #18) and the curve crate's constant-time
//! scalar inversion; `ecdsa::hazmat::sign_prehashed` computes the same with the crate's table, and the tests
//! check both against NIST CAVP and RFC 6979 vectors.
//!
//! Why not the crate's `SigningKey`: building one from a `SecretKey` computes the public key, a second full
//! scalar multiplication per signature, and its `sign_prehash_with_rng` takes the digest as is, while KMIP
//! clients may send a digest of any length (FIPS 186-5 truncates or left-pads it; under half the field size is
//! refused here). The signature is the textbook (r, s) with no low-S normalisation (`NORMALIZE_S` is false for
//! the NIST curves; ECDSA verifiers, OpenSSL included, accept both s and n - s).
//!
//! Constant time in d and k: the table lookup, the inversion and the scalar arithmetic are constant time; the
//! only branches are on public facts (k = 0 or r = 0 or s = 0, each with probability about 2⁻²⁵⁶, retried with
//! the next k as RFC 6979 prescribes).

use ecdsa::elliptic_curve::array::typenum::Unsigned;
use ecdsa::elliptic_curve::ff::PrimeField as _;
use ecdsa::elliptic_curve::group::Curve as _;
use ecdsa::elliptic_curve::ops::{Invert as _, Reduce};
use ecdsa::elliptic_curve::point::AffineCoordinates;
use ecdsa::elliptic_curve::{CurveArithmetic, FieldBytes, FieldBytesSize, NonZeroScalar};
use ecdsa::{EcdsaCurve, Signature};
use entropy::EntropyPool;
use sha2::digest::{block_api::BlockSizeUser, Digest};
use sha2::{Sha256, Sha384};
use zeroize::Zeroizing;

use super::ec_fixed_base::{self, FixedBaseTable};
use super::CryptoError;

/// A curve with the hash its RFC 6979 derivation uses (the one the `ecdsa` crate pairs with it, so nonces are
/// derived exactly as before).
trait HedgedCurve: EcdsaCurve + CurveArithmetic {
    type NonceDigest: Digest + BlockSizeUser;
    /// The fixed-base table k·G is computed with.
    fn generator_table() -> &'static FixedBaseTable<Self>;
}

impl HedgedCurve for p256::NistP256 {
    type NonceDigest = Sha256;
    fn generator_table() -> &'static FixedBaseTable<Self> {
        ec_fixed_base::p256_table()
    }
}

impl HedgedCurve for p384::NistP384 {
    type NonceDigest = Sha384;
    fn generator_table() -> &'static FixedBaseTable<Self> {
        ec_fixed_base::p384_table()
    }
}

/// Signs a message digest with a P-256 key (the digest of any length is truncated or left-padded to 32 bytes as
/// FIPS 186-5 prescribes; shorter than 16 bytes is refused).
pub fn sign_p256(
    pool: &EntropyPool,
    secret: &p256::SecretKey,
    prehash: &[u8],
) -> Result<p256::ecdsa::Signature, CryptoError> {
    sign_hedged::<p256::NistP256>(pool, &secret.to_nonzero_scalar(), prehash)
}

/// Signs a message digest with a P-384 key (digest handled as for [`sign_p256`], 48-byte field).
pub fn sign_p384(
    pool: &EntropyPool,
    secret: &p384::SecretKey,
    prehash: &[u8],
) -> Result<p384::ecdsa::Signature, CryptoError> {
    sign_hedged::<p384::NistP384>(pool, &secret.to_nonzero_scalar(), prehash)
}

/// [`sign_p256`] with hedging bytes the caller drew: the TLS handshake signer (`crate::tls::signing`) draws
/// them through the TLS randomness and its `[tls] on_entropy_failure` policy rather than the pool directly.
pub fn sign_p256_with_added_entropy(
    secret: &p256::SecretKey,
    prehash: &[u8],
    added_entropy: &[u8; 32],
) -> Result<p256::ecdsa::Signature, CryptoError> {
    sign_with_added_entropy::<p256::NistP256>(
        &secret.to_nonzero_scalar(),
        prehash,
        &FieldBytes::<p256::NistP256>::from(*added_entropy),
    )
}

/// [`sign_p384`] with hedging bytes the caller drew (see [`sign_p256_with_added_entropy`]).
pub fn sign_p384_with_added_entropy(
    secret: &p384::SecretKey,
    prehash: &[u8],
    added_entropy: &[u8; 48],
) -> Result<p384::ecdsa::Signature, CryptoError> {
    sign_with_added_entropy::<p384::NistP384>(
        &secret.to_nonzero_scalar(),
        prehash,
        &FieldBytes::<p384::NistP384>::from(*added_entropy),
    )
}

fn sign_hedged<C: HedgedCurve>(
    pool: &EntropyPool,
    d: &NonZeroScalar<C>,
    prehash: &[u8],
) -> Result<Signature<C>, CryptoError> {
    let mut added_entropy = Zeroizing::new(FieldBytes::<C>::default());
    pool.fill(&mut added_entropy)?;
    sign_with_added_entropy(d, prehash, &added_entropy)
}

fn sign_with_added_entropy<C: HedgedCurve>(
    d: &NonZeroScalar<C>,
    prehash: &[u8],
    added_entropy: &FieldBytes<C>,
) -> Result<Signature<C>, CryptoError> {
    let z = bits2field::<C>(prehash)?;
    Ok(sign_rfc6979(d, &z, added_entropy))
}

/// The RFC 6979 signature of the field-sized digest `z` with `additional_data` in the nonce derivation (§3.6;
/// empty: the deterministic nonce of RFC 6979's vectors).
fn sign_rfc6979<C: HedgedCurve>(
    d: &NonZeroScalar<C>,
    z: &FieldBytes<C>,
    additional_data: &[u8],
) -> Signature<C> {
    let order = C::ORDER;
    let mut nonces = rfc6979::KGenerator::<C::NonceDigest, C::Uint>::new(
        &d.to_repr(),
        z,
        additional_data,
        &order,
    );
    loop {
        let mut k_bytes = Zeroizing::new(FieldBytes::<C>::default());
        nonces.fill_next_k(&mut k_bytes);
        // `fill_next_k` only returns 0 < k < n; a zero r or s (probability ~2^-256) takes the next k.
        if let Some(k) = NonZeroScalar::<C>::from_repr(*k_bytes).into_option() {
            if let Some(signature) = sign_with_nonce(d, &k, z) {
                return signature;
            }
        }
    }
}

/// (r, s) for the nonce k and the digest z (already field-sized): r = x(k·G) mod n, s = k⁻¹(z + r·d) mod n;
/// `None` when r or s is zero.
fn sign_with_nonce<C: HedgedCurve>(
    d: &NonZeroScalar<C>,
    k: &NonZeroScalar<C>,
    z: &FieldBytes<C>,
) -> Option<Signature<C>> {
    let z = <C::Scalar as Reduce<FieldBytes<C>>>::reduce(z);
    let k_inverse = k.invert();
    let big_r = C::generator_table().mul(k).to_affine();
    let r = <C::Scalar as Reduce<FieldBytes<C>>>::reduce(&big_r.x());
    let s = *k_inverse * (z + r * d.as_ref());
    Signature::from_scalars(r, s).ok()
}

/// The digest as field bytes: its leftmost field-size bytes, or left-padded with zeros when shorter (the
/// integer value FIPS 186-5 §6.4.1 uses); under half the field size is refused, as `ecdsa` 0.16 did.
fn bits2field<C: HedgedCurve>(prehash: &[u8]) -> Result<FieldBytes<C>, CryptoError> {
    let size = FieldBytesSize::<C>::USIZE;
    if prehash.len() < size / 2 {
        return Err(CryptoError::InvalidInput(format!(
            "an ECDSA digest of {} bytes is too short for a {}-byte curve",
            prehash.len(),
            size
        )));
    }
    let mut field_bytes = FieldBytes::<C>::default();
    let used = prehash.len().min(size);
    field_bytes[size - used..].copy_from_slice(&prehash[..used]);
    Ok(field_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecdsa::elliptic_curve::ff::PrimeField;
    use ecdsa::elliptic_curve::sec1::{FromSec1Point, ModulusSize, ToSec1Point};
    use ecdsa::elliptic_curve::{AffinePoint, PublicKey};
    use ecdsa::hazmat::{sign_prehashed, sign_prehashed_rfc6979, verify_prehashed};

    fn hex(text: &str) -> Vec<u8> {
        hex::decode(text.trim()).expect("hex in the test data")
    }

    /// The records of a CAVP SigGen section: (Msg, d, Qx, Qy, k, R, S) as bytes.
    fn siggen_records(text: &str) -> Vec<[Vec<u8>; 7]> {
        let mut records = Vec::new();
        let mut fields: Vec<Vec<u8>> = Vec::new();
        for line in text.lines() {
            let Some((name, value)) = line.split_once(" = ") else {
                continue;
            };
            if name == "Msg" {
                fields.clear();
            }
            fields.push(hex(value));
            if name == "S" {
                let record: [Vec<u8>; 7] =
                    fields.clone().try_into().expect("seven fields a record");
                records.push(record);
            }
        }
        records
    }

    fn scalar<C: HedgedCurve>(bytes: &[u8]) -> NonZeroScalar<C> {
        let repr = FieldBytes::<C>::try_from(bytes).expect("field-sized scalar");
        Option::from(NonZeroScalar::<C>::from_repr(repr)).expect("canonical non-zero scalar")
    }

    fn check_siggen<C: HedgedCurve>(text: &str) -> usize
    where
        AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
        FieldBytesSize<C>: ModulusSize,
    {
        let records = siggen_records(text);
        for [msg, d, qx, qy, k, r, s] in &records {
            let d = scalar::<C>(d);
            let public = PublicKey::<C>::from_secret_scalar(&d).to_sec1_point(false);
            assert_eq!(public.x().unwrap().as_slice(), qx.as_slice(), "Qx for d");
            assert_eq!(public.y().unwrap().as_slice(), qy.as_slice(), "Qy for d");
            let z = bits2field::<C>(&C::NonceDigest::digest(msg)).unwrap();
            let (signature, _) = sign_prehashed::<C>(&d, &scalar::<C>(k), &z).unwrap();
            assert_eq!(signature.r().to_repr().as_slice(), r.as_slice(), "R");
            assert_eq!(signature.s().to_repr().as_slice(), s.as_slice(), "S");
            // Ours, with the fixed-base table: the same signature.
            let ours = sign_with_nonce::<C>(&d, &scalar::<C>(k), &z).unwrap();
            assert_eq!(ours, signature);
        }
        records.len()
    }

    #[test]
    fn nist_cavp_siggen_p256_sha256_signatures_are_reproduced_with_their_k() {
        let text = include_str!("../../tests/data/ecdsa/SigGen_P256_SHA256.rsp");
        assert_eq!(check_siggen::<p256::NistP256>(text), 15);
    }

    #[test]
    fn nist_cavp_siggen_p384_sha384_signatures_are_reproduced_with_their_k() {
        let text = include_str!("../../tests/data/ecdsa/SigGen_P384_SHA384.rsp");
        assert_eq!(check_siggen::<p384::NistP384>(text), 15);
    }

    /// RFC 6979 A.2.5 (P-256, SHA-256): without added entropy the nonce is the deterministic one.
    #[test]
    fn rfc6979_p256_sha256_vectors_are_reproduced_without_added_entropy() {
        let d = scalar::<p256::NistP256>(&hex(
            "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
        ));
        for (message, expected) in [
            (&b"sample"[..], "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"),
            (&b"test"[..], "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"),
        ] {
            let z = bits2field::<p256::NistP256>(&Sha256::digest(message)).unwrap();
            let (signature, _) = sign_prehashed_rfc6979::<p256::NistP256, Sha256>(&d, &z, &[]);
            assert_eq!(signature.to_bytes().as_slice(), hex(expected).as_slice());
            // Ours (fixed-base table, own nonce loop): the same deterministic signature.
            let ours = sign_rfc6979::<p256::NistP256>(&d, &z, &[]);
            assert_eq!(ours.to_bytes().as_slice(), hex(expected).as_slice());
        }
    }

    /// Hedged signatures verify for every digest length the server accepts, and two signatures of the same
    /// digest differ (the pool's bytes enter the nonce).
    #[test]
    fn hedged_signatures_verify_and_differ_for_the_same_digest() {
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let secret = p256::SecretKey::from_slice(&[7; 32]).unwrap();
        let secret384 = p384::SecretKey::from_slice(&[9; 48]).unwrap();
        for digest_len in [20usize, 28, 32, 48, 64] {
            let digest: Vec<u8> = (0..digest_len).map(|i| i as u8).collect();
            let first = sign_p256(&pool, &secret, &digest).unwrap();
            let second = sign_p256(&pool, &secret, &digest).unwrap();
            assert_ne!(first, second, "P-256, {digest_len}-byte digest");
            let z = bits2field::<p256::NistP256>(&digest).unwrap();
            let q = secret.public_key().to_projective();
            assert!(verify_prehashed(&q, &z, &first).is_ok());
            assert!(verify_prehashed(&q, &z, &second).is_ok());
            if digest_len >= 24 {
                let signature = sign_p384(&pool, &secret384, &digest).unwrap();
                let z = bits2field::<p384::NistP384>(&digest).unwrap();
                let q = secret384.public_key().to_projective();
                assert!(
                    verify_prehashed(&q, &z, &signature).is_ok(),
                    "P-384, {digest_len}"
                );
            }
        }
    }

    #[test]
    fn digests_shorter_than_half_the_field_are_refused() {
        assert!(matches!(
            bits2field::<p256::NistP256>(&[1; 15]),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(bits2field::<p256::NistP256>(&[1; 16]).is_ok());
        assert!(matches!(
            bits2field::<p384::NistP384>(&[1; 23]),
            Err(CryptoError::InvalidInput(_))
        ));
    }
}
