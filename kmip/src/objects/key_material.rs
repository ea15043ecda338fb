//! Key Material: the secret bytes or transparent structure inside a Key Value. Zeroized on drop, redacted in
//! `Debug`.

use std::fmt;

use ttlv::{tags, Item, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::enums::{KeyFormatType, KmipEnumeration, RecommendedCurve};
use crate::error::DecodeError;
use crate::fields::Fields;

/// A secret byte string (or Big Integer, big-endian two's complement exactly as on the wire).
pub type SecretBytes = Zeroizing<Vec<u8>>;

/// The Key Material of a Key Value, typed by the Key Block's Key Format Type.
///
/// Big Integer fields hold the wire's big-endian two's-complement bytes unchanged (so a decoded key re-encodes
/// identically); [`magnitude`] and [`positive_big_integer`] convert for unsigned arithmetic.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// A Byte String: Raw, Opaque, PKCS#1, PKCS#8, X.509, ECPrivateKey, PKCS#12, ... formats.
    Bytes(SecretBytes),
    /// Transparent Symmetric Key {Key}.
    TransparentSymmetricKey { key: SecretBytes },
    /// Transparent RSA Public Key {Modulus, Public Exponent}.
    TransparentRsaPublicKey {
        modulus: Vec<u8>,
        public_exponent: Vec<u8>,
    },
    /// Transparent RSA Private Key: Modulus and whichever private parts are present.
    TransparentRsaPrivateKey(Box<RsaPrivateParts>),
    /// Transparent EC (and ECDSA/ECDH/ECMQV) Public Key {Recommended Curve, Q String}.
    TransparentEcPublicKey {
        recommended_curve: RecommendedCurve,
        q_string: Vec<u8>,
    },
    /// Transparent EC (and ECDSA/ECDH/ECMQV) Private Key {Recommended Curve, D}.
    TransparentEcPrivateKey {
        recommended_curve: RecommendedCurve,
        d: SecretBytes,
    },
    /// Transparent DSA Public Key {P, Q, G, Y}.
    TransparentDsaPublicKey(DsaPublicParts),
    /// Transparent DSA Private Key {P, Q, G, X}.
    TransparentDsaPrivateKey(DsaPrivateParts),
    /// Any other structure (DH, ...), kept as received.
    Raw(RawMaterial),
    /// A wrapped Key Value with TTLV encoding: the whole Key Value is this Byte String (it has no Key
    /// Material item of its own). Not secret in the clear, but treated as such.
    Wrapped(SecretBytes),
}

/// The parts of a Transparent RSA Private Key; each optional except the modulus.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RsaPrivateParts {
    pub modulus: Vec<u8>,
    pub private_exponent: Option<SecretBytes>,
    pub public_exponent: Option<Vec<u8>>,
    pub p: Option<SecretBytes>,
    pub q: Option<SecretBytes>,
    pub prime_exponent_p: Option<SecretBytes>,
    pub prime_exponent_q: Option<SecretBytes>,
    pub crt_coefficient: Option<SecretBytes>,
}

/// The parts of a Transparent DSA Public Key (KMIP 1.4 §2.1.7.4, 2.1 §2.1.7.3): domain parameters and Y.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DsaPublicParts {
    pub p: Vec<u8>,
    pub q: Vec<u8>,
    pub g: Vec<u8>,
    pub y: Vec<u8>,
}

/// The parts of a Transparent DSA Private Key: domain parameters and the secret X.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DsaPrivateParts {
    pub p: Vec<u8>,
    pub q: Vec<u8>,
    pub g: Vec<u8>,
    pub x: SecretBytes,
}

/// A Key Material structure qkms does not type; its byte values are zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct RawMaterial(pub Item);

impl Drop for RawMaterial {
    fn drop(&mut self) {
        zeroize_item(&mut self.0);
    }
}

fn zeroize_item(item: &mut Item) {
    match &mut item.value {
        Value::Structure(children) => children.iter_mut().for_each(zeroize_item),
        Value::ByteString(bytes) | Value::BigInteger(bytes) => bytes.zeroize(),
        Value::TextString(text) => text.zeroize(),
        _ => {}
    }
}

