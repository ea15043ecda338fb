//! Key encodings clients use, both directions: PKCS#8 and PKCS#1 private keys, SEC1 EC private keys,
//! SubjectPublicKeyInfo and PKCS#1 public keys, and the transparent components (RSA n, e, d, p, q, dp, dq, qinv;
//! EC curve, Q, d) as big-endian byte strings. Every parse error is a [`CryptoError::Malformed`] naming the format.

mod sec1_private_key;

use der::asn1::ObjectIdentifier;
use rsa::pkcs1::{
    DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey,
};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BoxedUint, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use zeroize::Zeroizing;

use super::keygen::{EcCurve, PrivateKey, PublicKey};
use super::CryptoError;
use sec1_private_key::{ec_private_key_from_sec1, EmbeddedPublicKey};

const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// RSA private key components, big-endian unsigned. `p`/`q` may be absent on import (recovered from n, e, d);
/// `dp`/`dq`/`qinv` are ignored on import (recomputed) and always present on export.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TransparentRsaPrivateKey {
    pub modulus: Vec<u8>,
    pub public_exponent: Vec<u8>,
    pub private_exponent: Zeroizing<Vec<u8>>,
    pub p: Option<Zeroizing<Vec<u8>>>,
    pub q: Option<Zeroizing<Vec<u8>>>,
    pub prime_exponent_p: Option<Zeroizing<Vec<u8>>>,
    pub prime_exponent_q: Option<Zeroizing<Vec<u8>>>,
    pub crt_coefficient: Option<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for TransparentRsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransparentRsaPrivateKey")
            .field("modulus_bytes", &self.modulus.len())
            .finish_non_exhaustive()
    }
}

/// RSA public key components, big-endian unsigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransparentRsaPublicKey {
    pub modulus: Vec<u8>,
    pub public_exponent: Vec<u8>,
}

/// An EC private key: the curve and the scalar d (big-endian, field length).
#[derive(Clone, PartialEq, Eq)]
pub struct TransparentEcPrivateKey {
    pub curve: EcCurve,
    pub d: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for TransparentEcPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransparentEcPrivateKey")
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

/// An EC public key: the curve and the point Q as a SEC1 octet string (uncompressed on export; compressed is
/// accepted on import).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransparentEcPublicKey {
    pub curve: EcCurve,
    pub q: Vec<u8>,
}

fn zeroizing(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(bytes.to_vec())
}

