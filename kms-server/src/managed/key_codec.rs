//! Managed objects <-> the `crypto` key types: reading a stored (or client-supplied) Key Block as a usable
//! private, public or symmetric key, and writing a key back as a Key Block in the format a client asks for.
//! Every parse failure of client bytes is a KMIP error (Invalid Field), never a panic.

use kmip::enums::{CryptographicAlgorithm, KeyFormatType, RecommendedCurve};
use kmip::objects::{magnitude, positive_big_integer, KeyBlock, KeyMaterial, RsaPrivateParts};
use kmip::{ProtocolVersion, ResultReason};
use zeroize::Zeroizing;

use super::{entropy_error, versioned};
use crate::crypto::key_formats::{
    TransparentEcPrivateKey, TransparentEcPublicKey, TransparentRsaPrivateKey,
    TransparentRsaPublicKey,
};
use crate::crypto::{CryptoError, EcCurve, KeyPairSpec, PrivateKey, PublicKey};
use crate::error::KmipError;

/// A `crypto` failure as the client sees it. Parse and key errors are Invalid Field; failed decryption,
/// unwrap or signature checks are Cryptographic Failure (one message, no oracle); unsupported parameters are
/// 2.x Unsupported Cryptographic Parameters (1.x Invalid Field); a CSR whose signature fails is Invalid CSR
/// (1.x Invalid Field).
pub fn crypto_error(version: ProtocolVersion, error: CryptoError) -> KmipError {
    match error {
        CryptoError::Entropy(e) => entropy_error(&e),
        CryptoError::Unsupported(m) => versioned(
            version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::InvalidField,
            format!("unsupported: {m}"),
        ),
        e @ (CryptoError::InvalidKey(_)
        | CryptoError::InvalidInput(_)
        | CryptoError::Malformed { .. }) => KmipError::invalid_field(e.to_string()),
        e @ (CryptoError::DecryptionFailed | CryptoError::UnwrapFailed) => {
            KmipError::new(ResultReason::CryptographicFailure, e.to_string())
        }
        e @ CryptoError::CsrSignatureInvalid => versioned(
            version,
            ResultReason::InvalidCsr,
            ResultReason::InvalidField,
            e.to_string(),
        ),
        e @ CryptoError::Certificate(_) => {
            KmipError::new(ResultReason::CryptographicFailure, e.to_string())
        }
    }
}

fn not_a_key(what: &str) -> KmipError {
    KmipError::invalid_field(format!("the object holds no usable {what} key material"))
}

fn material(block: &KeyBlock) -> Result<&KeyMaterial, KmipError> {
    if block.key_wrapping_data.is_some() {
        return Err(KmipError::invalid_field(
            "the key is stored wrapped; it cannot be used until it is registered unwrapped",
        ));
    }
    block
        .key_value
        .as_ref()
        .map(|v| &v.material)
        .ok_or_else(|| KmipError::new(ResultReason::KeyValueNotPresent, "the key has no value"))
}

fn curve_of(curve: RecommendedCurve) -> Result<EcCurve, KmipError> {
    match curve {
        RecommendedCurve::P256 => Ok(EcCurve::P256),
        RecommendedCurve::P384 => Ok(EcCurve::P384),
        other => Err(KmipError::invalid_field(format!(
            "curve {} is not supported (P-256 and P-384 are)",
            other.name()
        ))),
    }
}

fn recommended_curve(curve: EcCurve) -> RecommendedCurve {
    match curve {
        EcCurve::P256 => RecommendedCurve::P256,
        EcCurve::P384 => RecommendedCurve::P384,
    }
}

fn secret_magnitude(value: &Option<Zeroizing<Vec<u8>>>) -> Option<Zeroizing<Vec<u8>>> {
    value
        .as_ref()
        .map(|v| Zeroizing::new(magnitude(v).to_vec()))
}

/// The private key of a Key Block read back from the store, for use: what came in through Register or Import
/// was checked by [`private_key_of`] then, so an EC key's embedded public key is not re-derived on every Sign.
pub fn stored_private_key_of(
    version: ProtocolVersion,
    block: &KeyBlock,
) -> Result<PrivateKey, KmipError> {
    match (block.key_format_type, material(block)?) {
        (KeyFormatType::Pkcs8, KeyMaterial::Bytes(der)) => {
            PrivateKey::from_stored_pkcs8_der(der).map_err(|e| crypto_error(version, e))
        }
        _ => private_key_of(version, block),
    }
}

