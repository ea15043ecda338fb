//! Operations that make, replace or hand out managed objects: Create, Create Key Pair, Register, Re-Key,
//! Re-Key Key Pair, Certify, Get, Import, Export.

use ttlv::{tags, Item, Tag};

use super::field::{since, v1_only, Interval, MultiField, Versioned};
const V2_0: ProtocolVersion = ProtocolVersion::V2_0;
use crate::attributes::Attributes;
use crate::enums::{KeyCompressionType, KeyFormatType, ObjectType};
use crate::error::DecodeError;
use crate::kmip_struct;
pub use crate::objects::{KeyWrappingSpecification, ManagedObject, WrappingKeyInformation};
use crate::version::ProtocolVersion;

/// The tags a managed object can appear under in a payload.
pub const OBJECT_TAGS: &[Tag] = &[
    tags::CERTIFICATE,
    tags::SYMMETRIC_KEY,
    tags::PUBLIC_KEY,
    tags::PRIVATE_KEY,
    tags::SPLIT_KEY,
    tags::TEMPLATE,
    tags::SECRET_DATA,
    tags::OPAQUE_OBJECT,
    tags::PGP_KEY,
    tags::CERTIFICATE_REQUEST,
];

/// The managed object of a payload, under the tag of its kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectField(pub Option<ManagedObject>);

impl MultiField for ObjectField {
    /// A Template is encoded in its 1.x form whatever the version: 2.x has no Template object, and the server
    /// refuses to serve one to a 2.x client before it gets here.
    fn encode_into(&self, version: ProtocolVersion, out: &mut Vec<Item>) {
        if let Some(object) = &self.0 {
            out.push(object.to_ttlv(version));
        }
    }

    fn claims(tag: Tag, _: ProtocolVersion) -> bool {
        OBJECT_TAGS.contains(&tag)
    }

    fn decode_one(&mut self, item: &Item, version: ProtocolVersion) -> Result<(), DecodeError> {
        if self.0.is_some() {
            return Err(DecodeError::invalid_field(
                item.tag,
                "a payload holds at most one managed object",
            ));
        }
        if item.tag == tags::TEMPLATE && version.is_v2() {
            return Err(DecodeError::invalid_field(
                item.tag,
                format!("Template objects exist in KMIP 1.x only, not in {version}"),
            ));
        }
        self.0 = Some(ManagedObject::from_ttlv(item, version)?);
        Ok(())
    }
}

kmip_struct! {
    /// Protection Storage Masks (KMIP 2.0+).
    #[derive(Default)]
    pub struct ProtectionStorageMasks {
        vec masks: i32 = tags::PROTECTION_STORAGE_MASK,
    }
}

/// `(Template-Attribute, Attributes)`.
const TEMPLATE_ATTRIBUTE: (Tag, Tag) = (tags::TEMPLATE_ATTRIBUTE, tags::ATTRIBUTES);
const COMMON: (Tag, Tag) = (tags::COMMON_TEMPLATE_ATTRIBUTE, tags::COMMON_ATTRIBUTES);
const PRIVATE: (Tag, Tag) = (
    tags::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
    tags::PRIVATE_KEY_ATTRIBUTES,
);
const PUBLIC: (Tag, Tag) = (
    tags::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
    tags::PUBLIC_KEY_ATTRIBUTES,
);
/// The Template-Attributes of 1.x responses (attributes the server set differently from the request): 2.x
/// responses have no such field, so it is never sent in a 2.x message.
const TEMPLATE_ATTRIBUTE_1X: Versioned = v1_only(tags::TEMPLATE_ATTRIBUTE);
const PRIVATE_1X: Versioned = v1_only(tags::PRIVATE_KEY_TEMPLATE_ATTRIBUTE);
const PUBLIC_1X: Versioned = v1_only(tags::PUBLIC_KEY_TEMPLATE_ATTRIBUTE);

kmip_struct! {
    /// Create request.
    pub struct CreateRequest {
        req object_type: ObjectType = tags::OBJECT_TYPE,
        req attributes: Attributes = TEMPLATE_ATTRIBUTE,
        /// KMIP 2.0+.
        opt protection_storage_masks: ProtectionStorageMasks = since(tags::PROTECTION_STORAGE_MASKS, V2_0),
    }
}

