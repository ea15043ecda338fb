//! PKCS#11 attributes <-> KMIP attributes.
//!
//! CKA_LABEL is the KMIP Name; CKA_ID is the vendor attribute `x` / `pkcs11-id` (a Byte String); CKA_CLASS,
//! CKA_KEY_TYPE and CKA_VALUE_LEN come from Object Type, Cryptographic Algorithm and Length; the usage flags
//! (CKA_ENCRYPT, CKA_SIGN, ...) are the Cryptographic Usage Mask; CKA_SENSITIVE / CKA_EXTRACTABLE are KMIP 2.1
//! Sensitive / Extractable. A data object's CKA_APPLICATION and CKA_OBJECT_ID, and the public half of an imported
//! private key, are vendor attributes of the same `x` namespace.

use cryptoki_sys::*;
use kmip::attributes::{
    Attribute, Attributes, CryptographicUsageMask as Usage, CustomAttribute, Name,
};
use kmip::enums::{CryptographicAlgorithm, ObjectType};
use ttlv::Value;

/// The vendor attribute holding CKA_ID.
pub const ID_VENDOR: &str = "x";
pub const ID_NAME: &str = "pkcs11-id";

/// The usage flags and the mask bit each stands for.
pub const USAGE_FLAGS: &[(CK_ATTRIBUTE_TYPE, Usage)] = &[
    (CKA_ENCRYPT, Usage::ENCRYPT),
    (CKA_DECRYPT, Usage::DECRYPT),
    (CKA_SIGN, Usage::SIGN),
    (CKA_VERIFY, Usage::VERIFY),
    (CKA_WRAP, Usage::WRAP_KEY),
    (CKA_UNWRAP, Usage::UNWRAP_KEY),
    (CKA_DERIVE, Usage::DERIVE_KEY),
];

pub fn ulong(value: CK_ULONG) -> Vec<u8> {
    value.to_ne_bytes().to_vec()
}

pub fn bool_value(value: bool) -> Vec<u8> {
    vec![if value { CK_TRUE } else { CK_FALSE }]
}

/// The class of a KMIP object type, when the module presents that type at all.
pub fn class_of(object_type: ObjectType) -> Option<CK_OBJECT_CLASS> {
    Some(match object_type {
        ObjectType::SymmetricKey => CKO_SECRET_KEY,
        ObjectType::PublicKey => CKO_PUBLIC_KEY,
        ObjectType::PrivateKey => CKO_PRIVATE_KEY,
        ObjectType::Certificate => CKO_CERTIFICATE,
        ObjectType::SecretData | ObjectType::OpaqueObject => CKO_DATA,
        _ => return None,
    })
}

/// The KMIP object types a class may be stored as.
pub fn object_types_of(class: CK_OBJECT_CLASS) -> &'static [ObjectType] {
    match class {
        CKO_SECRET_KEY => &[ObjectType::SymmetricKey],
        CKO_PUBLIC_KEY => &[ObjectType::PublicKey],
        CKO_PRIVATE_KEY => &[ObjectType::PrivateKey],
        CKO_CERTIFICATE => &[ObjectType::Certificate],
        CKO_DATA => &[ObjectType::OpaqueObject, ObjectType::SecretData],
        _ => &[],
    }
}

pub fn key_type_of(algorithm: CryptographicAlgorithm) -> Option<CK_KEY_TYPE> {
    Some(match algorithm {
        CryptographicAlgorithm::Aes => CKK_AES,
        CryptographicAlgorithm::Rsa => CKK_RSA,
        CryptographicAlgorithm::Ec | CryptographicAlgorithm::Ecdsa => CKK_EC,
        CryptographicAlgorithm::HmacSha1 => CKK_SHA_1_HMAC,
        CryptographicAlgorithm::HmacSha224 => CKK_SHA224_HMAC,
        CryptographicAlgorithm::HmacSha256 => CKK_SHA256_HMAC,
        CryptographicAlgorithm::HmacSha384 => CKK_SHA384_HMAC,
        CryptographicAlgorithm::HmacSha512 => CKK_SHA512_HMAC,
        _ => return None,
    })
}

pub fn label_of(attributes: &Attributes) -> Option<&str> {
    attributes.names().next().map(|n| n.value.as_str())
}

pub fn id_of(attributes: &Attributes) -> Option<&[u8]> {
    match attributes.custom(ID_VENDOR, ID_NAME)? {
        Value::ByteString(bytes) => Some(bytes),
        _ => None,
    }
}

/// The vendor attribute holding CKA_PRIVATE when the creator chose it (default: keys private, others public).
pub const PRIVATE_NAME: &str = "pkcs11-private";

pub fn private_of(attributes: &Attributes, class: CK_OBJECT_CLASS) -> bool {
    match attributes.custom(ID_VENDOR, PRIVATE_NAME) {
        Some(Value::Boolean(private)) => *private,
        _ => is_secret_class(class),
    }
}

pub fn private_attribute(private: bool) -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: ID_VENDOR.into(),
        attribute_name: PRIVATE_NAME.into(),
        value: Value::Boolean(private),
    })
}

pub fn name_attribute(label: &str) -> Attribute {
    Attribute::Name(Name::text(label))
}

pub fn id_attribute(id: &[u8]) -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: ID_VENDOR.into(),
        attribute_name: ID_NAME.into(),
        value: Value::ByteString(id.to_vec()),
    })
}

/// The vendor attributes of data objects and imported private keys (all Byte Strings).
pub const APPLICATION_NAME: &str = "pkcs11-application";
pub const OBJECT_ID_NAME: &str = "pkcs11-object-id";
pub const PUBLIC_HALF_NAME: &str = "pkcs11-public-key";

