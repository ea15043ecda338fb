//! The symmetric key a Create or Re-key asks for, validated: algorithm, recorded length, bytes to draw.

use kmip::enums::CryptographicAlgorithm;
use kmip::ResultReason;

use super::versioned;
use crate::error::KmipError;

/// Largest HMAC key qkms makes, in bits.
const MAX_HMAC_KEY_BITS: i32 = 8192;

/// What a symmetric key request asks for, validated: algorithm, the length to record, and the bytes to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub algorithm: CryptographicAlgorithm,
    /// The Cryptographic Length attribute (3DES: 168 or 192 as asked).
    pub length_bits: i32,
    pub material_bytes: usize,
}

/// Validates the algorithm and length a template asks for.
pub fn key_spec(
    version: kmip::ProtocolVersion,
    algorithm: Option<CryptographicAlgorithm>,
    length: Option<i32>,
) -> Result<KeySpec, KmipError> {
    let unsupported = |message: String| {
        versioned(
            version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::InvalidField,
            message,
        )
    };
    let algorithm = algorithm.ok_or_else(|| {
        KmipError::new(
            ResultReason::InvalidField,
            "Create needs a Cryptographic Algorithm attribute",
        )
    })?;
    use CryptographicAlgorithm as A;
    let hmac_default = match algorithm {
        A::HmacSha1 => Some(160),
        A::HmacSha224 => Some(224),
        A::HmacSha256 => Some(256),
        A::HmacSha384 => Some(384),
        A::HmacSha512 => Some(512),
        _ => None,
    };
    let (length_bits, material_bytes) = match (algorithm, length) {
        (A::Aes, Some(bits @ (128 | 192 | 256))) => (bits, (bits / 8) as usize),
        (A::Aes, other) => {
            return Err(unsupported(format!(
                "AES keys are 128, 192 or 256 bits, not {}",
                other.map_or("unspecified".into(), |b| b.to_string())
            )))
        }
        (A::TripleDes, Some(bits @ (168 | 192))) => (bits, 24),
        (A::TripleDes, other) => {
            return Err(unsupported(format!(
                "3DES keys are 168 (or 192 with parity) bits, not {}",
                other.map_or("unspecified".into(), |b| b.to_string())
            )))
        }
        (_, length) if hmac_default.is_some() => {
            let bits = length.or(hmac_default).unwrap_or(256);
            if bits < 8 || bits % 8 != 0 || bits > MAX_HMAC_KEY_BITS {
                return Err(unsupported(format!(
                    "HMAC key length must be a whole number of bytes between 8 and {MAX_HMAC_KEY_BITS} bits, not {bits}"
                )));
            }
            (bits, (bits / 8) as usize)
        }
        (other, _) => {
            return Err(unsupported(format!(
                "Create makes AES, 3DES and HMAC keys; {} is not supported",
                other.name()
            )))
        }
    };
    Ok(KeySpec {
        algorithm,
        length_bits,
        material_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::ProtocolVersion;

    #[test]
    fn key_lengths_follow_the_algorithm() {
        let v = ProtocolVersion::V2_1;
        let spec = key_spec(v, Some(CryptographicAlgorithm::Aes), Some(192)).unwrap();
        assert_eq!(spec.material_bytes, 24);
        let spec = key_spec(v, Some(CryptographicAlgorithm::TripleDes), Some(168)).unwrap();
        assert_eq!((spec.length_bits, spec.material_bytes), (168, 24));
        let spec = key_spec(v, Some(CryptographicAlgorithm::HmacSha384), None).unwrap();
        assert_eq!(spec.material_bytes, 48);
        assert_eq!(
            key_spec(v, Some(CryptographicAlgorithm::Aes), Some(100))
                .unwrap_err()
                .reason,
            ResultReason::UnsupportedCryptographicParameters
        );
        assert_eq!(
            key_spec(
                ProtocolVersion::V1_4,
                Some(CryptographicAlgorithm::Rsa),
                Some(2048)
            )
            .unwrap_err()
            .reason,
            ResultReason::InvalidField
        );
        assert!(key_spec(v, None, Some(128)).is_err());
        assert!(key_spec(v, Some(CryptographicAlgorithm::HmacSha256), Some(12)).is_err());
    }
}