kmip_struct! {
    /// Create response.
    pub struct CreateResponse {
        req object_type: ObjectType = tags::OBJECT_TYPE,
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 1.x: attributes the server set differently from the request.
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE_1X,
    }
}

kmip_struct! {
    /// Create Key Pair request.
    #[derive(Default)]
    pub struct CreateKeyPairRequest {
        opt common_attributes: Attributes = COMMON,
        opt private_key_attributes: Attributes = PRIVATE,
        opt public_key_attributes: Attributes = PUBLIC,
        /// KMIP 2.0+.
        opt common_protection_storage_masks: ProtectionStorageMasks = since(tags::COMMON_PROTECTION_STORAGE_MASKS, V2_0),
        opt private_protection_storage_masks: ProtectionStorageMasks = since(tags::PRIVATE_PROTECTION_STORAGE_MASKS, V2_0),
        opt public_protection_storage_masks: ProtectionStorageMasks = since(tags::PUBLIC_PROTECTION_STORAGE_MASKS, V2_0),
    }
}

kmip_struct! {
    /// Create Key Pair response.
    #[derive(Default)]
    pub struct CreateKeyPairResponse {
        req private_key_unique_identifier: String = tags::PRIVATE_KEY_UNIQUE_IDENTIFIER,
        req public_key_unique_identifier: String = tags::PUBLIC_KEY_UNIQUE_IDENTIFIER,
        /// 1.x only.
        opt private_key_attributes: Attributes = PRIVATE_1X,
        /// 1.x only.
        opt public_key_attributes: Attributes = PUBLIC_1X,
    }
}

kmip_struct! {
    /// Register request.
    pub struct RegisterRequest {
        req object_type: ObjectType = tags::OBJECT_TYPE,
        req attributes: Attributes = TEMPLATE_ATTRIBUTE,
        multi object: ObjectField = (),
        /// KMIP 2.0+.
        opt protection_storage_masks: ProtectionStorageMasks = since(tags::PROTECTION_STORAGE_MASKS, V2_0),
    }
}

kmip_struct! {
    /// Register response.
    #[derive(Default)]
    pub struct RegisterResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 1.x only.
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE_1X,
    }
}

kmip_struct! {
    /// Re-Key request.
    #[derive(Default)]
    pub struct ReKeyRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt offset: Interval = tags::OFFSET,
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE,
        /// KMIP 2.0+.
        opt protection_storage_masks: ProtectionStorageMasks = since(tags::PROTECTION_STORAGE_MASKS, V2_0),
    }
}

kmip_struct! {
    /// Re-Key response.
    #[derive(Default)]
    pub struct ReKeyResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 1.x only.
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE_1X,
    }
}

kmip_struct! {
    /// Re-Key Key Pair request.
    #[derive(Default)]
    pub struct ReKeyKeyPairRequest {
        opt private_key_unique_identifier: String = tags::PRIVATE_KEY_UNIQUE_IDENTIFIER,
        opt offset: Interval = tags::OFFSET,
        opt common_attributes: Attributes = COMMON,
        opt private_key_attributes: Attributes = PRIVATE,
        opt public_key_attributes: Attributes = PUBLIC,
        /// KMIP 2.0+.
        opt common_protection_storage_masks: ProtectionStorageMasks = since(tags::COMMON_PROTECTION_STORAGE_MASKS, V2_0),
        opt private_protection_storage_masks: ProtectionStorageMasks = since(tags::PRIVATE_PROTECTION_STORAGE_MASKS, V2_0),
        opt public_protection_storage_masks: ProtectionStorageMasks = since(tags::PUBLIC_PROTECTION_STORAGE_MASKS, V2_0),
    }
}

kmip_struct! {
    /// Re-Key Key Pair response.
    #[derive(Default)]
    pub struct ReKeyKeyPairResponse {
        req private_key_unique_identifier: String = tags::PRIVATE_KEY_UNIQUE_IDENTIFIER,
        req public_key_unique_identifier: String = tags::PUBLIC_KEY_UNIQUE_IDENTIFIER,
        opt private_key_attributes: Attributes = PRIVATE_1X,
        opt public_key_attributes: Attributes = PUBLIC_1X,
    }
}