impl PrivateKey {
    /// PKCS#8 `PrivateKeyInfo` DER (any key type).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let document = match self {
            Self::Rsa(key) => key.to_pkcs8_der(),
            Self::EcP256(key) => key.to_pkcs8_der(),
            Self::EcP384(key) => key.to_pkcs8_der(),
            // PKCS#8 v1 (no embedded public key): OpenSSL 3.0 cannot read the v2 form ed25519-dalek writes.
            Self::Ed25519(key) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: key.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_der(),
            Self::MlKem(_) | Self::MlDsa(_) => return super::pq_keys::to_pkcs8_der(self),
        }
        .map_err(|error| CryptoError::InvalidKey(format!("PKCS#8 encoding failed: {error}")))?;
        Ok(zeroizing(document.as_bytes()))
    }

    /// Parses a PKCS#8 `PrivateKeyInfo` (RSA, EC P-256/P-384, Ed25519), choosing the type from its algorithm.
    pub fn from_pkcs8_der(der_bytes: &[u8]) -> Result<Self, CryptoError> {
        const WHAT: &str = "PKCS#8 private key";
        let info = rsa::pkcs8::PrivateKeyInfoRef::try_from(der_bytes)
            .map_err(|e| CryptoError::malformed(WHAT, e))?;
        let algorithm = info.algorithm.oid;
        if algorithm == OID_RSA_ENCRYPTION {
            let key = RsaPrivateKey::from_pkcs8_der(der_bytes)
                .map_err(|e| CryptoError::malformed(WHAT, e))?;
            return checked_rsa(key).map(|key| Self::Rsa(Box::new(key)));
        }
        if algorithm == OID_ED25519 {
            return ed25519_dalek::SigningKey::from_pkcs8_der(der_bytes)
                .map(|key| Self::Ed25519(Box::new(key)))
                .map_err(|e| CryptoError::malformed(WHAT, e));
        }
        if algorithm == OID_EC_PUBLIC_KEY {
            let curve = info.algorithm.parameters_oid().map_err(|e| {
                CryptoError::malformed(WHAT, format!("EC key without a named curve: {e}"))
            })?;
            let curve = curve_from_oid(curve)?;
            return ec_private_key_from_sec1(
                curve,
                info.private_key.as_bytes(),
                EmbeddedPublicKey::Check,
            )
            .map_err(|e| CryptoError::malformed(WHAT, e));
        }
        super::pq_keys::private_from_pkcs8(algorithm, der_bytes)
    }

    /// PKCS#1 `RSAPrivateKey` DER (RSA keys only).
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let document = self
            .as_rsa()?
            .to_pkcs1_der()
            .map_err(|error| CryptoError::InvalidKey(format!("PKCS#1 encoding failed: {error}")))?;
        Ok(zeroizing(document.as_bytes()))
    }

    /// Parses a PKCS#1 `RSAPrivateKey`.
    pub fn from_pkcs1_der(der_bytes: &[u8]) -> Result<Self, CryptoError> {
        let key = RsaPrivateKey::from_pkcs1_der(der_bytes)
            .map_err(|e| CryptoError::malformed("PKCS#1 RSA private key", e))?;
        checked_rsa(key).map(|key| Self::Rsa(Box::new(key)))
    }

    /// SEC1 `ECPrivateKey` DER (EC keys only; KMIP's "EC Private Key" format), with the named curve and the
    /// public key (OpenSSL needs the curve to read it).
    pub fn to_sec1_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        use der::Encode;
        let (scalar, curve_oid, point) = match self {
            Self::EcP256(key) => (
                zeroizing(&key.to_bytes()),
                OID_SECP256R1,
                key.public_key().to_sec1_bytes(),
            ),
            Self::EcP384(key) => (
                zeroizing(&key.to_bytes()),
                OID_SECP384R1,
                key.public_key().to_sec1_bytes(),
            ),
            other => {
                return Err(CryptoError::InvalidKey(format!(
                    "SEC1 encoding needs an EC key, got {:?}",
                    other.spec()
                )))
            }
        };
        let encoded = sec1::EcPrivateKey {
            private_key: &scalar,
            parameters: Some(sec1::EcParameters::NamedCurve(curve_oid)),
            public_key: Some(&point),
        }
        .to_der()
        .map_err(|error| CryptoError::InvalidKey(format!("SEC1 encoding failed: {error}")))?;
        Ok(Zeroizing::new(encoded))
    }

    /// Parses a SEC1 `ECPrivateKey` on `curve` (the curve inside the encoding, when present, must agree).
    pub fn from_sec1_der(curve: EcCurve, der_bytes: &[u8]) -> Result<Self, CryptoError> {
        const WHAT: &str = "SEC1 EC private key";
        ec_private_key_from_sec1(curve, der_bytes, EmbeddedPublicKey::Check)
            .map_err(|e| CryptoError::malformed(WHAT, e))
    }

    /// The transparent RSA components (RSA keys only).
    pub fn to_transparent_rsa(&self) -> Result<TransparentRsaPrivateKey, CryptoError> {
        let key = self.as_rsa()?;
        let primes = key.primes();
        let [p, q] = primes else {
            return Err(CryptoError::Unsupported(format!(
                "multi-prime RSA keys ({} primes)",
                primes.len()
            )));
        };
        let precomputed = |value: Option<&BoxedUint>, name: &str| {
            value.map(secret_bytes).ok_or_else(|| {
                CryptoError::InvalidKey(format!("RSA key without a precomputed {name}"))
            })
        };
        let qinv = key
            .crt_coefficient()
            .ok_or_else(|| CryptoError::InvalidKey("RSA key without a CRT coefficient".into()))?;
        Ok(TransparentRsaPrivateKey {
            modulus: key.n_bytes().into_vec(),
            public_exponent: key.e_bytes().into_vec(),
            private_exponent: secret_bytes(key.d()),
            p: Some(secret_bytes(p.as_ref())),
            q: Some(secret_bytes(q.as_ref())),
            prime_exponent_p: Some(precomputed(key.dp(), "dP")?),
            prime_exponent_q: Some(precomputed(key.dq(), "dQ")?),
            crt_coefficient: Some(secret_bytes(&qinv)),
        })
    }

    /// Builds an RSA key from transparent components and checks their consistency.
    pub fn from_transparent_rsa(
        components: &TransparentRsaPrivateKey,
    ) -> Result<Self, CryptoError> {
        let primes = match (&components.p, &components.q) {
            (Some(p), Some(q)) => vec![uint(p), uint(q)],
            (None, None) => Vec::new(),
            _ => {
                return Err(CryptoError::InvalidKey(
                    "transparent RSA private key with only one of p and q".into(),
                ))
            }
        };
        let key = RsaPrivateKey::from_components(
            uint(&components.modulus),
            uint(&components.public_exponent),
            uint(&components.private_exponent),
            primes,
        )
        .map_err(|e| CryptoError::InvalidKey(format!("inconsistent RSA components: {e}")))?;
        checked_rsa(key).map(|key| Self::Rsa(Box::new(key)))
    }

    /// The transparent EC components (EC keys only): curve and d.
    pub fn to_transparent_ec(&self) -> Result<TransparentEcPrivateKey, CryptoError> {
        match self {
            Self::EcP256(key) => Ok(TransparentEcPrivateKey {
                curve: EcCurve::P256,
                d: zeroizing(&key.to_bytes()),
            }),
            Self::EcP384(key) => Ok(TransparentEcPrivateKey {
                curve: EcCurve::P384,
                d: zeroizing(&key.to_bytes()),
            }),
            other => Err(CryptoError::InvalidKey(format!(
                "transparent EC form needs an EC key, got {:?}",
                other.spec()
            ))),
        }
    }

    /// Builds an EC key from its curve and scalar d (big-endian; shorter values are left-padded).
    pub fn from_transparent_ec(components: &TransparentEcPrivateKey) -> Result<Self, CryptoError> {
        let field_len = components.curve.field_len();
        let significant = strip_leading_zeros(&components.d);
        if significant.len() > field_len {
            return Err(CryptoError::InvalidKey(format!(
                "EC private scalar of {} bytes for a {field_len}-byte curve",
                significant.len()
            )));
        }
        let mut padded = Zeroizing::new(vec![0u8; field_len]);
        padded[field_len - significant.len()..].copy_from_slice(significant);
        let invalid = |_| {
            CryptoError::InvalidKey("EC private scalar is zero or not below the curve order".into())
        };
        match components.curve {
            EcCurve::P256 => p256::SecretKey::from_slice(&padded)
                .map(Self::EcP256)
                .map_err(invalid),
            EcCurve::P384 => p384::SecretKey::from_slice(&padded)
                .map(Self::EcP384)
                .map_err(invalid),
        }
    }
}

