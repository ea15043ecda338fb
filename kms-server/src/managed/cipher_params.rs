//! What an Encrypt or Decrypt request's Cryptographic Parameters select, checked before any data is touched:
//! the symmetric cipher (AES in a mode, ChaCha20, ChaCha20-Poly1305) from the key's algorithm and the Block
//! Cipher Mode, the AES padding, the AEAD tag length and tag, the RSA encryption scheme.

use kmip::attributes::CryptographicParameters;
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, HashingAlgorithm, MaskGenerator, PaddingMethod,
};
use kmip::objects::KeyBlock;
use kmip::{ProtocolVersion, ResultReason};

use super::key_use::hash_algorithm;
use super::versioned;
use crate::crypto::rsa_params::OaepParams;
use crate::crypto::symmetric::{Padding, GCM_DEFAULT_TAG_LEN};
use crate::error::KmipError;

fn mode_of(
    version: ProtocolVersion,
    p: &CryptographicParameters,
) -> Result<BlockCipherMode, KmipError> {
    match p.block_cipher_mode {
        Some(mode @ (BlockCipherMode::Ecb | BlockCipherMode::Cbc | BlockCipherMode::Ctr | BlockCipherMode::Gcm)) => {
            Ok(mode)
        }
        Some(other) => Err(versioned(
            version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::InvalidField,
            format!("Block Cipher Mode {} is not supported (ECB, CBC, CTR, GCM are)", other.name()),
        )),
        None => Err(KmipError::invalid_field(
            "a symmetric key needs a Block Cipher Mode (in the request or the key's Cryptographic Parameters)",
        )),
    }
}

/// The symmetric cipher a key's algorithm and the parameters select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymmetricCipher {
    Aes(BlockCipherMode),
    ChaCha20,
    ChaCha20Poly1305,
}

/// ChaCha20 keys are a stream cipher without a mode, or the RFC 8439 AEAD with Block Cipher Mode AEAD;
/// ChaCha20-Poly1305 keys are always the AEAD. Every other symmetric key is AES.
pub fn cipher_of(
    version: ProtocolVersion,
    block: &KeyBlock,
    p: &CryptographicParameters,
) -> Result<SymmetricCipher, KmipError> {
    let algorithm = block.cryptographic_algorithm.or(p.cryptographic_algorithm);
    match (algorithm, p.block_cipher_mode) {
        (Some(CryptographicAlgorithm::ChaCha20), None) => Ok(SymmetricCipher::ChaCha20),
        (
            Some(CryptographicAlgorithm::ChaCha20 | CryptographicAlgorithm::ChaCha20Poly1305),
            Some(BlockCipherMode::Aead),
        )
        | (Some(CryptographicAlgorithm::ChaCha20Poly1305), None) => {
            Ok(SymmetricCipher::ChaCha20Poly1305)
        }
        (
            Some(CryptographicAlgorithm::ChaCha20 | CryptographicAlgorithm::ChaCha20Poly1305),
            Some(mode),
        ) => Err(versioned(
            version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::InvalidField,
            format!(
                "Block Cipher Mode {} does not apply to ChaCha20 keys (none or AEAD)",
                mode.name()
            ),
        )),
        _ => mode_of(version, p).map(SymmetricCipher::Aes),
    }
}

pub fn padding_of(
    version: ProtocolVersion,
    p: &CryptographicParameters,
) -> Result<Padding, KmipError> {
    match p.padding_method {
        None | Some(PaddingMethod::None) => Ok(Padding::None),
        Some(PaddingMethod::Pkcs5) => Ok(Padding::Pkcs5),
        Some(other) => Err(versioned(
            version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::InvalidField,
            format!(
                "Padding Method {} is not supported for AES (None, PKCS5 are)",
                other.name()
            ),
        )),
    }
}

/// AEAD encryption (GCM, ChaCha20-Poly1305) returns an Authenticated Encryption Tag, a field KMIP 1.4 added:
/// before 1.4 the tag cannot be sent, and a ciphertext without its tag could never be decrypted, so refuse.
pub fn check_aead_encryption(version: ProtocolVersion) -> Result<(), KmipError> {
    if version < ProtocolVersion::V1_4 {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            format!(
                "authenticated encryption (GCM, ChaCha20-Poly1305) needs KMIP 1.4 or later to return its \
                 Authenticated Encryption Tag; this request is KMIP {version}"
            ),
        ));
    }
    Ok(())
}

/// The AEAD tag length (GCM or Poly1305): 16 bytes unless the parameters say otherwise, 12..=16 accepted.
pub fn aead_tag_len(p: &CryptographicParameters) -> Result<usize, KmipError> {
    let len = p
        .tag_length
        .map_or(Ok(GCM_DEFAULT_TAG_LEN), usize::try_from)
        .unwrap_or(0);
    if !(12..=16).contains(&len) {
        return Err(KmipError::general(format!(
            "invalid AEAD tag length {:?}: 12 to 16 bytes are supported",
            p.tag_length
        )));
    }
    Ok(len)
}

