//! ML-KEM and ML-DSA keys in KMIP Key Blocks (the KMIP 2.1 formats have no post-quantum entry; these choices
//! are provisional, as the README says):
//!
//! - Raw: a private key is its seed (ML-KEM 64 bytes `d || z`, ML-DSA 32 bytes `xi`), what qkms generates and
//!   stores; a private key may also be registered in the FIPS 203 / 204 expanded form (told apart by length).
//!   A public key is its FIPS 203 / 204 encoding.
//! - Opaque (Get / Export of a private key only): the FIPS 203 / 204 expanded private key.
//! - PKCS#8 and X.509 (SubjectPublicKeyInfo): RFC 9935 / RFC 9881, seed form (handled with the other keys).
//!
//! The parameter set comes from the Key Block's Cryptographic Algorithm; the Cryptographic Length is the
//! parameter set's number (512 / 768 / 1024, 44 / 65 / 87).

use kmip::enums::{CryptographicAlgorithm, KeyFormatType};
use kmip::objects::KeyBlock;
use kmip::{ProtocolVersion, ResultReason};
use zeroize::Zeroizing;

use super::key_codec::crypto_error;
use super::key_pairs::post_quantum_spec;
use crate::crypto::ml_dsa::{MlDsaLevel, MlDsaPrivateKey, MlDsaPublicKey};
use crate::crypto::ml_kem::{MlKemLevel, MlKemPrivateKey, MlKemPublicKey};
use crate::crypto::{KeyPairSpec, PrivateKey, PublicKey};
use crate::error::KmipError;

/// The KMIP algorithm and Cryptographic Length of a post-quantum spec.
pub fn algorithm_and_length(spec: KeyPairSpec) -> (CryptographicAlgorithm, i32) {
    use CryptographicAlgorithm as A;
    match spec {
        KeyPairSpec::MlKem(MlKemLevel::MlKem512) => (A::MlKem512, 512),
        KeyPairSpec::MlKem(MlKemLevel::MlKem768) => (A::MlKem768, 768),
        KeyPairSpec::MlKem(MlKemLevel::MlKem1024) => (A::MlKem1024, 1024),
        KeyPairSpec::MlDsa(MlDsaLevel::MlDsa44) => (A::MlDsa44, 44),
        KeyPairSpec::MlDsa(MlDsaLevel::MlDsa65) => (A::MlDsa65, 65),
        KeyPairSpec::MlDsa(MlDsaLevel::MlDsa87) => (A::MlDsa87, 87),
        // Not post-quantum: the caller (key_codec) answers these itself.
        KeyPairSpec::Rsa { .. } | KeyPairSpec::Ec(_) | KeyPairSpec::Ed25519 => (A::Rsa, 0),
    }
}

/// The post-quantum spec a Raw Key Block declares, or Key Format Type Not Supported for a Raw block of another
/// (or no) algorithm.
fn raw_spec(block: &KeyBlock, what: &str) -> Result<KeyPairSpec, KmipError> {
    block
        .cryptographic_algorithm
        .and_then(post_quantum_spec)
        .ok_or_else(|| {
            KmipError::new(
                ResultReason::KeyFormatTypeNotSupported,
                format!(
                    "a Raw {what} is an ML-KEM or ML-DSA key, and its Key Block must name the Cryptographic \
                     Algorithm (ML_KEM_512/768/1024, ML_DSA_44/65/87)"
                ),
            )
        })
}

/// A private key given in Raw form (seed, or ML-KEM expanded key).
pub fn private_from_raw(
    version: ProtocolVersion,
    block: &KeyBlock,
    bytes: &[u8],
) -> Result<PrivateKey, KmipError> {
    let error = |e| crypto_error(version, e);
    match raw_spec(block, "private key")? {
        KeyPairSpec::MlKem(level) => MlKemPrivateKey::from_bytes(level, bytes)
            .map(|k| PrivateKey::MlKem(Box::new(k)))
            .map_err(error),
        KeyPairSpec::MlDsa(level) => MlDsaPrivateKey::from_bytes(level, bytes)
            .map(|k| PrivateKey::MlDsa(Box::new(k)))
            .map_err(error),
        _ => Err(KmipError::invalid_field("not a post-quantum key")),
    }
}

/// A public key given in Raw form (the FIPS 203 / 204 encoding).
pub fn public_from_raw(
    version: ProtocolVersion,
    block: &KeyBlock,
    bytes: &[u8],
) -> Result<PublicKey, KmipError> {
    let error = |e| crypto_error(version, e);
    match raw_spec(block, "public key")? {
        KeyPairSpec::MlKem(level) => MlKemPublicKey::from_bytes(level, bytes)
            .map(PublicKey::MlKem)
            .map_err(error),
        KeyPairSpec::MlDsa(level) => MlDsaPublicKey::from_bytes(level, bytes)
            .map(PublicKey::MlDsa)
            .map_err(error),
        _ => Err(KmipError::invalid_field("not a post-quantum key")),
    }
}

/// A post-quantum private key's bytes in `format`: Raw the form held (seed), Opaque the expanded form.
pub fn private_bytes(
    version: ProtocolVersion,
    key: &PrivateKey,
    format: KeyFormatType,
) -> Result<Zeroizing<Vec<u8>>, KmipError> {
    match (key, format) {
        (PrivateKey::MlKem(k), KeyFormatType::Raw) => Ok(Zeroizing::new(k.stored_bytes().to_vec())),
        (PrivateKey::MlKem(k), KeyFormatType::Opaque) => {
            k.expanded().map_err(|e| crypto_error(version, e))
        }
        (PrivateKey::MlDsa(k), KeyFormatType::Raw) => Ok(Zeroizing::new(k.stored_bytes().to_vec())),
        (PrivateKey::MlDsa(k), KeyFormatType::Opaque) => Ok(k.expanded()),
        _ => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "a post-quantum private key cannot be given as {}",
                format.name()
            ),
        )),
    }
}