/// The unsigned magnitude of a non-negative two's-complement Big Integer (leading zero bytes dropped).
pub fn magnitude(twos_complement: &[u8]) -> &[u8] {
    let start = twos_complement
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(twos_complement.len());
    &twos_complement[start..]
}

/// The two's-complement form of an unsigned magnitude: a zero byte is prepended when the top bit is set, so
/// the value stays positive (the TTLV encoder sign-extends to a multiple of 8 bytes).
pub fn positive_big_integer(magnitude: &[u8]) -> Vec<u8> {
    let magnitude = self::magnitude(magnitude);
    let mut out = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(magnitude);
    out
}

fn big(tag: ttlv::Tag, bytes: &[u8]) -> Item {
    Item::new(tag, Value::BigInteger(bytes.to_vec()))
}

fn required_big(f: &Fields<'_>, tag: ttlv::Tag) -> Result<Vec<u8>, DecodeError> {
    optional_big(f, tag)?.ok_or_else(|| DecodeError::missing(tag, f.tag))
}

fn optional_big(f: &Fields<'_>, tag: ttlv::Tag) -> Result<Option<Vec<u8>>, DecodeError> {
    match f.optional(tag) {
        None => Ok(None),
        Some(Item {
            value: Value::BigInteger(bytes),
            ..
        }) => Ok(Some(bytes.clone())),
        Some(other) => Err(DecodeError::invalid_field(
            tag,
            format!(
                "{} must be a Big Integer, found {}",
                crate::error::tag_label(tag),
                other.value.item_type().name()
            ),
        )),
    }
}

impl KeyMaterial {
    /// The Key Material item.
    pub fn to_item(&self) -> Item {
        let tag = tags::KEY_MATERIAL;
        match self {
            Self::Bytes(bytes) => Item::new(tag, Value::ByteString(bytes.to_vec())),
            Self::TransparentSymmetricKey { key } => Item::structure(
                tag,
                vec![Item::new(tags::KEY, Value::ByteString(key.to_vec()))],
            ),
            Self::TransparentRsaPublicKey {
                modulus,
                public_exponent,
            } => Item::structure(
                tag,
                vec![
                    big(tags::MODULUS, modulus),
                    big(tags::PUBLIC_EXPONENT, public_exponent),
                ],
            ),
            Self::TransparentRsaPrivateKey(parts) => {
                let mut children = vec![big(tags::MODULUS, &parts.modulus)];
                let optional: [(ttlv::Tag, Option<&[u8]>); 7] = [
                    (
                        tags::PRIVATE_EXPONENT,
                        parts.private_exponent.as_deref().map(Vec::as_slice),
                    ),
                    (tags::PUBLIC_EXPONENT, parts.public_exponent.as_deref()),
                    (tags::P, parts.p.as_deref().map(Vec::as_slice)),
                    (tags::Q, parts.q.as_deref().map(Vec::as_slice)),
                    (
                        tags::PRIME_EXPONENT_P,
                        parts.prime_exponent_p.as_deref().map(Vec::as_slice),
                    ),
                    (
                        tags::PRIME_EXPONENT_Q,
                        parts.prime_exponent_q.as_deref().map(Vec::as_slice),
                    ),
                    (
                        tags::CRT_COEFFICIENT,
                        parts.crt_coefficient.as_deref().map(Vec::as_slice),
                    ),
                ];
                children.extend(optional.iter().filter_map(|(t, v)| v.map(|v| big(*t, v))));
                Item::structure(tag, children)
            }
            Self::TransparentEcPublicKey {
                recommended_curve,
                q_string,
            } => Item::structure(
                tag,
                vec![
                    recommended_curve.to_item(tags::RECOMMENDED_CURVE),
                    Item::new(tags::Q_STRING, Value::ByteString(q_string.clone())),
                ],
            ),
            Self::TransparentEcPrivateKey {
                recommended_curve,
                d,
            } => Item::structure(
                tag,
                vec![
                    recommended_curve.to_item(tags::RECOMMENDED_CURVE),
                    big(tags::D, d),
                ],
            ),
            Self::TransparentDsaPublicKey(parts) => Item::structure(
                tag,
                vec![
                    big(tags::P, &parts.p),
                    big(tags::Q, &parts.q),
                    big(tags::G, &parts.g),
                    big(tags::Y, &parts.y),
                ],
            ),
            Self::TransparentDsaPrivateKey(parts) => Item::structure(
                tag,
                vec![
                    big(tags::P, &parts.p),
                    big(tags::Q, &parts.q),
                    big(tags::G, &parts.g),
                    big(tags::X, &parts.x),
                ],
            ),
            Self::Raw(raw) => raw.0.clone(),
            // Only `KeyValue` encodes a wrapped value (as itself); a Key Material item of it is its bytes.
            Self::Wrapped(bytes) => Item::new(tag, Value::ByteString(bytes.to_vec())),
        }
    }