impl PublicKey {
    /// X.509 `SubjectPublicKeyInfo` DER.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        let document = match self {
            Self::Rsa(key) => key.to_public_key_der(),
            Self::EcP256(key) => key.to_public_key_der(),
            Self::EcP384(key) => key.to_public_key_der(),
            Self::Ed25519(key) => key.to_public_key_der(),
            Self::MlKem(_) | Self::MlDsa(_) => return super::pq_keys::to_spki_der(self),
        }
        .map_err(|error| {
            CryptoError::InvalidKey(format!("SubjectPublicKeyInfo encoding failed: {error}"))
        })?;
        Ok(document.into_vec())
    }

    /// Parses an X.509 `SubjectPublicKeyInfo` (RSA, EC P-256/P-384, Ed25519).
    pub fn from_spki_der(der_bytes: &[u8]) -> Result<Self, CryptoError> {
        const WHAT: &str = "SubjectPublicKeyInfo";
        let info = rsa::pkcs8::spki::SubjectPublicKeyInfoRef::try_from(der_bytes)
            .map_err(|e| CryptoError::malformed(WHAT, e))?;
        let algorithm = info.algorithm.oid;
        if algorithm == OID_RSA_ENCRYPTION {
            return RsaPublicKey::from_public_key_der(der_bytes)
                .map(Self::Rsa)
                .map_err(|e| CryptoError::malformed(WHAT, e));
        }
        if algorithm == OID_ED25519 {
            return ed25519_dalek::VerifyingKey::from_public_key_der(der_bytes)
                .map(Self::Ed25519)
                .map_err(|e| CryptoError::malformed(WHAT, e));
        }
        if algorithm == OID_EC_PUBLIC_KEY {
            let curve = info.algorithm.parameters_oid().map_err(|e| {
                CryptoError::malformed(WHAT, format!("EC key without a named curve: {e}"))
            })?;
            return match curve_from_oid(curve)? {
                EcCurve::P256 => p256::PublicKey::from_public_key_der(der_bytes).map(Self::EcP256),
                EcCurve::P384 => p384::PublicKey::from_public_key_der(der_bytes).map(Self::EcP384),
            }
            .map_err(|e| CryptoError::malformed(WHAT, e));
        }
        super::pq_keys::public_from_spki(algorithm, der_bytes)
    }

    /// PKCS#1 `RSAPublicKey` DER (RSA keys only).
    pub fn to_pkcs1_der(&self) -> Result<Vec<u8>, CryptoError> {
        let document = self
            .as_rsa()?
            .to_pkcs1_der()
            .map_err(|error| CryptoError::InvalidKey(format!("PKCS#1 encoding failed: {error}")))?;
        Ok(document.into_vec())
    }

    /// Parses a PKCS#1 `RSAPublicKey`.
    pub fn from_pkcs1_der(der_bytes: &[u8]) -> Result<Self, CryptoError> {
        RsaPublicKey::from_pkcs1_der(der_bytes)
            .map(Self::Rsa)
            .map_err(|e| CryptoError::malformed("PKCS#1 RSA public key", e))
    }

    /// The transparent RSA components (RSA keys only).
    pub fn to_transparent_rsa(&self) -> Result<TransparentRsaPublicKey, CryptoError> {
        let key = self.as_rsa()?;
        Ok(TransparentRsaPublicKey {
            modulus: key.n_bytes().into_vec(),
            public_exponent: key.e_bytes().into_vec(),
        })
    }

    /// Builds an RSA public key from n and e (the `rsa` crate's size and exponent limits apply).
    pub fn from_transparent_rsa(components: &TransparentRsaPublicKey) -> Result<Self, CryptoError> {
        RsaPublicKey::new(uint(&components.modulus), uint(&components.public_exponent))
            .map(Self::Rsa)
            .map_err(|e| CryptoError::InvalidKey(format!("RSA public key: {e}")))
    }

    /// The transparent EC components (EC keys only): curve and uncompressed Q.
    pub fn to_transparent_ec(&self) -> Result<TransparentEcPublicKey, CryptoError> {
        match self {
            Self::EcP256(key) => Ok(TransparentEcPublicKey {
                curve: EcCurve::P256,
                q: key.to_sec1_bytes().into_vec(),
            }),
            Self::EcP384(key) => Ok(TransparentEcPublicKey {
                curve: EcCurve::P384,
                q: key.to_sec1_bytes().into_vec(),
            }),
            other => Err(CryptoError::InvalidKey(format!(
                "transparent EC form needs an EC key, got {:?}",
                other.spec()
            ))),
        }
    }

    /// Builds an EC public key from its curve and SEC1 point (checked to lie on the curve).
    pub fn from_transparent_ec(components: &TransparentEcPublicKey) -> Result<Self, CryptoError> {
        const WHAT: &str = "EC public point";
        match components.curve {
            EcCurve::P256 => p256::PublicKey::from_sec1_bytes(&components.q).map(Self::EcP256),
            EcCurve::P384 => p384::PublicKey::from_sec1_bytes(&components.q).map(Self::EcP384),
        }
        .map_err(|e| CryptoError::malformed(WHAT, e))
    }

    /// The key as the raw bytes X.509 puts in the SubjectPublicKeyInfo BIT STRING: PKCS#1 `RSAPublicKey` for RSA,
    /// the uncompressed SEC1 point for EC, the 32-byte key for Ed25519.
    pub fn to_subject_public_key_bytes(&self) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::Rsa(_) => self.to_pkcs1_der(),
            Self::EcP256(key) => Ok(key.to_sec1_bytes().into_vec()),
            Self::EcP384(key) => Ok(key.to_sec1_bytes().into_vec()),
            Self::Ed25519(key) => Ok(key.as_bytes().to_vec()),
            Self::MlKem(_) | Self::MlDsa(_) => super::pq_keys::subject_public_key_bytes(self),
        }
    }
}

