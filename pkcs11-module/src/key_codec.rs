//! Encodings between what the server returns and what PKCS#11 presents: public key parts out of a
//! SubjectPublicKeyInfo, named-curve parameters, and ECDSA signatures as DER (KMIP) or raw r||s (PKCS#11).

use cryptoki_sys::*;
use der::{Decode, Encode};

use crate::error::{fail, Pkcs11Error, Result};

/// DER of the P-256 (prime256v1) named-curve OID.
pub const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// DER of the P-384 (secp384r1) named-curve OID.
pub const P384_PARAMS: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22];

/// CKA_EC_PARAMS of a curve of `bits` bits.
pub fn ec_params_for_bits(bits: i32) -> Option<&'static [u8]> {
    match bits {
        256 => Some(P256_PARAMS),
        384 => Some(P384_PARAMS),
        _ => None,
    }
}

/// The curve size in bits named by CKA_EC_PARAMS.
pub fn bits_for_ec_params(params: &[u8]) -> Result<i32> {
    match params {
        P256_PARAMS => Ok(256),
        P384_PARAMS => Ok(384),
        _ => fail(
            CKR_CURVE_NOT_SUPPORTED,
            "EC keys are on P-256 or P-384 (named-curve OID)",
        ),
    }
}

fn spki(der_bytes: &[u8]) -> Result<spki::SubjectPublicKeyInfoRef<'_>> {
    spki::SubjectPublicKeyInfoRef::from_der(der_bytes).map_err(|_| {
        Pkcs11Error::Unexpected("the server's public key is not a SubjectPublicKeyInfo".into())
    })
}

/// (CKA_MODULUS, CKA_PUBLIC_EXPONENT) of an RSA SubjectPublicKeyInfo.
pub fn rsa_parts(spki_der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let info = spki(spki_der)?;
    let key = pkcs1::RsaPublicKeyRef::from_der(info.subject_public_key.raw_bytes())
        .map_err(|_| Pkcs11Error::Unexpected("the RSA public key is not PKCS#1".into()))?;
    Ok((
        key.modulus.as_bytes().to_vec(),
        key.public_exponent.as_bytes().to_vec(),
    ))
}

/// CKA_EC_POINT (the uncompressed point as a DER OCTET STRING) of an EC SubjectPublicKeyInfo.
pub fn ec_point(spki_der: &[u8]) -> Result<Vec<u8>> {
    let info = spki(spki_der)?;
    der::asn1::OctetStringRef::new(info.subject_public_key.raw_bytes())
        .and_then(|octets| octets.to_der())
        .map_err(|_| Pkcs11Error::Unexpected("cannot encode the EC point".into()))
}

/// rsaEncryption (PKCS#1).
const OID_RSA_ENCRYPTION: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey (RFC 5480).
const OID_EC_PUBLIC_KEY: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

fn encoding_error<E>(what: &'static str) -> impl FnOnce(E) -> Pkcs11Error {
    move |_| Pkcs11Error::rv(CKR_ATTRIBUTE_VALUE_INVALID, what)
}

/// The SubjectPublicKeyInfo of an RSA public key given as CKA_MODULUS and CKA_PUBLIC_EXPONENT (big-endian).
pub fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Result<Vec<u8>> {
    let key = pkcs1::RsaPublicKey {
        modulus: pkcs1::UintRef::new(modulus).map_err(encoding_error("CKA_MODULUS"))?,
        public_exponent: pkcs1::UintRef::new(exponent)
            .map_err(encoding_error("CKA_PUBLIC_EXPONENT"))?,
    };
    let pkcs1_der = key.to_der().map_err(encoding_error("the RSA public key"))?;
    let info = spki::SubjectPublicKeyInfoRef {
        algorithm: spki::AlgorithmIdentifierRef {
            oid: OID_RSA_ENCRYPTION,
            parameters: Some(der::asn1::AnyRef::from(der::asn1::Null)),
        },
        subject_public_key: der::asn1::BitStringRef::from_bytes(&pkcs1_der)
            .map_err(encoding_error("the RSA public key"))?,
    };
    info.to_der().map_err(encoding_error("the RSA public key"))
}

