//! X25519 public keys a tenant registers so that entropy-as-a-service envelopes can be HPKE-encrypted to them
//! (`GET /v1/random?...&encrypt=KEYID`, [`crate::eaas::recipient`]).
//!
//! KMIP has no X25519 Cryptographic Algorithm; clients describe one as an ECDH key on Curve25519 (what Cosmian
//! KMS and PyKMIP-based tools send). Three encodings are accepted:
//! - X.509 `SubjectPublicKeyInfo` with RFC 8410's id-X25519 (1.3.101.110), no parameters (what `openssl pkey
//!   -pubout` and Python `cryptography` write);
//! - Transparent EC Public Key with Recommended Curve CURVE25519 and the 32-byte key as Q String;
//! - Raw, 32 bytes, with Cryptographic Algorithm ECDH declared.
//!
//! qkms only encrypts to these keys (it keeps no X25519 private keys), so they are checked on the way in (32
//! bytes, not of low order — every exchange with a low-order key gives the all-zero value RFC 9180 refuses) and
//! otherwise kept as registered, with Cryptographic Algorithm ECDH and Length 255 (the bits of 2^255 - 19). A
//! Get returns them in their registered format; a use that needs the `crypto` key types (another format, Sign,
//! Encrypt) answers Key Format Type Not Supported from `key_codec`, as for DSA keys.

use der::asn1::ObjectIdentifier;
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, RecommendedCurve};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::state::RequestContext;

/// RFC 8410 id-X25519.
const OID_X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
/// Cryptographic Length of an X25519 key: the field is GF(2^255 - 19).
pub const X25519_LENGTH: i32 = 255;
const KEY_LEN: usize = 32;

/// Whether `object` is meant as an X25519 public key (by its encoding; see the module comment).
pub fn is_x25519(object: &ManagedObject) -> bool {
    let ManagedObject::PublicKey(block) = object else {
        return false;
    };
    let Some(value) = &block.key_value else {
        return false;
    };
    match (&value.material, block.key_format_type) {
        (
            KeyMaterial::TransparentEcPublicKey {
                recommended_curve, ..
            },
            _,
        ) => *recommended_curve == RecommendedCurve::Curve25519,
        (KeyMaterial::Bytes(der), KeyFormatType::X509) => spki_algorithm(der) == Some(OID_X25519),
        (KeyMaterial::Bytes(_), KeyFormatType::Raw) => {
            block.cryptographic_algorithm == Some(CryptographicAlgorithm::Ecdh)
        }
        _ => false,
    }
}

fn spki_algorithm(der: &[u8]) -> Option<ObjectIdentifier> {
    spki::SubjectPublicKeyInfoRef::try_from(der)
        .ok()
        .map(|info| info.algorithm.oid)
}

/// Readies an X25519 public key for storage: unwraps it if it came wrapped under a key this server holds,
/// checks it, and fills in (or checks) Cryptographic Algorithm ECDH and Length 255.
pub fn prepare(ctx: &RequestContext<'_>, object: &mut ManagedObject) -> Result<(), KmipError> {
    let ManagedObject::PublicKey(block) = object else {
        return Err(KmipError::invalid_field(
            "only a Public Key can be an X25519 recipient key",
        ));
    };
    if super::wrapping::unwrap_block(ctx, block)? == super::wrapping::Unwrapped::KeptWrapped {
        return Err(KmipError::invalid_field(
            "an X25519 public key must be registered in the clear (it is public)",
        ));
    }
    public_bytes(block)?;
    match block.cryptographic_algorithm {
        None | Some(CryptographicAlgorithm::Ecdh) => {
            block.cryptographic_algorithm = Some(CryptographicAlgorithm::Ecdh);
        }
        Some(other) => {
            return Err(KmipError::invalid_field(format!(
                "an X25519 key has Cryptographic Algorithm ECDH, not {}",
                other.name()
            )))
        }
    }
    match block.cryptographic_length {
        None | Some(X25519_LENGTH) => {
            block.cryptographic_length = Some(X25519_LENGTH);
            Ok(())
        }
        Some(other) => Err(KmipError::invalid_field(format!(
            "an X25519 key has Cryptographic Length {X25519_LENGTH}, not {other}"
        ))),
    }
}