/// The RSA encryption scheme the parameters name (OAEP defaults: SHA-1 and MGF1 with SHA-1, as KMIP says).
pub fn oaep_or_pkcs1(
    version: ProtocolVersion,
    p: &CryptographicParameters,
) -> Result<Option<OaepParams>, KmipError> {
    match p.padding_method {
        Some(PaddingMethod::Oaep) => {
            if p.mask_generator.is_some_and(|m| m != MaskGenerator::Mgf1) {
                return Err(KmipError::invalid_field(
                    "OAEP supports the MGF1 mask generator only",
                ));
            }
            Ok(Some(OaepParams {
                hash: hash_algorithm(
                    version,
                    p.hashing_algorithm.unwrap_or(HashingAlgorithm::Sha1),
                )?,
                mgf1_hash: hash_algorithm(
                    version,
                    p.mask_generator_hashing_algorithm
                        .unwrap_or(HashingAlgorithm::Sha1),
                )?,
                label: p.p_source.clone().unwrap_or_default(),
            }))
        }
        Some(PaddingMethod::Pkcs1v1_5) => Ok(None),
        other => Err(KmipError::invalid_field(format!(
            "RSA encryption needs Padding Method OAEP or PKCS1 v1.5, not {}",
            other.map_or("none", |m| m.name())
        ))),
    }
}

/// The Authenticated Encryption Tag an AEAD decryption needs, consistent with the Tag Length parameter if given.
pub fn checked_tag<'t>(
    p: &CryptographicParameters,
    tag: Option<&'t [u8]>,
) -> Result<&'t [u8], KmipError> {
    let tag = tag.ok_or_else(|| {
        KmipError::new(
            ResultReason::InvalidMessage,
            "AEAD decryption needs the Authenticated Encryption Tag",
        )
    })?;
    if p.tag_length.is_some() && aead_tag_len(p)? != tag.len() {
        return Err(KmipError::invalid_field(
            "the tag's length differs from the Tag Length parameter",
        ));
    }
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use kmip::enums::KeyFormatType;

    use super::*;

    fn key(algorithm: CryptographicAlgorithm) -> KeyBlock {
        KeyBlock {
            key_format_type: KeyFormatType::Raw,
            key_compression_type: None,
            key_value: None,
            cryptographic_algorithm: Some(algorithm),
            cryptographic_length: Some(256),
            key_wrapping_data: None,
        }
    }

    fn mode(mode: Option<BlockCipherMode>) -> CryptographicParameters {
        CryptographicParameters {
            block_cipher_mode: mode,
            ..CryptographicParameters::default()
        }
    }

    #[test]
    fn the_key_algorithm_and_mode_select_the_cipher() {
        let v = ProtocolVersion::V2_1;
        let chacha = key(CryptographicAlgorithm::ChaCha20);
        let poly = key(CryptographicAlgorithm::ChaCha20Poly1305);
        let aes = key(CryptographicAlgorithm::Aes);
        let aead = Some(BlockCipherMode::Aead);
        assert_eq!(
            cipher_of(v, &chacha, &mode(None)),
            Ok(SymmetricCipher::ChaCha20)
        );
        assert_eq!(
            cipher_of(v, &chacha, &mode(aead)),
            Ok(SymmetricCipher::ChaCha20Poly1305)
        );
        assert_eq!(
            cipher_of(v, &poly, &mode(None)),
            Ok(SymmetricCipher::ChaCha20Poly1305)
        );
        assert_eq!(
            cipher_of(v, &poly, &mode(aead)),
            Ok(SymmetricCipher::ChaCha20Poly1305)
        );
        let refused = cipher_of(v, &chacha, &mode(Some(BlockCipherMode::Cbc))).unwrap_err();
        assert_eq!(
            refused.reason,
            ResultReason::UnsupportedCryptographicParameters
        );
        assert_eq!(
            cipher_of(v, &aes, &mode(Some(BlockCipherMode::Gcm))),
            Ok(SymmetricCipher::Aes(BlockCipherMode::Gcm))
        );
        assert!(cipher_of(v, &aes, &mode(None)).is_err());
        assert!(cipher_of(v, &aes, &mode(aead)).is_err());
    }

    #[test]
    fn aead_encryption_needs_kmip_1_4_for_its_tag() {
        let refused = check_aead_encryption(ProtocolVersion::V1_2).unwrap_err();
        assert_eq!(refused.reason, ResultReason::FeatureNotSupported);
        assert!(check_aead_encryption(ProtocolVersion::V1_4).is_ok());
        assert!(check_aead_encryption(ProtocolVersion::V2_0).is_ok());
    }

    #[test]
    fn aead_tags_are_12_to_16_bytes_and_match_the_tag_length() {
        let with_len = |n| CryptographicParameters {
            tag_length: Some(n),
            ..CryptographicParameters::default()
        };
        assert_eq!(aead_tag_len(&CryptographicParameters::default()), Ok(16));
        assert_eq!(aead_tag_len(&with_len(12)), Ok(12));
        assert_eq!(
            aead_tag_len(&with_len(1)).unwrap_err().reason,
            ResultReason::GeneralFailure
        );
        assert_eq!(
            aead_tag_len(&with_len(32)).unwrap_err().reason,
            ResultReason::GeneralFailure
        );
        assert!(checked_tag(&with_len(12), Some(&[0; 12])).is_ok());
        assert!(checked_tag(&with_len(16), Some(&[0; 12])).is_err());
        assert_eq!(
            checked_tag(&with_len(16), None).unwrap_err().reason,
            ResultReason::InvalidMessage
        );
    }
}
