//! SEC1 `ECPrivateKey` parsing (the inside of a PKCS#8 EC key), with the embedded public key checked for keys from
//! outside and trusted for keys read back from the sealed store: on every Sign of a stored key that check would
//! repeat a scalar multiplication for nothing (AES-GCM already authenticates what the store returns).

use super::{curve_from_oid, OID_EC_PUBLIC_KEY, OID_SECP256R1, OID_SECP384R1};
use crate::crypto::keygen::{EcCurve, PrivateKey, PublicKey};
use crate::crypto::CryptoError;

/// An EC private key from its SEC1 `ECPrivateKey` (the inside of a PKCS#8 EC key) on `curve`, with the same
/// checks as the curve crates' PKCS#8 decoding (curve parameters, scalar range, embedded public key), except that
/// a key read back from the sealed store skips the embedded-key comparison (see [`EmbeddedPublicKey::Trusted`]).
pub(super) fn ec_private_key_from_sec1(
    curve: EcCurve,
    sec1_der: &[u8],
    embedded: EmbeddedPublicKey,
) -> Result<PrivateKey, String> {
    use p256::elliptic_curve::sec1::ToSec1Point;

    let ec = sec1::EcPrivateKey::try_from(sec1_der).map_err(|e| e.to_string())?;
    let expected_oid = match curve {
        EcCurve::P256 => OID_SECP256R1,
        EcCurve::P384 => OID_SECP384R1,
    };
    if let Some(parameters) = ec.parameters {
        if parameters.named_curve() != Some(expected_oid) {
            return Err(
                "the ECPrivateKey names a different curve than the PKCS#8 algorithm".into(),
            );
        }
    }
    let compress = ec
        .public_key
        .is_some_and(|bytes| bytes.len() == 1 + curve.field_len());
    let key = match curve {
        EcCurve::P256 => PrivateKey::EcP256(
            p256::SecretKey::from_slice(ec.private_key).map_err(|e| e.to_string())?,
        ),
        EcCurve::P384 => PrivateKey::EcP384(
            p384::SecretKey::from_slice(ec.private_key).map_err(|e| e.to_string())?,
        ),
    };
    // The encoding of the public key that goes with the private key, in the form (compressed or not) that the
    // embedded one uses; computed only when it is compared.
    let derived = || -> Result<Vec<u8>, String> {
        Ok(match key.public_key() {
            PublicKey::EcP256(public) => public.to_sec1_point(compress).as_bytes().to_vec(),
            PublicKey::EcP384(public) => public.to_sec1_point(compress).as_bytes().to_vec(),
            _ => return Err("not an EC key".into()),
        })
    };
    match (embedded, ec.public_key) {
        (EmbeddedPublicKey::Check, Some(public)) if public != derived()?.as_slice() => {
            Err("the embedded public key does not belong to the private key".into())
        }
        _ => Ok(key),
    }
}

/// Whether parsing an EC private key compares its embedded public key with the one its scalar gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EmbeddedPublicKey {
    /// Keys from outside (Register, Import, unwrapped keys): checked.
    Check,
    /// Keys read back from the sealed store: they were checked (or generated here) when they came in, and
    /// AES-GCM authenticates what the store returns, so the check would only repeat a scalar multiplication
    /// on every Sign.
    Trusted,
}

impl PrivateKey {
    /// Parses a PKCS#8 private key read back from the sealed store (see [`EmbeddedPublicKey::Trusted`]).
    pub fn from_stored_pkcs8_der(der_bytes: &[u8]) -> Result<Self, CryptoError> {
        const WHAT: &str = "PKCS#8 private key";
        let info = rsa::pkcs8::PrivateKeyInfoRef::try_from(der_bytes)
            .map_err(|e| CryptoError::malformed(WHAT, e))?;
        if info.algorithm.oid != OID_EC_PUBLIC_KEY {
            return Self::from_pkcs8_der(der_bytes);
        }
        let curve = info.algorithm.parameters_oid().map_err(|e| {
            CryptoError::malformed(WHAT, format!("EC key without a named curve: {e}"))
        })?;
        ec_private_key_from_sec1(
            curve_from_oid(curve)?,
            info.private_key.as_bytes(),
            EmbeddedPublicKey::Trusted,
        )
        .map_err(|e| CryptoError::malformed(WHAT, e))
    }
}
