//! The post-quantum keys in the generic key encodings of [`super::key_formats`]: PKCS#8 and SubjectPublicKeyInfo
//! recognised by their algorithm identifiers (RFC 9935 ML-KEM, id-alg-ml-kem-* under 2.16.840.1.101.3.4.4; RFC
//! 9881 ML-DSA, id-ml-dsa-* under 2.16.840.1.101.3.4.3.17-19), kept apart so `key_formats` stays about the
//! classical keys; it calls here for the last algorithms it does not know and for the post-quantum variants.

use der::asn1::ObjectIdentifier;
use zeroize::Zeroizing;

use super::keygen::{PrivateKey, PublicKey};
use super::ml_dsa::{MlDsaPrivateKey, MlDsaPublicKey};
use super::ml_kem::{MlKemPrivateKey, MlKemPublicKey};
use super::CryptoError;

const ML_KEM_ARC: &str = "2.16.840.1.101.3.4.4.";
const ML_DSA_OIDS: [&str; 3] = [
    "2.16.840.1.101.3.4.3.17",
    "2.16.840.1.101.3.4.3.18",
    "2.16.840.1.101.3.4.3.19",
];

/// A PKCS#8 private key of a post-quantum `algorithm`; any other algorithm is unsupported.
pub(super) fn private_from_pkcs8(
    algorithm: ObjectIdentifier,
    der: &[u8],
) -> Result<PrivateKey, CryptoError> {
    let oid = algorithm.to_string();
    if oid.starts_with(ML_KEM_ARC) {
        return MlKemPrivateKey::from_pkcs8_der(der).map(|k| PrivateKey::MlKem(Box::new(k)));
    }
    if ML_DSA_OIDS.contains(&oid.as_str()) {
        return MlDsaPrivateKey::from_pkcs8_der(der).map(|k| PrivateKey::MlDsa(Box::new(k)));
    }
    Err(CryptoError::Unsupported(format!(
        "private key algorithm {algorithm}"
    )))
}

/// A SubjectPublicKeyInfo of a post-quantum `algorithm`; any other algorithm is unsupported.
pub(super) fn public_from_spki(
    algorithm: ObjectIdentifier,
    der: &[u8],
) -> Result<PublicKey, CryptoError> {
    let oid = algorithm.to_string();
    if oid.starts_with(ML_KEM_ARC) {
        return MlKemPublicKey::from_spki_der(der).map(PublicKey::MlKem);
    }
    if ML_DSA_OIDS.contains(&oid.as_str()) {
        return MlDsaPublicKey::from_spki_der(der).map(PublicKey::MlDsa);
    }
    Err(CryptoError::Unsupported(format!(
        "public key algorithm {algorithm}"
    )))
}

fn not_post_quantum(what: &str) -> CryptoError {
    CryptoError::InvalidKey(format!("{what}: not an ML-KEM or ML-DSA key"))
}

/// PKCS#8 (seed form) of an ML-KEM or ML-DSA private key.
pub(super) fn to_pkcs8_der(key: &PrivateKey) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    match key {
        PrivateKey::MlKem(key) => key.to_pkcs8_der(),
        PrivateKey::MlDsa(key) => key.to_pkcs8_der(),
        _ => Err(not_post_quantum("PKCS#8")),
    }
}

/// SubjectPublicKeyInfo of an ML-KEM or ML-DSA public key.
pub(super) fn to_spki_der(key: &PublicKey) -> Result<Vec<u8>, CryptoError> {
    match key {
        PublicKey::MlKem(key) => key.to_spki_der(),
        PublicKey::MlDsa(key) => key.to_spki_der(),
        _ => Err(not_post_quantum("SubjectPublicKeyInfo")),
    }
}

/// What SubjectPublicKeyInfo's BIT STRING holds for an ML-KEM or ML-DSA key: its FIPS 203 / 204 encoding.
pub(super) fn subject_public_key_bytes(key: &PublicKey) -> Result<Vec<u8>, CryptoError> {
    match key {
        PublicKey::MlKem(key) => Ok(key.as_bytes().to_vec()),
        PublicKey::MlDsa(key) => Ok(key.as_bytes().to_vec()),
        _ => Err(not_post_quantum("public key bytes")),
    }
}
