//! Operations that make a key from other keys: Derive Key (KMIP 1.0+), Create Split Key and Join Split Key
//! (KMIP 2.0+).

use ttlv::{tags, Tag};

use super::field::{v1_only, BigInteger, Versioned};
use super::secret::SecretBytes;
use crate::attributes::{Attributes, CryptographicParameters};
use crate::enums::{DerivationMethod, ObjectType, SecretDataType, SplitKeyMethod};
use crate::kmip_struct;

/// `(Template-Attribute, Attributes)`.
const TEMPLATE_ATTRIBUTE: (Tag, Tag) = (tags::TEMPLATE_ATTRIBUTE, tags::ATTRIBUTES);
/// 1.x responses' Template-Attribute (2.x responses have none).
const TEMPLATE_ATTRIBUTE_1X: Versioned = v1_only(tags::TEMPLATE_ATTRIBUTE);

kmip_struct! {
    /// Derivation Parameters: what each Derivation Method needs (KMIP 1.4 §2.1.10, 2.1 §6.1.12).
    #[derive(Default)]
    pub struct DerivationParameters {
        /// The hash (PBKDF2's PRF, HASH, HMAC, HKDF, SP 800-108) or cipher (ENCRYPT) to use.
        opt cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
        /// ENCRYPT: the IV.
        opt initialization_vector: Vec<u8> = tags::INITIALIZATION_VECTOR,
        /// The data hashed, MACed or encrypted; HKDF's info; SP 800-108's fixed input data.
        opt derivation_data: SecretBytes = tags::DERIVATION_DATA,
        /// PBKDF2 and HKDF.
        opt salt: Vec<u8> = tags::SALT,
        /// PBKDF2.
        opt iteration_count: i32 = tags::ITERATION_COUNT,
    }
}

kmip_struct! {
    /// Derive Key request: a new Symmetric Key or Secret Data from the object(s) named.
    pub struct DeriveKeyRequest {
        req object_type: ObjectType = tags::OBJECT_TYPE,
        vec unique_identifiers: String = tags::UNIQUE_IDENTIFIER,
        req derivation_method: DerivationMethod = tags::DERIVATION_METHOD,
        req derivation_parameters: DerivationParameters = tags::DERIVATION_PARAMETERS,
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Derive Key response.
    #[derive(Default)]
    pub struct DeriveKeyResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 1.x only.
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE_1X,
    }
}

kmip_struct! {
    /// Create Split Key request (KMIP 2.0+): split the key named (or a new one) into Split Key objects.
    pub struct CreateSplitKeyRequest {
        req object_type: ObjectType = tags::OBJECT_TYPE,
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        req split_key_parts: i32 = tags::SPLIT_KEY_PARTS,
        req split_key_threshold: i32 = tags::SPLIT_KEY_THRESHOLD,
        req split_key_method: SplitKeyMethod = tags::SPLIT_KEY_METHOD,
        opt prime_field_size: BigInteger = tags::PRIME_FIELD_SIZE,
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Create Split Key response: the parts' identifiers, in Key Part Identifier order.
    #[derive(Default)]
    pub struct CreateSplitKeyResponse {
        vec unique_identifiers: String = tags::UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Join Split Key request (KMIP 2.0+): rebuild the key from at least Split Key Threshold parts.
    pub struct JoinSplitKeyRequest {
        req object_type: ObjectType = tags::OBJECT_TYPE,
        vec unique_identifiers: String = tags::UNIQUE_IDENTIFIER,
        opt secret_data_type: SecretDataType = tags::SECRET_DATA_TYPE,
        opt attributes: Attributes = TEMPLATE_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Join Split Key response.
    #[derive(Default)]
    pub struct JoinSplitKeyResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}

#[cfg(test)]
mod tests {
    use ttlv::{Item, Value};

    use super::*;
    use crate::ProtocolVersion;

    #[test]
    fn derive_key_round_trips_in_both_families() {
        let request = DeriveKeyRequest {
            object_type: ObjectType::SymmetricKey,
            unique_identifiers: vec!["base".into()],
            derivation_method: DerivationMethod::Pbkdf2,
            derivation_parameters: DerivationParameters {
                salt: Some(b"salt".to_vec()),
                iteration_count: Some(4096),
                ..DerivationParameters::default()
            },
            attributes: Some(vec![crate::attributes::Attribute::CryptographicLength(256)].into()),
        };
        for version in [ProtocolVersion::V1_2, ProtocolVersion::V2_0] {
            let item = request.to_ttlv(tags::REQUEST_PAYLOAD, version);
            assert_eq!(
                DeriveKeyRequest::from_ttlv(&item, version).unwrap(),
                request
            );
        }
    }

    #[test]
    fn split_key_requests_decode() {
        let item = Item::structure(
            tags::REQUEST_PAYLOAD,
            vec![
                Item::new(tags::OBJECT_TYPE, Value::Enumeration(2)),
                Item::new(tags::UNIQUE_IDENTIFIER, Value::TextString("k".into())),
                Item::new(tags::SPLIT_KEY_PARTS, Value::Integer(5)),
                Item::new(tags::SPLIT_KEY_THRESHOLD, Value::Integer(3)),
                Item::new(tags::SPLIT_KEY_METHOD, Value::Enumeration(4)),
            ],
        );
        let request = CreateSplitKeyRequest::from_ttlv(&item, ProtocolVersion::V2_1).unwrap();
        assert_eq!(
            request.split_key_method,
            SplitKeyMethod::PolynomialSharingGf2_8
        );
        assert_eq!(
            (request.split_key_parts, request.split_key_threshold),
            (5, 3)
        );
    }
}