kmip_struct! {
    /// Certify request: certify a public key (or a CSR) into a certificate.
    #[derive(Default)]
    pub struct CertifyRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// Certificate Request Type: CRMF 1, PKCS#10 2, PEM 3.
        opt certificate_request_type: super::field::EnumValue = tags::CERTIFICATE_REQUEST_TYPE,
        /// 1.x Certificate Request / 2.x Certificate Request Value.
        opt certificate_request_value: Vec<u8> = (tags::CERTIFICATE_REQUEST, tags::CERTIFICATE_REQUEST_VALUE),
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE,
        /// KMIP 2.0+.
        opt protection_storage_masks: ProtectionStorageMasks = since(tags::PROTECTION_STORAGE_MASKS, V2_0),
    }
}

kmip_struct! {
    /// Certify response.
    #[derive(Default)]
    pub struct CertifyResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 1.x only.
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE_1X,
    }
}

kmip_struct! {
    /// Re-Certify request: a new certificate for the public key of an existing certificate.
    #[derive(Default)]
    pub struct ReCertifyRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// Certificate Request Type: CRMF 1, PKCS#10 2, PEM 3.
        opt certificate_request_type: super::field::EnumValue = tags::CERTIFICATE_REQUEST_TYPE,
        /// 1.x Certificate Request / 2.x Certificate Request Value.
        opt certificate_request_value: Vec<u8> = (tags::CERTIFICATE_REQUEST, tags::CERTIFICATE_REQUEST_VALUE),
        opt offset: Interval = tags::OFFSET,
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE,
        /// KMIP 2.0+.
        opt protection_storage_masks: ProtectionStorageMasks = since(tags::PROTECTION_STORAGE_MASKS, V2_0),
    }
}

kmip_struct! {
    /// Re-Certify response.
    #[derive(Default)]
    pub struct ReCertifyResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 1.x only.
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE_1X,
    }
}

/// Key Wrapping Specification (from `crate::objects`) as a payload field; its tag is fixed.
impl super::field::TtlvField for KeyWrappingSpecification {
    fn to_item(&self, _tag: Tag, _: ProtocolVersion) -> Item {
        self.to_ttlv()
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        KeyWrappingSpecification::from_ttlv(item)
    }
}

kmip_struct! {
    /// Get request.
    #[derive(Default)]
    pub struct GetRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt key_format_type: KeyFormatType = tags::KEY_FORMAT_TYPE,
        /// KMIP 1.4+: Not Wrapped 1, As Registered 2.
        opt key_wrap_type: super::field::EnumValue = since(tags::KEY_WRAP_TYPE, ProtocolVersion::V1_4),
        opt key_compression_type: KeyCompressionType = tags::KEY_COMPRESSION_TYPE,
        opt key_wrapping_specification: KeyWrappingSpecification = tags::KEY_WRAPPING_SPECIFICATION,
    }
}

kmip_struct! {
    /// Get response.
    pub struct GetResponse {
        req object_type: ObjectType = tags::OBJECT_TYPE,
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        multi object: ObjectField = (),
    }
}

kmip_struct! {
    /// Import request (KMIP 1.4+): an object with its attributes, under the identifier it had elsewhere.
    pub struct ImportRequest {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        req object_type: ObjectType = tags::OBJECT_TYPE,
        opt replace_existing: bool = tags::REPLACE_EXISTING,
        opt key_wrap_type: super::field::EnumValue = since(tags::KEY_WRAP_TYPE, ProtocolVersion::V1_4),
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE,
        multi object: ObjectField = (),
    }
}

kmip_struct! {
    /// Import response.
    #[derive(Default)]
    pub struct ImportResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Export request (KMIP 1.4+): the same arguments as Get.
    #[derive(Default)]
    pub struct ExportRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt key_format_type: KeyFormatType = tags::KEY_FORMAT_TYPE,
        opt key_wrap_type: super::field::EnumValue = since(tags::KEY_WRAP_TYPE, ProtocolVersion::V1_4),
        opt key_compression_type: KeyCompressionType = tags::KEY_COMPRESSION_TYPE,
        opt key_wrapping_specification: KeyWrappingSpecification = tags::KEY_WRAPPING_SPECIFICATION,
    }
}