fn curve_from_oid(oid: ObjectIdentifier) -> Result<EcCurve, CryptoError> {
    if oid == OID_SECP256R1 {
        Ok(EcCurve::P256)
    } else if oid == OID_SECP384R1 {
        Ok(EcCurve::P384)
    } else {
        Err(CryptoError::Unsupported(format!("elliptic curve {oid}")))
    }
}

/// Imported RSA keys must be consistent (n = p·q, e·d ≡ 1, ...) and carry the CRT values the signer uses.
fn checked_rsa(mut key: RsaPrivateKey) -> Result<RsaPrivateKey, CryptoError> {
    key.validate()
        .map_err(|e| CryptoError::InvalidKey(format!("inconsistent RSA private key: {e}")))?;
    key.precompute()
        .map_err(|e| CryptoError::InvalidKey(format!("RSA CRT precomputation failed: {e}")))?;
    Ok(key)
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// An unsigned big-endian integer of any length (leading zeros allowed) as a `BoxedUint` of that many bytes of
/// precision; the `rsa` crate resizes the components to the modulus's width itself.
fn uint(bytes: &[u8]) -> BoxedUint {
    if bytes.is_empty() {
        return BoxedUint::zero();
    }
    BoxedUint::from_be_slice_vartime(bytes)
}

/// A secret RSA component as minimal big-endian bytes (the KMIP Big Integer form), wiped on drop.
fn secret_bytes(value: &BoxedUint) -> Zeroizing<Vec<u8>> {
    let mut bytes = value.to_be_bytes();
    let out = zeroizing(strip_leading_zeros(&bytes));
    zeroize::Zeroize::zeroize(&mut bytes[..]);
    out
}