/// The SubjectPublicKeyInfo of an EC public key given as CKA_EC_PARAMS (a named-curve OID) and CKA_EC_POINT
/// (the point as a DER OCTET STRING, as the standard says, or bare, as some applications pass it).
pub fn ec_spki(params: &[u8], point: &[u8]) -> Result<Vec<u8>> {
    let bits = bits_for_ec_params(params)?;
    let uncompressed_len = 1 + 2 * (bits as usize).div_ceil(8);
    let bare = if point.len() == uncompressed_len && point[0] == 0x04 {
        point
    } else {
        <&der::asn1::OctetStringRef>::from_der(point)
            .map_err(encoding_error("CKA_EC_POINT is not a DER OCTET STRING"))?
            .as_bytes()
    };
    if bare.len() != uncompressed_len || bare[0] != 0x04 {
        return fail(
            CKR_ATTRIBUTE_VALUE_INVALID,
            "CKA_EC_POINT must be an uncompressed point of the curve",
        );
    }
    let info = spki::SubjectPublicKeyInfoRef {
        algorithm: spki::AlgorithmIdentifierRef {
            oid: OID_EC_PUBLIC_KEY,
            parameters: Some(
                der::asn1::AnyRef::from_der(params).map_err(encoding_error("CKA_EC_PARAMS"))?,
            ),
        },
        subject_public_key: der::asn1::BitStringRef::from_bytes(bare)
            .map_err(encoding_error("CKA_EC_POINT"))?,
    };
    info.to_der().map_err(encoding_error("the EC public key"))
}

/// A DER `ECDSA-Sig-Value` as PKCS#11's r||s, each left-padded to `field_len` bytes.
pub fn ecdsa_der_to_raw(der_bytes: &[u8], field_len: usize) -> Result<Vec<u8>> {
    let bad = || Pkcs11Error::Unexpected("the server's ECDSA signature is not DER r, s".into());
    let body = match der_bytes {
        [0x30, len, body @ ..] if usize::from(*len) == body.len() && *len < 0x80 => body,
        _ => return Err(bad()),
    };
    let mut out = Vec::with_capacity(2 * field_len);
    let mut rest = body;
    for _ in 0..2 {
        let (value, tail) = match rest {
            [0x02, len, tail @ ..] if usize::from(*len) <= tail.len() => {
                tail.split_at(usize::from(*len))
            }
            _ => return Err(bad()),
        };
        let trimmed: &[u8] = {
            let start = value.iter().position(|b| *b != 0).unwrap_or(value.len());
            &value[start..]
        };
        if trimmed.len() > field_len {
            return Err(bad());
        }
        out.extend(std::iter::repeat_n(0u8, field_len - trimmed.len()));
        out.extend_from_slice(trimmed);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// PKCS#11's r||s as a DER `ECDSA-Sig-Value`; CKR_SIGNATURE_LEN_RANGE unless it is two `field_len` halves.
pub fn ecdsa_raw_to_der(raw: &[u8], field_len: usize) -> Result<Vec<u8>> {
    if raw.len() != 2 * field_len {
        return fail(
            CKR_SIGNATURE_LEN_RANGE,
            "an ECDSA signature is r||s of the curve size",
        );
    }
    let mut body = Vec::with_capacity(raw.len() + 6);
    for half in raw.chunks(field_len) {
        let start = half.iter().position(|b| *b != 0).unwrap_or(half.len());
        let mut int = half[start..].to_vec();
        if int.first().is_none_or(|b| b & 0x80 != 0) {
            int.insert(0, 0);
        }
        body.push(0x02);
        body.push(int.len() as u8); // at most 49 bytes for P-384: short form
        body.extend(int);
    }
    let mut out = vec![0x30, body.len() as u8]; // at most 102 bytes: short form
    out.extend(body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signatures_round_trip_between_der_and_raw() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a sign byte in DER
        raw[31] = 1;
        raw[63] = 7; // s is small: padded back to 32 bytes
        let der = ecdsa_raw_to_der(&raw, 32).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x26, 0x02, 0x21]);
        assert_eq!(ecdsa_der_to_raw(&der, 32).unwrap(), raw);
    }

    #[test]
    fn malformed_signatures_are_errors() {
        assert!(ecdsa_der_to_raw(&[0x30, 0x03, 0x02, 0x01], 32).is_err());
        assert!(ecdsa_der_to_raw(&[0x31, 0x00], 32).is_err());
        assert_eq!(
            ecdsa_raw_to_der(&[1; 63], 32).unwrap_err().to_rv(),
            CKR_SIGNATURE_LEN_RANGE
        );
    }

    #[test]
    fn curves_are_named_by_their_oids() {
        assert_eq!(bits_for_ec_params(P384_PARAMS).unwrap(), 384);
        assert_eq!(ec_params_for_bits(256), Some(P256_PARAMS));
        assert!(bits_for_ec_params(&[0x06, 0x01, 0x00]).is_err());
    }
}
