//! The attributes the server gives every new object: identity, dates, initial state, digest, and for objects
//! made from the entropy pool, where their randomness came from (custom attributes `x-qkms-entropy-*`, 2.x
//! Vendor Attribute `x` / `qkms-entropy-*`, plus the standard Random Number Generator attribute).

use entropy::drbg::DrbgMechanism;
use entropy::Provenance;
use kmip::attributes::{
    Attribute, AttributeName, Attributes, CustomAttribute, Digest, RandomNumberGenerator,
    UnknownAttribute,
};
use kmip::enums::{
    CryptographicAlgorithm, DrbgAlgorithm, HashingAlgorithm, KeyFormatType, ObjectType,
    RngAlgorithm, State,
};
use kmip::objects::{KeyMaterial, ManagedObject};
use sha2::{Digest as _, Sha256};
use ttlv::{tags, Value};

use super::attribute_policy::{SERVER_ATTRIBUTE_PREFIX, SERVER_VENDOR};

/// The server-set attributes of a new object, merged with the client's (`client`, already checked by
/// `policy::check_template`). The State is Active when an Activation Date at or before `now` was given.
pub fn initial_attributes(
    uid: &str,
    object: &ManagedObject,
    client: Attributes,
    now: i64,
) -> Attributes {
    let mut out = Attributes::new();
    out.push(Attribute::UniqueIdentifier(uid.to_owned()));
    out.push(short_unique_identifier(uid));
    out.push(Attribute::ObjectType(object.object_type()));
    if let Some(block) = object.key_block() {
        if let Some(algorithm) = block.cryptographic_algorithm {
            out.push(Attribute::CryptographicAlgorithm(algorithm));
        }
        if let Some(length) = block.cryptographic_length {
            out.push(Attribute::CryptographicLength(length));
        }
    }
    if let ManagedObject::Certificate(certificate) = object {
        out.push(Attribute::CertificateType(certificate.certificate_type));
        out.push(Attribute::CertificateLength(
            i32::try_from(certificate.certificate_value.len()).unwrap_or(i32::MAX),
        ));
    }
    let mut sensitive = false;
    let mut extractable = true;
    let mut fresh = true;
    for attribute in client {
        match &attribute {
            // Taken from the object itself (above), which the caller has checked they agree with.
            Attribute::CryptographicAlgorithm(_)
            | Attribute::CryptographicLength(_)
            | Attribute::CertificateType(_)
            | Attribute::ObjectType(_) => continue,
            Attribute::Sensitive(v) => sensitive = *v,
            Attribute::Extractable(v) => extractable = *v,
            Attribute::Fresh(v) => {
                fresh = *v;
                continue;
            }
            _ => {}
        }
        out.push(attribute);
    }
    if let Some(digest) = digest(object) {
        out.push(Attribute::Digest(digest));
    }
    if let Some(format) = object.key_block().map(|b| b.key_format_type) {
        out.push(Attribute::KeyFormatType(format));
    }
    out.push(Attribute::InitialDate(now));
    out.push(Attribute::LastChangeDate(now));
    out.push(Attribute::OriginalCreationDate(now));
    out.push(Attribute::LeaseTime(LEASE_TIME_SECONDS));
    out.push(protection_storage_mask());
    if !out.contains(kmip::attributes::KnownAttribute::Sensitive) {
        out.push(Attribute::Sensitive(sensitive));
    }
    out.push(Attribute::AlwaysSensitive(sensitive));
    if !out.contains(kmip::attributes::KnownAttribute::Extractable) {
        out.push(Attribute::Extractable(extractable));
    }
    out.push(Attribute::NeverExtractable(!extractable));
    out.push(Attribute::Fresh(fresh));
    let state = match out.activation_date() {
        Some(date) if date <= now => State::Active,
        _ => State::PreActive,
    };
    out.push(Attribute::State(state));
    out
}

/// The Lease Time given to every new object: how long a client may use it before asking the server again (KMIP
/// 1.4 §3.15, 2.1 §4.27). One hour, as the OASIS reference server answers; qkms grants no shorter or longer leases.
pub const LEASE_TIME_SECONDS: u32 = 3600;