/// The 32 bytes of the X25519 public key a Key Block holds, checked (see the module comment).
pub fn public_bytes(block: &KeyBlock) -> Result<[u8; KEY_LEN], KmipError> {
    let material = &block
        .key_value
        .as_ref()
        .ok_or_else(|| KmipError::new(ResultReason::KeyValueNotPresent, "the key has no value"))?
        .material;
    let bytes: &[u8] = match (material, block.key_format_type) {
        (
            KeyMaterial::TransparentEcPublicKey {
                recommended_curve: RecommendedCurve::Curve25519,
                q_string,
            },
            _,
        ) => q_string,
        (KeyMaterial::Bytes(der), KeyFormatType::X509) => {
            let info = spki::SubjectPublicKeyInfoRef::try_from(&der[..]).map_err(|e| {
                KmipError::invalid_field(format!("the SubjectPublicKeyInfo does not parse: {e}"))
            })?;
            if info.algorithm.oid != OID_X25519 || info.algorithm.parameters.is_some() {
                return Err(KmipError::invalid_field(
                    "the SubjectPublicKeyInfo is not id-X25519 without parameters (RFC 8410)",
                ));
            }
            info.subject_public_key.as_bytes().ok_or_else(|| {
                KmipError::invalid_field("the subjectPublicKey BIT STRING has unused bits")
            })?
        }
        (KeyMaterial::Bytes(raw), KeyFormatType::Raw) => raw,
        _ => {
            return Err(KmipError::new(
                ResultReason::KeyFormatTypeNotSupported,
                format!(
                    "an X25519 public key in {} is not supported (X.509, Transparent EC Public Key or Raw)",
                    block.key_format_type.name()
                ),
            ))
        }
    };
    let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
        KmipError::invalid_field(format!(
            "an X25519 public key is 32 bytes, this one {}",
            bytes.len()
        ))
    })?;
    if eaas::hpke::is_low_order(&key) {
        return Err(KmipError::invalid_field(
            "the X25519 public key is of low order: every exchange with it gives the all-zero value",
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    const PUBLIC: [u8; 32] = [
        0x43, 0x10, 0xee, 0x97, 0xd8, 0x8c, 0xc1, 0xf0, 0x88, 0xa5, 0x57, 0x6c, 0x77, 0xab, 0x0c,
        0xf5, 0xc3, 0xac, 0x79, 0x7f, 0x3d, 0x95, 0x13, 0x9c, 0x6c, 0x84, 0xb5, 0x42, 0x9c, 0x59,
        0x66, 0x2a,
    ];

    fn spki(key: &[u8]) -> Vec<u8> {
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(key);
        der
    }

    fn block(format: KeyFormatType, material: KeyMaterial) -> KeyBlock {
        KeyBlock::new(format, material, None, None)
    }

    #[test]
    fn every_accepted_encoding_gives_the_key() {
        let blocks = [
            block(
                KeyFormatType::X509,
                KeyMaterial::Bytes(Zeroizing::new(spki(&PUBLIC))),
            ),
            block(
                KeyFormatType::TransparentEcPublicKey,
                KeyMaterial::TransparentEcPublicKey {
                    recommended_curve: RecommendedCurve::Curve25519,
                    q_string: PUBLIC.to_vec(),
                },
            ),
            KeyBlock::new(
                KeyFormatType::Raw,
                KeyMaterial::Bytes(Zeroizing::new(PUBLIC.to_vec())),
                Some(CryptographicAlgorithm::Ecdh),
                None,
            ),
        ];
        for block in blocks {
            assert!(is_x25519(&ManagedObject::PublicKey(block.clone())));
            assert_eq!(public_bytes(&block).unwrap(), PUBLIC);
        }
    }

    #[test]
    fn other_keys_are_not_taken_for_x25519() {
        // Ed25519's SPKI (1.3.101.112), and Raw bytes without ECDH declared.
        let mut ed25519 = spki(&PUBLIC);
        ed25519[8] = 0x70;
        assert!(!is_x25519(&ManagedObject::PublicKey(block(
            KeyFormatType::X509,
            KeyMaterial::Bytes(Zeroizing::new(ed25519)),
        ))));
        assert!(!is_x25519(&ManagedObject::PublicKey(block(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(PUBLIC.to_vec())),
        ))));
        assert!(!is_x25519(&ManagedObject::PublicKey(block(
            KeyFormatType::TransparentEcPublicKey,
            KeyMaterial::TransparentEcPublicKey {
                recommended_curve: RecommendedCurve::P256,
                q_string: vec![4; 65],
            },
        ))));
    }

    #[test]
    fn bad_x25519_keys_are_invalid_field() {
        let short = block(
            KeyFormatType::X509,
            KeyMaterial::Bytes(Zeroizing::new({
                let mut der = spki(&PUBLIC[..31]);
                der[1] -= 1;
                der[10] -= 1;
                der
            })),
        );
        let low_order = block(
            KeyFormatType::TransparentEcPublicKey,
            KeyMaterial::TransparentEcPublicKey {
                recommended_curve: RecommendedCurve::Curve25519,
                q_string: vec![0; 32],
            },
        );
        let garbage = block(
            KeyFormatType::X509,
            KeyMaterial::Bytes(Zeroizing::new(vec![0x30, 0x03, 0x02, 0x01])),
        );
        for bad in [short, low_order, garbage] {
            assert_eq!(
                public_bytes(&bad).unwrap_err().reason,
                ResultReason::InvalidField
            );
        }
    }
}
