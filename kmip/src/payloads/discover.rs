//! Discover Versions and Query.

use ttlv::{tags, Item};

use crate::operation::OperationCode;
use crate::payloads::field::EnumValue;
use crate::version::ProtocolVersion;
use crate::{enum_field, kmip_enum, kmip_struct};

kmip_struct! {
    /// Discover Versions request: the versions the client speaks, preferred first (empty: "tell me all").
    #[derive(Default)]
    pub struct DiscoverVersionsRequest {
        vec protocol_versions: ProtocolVersion = tags::PROTOCOL_VERSION,
    }
}

kmip_struct! {
    /// Discover Versions response: the versions both sides speak, the server's preference first.
    #[derive(Default)]
    pub struct DiscoverVersionsResponse {
        vec protocol_versions: ProtocolVersion = tags::PROTOCOL_VERSION,
    }
}

kmip_enum! {
    /// Query Function.
    pub enum QueryFunction {
        QueryOperations = 0x01 => "QueryOperations",
        QueryObjects = 0x02 => "QueryObjects",
        QueryServerInformation = 0x03 => "QueryServerInformation",
        QueryApplicationNamespaces = 0x04 => "QueryApplicationNamespaces",
        QueryExtensionList = 0x05 => "QueryExtensionList",
        QueryExtensionMap = 0x06 => "QueryExtensionMap",
        QueryAttestationTypes = 0x07 => "QueryAttestationTypes",
        QueryRngs = 0x08 => "QueryRNGs",
        QueryValidations = 0x09 => "QueryValidations",
        QueryProfiles = 0x0A => "QueryProfiles",
        QueryCapabilities = 0x0B => "QueryCapabilities",
        QueryClientRegistrationMethods = 0x0C => "QueryClientRegistrationMethods",
        QueryDefaultsInformation = 0x0D => "QueryDefaultsInformation",
        QueryStorageProtectionMasks = 0x0E => "QueryStorageProtectionMasks",
    }
}

enum_field!(QueryFunction => "Query Function");

impl crate::payloads::field::TtlvField for OperationCode {
    fn to_item(&self, tag: ttlv::Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, ttlv::Value::Enumeration(self.to_u32()))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, crate::DecodeError> {
        crate::fields::enumeration(item).map(OperationCode::from_u32)
    }
}

kmip_struct! {
    /// Query request.
    #[derive(Default)]
    pub struct QueryRequest {
        vec query_functions: QueryFunction = tags::QUERY_FUNCTION,
    }
}

kmip_struct! {
    /// Query response. Structures the server describes itself with (server information, profiles,
    /// capabilities, ...) are carried as TTLV items.
    #[derive(Default)]
    pub struct QueryResponse {
        vec operations: OperationCode = tags::OPERATION,
        vec object_types: EnumValue = tags::OBJECT_TYPE,
        opt vendor_identification: String = tags::VENDOR_IDENTIFICATION,
        opt server_information: Item = tags::SERVER_INFORMATION,
        vec application_namespaces: String = tags::APPLICATION_NAMESPACE,
        vec extension_information: Item = tags::EXTENSION_INFORMATION,
        vec attestation_types: EnumValue = tags::ATTESTATION_TYPE,
        vec rng_parameters: Item = tags::RNG_PARAMETERS,
        vec profile_information: Item = tags::PROFILE_INFORMATION,
        vec validation_information: Item = tags::VALIDATION_INFORMATION,
        vec capability_information: Item = tags::CAPABILITY_INFORMATION,
        vec client_registration_methods: EnumValue = tags::CLIENT_REGISTRATION_METHOD,
        /// KMIP 2.0+.
        opt defaults_information: Item = tags::DEFAULTS_INFORMATION,
        /// KMIP 2.0+.
        vec storage_protection_masks: i32 = tags::PROTECTION_STORAGE_MASK,
    }
}