/// The KMIP 2.x Short Unique Identifier (2.1 §4.50): the SHA-256 of the Unique Identifier, a Byte String.
/// `kmip` does not type it, so it is kept in its 2.x form only (tagged, no 1.x name): 1.x clients never see it.
pub fn short_unique_identifier(uid: &str) -> Attribute {
    Attribute::Unknown(UnknownAttribute {
        text_name: None,
        tag: Some(tags::SHORT_UNIQUE_IDENTIFIER),
        value: Value::ByteString(Sha256::digest(uid.as_bytes()).to_vec()),
    })
}

/// Protection Storage Mask value Software (KMIP 2.1 §11.40).
const PROTECTION_STORAGE_SOFTWARE: i32 = 0x0000_0001;

/// The KMIP 2.x Protection Storage Mask (2.1 §4.49): where the object is protected. qkms keeps every object in
/// its own store, sealed in software (requests for other protection storage are refused at Create / Register),
/// so it is Software. Kept, like the Short Unique Identifier, in its 2.x form only.
pub fn protection_storage_mask() -> Attribute {
    Attribute::Unknown(UnknownAttribute {
        text_name: None,
        tag: Some(tags::PROTECTION_STORAGE_MASK),
        value: Value::Integer(PROTECTION_STORAGE_SOFTWARE),
    })
}

/// SHA-256 over the object's value as stored (KMIP: the digest of the Key Material in its Key Format Type).
pub fn digest(object: &ManagedObject) -> Option<Digest> {
    let (bytes, format): (&[u8], Option<KeyFormatType>) = match object {
        ManagedObject::Certificate(c) => (&c.certificate_value, None),
        ManagedObject::OpaqueObject(o) => (&o.opaque_data_value, None),
        other => {
            let block = other.key_block()?;
            if block.key_wrapping_data.is_some() {
                // Stored wrapped under a key this server does not hold: it has no digest of the key to give.
                return None;
            }
            let material = &block.key_value.as_ref()?.material;
            let bytes = match material {
                KeyMaterial::Bytes(b) => b.as_slice(),
                KeyMaterial::TransparentSymmetricKey { key } => key.as_slice(),
                _ => return None,
            };
            (bytes, Some(block.key_format_type))
        }
    };
    Some(Digest {
        hashing_algorithm: HashingAlgorithm::Sha256,
        digest_value: Some(Sha256::digest(bytes).to_vec()),
        key_format_type: format,
    })
}

/// Where a draw's randomness came from, as attributes: the standard Random Number Generator attribute and the
/// `x-qkms-entropy-*` custom attributes (`Provenance::kmip_attributes`).
pub fn provenance_attributes(provenance: &Provenance) -> Vec<Attribute> {
    let mut rng = rng_description(provenance.drbg_mechanism);
    rng.prediction_resistance = Some(provenance.prediction_resistance);
    let mut out = vec![Attribute::RandomNumberGenerator(rng)];
    for (name, value) in provenance.kmip_attributes() {
        out.push(server_custom(&name, value));
    }
    out
}

/// The standard description of a pool DRBG (Random Number Generator attribute, Query RNGs parameters).
pub fn rng_description(mechanism: DrbgMechanism) -> RandomNumberGenerator {
    let (drbg, algorithm, hashing) = match mechanism {
        DrbgMechanism::CtrAes256 => (DrbgAlgorithm::Ctr, Some(CryptographicAlgorithm::Aes), None),
        DrbgMechanism::HmacSha256 => (DrbgAlgorithm::Hmac, None, Some(HashingAlgorithm::Sha256)),
        DrbgMechanism::HmacSha512 => (DrbgAlgorithm::Hmac, None, Some(HashingAlgorithm::Sha512)),
    };
    let mut rng = RandomNumberGenerator::new(RngAlgorithm::Drbg);
    rng.drbg_algorithm = Some(drbg);
    rng.cryptographic_algorithm = algorithm;
    rng.cryptographic_length = algorithm.map(|_| 256);
    rng.hashing_algorithm = hashing;
    rng
}

/// A server custom attribute from its 1.x name (`x-qkms-...`).
/// A server-set custom attribute (`x-qkms-...` in 1.x, Vendor `x` in 2.x) with a text value.
pub fn server_custom(v1_name: &str, value: String) -> Attribute {
    let attribute_name = match AttributeName::from_text_name(v1_name) {
        AttributeName::Vendor { attribute_name, .. } => attribute_name,
        // Provenance names all start with "x-"; keep the name whole if that ever changes.
        _ => v1_name.to_owned(),
    };
    debug_assert!(attribute_name.starts_with(SERVER_ATTRIBUTE_PREFIX));
    Attribute::Custom(CustomAttribute {
        vendor_identification: SERVER_VENDOR.to_owned(),
        attribute_name,
        value: ttlv::Value::TextString(value),
    })
}

