//! Get Attributes, Get Attribute List, Add / Modify / Delete Attribute and (2.x) Set Attribute.

use ttlv::tags;

use super::attrs::{AttributeArgument, AttributeNames, PayloadAttributes};
use super::field::{since, v1_only};
use crate::attributes::AttributeName;
use crate::kmip_struct;
use crate::version::ProtocolVersion;

kmip_struct! {
    /// Get Attributes request: the attributes wanted (none: all).
    #[derive(Default)]
    pub struct GetAttributesRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        multi attribute_names: AttributeNames = (),
    }
}

kmip_struct! {
    /// Get Attributes response: 1.x `Attribute*`, 2.x one `Attributes`.
    #[derive(Default)]
    pub struct GetAttributesResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        multi attributes: PayloadAttributes = (),
    }
}

kmip_struct! {
    /// Get Attribute List request.
    #[derive(Default)]
    pub struct GetAttributeListRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Get Attribute List response: 1.x Attribute Names, 2.x Attribute References.
    #[derive(Default)]
    pub struct GetAttributeListResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        multi attribute_names: AttributeNames = (),
    }
}

kmip_struct! {
    /// Add Attribute request: 1.x `Attribute`, 2.x `New Attribute`.
    pub struct AddAttributeRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        req new_attribute: AttributeArgument = (tags::ATTRIBUTE, tags::NEW_ATTRIBUTE),
    }
}

kmip_struct! {
    /// Add Attribute response: 1.x echoes the attribute (with its index); 2.x has none.
    #[derive(Default)]
    pub struct AddAttributeResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 1.x only.
        opt attribute: AttributeArgument = v1_only(tags::ATTRIBUTE),
    }
}

kmip_struct! {
    /// Modify Attribute request: 1.x `Attribute` (name, index, new value); 2.x optional `Current Attribute`
    /// and `New Attribute`.
    pub struct ModifyAttributeRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 2.x only.
        opt current_attribute: AttributeArgument = since(tags::CURRENT_ATTRIBUTE, ProtocolVersion::V2_0),
        req new_attribute: AttributeArgument = (tags::ATTRIBUTE, tags::NEW_ATTRIBUTE),
    }
}

kmip_struct! {
    /// Modify Attribute response: 1.x echoes the modified attribute; 2.x has none.
    #[derive(Default)]
    pub struct ModifyAttributeResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 1.x only.
        opt attribute: AttributeArgument = v1_only(tags::ATTRIBUTE),
    }
}

kmip_struct! {
    /// Delete Attribute request: 1.x Attribute Name and Attribute Index; 2.x Current Attribute (a value to
    /// delete) or Attribute Reference (every value).
    #[derive(Default)]
    pub struct DeleteAttributeRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 2.x only.
        opt current_attribute: AttributeArgument = since(tags::CURRENT_ATTRIBUTE, ProtocolVersion::V2_0),
        opt attribute_name: AttributeName = (tags::ATTRIBUTE_NAME, tags::ATTRIBUTE_REFERENCE),
        /// 1.x only.
        opt attribute_index: i32 = v1_only(tags::ATTRIBUTE_INDEX),
    }
}

kmip_struct! {
    /// Delete Attribute response: 1.x returns the deleted attribute; 2.x has none.
    #[derive(Default)]
    pub struct DeleteAttributeResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// 1.x only.
        opt attribute: AttributeArgument = v1_only(tags::ATTRIBUTE),
    }
}

kmip_struct! {
    /// Set Attribute request (KMIP 2.0+).
    pub struct SetAttributeRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        req new_attribute: AttributeArgument = tags::NEW_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Set Attribute response.
    #[derive(Default)]
    pub struct SetAttributeResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}