    /// Decodes a Key Material item of a key in `format`. A structure this module types but whose children
    /// are not exactly the typed form (extra or reordered fields) is kept as [`KeyMaterial::Raw`], so it
    /// re-encodes unchanged.
    pub fn from_item(item: &Item, format: KeyFormatType) -> Result<Self, DecodeError> {
        if let Value::ByteString(bytes) = &item.value {
            return Ok(Self::Bytes(Zeroizing::new(bytes.clone())));
        }
        let f = Fields::of(item, tags::KEY_MATERIAL)?;
        let typed = match format {
            KeyFormatType::TransparentSymmetricKey => Self::TransparentSymmetricKey {
                key: Zeroizing::new(f.required_bytes(tags::KEY)?.to_vec()),
            },
            KeyFormatType::TransparentRsaPublicKey => Self::TransparentRsaPublicKey {
                modulus: required_big(&f, tags::MODULUS)?,
                public_exponent: required_big(&f, tags::PUBLIC_EXPONENT)?,
            },
            KeyFormatType::TransparentRsaPrivateKey => {
                let secret = |tag| optional_big(&f, tag).map(|v| v.map(Zeroizing::new));
                Self::TransparentRsaPrivateKey(Box::new(RsaPrivateParts {
                    modulus: required_big(&f, tags::MODULUS)?,
                    private_exponent: secret(tags::PRIVATE_EXPONENT)?,
                    public_exponent: optional_big(&f, tags::PUBLIC_EXPONENT)?,
                    p: secret(tags::P)?,
                    q: secret(tags::Q)?,
                    prime_exponent_p: secret(tags::PRIME_EXPONENT_P)?,
                    prime_exponent_q: secret(tags::PRIME_EXPONENT_Q)?,
                    crt_coefficient: secret(tags::CRT_COEFFICIENT)?,
                }))
            }
            KeyFormatType::TransparentEcPublicKey
            | KeyFormatType::TransparentEcdsaPublicKey
            | KeyFormatType::TransparentEcdhPublicKey
            | KeyFormatType::TransparentEcmqvPublicKey => Self::TransparentEcPublicKey {
                recommended_curve: crate::enums::required(&f, tags::RECOMMENDED_CURVE)?,
                q_string: f.required_bytes(tags::Q_STRING)?.to_vec(),
            },
            KeyFormatType::TransparentEcPrivateKey
            | KeyFormatType::TransparentEcdsaPrivateKey
            | KeyFormatType::TransparentEcdhPrivateKey
            | KeyFormatType::TransparentEcmqvPrivateKey => Self::TransparentEcPrivateKey {
                recommended_curve: crate::enums::required(&f, tags::RECOMMENDED_CURVE)?,
                d: Zeroizing::new(required_big(&f, tags::D)?),
            },
            KeyFormatType::TransparentDsaPublicKey => {
                Self::TransparentDsaPublicKey(DsaPublicParts {
                    p: required_big(&f, tags::P)?,
                    q: required_big(&f, tags::Q)?,
                    g: required_big(&f, tags::G)?,
                    y: required_big(&f, tags::Y)?,
                })
            }
            KeyFormatType::TransparentDsaPrivateKey => {
                Self::TransparentDsaPrivateKey(DsaPrivateParts {
                    p: required_big(&f, tags::P)?,
                    q: required_big(&f, tags::Q)?,
                    g: required_big(&f, tags::G)?,
                    x: Zeroizing::new(required_big(&f, tags::X)?),
                })
            }
            _ => return Ok(Self::Raw(RawMaterial(item.clone()))),
        };
        if typed.to_item() == *item {
            Ok(typed)
        } else {
            Ok(Self::Raw(RawMaterial(item.clone())))
        }
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(bytes) => {
                write!(f, "KeyMaterial::Bytes([REDACTED; {} bytes])", bytes.len())
            }
            Self::TransparentSymmetricKey { key } => {
                write!(
                    f,
                    "KeyMaterial::TransparentSymmetricKey([REDACTED; {} bytes])",
                    key.len()
                )
            }
            Self::TransparentRsaPublicKey { modulus, .. } => {
                write!(
                    f,
                    "KeyMaterial::TransparentRsaPublicKey({} modulus bytes)",
                    modulus.len()
                )
            }
            Self::TransparentRsaPrivateKey(parts) => {
                write!(
                    f,
                    "KeyMaterial::TransparentRsaPrivateKey([REDACTED]; {} modulus bytes)",
                    parts.modulus.len()
                )
            }
            Self::TransparentEcPublicKey {
                recommended_curve, ..
            } => {
                write!(
                    f,
                    "KeyMaterial::TransparentEcPublicKey({recommended_curve})"
                )
            }
            Self::TransparentEcPrivateKey {
                recommended_curve, ..
            } => {
                write!(
                    f,
                    "KeyMaterial::TransparentEcPrivateKey({recommended_curve}, [REDACTED])"
                )
            }
            Self::TransparentDsaPublicKey(parts) => write!(
                f,
                "KeyMaterial::TransparentDsaPublicKey({} P bytes)",
                magnitude(&parts.p).len()
            ),
            Self::TransparentDsaPrivateKey(parts) => write!(
                f,
                "KeyMaterial::TransparentDsaPrivateKey([REDACTED]; {} P bytes)",
                magnitude(&parts.p).len()
            ),
            Self::Raw(_) => f.write_str("KeyMaterial::Raw([REDACTED])"),
            Self::Wrapped(bytes) => write!(f, "KeyMaterial::Wrapped({} bytes)", bytes.len()),
        }
    }
}