fn bytes_attribute(name: &str, value: &[u8]) -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: ID_VENDOR.into(),
        attribute_name: name.into(),
        value: Value::ByteString(value.to_vec()),
    })
}

fn bytes_of<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a [u8]> {
    match attributes.custom(ID_VENDOR, name)? {
        Value::ByteString(bytes) => Some(bytes),
        _ => None,
    }
}

/// CKA_APPLICATION of a data object.
pub fn application_attribute(application: &[u8]) -> Attribute {
    bytes_attribute(APPLICATION_NAME, application)
}

pub fn application_of(attributes: &Attributes) -> Option<&[u8]> {
    bytes_of(attributes, APPLICATION_NAME)
}

/// CKA_OBJECT_ID of a data object, byte for byte as given: the standard says a DER OID, but OpenSC 0.23's
/// `pkcs11-tool --application-id` sends only the OID's content octets, and SoftHSM2 stores either unchecked.
pub fn object_id_attribute(oid: &[u8]) -> Attribute {
    bytes_attribute(OBJECT_ID_NAME, oid)
}

pub fn object_id_of(attributes: &Attributes) -> Option<&[u8]> {
    bytes_of(attributes, OBJECT_ID_NAME)
}

/// The SubjectPublicKeyInfo of an imported private key's public half.
pub fn public_half_attribute(spki: &[u8]) -> Attribute {
    bytes_attribute(PUBLIC_HALF_NAME, spki)
}

pub fn public_half_of(attributes: &Attributes) -> Option<&[u8]> {
    bytes_of(attributes, PUBLIC_HALF_NAME)
}

/// The vendor attribute that makes an object a session object: the lease id of the process that made it (a Text
/// String). The server destroys the lease's objects when the connection holding it ends (kms-server
/// `session_lease`).
pub const SESSION_LEASE_NAME: &str = "pkcs11-session-lease";

pub fn session_lease_attribute(lease: &str) -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: ID_VENDOR.into(),
        attribute_name: SESSION_LEASE_NAME.into(),
        value: Value::TextString(lease.to_owned()),
    })
}

pub fn session_lease_of(attributes: &Attributes) -> Option<&str> {
    match attributes.custom(ID_VENDOR, SESSION_LEASE_NAME)? {
        Value::TextString(lease) => Some(lease),
        _ => None,
    }
}

fn flag(attributes: &Attributes, wanted: impl Fn(&Attribute) -> Option<bool>) -> Option<bool> {
    attributes.iter().find_map(wanted)
}

pub fn sensitive(attributes: &Attributes, class: CK_OBJECT_CLASS) -> bool {
    flag(attributes, |a| match a {
        Attribute::Sensitive(v) => Some(*v),
        _ => None,
    })
    .unwrap_or(is_secret_class(class))
}

pub fn extractable(attributes: &Attributes, class: CK_OBJECT_CLASS) -> bool {
    flag(attributes, |a| match a {
        Attribute::Extractable(v) => Some(*v),
        _ => None,
    })
    .unwrap_or(!is_secret_class(class))
}

pub fn always_sensitive(attributes: &Attributes, class: CK_OBJECT_CLASS) -> bool {
    flag(attributes, |a| match a {
        Attribute::AlwaysSensitive(v) => Some(*v),
        _ => None,
    })
    .unwrap_or(sensitive(attributes, class))
}

pub fn never_extractable(attributes: &Attributes, class: CK_OBJECT_CLASS) -> bool {
    flag(attributes, |a| match a {
        Attribute::NeverExtractable(v) => Some(*v),
        _ => None,
    })
    .unwrap_or(!extractable(attributes, class))
}

/// Secret and private keys: their value is sensitive and they are private objects.
pub fn is_secret_class(class: CK_OBJECT_CLASS) -> bool {
    matches!(class, CKO_SECRET_KEY | CKO_PRIVATE_KEY)
}

pub fn usage(attributes: &Attributes) -> Usage {
    attributes.cryptographic_usage_mask().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_round_trips_through_the_vendor_attribute() {
        let mut attributes = Attributes::new();
        attributes.push(id_attribute(&[1, 2, 3]));
        attributes.push(name_attribute("k"));
        assert_eq!(id_of(&attributes), Some(&[1u8, 2, 3][..]));
        assert_eq!(label_of(&attributes), Some("k"));
    }

    #[test]
    fn data_object_attributes_round_trip() {
        let oid = [0x06, 0x03, 0x2A, 0x03, 0x04];
        let mut attributes = Attributes::new();
        attributes.push(application_attribute(b"app"));
        attributes.push(object_id_attribute(&oid));
        assert_eq!(application_of(&attributes), Some(&b"app"[..]));
        assert_eq!(object_id_of(&attributes), Some(&oid[..]));
    }

    #[test]
    fn keys_default_to_sensitive_and_certificates_to_public() {
        let attributes = Attributes::new();
        assert!(sensitive(&attributes, CKO_SECRET_KEY));
        assert!(!extractable(&attributes, CKO_PRIVATE_KEY));
        assert!(!sensitive(&attributes, CKO_CERTIFICATE));
        let mut explicit = Attributes::new();
        explicit.push(Attribute::Sensitive(false));
        assert!(!sensitive(&explicit, CKO_SECRET_KEY));
    }

    #[test]
    fn classes_and_object_types_agree() {
        for class in [
            CKO_SECRET_KEY,
            CKO_PUBLIC_KEY,
            CKO_PRIVATE_KEY,
            CKO_CERTIFICATE,
            CKO_DATA,
        ] {
            for object_type in object_types_of(class) {
                assert_eq!(class_of(*object_type), Some(class));
            }
        }
    }
}