/// The private key a Private Key's Key Block holds (PKCS#1, PKCS#8, SEC1, Transparent RSA / EC), with every
/// consistency check (for keys coming in).
pub fn private_key_of(version: ProtocolVersion, block: &KeyBlock) -> Result<PrivateKey, KmipError> {
    let error = |e| crypto_error(version, e);
    match (block.key_format_type, material(block)?) {
        (KeyFormatType::Pkcs1, KeyMaterial::Bytes(der)) => {
            PrivateKey::from_pkcs1_der(der).map_err(error)
        }
        (KeyFormatType::Pkcs8, KeyMaterial::Bytes(der)) => {
            PrivateKey::from_pkcs8_der(der).map_err(error)
        }
        (KeyFormatType::Raw, KeyMaterial::Bytes(bytes)) => {
            super::pq_key_codec::private_from_raw(version, block, bytes)
        }
        (KeyFormatType::EcPrivateKey, KeyMaterial::Bytes(der)) => {
            // SEC1 names its curve inside; try both curves we support.
            PrivateKey::from_sec1_der(EcCurve::P256, der)
                .or_else(|_| PrivateKey::from_sec1_der(EcCurve::P384, der))
                .map_err(error)
        }
        (_, KeyMaterial::TransparentRsaPrivateKey(parts)) => {
            let (Some(d), Some(e)) = (&parts.private_exponent, &parts.public_exponent) else {
                return Err(KmipError::invalid_field(
                    "a Transparent RSA Private Key needs the Private and Public Exponents",
                ));
            };
            let components = TransparentRsaPrivateKey {
                modulus: magnitude(&parts.modulus).to_vec(),
                public_exponent: magnitude(e).to_vec(),
                private_exponent: Zeroizing::new(magnitude(d).to_vec()),
                p: secret_magnitude(&parts.p),
                q: secret_magnitude(&parts.q),
                prime_exponent_p: None,
                prime_exponent_q: None,
                crt_coefficient: None,
            };
            PrivateKey::from_transparent_rsa(&components).map_err(error)
        }
        (
            _,
            KeyMaterial::TransparentEcPrivateKey {
                recommended_curve,
                d,
            },
        ) => PrivateKey::from_transparent_ec(&TransparentEcPrivateKey {
            curve: curve_of(*recommended_curve)?,
            d: Zeroizing::new(magnitude(d).to_vec()),
        })
        .map_err(error),
        (format, _) => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!("a private key in {} cannot be used here", format.name()),
        )),
    }
}

/// The public key a Public Key's Key Block holds (PKCS#1, X.509 SubjectPublicKeyInfo, Transparent RSA / EC).
pub fn public_key_of(version: ProtocolVersion, block: &KeyBlock) -> Result<PublicKey, KmipError> {
    let error = |e| crypto_error(version, e);
    match (block.key_format_type, material(block)?) {
        (KeyFormatType::Pkcs1, KeyMaterial::Bytes(der)) => {
            PublicKey::from_pkcs1_der(der).map_err(error)
        }
        (KeyFormatType::X509, KeyMaterial::Bytes(der)) => {
            PublicKey::from_spki_der(der).map_err(error)
        }
        (KeyFormatType::Raw, KeyMaterial::Bytes(bytes)) => {
            super::pq_key_codec::public_from_raw(version, block, bytes)
        }
        (
            _,
            KeyMaterial::TransparentRsaPublicKey {
                modulus,
                public_exponent,
            },
        ) => PublicKey::from_transparent_rsa(&TransparentRsaPublicKey {
            modulus: magnitude(modulus).to_vec(),
            public_exponent: magnitude(public_exponent).to_vec(),
        })
        .map_err(error),
        (
            _,
            KeyMaterial::TransparentEcPublicKey {
                recommended_curve,
                q_string,
            },
        ) => PublicKey::from_transparent_ec(&TransparentEcPublicKey {
            curve: curve_of(*recommended_curve)?,
            q: q_string.clone(),
        })
        .map_err(error),
        (format, _) => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!("a public key in {} cannot be used here", format.name()),
        )),
    }
}

