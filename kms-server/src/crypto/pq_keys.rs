//! The post-quantum keys in the generic key encodings of [`super::key_formats`]: PKCS#8 and SubjectPublicKeyInfo
//! recognised by their algorithm identifiers (RFC 9935 ML-KEM, id-alg-ml-kem-* under 2.16.840.1.101.3.4.4; RFC
//! 9881 ML-DSA, id-ml-dsa-* under 2.16.840.1.101.3.4.3.17-19), kept apart so `key_formats` stays about the
//! classical keys.

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

/// A PKCS#8 private key of a post-quantum algorithm `oid`, or `None` for another algorithm.
pub(super) fn private_from_pkcs8(oid: &str, der: &[u8]) -> Option<Result<PrivateKey, CryptoError>> {
    if oid.starts_with(ML_KEM_ARC) {
        return Some(MlKemPrivateKey::from_pkcs8_der(der).map(|k| PrivateKey::MlKem(Box::new(k))));
    }
    if ML_DSA_OIDS.contains(&oid) {
        return Some(MlDsaPrivateKey::from_pkcs8_der(der).map(|k| PrivateKey::MlDsa(Box::new(k))));
    }
    None
}

/// A SubjectPublicKeyInfo of a post-quantum algorithm `oid`, or `None` for another algorithm.
pub(super) fn public_from_spki(oid: &str, der: &[u8]) -> Option<Result<PublicKey, CryptoError>> {
    if oid.starts_with(ML_KEM_ARC) {
        return Some(MlKemPublicKey::from_spki_der(der).map(PublicKey::MlKem));
    }
    if ML_DSA_OIDS.contains(&oid) {
        return Some(MlDsaPublicKey::from_spki_der(der).map(PublicKey::MlDsa));
    }
    None
}