kmip_struct! {
    /// Export response: the object with all its attributes.
    pub struct ExportResponse {
        req object_type: ObjectType = tags::OBJECT_TYPE,
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        req attributes: Attributes = TEMPLATE_ATTRIBUTE,
        multi object: ObjectField = (),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::Attribute;
    use crate::enums::CryptographicAlgorithm;
    use crate::objects::Template;

    fn register_template(version: ProtocolVersion) -> Item {
        RegisterRequest {
            object_type: ObjectType::Template,
            attributes: Attributes::new(),
            object: ObjectField(Some(ManagedObject::Template(Template {
                attributes: vec![Attribute::CryptographicAlgorithm(
                    CryptographicAlgorithm::Aes,
                )]
                .into(),
            }))),
            protection_storage_masks: None,
        }
        .to_ttlv(tags::REQUEST_PAYLOAD, version)
    }

    #[test]
    fn a_1x_template_attribute_in_a_2_0_rekey_is_read() {
        // PyKMIP 0.11's rekey at 2.0 sends Template-Attribute {Attribute {Name, Value}}.
        let v2 = ProtocolVersion::V2_0;
        let attributes: Attributes = vec![Attribute::ActivationDate(1_700_000_000)].into();
        let item = Item::structure(
            tags::REQUEST_PAYLOAD,
            vec![
                Item::new(tags::UNIQUE_IDENTIFIER, ttlv::Value::TextString("k".into())),
                Item::new(tags::OFFSET, ttlv::Value::Interval(10)),
                attributes.to_ttlv(
                    ProtocolVersion::V1_2,
                    tags::TEMPLATE_ATTRIBUTE,
                    tags::TEMPLATE_ATTRIBUTE,
                ),
            ],
        );
        let request = ReKeyRequest::from_ttlv(&item, v2).unwrap();
        assert_eq!(request.attributes, Some(attributes.clone()));
        // And a 2.x Attributes structure in a 1.x message is read as 2.x.
        let item = Item::structure(
            tags::REQUEST_PAYLOAD,
            vec![attributes.to_ttlv(v2, tags::ATTRIBUTES, tags::ATTRIBUTES)],
        );
        let request = ReKeyRequest::from_ttlv(&item, ProtocolVersion::V1_4).unwrap();
        assert_eq!(request.attributes, Some(attributes));
    }

    #[test]
    fn responses_send_1x_template_attributes_only_in_1x() {
        let attributes: Attributes = vec![Attribute::CryptographicAlgorithm(
            CryptographicAlgorithm::Aes,
        )]
        .into();
        let response = CreateResponse {
            object_type: ObjectType::SymmetricKey,
            unique_identifier: "k".into(),
            attributes: Some(attributes),
        };
        let v1 = response.to_ttlv(tags::RESPONSE_PAYLOAD, ProtocolVersion::V1_2);
        assert!(v1
            .children()
            .iter()
            .any(|c| c.tag == tags::TEMPLATE_ATTRIBUTE));
        let v2 = response.to_ttlv(tags::RESPONSE_PAYLOAD, ProtocolVersion::V2_0);
        assert_eq!(
            v2.children().len(),
            2,
            "2.0 Create response: Object Type and Unique Identifier"
        );
    }

    #[test]
    fn a_template_decodes_in_1x_and_is_refused_in_2x() {
        let v1 = ProtocolVersion::V1_4;
        let decoded = RegisterRequest::from_ttlv(&register_template(v1), v1).unwrap();
        assert!(matches!(decoded.object.0, Some(ManagedObject::Template(_))));
        let v2 = ProtocolVersion::V2_1;
        let error = RegisterRequest::from_ttlv(&register_template(v2), v2).unwrap_err();
        assert_eq!(error.reason, crate::ResultReason::InvalidField);
        assert_eq!(error.tag, Some(tags::TEMPLATE));
    }
}