/// The bytes of a symmetric key (Raw, Opaque or Transparent Symmetric Key).
pub fn symmetric_bytes(block: &KeyBlock) -> Result<&[u8], KmipError> {
    match material(block)? {
        KeyMaterial::Bytes(bytes) => Ok(bytes),
        KeyMaterial::TransparentSymmetricKey { key } => Ok(key),
        _ => Err(not_a_key("symmetric")),
    }
}

/// The KMIP algorithm and Cryptographic Length of a key pair spec.
pub fn algorithm_and_length(spec: KeyPairSpec) -> (CryptographicAlgorithm, i32) {
    match spec {
        KeyPairSpec::Rsa { bits } => (
            CryptographicAlgorithm::Rsa,
            i32::try_from(bits).unwrap_or(i32::MAX),
        ),
        KeyPairSpec::Ec(EcCurve::P256) => (CryptographicAlgorithm::Ec, 256),
        KeyPairSpec::Ec(EcCurve::P384) => (CryptographicAlgorithm::Ec, 384),
        KeyPairSpec::Ed25519 => (CryptographicAlgorithm::Ed25519, 255),
        KeyPairSpec::MlKem(_) | KeyPairSpec::MlDsa(_) => {
            super::pq_key_codec::algorithm_and_length(spec)
        }
    }
}

/// The format a new or registered key is stored in when nothing else is asked: PKCS#1 for RSA (what the OASIS
/// cases show), PKCS#8 for other private keys, SubjectPublicKeyInfo for other public keys.
pub fn default_private_format(spec: KeyPairSpec) -> KeyFormatType {
    match spec {
        KeyPairSpec::Rsa { .. } => KeyFormatType::Pkcs1,
        // The seed: what FIPS 203 / 204 recommend keeping.
        KeyPairSpec::MlKem(_) | KeyPairSpec::MlDsa(_) => KeyFormatType::Raw,
        _ => KeyFormatType::Pkcs8,
    }
}

pub fn default_public_format(spec: KeyPairSpec) -> KeyFormatType {
    match spec {
        KeyPairSpec::Rsa { .. } => KeyFormatType::Pkcs1,
        _ => KeyFormatType::X509,
    }
}

fn unsupported_format(format: KeyFormatType, what: &str) -> KmipError {
    KmipError::new(
        ResultReason::KeyFormatTypeNotSupported,
        format!("a {what} cannot be given as {}", format.name()),
    )
}

/// A private key as a Key Block in `format`.
pub fn private_key_block(
    version: ProtocolVersion,
    key: &PrivateKey,
    format: KeyFormatType,
) -> Result<KeyBlock, KmipError> {
    let error = |e| crypto_error(version, e);
    let (algorithm, length) = algorithm_and_length(key.spec());
    let material = match format {
        KeyFormatType::Pkcs1 if matches!(key, PrivateKey::Rsa(_)) => {
            KeyMaterial::Bytes(key.to_pkcs1_der().map_err(error)?)
        }
        KeyFormatType::Pkcs8 => KeyMaterial::Bytes(key.to_pkcs8_der().map_err(error)?),
        KeyFormatType::Raw | KeyFormatType::Opaque
            if matches!(key, PrivateKey::MlKem(_) | PrivateKey::MlDsa(_)) =>
        {
            KeyMaterial::Bytes(super::pq_key_codec::private_bytes(version, key, format)?)
        }
        KeyFormatType::EcPrivateKey if matches!(key.spec(), KeyPairSpec::Ec(_)) => {
            KeyMaterial::Bytes(key.to_sec1_der().map_err(error)?)
        }
        KeyFormatType::TransparentRsaPrivateKey if matches!(key, PrivateKey::Rsa(_)) => {
            let t = key.to_transparent_rsa().map_err(error)?;
            let secret = |v: &Option<Zeroizing<Vec<u8>>>| {
                v.as_ref().map(|v| Zeroizing::new(positive_big_integer(v)))
            };
            KeyMaterial::TransparentRsaPrivateKey(Box::new(RsaPrivateParts {
                modulus: positive_big_integer(&t.modulus),
                private_exponent: Some(Zeroizing::new(positive_big_integer(&t.private_exponent))),
                public_exponent: Some(positive_big_integer(&t.public_exponent)),
                p: secret(&t.p),
                q: secret(&t.q),
                prime_exponent_p: secret(&t.prime_exponent_p),
                prime_exponent_q: secret(&t.prime_exponent_q),
                crt_coefficient: secret(&t.crt_coefficient),
            }))
        }
        KeyFormatType::TransparentEcPrivateKey | KeyFormatType::TransparentEcdsaPrivateKey
            if matches!(key.spec(), KeyPairSpec::Ec(_)) =>
        {
            let t = key.to_transparent_ec().map_err(error)?;
            KeyMaterial::TransparentEcPrivateKey {
                recommended_curve: recommended_curve(t.curve),
                d: Zeroizing::new(positive_big_integer(&t.d)),
            }
        }
        other => return Err(unsupported_format(other, "private key of this type")),
    };
    Ok(KeyBlock::new(
        format,
        material,
        Some(algorithm),
        Some(length),
    ))
}

