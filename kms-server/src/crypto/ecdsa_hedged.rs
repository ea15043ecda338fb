//! ECDSA signing on P-256 and P-384 with a hedged RFC 6979 nonce and the fixed-base table for k·G.
//!
//! The nonce is the one `ecdsa` 0.16's `sign_prehash_with_rng` derives: k = RFC 6979 HMAC_DRBG(d, bits2field(h))
//! with a field-sized string of fresh pool bytes as the "additional data" (RFC 6979 §3.6). A weak pool alone or a
//! fault in the derivation alone cannot repeat or bias k.
//!
//! Why not the crate's `SigningKey`: building one from a `SecretKey` computes the public key, a second full
//! scalar multiplication per signature, and its k·G is variable-base. Here k·G comes from
//! [`super::ec_fixed_base`] and nothing else is computed. The signature is the textbook (r, s) with no low-S
//! normalisation, as before (ECDSA verifiers, OpenSSL included, accept both s and n - s).

use ecdsa::elliptic_curve::generic_array::typenum::Unsigned;
use ecdsa::elliptic_curve::ops::{Invert, Reduce};
use ecdsa::elliptic_curve::point::AffineCoordinates;
use ecdsa::elliptic_curve::{
    group::Curve as _, CurveArithmetic, FieldBytes, FieldBytesEncoding, FieldBytesSize, PrimeCurve,
    PrimeField, Scalar,
};
use ecdsa::{Signature, SignatureSize};
use entropy::EntropyPool;
use p256::elliptic_curve::generic_array::ArrayLength;
use sha2::digest::{core_api::BlockSizeUser, Digest, FixedOutput, FixedOutputReset};
use sha2::{Sha256, Sha384};
use zeroize::Zeroizing;

use super::ec_fixed_base::{p256_mul_generator, p384_mul_generator};
use super::CryptoError;

/// A curve whose k·G has a fixed-base table, with the hash its RFC 6979 derivation uses (the one the `ecdsa`
/// crate pairs with it, so nonces are derived exactly as before).
trait HedgedCurve: PrimeCurve + CurveArithmetic {
    type NonceDigest: Digest
        + BlockSizeUser
        + FixedOutput<OutputSize = FieldBytesSize<Self>>
        + FixedOutputReset;
    fn mul_generator(k: &Scalar<Self>) -> Self::ProjectivePoint;
}

impl HedgedCurve for p256::NistP256 {
    type NonceDigest = Sha256;
    fn mul_generator(k: &p256::Scalar) -> p256::ProjectivePoint {
        p256_mul_generator(k)
    }
}

impl HedgedCurve for p384::NistP384 {
    type NonceDigest = Sha384;
    fn mul_generator(k: &p384::Scalar) -> p384::ProjectivePoint {
        p384_mul_generator(k)
    }
}

/// Signs a message digest with a P-256 key (the digest of any length is truncated or left-padded to 32 bytes as
/// FIPS 186-5 prescribes; shorter than 16 bytes is refused).
pub fn sign_p256(
    pool: &EntropyPool,
    secret: &p256::SecretKey,
    prehash: &[u8],
) -> Result<p256::ecdsa::Signature, CryptoError> {
    let d = Zeroizing::new(*secret.to_nonzero_scalar());
    sign_hedged::<p256::NistP256>(pool, &d, prehash)
}

/// Signs a message digest with a P-384 key (digest handled as for [`sign_p256`], 48-byte field).
pub fn sign_p384(
    pool: &EntropyPool,
    secret: &p384::SecretKey,
    prehash: &[u8],
) -> Result<p384::ecdsa::Signature, CryptoError> {
    let d = Zeroizing::new(*secret.to_nonzero_scalar());
    sign_hedged::<p384::NistP384>(pool, &d, prehash)
}

fn sign_hedged<C: HedgedCurve>(
    pool: &EntropyPool,
    d: &Scalar<C>,
    prehash: &[u8],
) -> Result<Signature<C>, CryptoError>
where
    SignatureSize<C>: ArrayLength<u8>,
{
    let z = bits2field::<C>(prehash)?;
    let mut added_entropy = Zeroizing::new(FieldBytes::<C>::default());
    pool.fill(&mut added_entropy)?;
    let k = hedged_nonce::<C>(d, &z, &added_entropy)?;
    sign_with_nonce::<C>(d, &k, &z)
}

/// RFC 6979 §3.2 with §3.6's additional data, as `ecdsa::hazmat::SignPrimitive::try_sign_prehashed_rfc6979`
/// computes it.
fn hedged_nonce<C: HedgedCurve>(
    d: &Scalar<C>,
    z: &FieldBytes<C>,
    added_entropy: &[u8],
) -> Result<Zeroizing<Scalar<C>>, CryptoError> {
    let d_bytes = Zeroizing::new(d.to_repr());
    let k_bytes = Zeroizing::new(rfc6979::generate_k::<C::NonceDigest, _>(
        &d_bytes,
        &C::ORDER.encode_field_bytes(),
        z,
        added_entropy,
    ));
    // `generate_k` only returns values in [1, n-1]; a non-canonical encoding would be a bug in it.
    Option::<Scalar<C>>::from(Scalar::<C>::from_repr((*k_bytes).clone()))
        .map(Zeroizing::new)
        .ok_or_else(|| {
            CryptoError::InvalidInput("RFC 6979 produced a nonce outside the scalar field".into())
        })
}