impl fmt::Debug for RsaPrivateParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RsaPrivateParts([REDACTED]; {} modulus bytes)",
            self.modulus.len()
        )
    }
}

impl fmt::Debug for DsaPublicParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DsaPublicParts({} P bytes)", magnitude(&self.p).len())
    }
}

impl fmt::Debug for DsaPrivateParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DsaPrivateParts([REDACTED]; {} P bytes)",
            magnitude(&self.p).len()
        )
    }
}

impl fmt::Debug for RawMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RawMaterial({}, [REDACTED])",
            crate::error::tag_label(self.0.tag)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dsa_item(last: ttlv::Tag) -> Item {
        Item::structure(
            tags::KEY_MATERIAL,
            vec![
                big(tags::P, &[0, 0xC3]),
                big(tags::Q, &[0x0B]),
                big(tags::G, &[0x02]),
                big(last, &[0x05]),
            ],
        )
    }

    #[test]
    fn transparent_dsa_keys_are_typed_and_re_encode_unchanged() {
        let public = dsa_item(tags::Y);
        let decoded =
            KeyMaterial::from_item(&public, KeyFormatType::TransparentDsaPublicKey).unwrap();
        assert!(
            matches!(&decoded, KeyMaterial::TransparentDsaPublicKey(p) if p.y == [0x05] && p.p == [0, 0xC3])
        );
        assert_eq!(decoded.to_item(), public);
        let private = dsa_item(tags::X);
        let decoded =
            KeyMaterial::from_item(&private, KeyFormatType::TransparentDsaPrivateKey).unwrap();
        assert!(
            matches!(&decoded, KeyMaterial::TransparentDsaPrivateKey(p) if p.x.as_slice() == [0x05])
        );
        assert_eq!(decoded.to_item(), private);
        assert!(!format!("{decoded:?}").contains('5'), "{decoded:?}");
    }

    #[test]
    fn a_dsa_key_without_its_value_is_invalid_field() {
        let no_y = Item::structure(
            tags::KEY_MATERIAL,
            vec![big(tags::P, &[1]), big(tags::Q, &[1]), big(tags::G, &[1])],
        );
        let error =
            KeyMaterial::from_item(&no_y, KeyFormatType::TransparentDsaPublicKey).unwrap_err();
        assert_eq!(error.reason, crate::ResultReason::InvalidField);
    }
}