/// A public key as a Key Block in `format`.
pub fn public_key_block(
    version: ProtocolVersion,
    key: &PublicKey,
    format: KeyFormatType,
) -> Result<KeyBlock, KmipError> {
    let error = |e| crypto_error(version, e);
    let (algorithm, length) = algorithm_and_length(key.spec());
    let material = match format {
        KeyFormatType::Pkcs1 if matches!(key, PublicKey::Rsa(_)) => {
            KeyMaterial::Bytes(Zeroizing::new(key.to_pkcs1_der().map_err(error)?))
        }
        KeyFormatType::X509 => {
            KeyMaterial::Bytes(Zeroizing::new(key.to_spki_der().map_err(error)?))
        }
        KeyFormatType::Raw if matches!(key, PublicKey::MlKem(_) | PublicKey::MlDsa(_)) => {
            KeyMaterial::Bytes(Zeroizing::new(
                key.to_subject_public_key_bytes().map_err(error)?,
            ))
        }
        KeyFormatType::TransparentRsaPublicKey if matches!(key, PublicKey::Rsa(_)) => {
            let t = key.to_transparent_rsa().map_err(error)?;
            KeyMaterial::TransparentRsaPublicKey {
                modulus: positive_big_integer(&t.modulus),
                public_exponent: positive_big_integer(&t.public_exponent),
            }
        }
        KeyFormatType::TransparentEcPublicKey | KeyFormatType::TransparentEcdsaPublicKey
            if matches!(key.spec(), KeyPairSpec::Ec(_)) =>
        {
            let t = key.to_transparent_ec().map_err(error)?;
            KeyMaterial::TransparentEcPublicKey {
                recommended_curve: recommended_curve(t.curve),
                q_string: t.q,
            }
        }
        other => return Err(unsupported_format(other, "public key of this type")),
    };
    Ok(KeyBlock::new(
        format,
        material,
        Some(algorithm),
        Some(length),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> entropy::EntropyPool {
        entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap()
    }

    #[test]
    fn ec_keys_round_trip_through_every_format() {
        let v = ProtocolVersion::V2_1;
        let key = crate::crypto::keygen::generate_key_pair(&pool(), KeyPairSpec::Ec(EcCurve::P384))
            .unwrap();
        for format in [
            KeyFormatType::Pkcs8,
            KeyFormatType::EcPrivateKey,
            KeyFormatType::TransparentEcPrivateKey,
        ] {
            let block = private_key_block(v, &key, format).unwrap();
            assert_eq!(
                private_key_of(v, &block).unwrap().public_key(),
                key.public_key()
            );
        }
        for format in [KeyFormatType::X509, KeyFormatType::TransparentEcPublicKey] {
            let block = public_key_block(v, &key.public_key(), format).unwrap();
            assert_eq!(public_key_of(v, &block).unwrap(), key.public_key());
        }
        assert_eq!(
            private_key_block(v, &key, KeyFormatType::Pkcs1)
                .unwrap_err()
                .reason,
            ResultReason::KeyFormatTypeNotSupported
        );
    }

    #[test]
    fn garbage_key_bytes_are_invalid_field() {
        let block = KeyBlock::new(
            KeyFormatType::Pkcs1,
            KeyMaterial::Bytes(Zeroizing::new(vec![0x30, 0x03, 0x02, 0x01])),
            Some(CryptographicAlgorithm::Rsa),
            Some(2048),
        );
        let v = ProtocolVersion::V1_4;
        assert_eq!(
            private_key_of(v, &block).unwrap_err().reason,
            ResultReason::InvalidField
        );
        assert_eq!(
            public_key_of(v, &block).unwrap_err().reason,
            ResultReason::InvalidField
        );
    }
}