/// (r, s) for the secret `d`, nonce `k` and digest field bytes `z`: r = x(k·G) mod n, s = k⁻¹(z + r·d) mod n.
fn sign_with_nonce<C: HedgedCurve>(
    d: &Scalar<C>,
    k: &Scalar<C>,
    z: &FieldBytes<C>,
) -> Result<Signature<C>, CryptoError>
where
    SignatureSize<C>: ArrayLength<u8>,
{
    let refused = |what: &str| CryptoError::InvalidInput(format!("ECDSA signing failed: {what}"));
    let k_inverse =
        Zeroizing::new(Option::<Scalar<C>>::from(k.invert()).ok_or_else(|| refused("zero nonce"))?);
    let big_r = C::mul_generator(k).to_affine();
    let r = <Scalar<C> as Reduce<C::Uint>>::reduce_bytes(&big_r.x());
    let z = <Scalar<C> as Reduce<C::Uint>>::reduce_bytes(z);
    let s = *k_inverse * (z + r * d);
    // `from_scalars` refuses r = 0 or s = 0 (probability ~2^-256; the request can simply be retried).
    Signature::from_scalars(r, s).map_err(|_| refused("r or s is zero"))
}

/// The digest as field bytes: its leftmost field-size bytes, or left-padded with zeros when shorter (the
/// integer value FIPS 186-5 §6.4.1 uses); under half the field size is refused, as `ecdsa` does.
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
    use ecdsa::hazmat::SignPrimitive;
    use p256::elliptic_curve::sec1::ToEncodedPoint;

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

    fn scalar<C: HedgedCurve>(bytes: &[u8]) -> Scalar<C> {
        Option::from(Scalar::<C>::from_repr(FieldBytes::<C>::clone_from_slice(
            bytes,
        )))
        .expect("canonical scalar")
    }

    fn check_siggen<C: HedgedCurve>(text: &str) -> usize
    where
        SignatureSize<C>: ArrayLength<u8>,
        C::AffinePoint: ToEncodedPoint<C>,
        FieldBytesSize<C>: p256::elliptic_curve::sec1::ModulusSize,
    {
        let records = siggen_records(text);
        for [msg, d, qx, qy, k, r, s] in &records {
            let d = scalar::<C>(d);
            let public = C::mul_generator(&d).to_affine().to_encoded_point(false);
            assert_eq!(public.x().unwrap().as_slice(), qx.as_slice(), "Qx for d");
            assert_eq!(public.y().unwrap().as_slice(), qy.as_slice(), "Qy for d");
            let z = bits2field::<C>(&C::NonceDigest::digest(msg)).unwrap();
            let signature = sign_with_nonce::<C>(&d, &scalar::<C>(k), &z).unwrap();
            let (expected_r, expected_s) = (
                FieldBytes::<C>::clone_from_slice(r),
                FieldBytes::<C>::clone_from_slice(s),
            );
            assert_eq!(signature.r().to_repr(), expected_r, "R");
            assert_eq!(signature.s().to_repr(), expected_s, "S");
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
            let k = hedged_nonce::<p256::NistP256>(&d, &z, &[]).unwrap();
            let signature = sign_with_nonce::<p256::NistP256>(&d, &k, &z).unwrap();
            assert_eq!(signature.to_bytes().as_slice(), hex(expected).as_slice());
        }
    }

    /// With the same added entropy, the nonce and signature are exactly what `ecdsa` 0.16 (the previous signing
    /// path) produces, for every digest length the server accepts.
    #[test]
    fn hedged_signatures_equal_the_ecdsa_crates_for_the_same_added_entropy() {
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        for round in 0u8..8 {
            let secret = p256::SecretKey::from_slice(&[round.wrapping_add(1); 32]).unwrap();
            let d = *secret.to_nonzero_scalar();
            let secret384 = p384::SecretKey::from_slice(&[round.wrapping_add(7); 48]).unwrap();
            let d384 = *secret384.to_nonzero_scalar();
            for digest_len in [20usize, 28, 32, 48, 64] {
                let digest: Vec<u8> = (0..digest_len)
                    .map(|i| (i as u8) ^ round.wrapping_mul(31))
                    .collect();
                let mut added = [0u8; 48];
                pool.fill(&mut added).unwrap();

                let z = bits2field::<p256::NistP256>(&digest).unwrap();
                let ours = sign_with_nonce::<p256::NistP256>(
                    &d,
                    &hedged_nonce::<p256::NistP256>(&d, &z, &added[..32]).unwrap(),
                    &z,
                )
                .unwrap();
                let theirs = d
                    .try_sign_prehashed_rfc6979::<Sha256>(&z, &added[..32])
                    .unwrap()
                    .0;
                assert_eq!(ours, theirs, "P-256, {digest_len}-byte digest");

                if digest_len >= 24 {
                    let z = bits2field::<p384::NistP384>(&digest).unwrap();
                    let ours = sign_with_nonce::<p384::NistP384>(
                        &d384,
                        &hedged_nonce::<p384::NistP384>(&d384, &z, &added).unwrap(),
                        &z,
                    )
                    .unwrap();
                    let theirs = d384
                        .try_sign_prehashed_rfc6979::<Sha384>(&z, &added)
                        .unwrap()
                        .0;
                    assert_eq!(ours, theirs, "P-384, {digest_len}-byte digest");
                }
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