/// The object type a template's Object Type attribute (1.x clients send it) must agree with.
pub fn check_object_type(
    requested: ObjectType,
    attributes: &Attributes,
) -> Result<(), crate::KmipError> {
    match attributes.object_type() {
        Some(given) if given != requested => Err(crate::KmipError::invalid_field(format!(
            "the Object Type attribute ({}) contradicts the request's Object Type ({})",
            given.name(),
            requested.name()
        ))),
        _ => Ok(()),
    }
}

/// Derive Key and Join Split Key make only secret objects: a Symmetric Key or Secret Data. `operation` says what
/// the operation does, for the message ("Derive Key makes", "Join Split Key rebuilds").
pub fn check_secret_object_type(
    version: kmip::ProtocolVersion,
    requested: ObjectType,
    operation: &str,
) -> Result<(), crate::KmipError> {
    if matches!(requested, ObjectType::SymmetricKey | ObjectType::SecretData) {
        return Ok(());
    }
    Err(super::versioned(
        version,
        kmip::ResultReason::InvalidObjectType,
        kmip::ResultReason::InvalidField,
        format!(
            "{operation} a Symmetric Key or Secret Data, not a {}",
            requested.name()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::objects::KeyBlock;
    use zeroize::Zeroizing;

    fn aes(now_activation: Option<i64>) -> Attributes {
        let key = ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![1u8; 16])),
            Some(CryptographicAlgorithm::Aes),
            Some(128),
        ));
        let client: Attributes = now_activation
            .map(Attribute::ActivationDate)
            .into_iter()
            .collect();
        initial_attributes("uid-1", &key, client, 1000)
    }

    #[test]
    fn new_objects_are_pre_active_unless_activation_date_has_passed() {
        assert_eq!(aes(None).state(), Some(State::PreActive));
        assert_eq!(aes(Some(999)).state(), Some(State::Active));
        assert_eq!(aes(Some(1001)).state(), Some(State::PreActive));
    }

    #[test]
    fn new_objects_carry_identity_dates_and_digest() {
        let attributes = aes(None);
        assert_eq!(attributes.unique_identifier(), Some("uid-1"));
        assert_eq!(attributes.cryptographic_length(), Some(128));
        let digest = attributes
            .iter()
            .find_map(|a| match a {
                Attribute::Digest(d) => Some(d.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            digest.digest_value.unwrap(),
            Sha256::digest([1u8; 16]).to_vec()
        );
        assert!(attributes
            .iter()
            .any(|a| *a == Attribute::InitialDate(1000)));
    }

    #[test]
    fn new_objects_carry_a_lease_time_and_a_v2_only_short_unique_identifier() {
        let attributes = aes(None);
        assert!(attributes
            .iter()
            .any(|a| *a == Attribute::LeaseTime(LEASE_TIME_SECONDS)));
        let short = attributes
            .iter()
            .find(|a| a.name() == AttributeName::from_tag(tags::SHORT_UNIQUE_IDENTIFIER))
            .unwrap();
        let Attribute::Unknown(unknown) = short else {
            panic!("Short Unique Identifier is not typed by kmip: {short:?}");
        };
        assert_eq!(
            unknown.value,
            Value::ByteString(Sha256::digest(b"uid-1").to_vec())
        );
        assert!(short.name().is_available_in(kmip::ProtocolVersion::V2_1));
        assert!(!short.name().is_available_in(kmip::ProtocolVersion::V1_4));
        assert!(super::super::attribute_policy::is_read_only(&short.name()));
        let storage = AttributeName::from_tag(tags::PROTECTION_STORAGE_MASK);
        assert!(attributes
            .iter()
            .any(|a| a.name() == storage && *a == protection_storage_mask()));
        assert!(super::super::attribute_policy::is_read_only(&storage));
    }

    #[test]
    fn provenance_custom_attributes_use_the_server_namespace() {
        let attribute = server_custom("x-qkms-entropy-quantum", "false".into());
        let name = attribute.name();
        assert!(super::super::attribute_policy::is_read_only(&name));
        assert_eq!(name.text_name().unwrap(), "x-qkms-entropy-quantum");
    }
}
