//! PKCS#12 client bundles (`client.p12`), built from the RustCrypto ASN.1 types with salts and IVs from the pool.
//!
//! Maintained PKCS#12 writers (`p12`, `p12-keystore`) draw their salts from the OS generator with no hook to
//! change it, so the bundle is assembled here from `pkcs12`/`pkcs5`/`cms` types instead. Layout, as OpenSSL 3
//! writes by default:
//! - the private key in a pkcs8ShroudedKeyBag: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC);
//! - the certificates (leaf, then CA) in a plain `data` SafeContents (certificates are public);
//! - an HMAC-SHA256 integrity MAC with the PKCS#12 key derivation.

use cms::content_info::ContentInfo;
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Encode, Sequence};
use hmac::{Hmac, KeyInit, Mac};
use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
use pkcs12::pfx::{Pfx, Version};
use pkcs12::{CertBag, DigestInfo, MacData, SafeBag};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use zeroize::Zeroizing;

use entropy::EntropyPool;

use super::PkiError;

/// PBKDF2 and MAC iteration count (OpenSSL 3's default).
const ITERATIONS: u32 = 2048;

const ID_DATA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SHA256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const PKCS9_LOCAL_KEY_ID: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const PKCS9_FRIENDLY_NAME: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");

/// EncryptedPrivateKeyInfo (RFC 5958): the encryption scheme and the ciphertext.
#[derive(Sequence)]
struct EncryptedPrivateKeyInfo {
    encryption_algorithm: pkcs5::EncryptionScheme,
    encrypted_data: OctetString,
}

/// A PKCS#12 file holding `key_pkcs8` and `certificates` (leaf first), protected by `password`, with the entry
/// named `friendly_name`.
pub fn build(
    pool: &EntropyPool,
    key_pkcs8: &[u8],
    certificates: &[&[u8]],
    password: &str,
    friendly_name: &str,
) -> Result<Vec<u8>, PkiError> {
    let leaf = certificates
        .first()
        .ok_or_else(|| PkiError::Pkcs12("a bundle needs at least the client certificate".into()))?;
    let local_key_id = Sha256::digest(leaf).to_vec();
    let attributes = bag_attributes(&local_key_id, friendly_name)?;

    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    let mut mac_salt = [0u8; 16];
    pool.fill(&mut salt)?;
    pool.fill(&mut iv)?;
    pool.fill(&mut mac_salt)?;

    let params = pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(ITERATIONS, &salt, iv)
        .map_err(asn1)?;
    let encrypted_key = params
        .encrypt(password.as_bytes(), key_pkcs8)
        .map_err(asn1)?;
    let shrouded = EncryptedPrivateKeyInfo {
        encryption_algorithm: pkcs5::EncryptionScheme::Pbes2(params),
        encrypted_data: OctetString::new(encrypted_key).map_err(asn1)?,
    };
    let key_bag = SafeBag {
        bag_id: pkcs12::PKCS_12_PKCS8_KEY_BAG_OID,
        bag_value: shrouded.to_der().map_err(asn1)?,
        bag_attributes: Some(attributes.clone()),
    };

    let mut cert_bags = Vec::with_capacity(certificates.len());
    for (index, der) in certificates.iter().enumerate() {
        let bag = CertBag {
            cert_id: pkcs12::PKCS_12_X509_CERT_OID,
            cert_value: OctetString::new(der.to_vec()).map_err(asn1)?,
        };
        cert_bags.push(SafeBag {
            bag_id: pkcs12::PKCS_12_CERT_BAG_OID,
            bag_value: bag.to_der().map_err(asn1)?,
            bag_attributes: (index == 0).then(|| attributes.clone()),
        });
    }

    let authenticated_safe: Vec<ContentInfo> =
        vec![data_content(&cert_bags)?, data_content(&[key_bag])?];
    let safe_der = authenticated_safe.to_der().map_err(asn1)?;

    let mac_key = Zeroizing::new(
        derive_key_utf8::<Sha256>(
            password,
            &mac_salt,
            Pkcs12KeyType::Mac,
            ITERATIONS as i32,
            32,
        )
        .map_err(asn1)?,
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&mac_key)
        .map_err(|e| PkiError::Pkcs12(format!("MAC key: {e}")))?;
    mac.update(&safe_der);
    let mac_data = MacData {
        mac: DigestInfo {
            algorithm: AlgorithmIdentifierOwned {
                oid: ID_SHA256,
                parameters: Some(Any::null()),
            },
            digest: OctetString::new(mac.finalize().into_bytes().to_vec()).map_err(asn1)?,
        },
        mac_salt: OctetString::new(mac_salt.to_vec()).map_err(asn1)?,
        iterations: ITERATIONS as i32,
    };

    let pfx = Pfx {
        version: Version::V3,
        auth_safe: ContentInfo {
            content_type: ID_DATA,
            content: Any::encode_from(&OctetString::new(safe_der).map_err(asn1)?).map_err(asn1)?,
        },
        mac_data: Some(mac_data),
    };
    pfx.to_der().map_err(asn1)
}

/// A `data` ContentInfo wrapping a SafeContents.
fn data_content(bags: &[SafeBag]) -> Result<ContentInfo, PkiError> {
    let contents = bags.to_vec().to_der().map_err(asn1)?;
    Ok(ContentInfo {
        content_type: ID_DATA,
        content: Any::encode_from(&OctetString::new(contents).map_err(asn1)?).map_err(asn1)?,
    })
}

/// localKeyId (pairs the key with its certificate) and friendlyName (the name importers show).
fn bag_attributes(
    local_key_id: &[u8],
    friendly_name: &str,
) -> Result<x509_cert::attr::Attributes, PkiError> {
    let key_id =
        Any::encode_from(&OctetString::new(local_key_id.to_vec()).map_err(asn1)?).map_err(asn1)?;
    let name = Any::encode_from(&der::asn1::BmpString::from_utf8(friendly_name).map_err(asn1)?)
        .map_err(asn1)?;
    let mut attributes = SetOfVec::new();
    attributes
        .insert(Attribute {
            oid: PKCS9_FRIENDLY_NAME,
            values: SetOfVec::try_from(vec![name]).map_err(asn1)?,
        })
        .map_err(asn1)?;
    attributes
        .insert(Attribute {
            oid: PKCS9_LOCAL_KEY_ID,
            values: SetOfVec::try_from(vec![key_id]).map_err(asn1)?,
        })
        .map_err(asn1)?;
    Ok(attributes)
}

fn asn1(error: impl std::fmt::Display) -> PkiError {
    PkiError::Pkcs12(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;

    #[test]
    fn bundle_decodes_and_its_mac_verifies() {
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        let der = build(
            &pool,
            b"\x30\x03\x02\x01\x00",
            &[b"\x30\x00"],
            "pw",
            "client",
        )
        .unwrap();
        let pfx = Pfx::from_der(&der).unwrap();
        let mac_data = pfx.mac_data.unwrap();
        let content = pfx.auth_safe.content.decode_as::<OctetString>().unwrap();
        let key = derive_key_utf8::<Sha256>(
            "pw",
            mac_data.mac_salt.as_bytes(),
            Pkcs12KeyType::Mac,
            2048,
            32,
        )
        .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(content.as_bytes());
        mac.verify_slice(mac_data.mac.digest.as_bytes()).unwrap();
    }

    #[test]
    fn bundle_without_certificate_is_refused() {
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        assert!(build(&pool, b"k", &[], "pw", "client").is_err());
    }
}
