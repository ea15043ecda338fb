//! KMIP tag numbers as constants, one per tag of KMIP 1.0-2.1.
//!
//! Generated from `conformance`-era tag table (see `dictionary`); keep sorted by number.

use crate::Tag;

/// Activation Date
pub const ACTIVATION_DATE: Tag = Tag(0x420001);
/// Application Data
pub const APPLICATION_DATA: Tag = Tag(0x420002);
/// Application Namespace
pub const APPLICATION_NAMESPACE: Tag = Tag(0x420003);
/// Application Specific Information
pub const APPLICATION_SPECIFIC_INFORMATION: Tag = Tag(0x420004);
/// Archive Date
pub const ARCHIVE_DATE: Tag = Tag(0x420005);
/// Asynchronous Correlation Value
pub const ASYNCHRONOUS_CORRELATION_VALUE: Tag = Tag(0x420006);
/// Asynchronous Indicator
pub const ASYNCHRONOUS_INDICATOR: Tag = Tag(0x420007);
/// Attribute
pub const ATTRIBUTE: Tag = Tag(0x420008);
/// Attribute Index
pub const ATTRIBUTE_INDEX: Tag = Tag(0x420009);
/// Attribute Name
pub const ATTRIBUTE_NAME: Tag = Tag(0x42000A);
/// Attribute Value
pub const ATTRIBUTE_VALUE: Tag = Tag(0x42000B);
/// Authentication
pub const AUTHENTICATION: Tag = Tag(0x42000C);
/// Batch Count
pub const BATCH_COUNT: Tag = Tag(0x42000D);
/// Batch Error Continuation Option
pub const BATCH_ERROR_CONTINUATION_OPTION: Tag = Tag(0x42000E);
/// Batch Item
pub const BATCH_ITEM: Tag = Tag(0x42000F);
/// Batch Order Option
pub const BATCH_ORDER_OPTION: Tag = Tag(0x420010);
/// Block Cipher Mode
pub const BLOCK_CIPHER_MODE: Tag = Tag(0x420011);
/// Cancellation Result
pub const CANCELLATION_RESULT: Tag = Tag(0x420012);
/// Certificate
pub const CERTIFICATE: Tag = Tag(0x420013);
/// Certificate Identifier
pub const CERTIFICATE_IDENTIFIER: Tag = Tag(0x420014);
/// Certificate Issuer
pub const CERTIFICATE_ISSUER: Tag = Tag(0x420015);
/// Certificate Issuer Alternative Name
pub const CERTIFICATE_ISSUER_ALTERNATIVE_NAME: Tag = Tag(0x420016);
/// Certificate Issuer Distinguished Name
pub const CERTIFICATE_ISSUER_DISTINGUISHED_NAME: Tag = Tag(0x420017);
/// Certificate Request
pub const CERTIFICATE_REQUEST: Tag = Tag(0x420018);
/// Certificate Request Type
pub const CERTIFICATE_REQUEST_TYPE: Tag = Tag(0x420019);
/// Certificate Subject
pub const CERTIFICATE_SUBJECT: Tag = Tag(0x42001A);
/// Certificate Subject Alternative Name
pub const CERTIFICATE_SUBJECT_ALTERNATIVE_NAME: Tag = Tag(0x42001B);
/// Certificate Subject Distinguished Name
pub const CERTIFICATE_SUBJECT_DISTINGUISHED_NAME: Tag = Tag(0x42001C);
/// Certificate Type
pub const CERTIFICATE_TYPE: Tag = Tag(0x42001D);
/// Certificate Value
pub const CERTIFICATE_VALUE: Tag = Tag(0x42001E);
/// Common Template-Attribute
pub const COMMON_TEMPLATE_ATTRIBUTE: Tag = Tag(0x42001F);
/// Compromise  Date
pub const COMPROMISE_DATE: Tag = Tag(0x420020);
/// Compromise Occurrence Date
pub const COMPROMISE_OCCURRENCE_DATE: Tag = Tag(0x420021);
/// Contact Information
pub const CONTACT_INFORMATION: Tag = Tag(0x420022);
/// Credential
pub const CREDENTIAL: Tag = Tag(0x420023);
/// Credential Type
pub const CREDENTIAL_TYPE: Tag = Tag(0x420024);
/// Credential Value
pub const CREDENTIAL_VALUE: Tag = Tag(0x420025);
/// Criticality Indicator
pub const CRITICALITY_INDICATOR: Tag = Tag(0x420026);
/// CRT Coefficient
pub const CRT_COEFFICIENT: Tag = Tag(0x420027);
/// Cryptographic Algorithm
pub const CRYPTOGRAPHIC_ALGORITHM: Tag = Tag(0x420028);
/// Cryptographic Domain Parameters
pub const CRYPTOGRAPHIC_DOMAIN_PARAMETERS: Tag = Tag(0x420029);
/// Cryptographic Length
pub const CRYPTOGRAPHIC_LENGTH: Tag = Tag(0x42002A);
/// Cryptographic Parameters
pub const CRYPTOGRAPHIC_PARAMETERS: Tag = Tag(0x42002B);
/// Cryptographic Usage Mask
pub const CRYPTOGRAPHIC_USAGE_MASK: Tag = Tag(0x42002C);
/// Custom Attribute
pub const CUSTOM_ATTRIBUTE: Tag = Tag(0x42002D);
/// D
pub const D: Tag = Tag(0x42002E);
/// Deactivation Date
pub const DEACTIVATION_DATE: Tag = Tag(0x42002F);
/// Derivation Data
pub const DERIVATION_DATA: Tag = Tag(0x420030);
/// Derivation Method
pub const DERIVATION_METHOD: Tag = Tag(0x420031);
/// Derivation Parameters
pub const DERIVATION_PARAMETERS: Tag = Tag(0x420032);
/// Destroy Date
pub const DESTROY_DATE: Tag = Tag(0x420033);
/// Digest
pub const DIGEST: Tag = Tag(0x420034);
/// Digest Value
pub const DIGEST_VALUE: Tag = Tag(0x420035);
/// Encryption Key Information
pub const ENCRYPTION_KEY_INFORMATION: Tag = Tag(0x420036);
/// G
pub const G: Tag = Tag(0x420037);
/// Hashing Algorithm
pub const HASHING_ALGORITHM: Tag = Tag(0x420038);
/// Initial Date
pub const INITIAL_DATE: Tag = Tag(0x420039);
/// Initialization Vector
pub const INITIALIZATION_VECTOR: Tag = Tag(0x42003A);
/// Issuer
pub const ISSUER: Tag = Tag(0x42003B);
/// Iteration Count
pub const ITERATION_COUNT: Tag = Tag(0x42003C);
/// IV/Counter/Nonce
pub const IV_COUNTER_NONCE: Tag = Tag(0x42003D);
/// J
pub const J: Tag = Tag(0x42003E);
/// Key
pub const KEY: Tag = Tag(0x42003F);
/// Key Block
pub const KEY_BLOCK: Tag = Tag(0x420040);
/// Key Compression Type
pub const KEY_COMPRESSION_TYPE: Tag = Tag(0x420041);
/// Key Format Type
pub const KEY_FORMAT_TYPE: Tag = Tag(0x420042);
/// Key Material
pub const KEY_MATERIAL: Tag = Tag(0x420043);
/// Key Part Identifier
pub const KEY_PART_IDENTIFIER: Tag = Tag(0x420044);
/// Key Value
pub const KEY_VALUE: Tag = Tag(0x420045);
/// Key Wrapping Data
pub const KEY_WRAPPING_DATA: Tag = Tag(0x420046);
/// Key Wrapping Specification
pub const KEY_WRAPPING_SPECIFICATION: Tag = Tag(0x420047);
/// Last Change Date
pub const LAST_CHANGE_DATE: Tag = Tag(0x420048);
/// Lease Time
pub const LEASE_TIME: Tag = Tag(0x420049);
/// Link
pub const LINK: Tag = Tag(0x42004A);
/// Link Type
pub const LINK_TYPE: Tag = Tag(0x42004B);
/// Linked Object Identifier
pub const LINKED_OBJECT_IDENTIFIER: Tag = Tag(0x42004C);
/// MAC/Signature
pub const MAC_SIGNATURE: Tag = Tag(0x42004D);
/// MAC/Signature Key Information
pub const MAC_SIGNATURE_KEY_INFORMATION: Tag = Tag(0x42004E);
/// Maximum Items
pub const MAXIMUM_ITEMS: Tag = Tag(0x42004F);
/// Maximum Response Size
pub const MAXIMUM_RESPONSE_SIZE: Tag = Tag(0x420050);
/// Message Extension
pub const MESSAGE_EXTENSION: Tag = Tag(0x420051);
/// Modulus
pub const MODULUS: Tag = Tag(0x420052);
/// Name
pub const NAME: Tag = Tag(0x420053);
/// Name Type
pub const NAME_TYPE: Tag = Tag(0x420054);
/// Name Value
pub const NAME_VALUE: Tag = Tag(0x420055);
/// Object Group
pub const OBJECT_GROUP: Tag = Tag(0x420056);
/// Object Type
pub const OBJECT_TYPE: Tag = Tag(0x420057);
/// Offset
pub const OFFSET: Tag = Tag(0x420058);
/// Opaque Data Type
pub const OPAQUE_DATA_TYPE: Tag = Tag(0x420059);
/// Opaque Data Value
pub const OPAQUE_DATA_VALUE: Tag = Tag(0x42005A);
/// Opaque Object
pub const OPAQUE_OBJECT: Tag = Tag(0x42005B);
/// Operation
pub const OPERATION: Tag = Tag(0x42005C);
/// Operation Policy Name
pub const OPERATION_POLICY_NAME: Tag = Tag(0x42005D);
/// P
pub const P: Tag = Tag(0x42005E);
/// Padding Method
pub const PADDING_METHOD: Tag = Tag(0x42005F);
/// Prime Exponent P
pub const PRIME_EXPONENT_P: Tag = Tag(0x420060);
/// Prime Exponent Q
pub const PRIME_EXPONENT_Q: Tag = Tag(0x420061);
/// Prime Field Size
pub const PRIME_FIELD_SIZE: Tag = Tag(0x420062);
/// Private Exponent
pub const PRIVATE_EXPONENT: Tag = Tag(0x420063);
/// Private Key
pub const PRIVATE_KEY: Tag = Tag(0x420064);
/// Private Key Template-Attribute
pub const PRIVATE_KEY_TEMPLATE_ATTRIBUTE: Tag = Tag(0x420065);
/// Private Key Unique Identifier
pub const PRIVATE_KEY_UNIQUE_IDENTIFIER: Tag = Tag(0x420066);
/// Process Start Date
pub const PROCESS_START_DATE: Tag = Tag(0x420067);
/// Protect Stop Date
pub const PROTECT_STOP_DATE: Tag = Tag(0x420068);
/// Protocol Version
pub const PROTOCOL_VERSION: Tag = Tag(0x420069);
/// Protocol Version Major
pub const PROTOCOL_VERSION_MAJOR: Tag = Tag(0x42006A);
/// Protocol Version Minor
pub const PROTOCOL_VERSION_MINOR: Tag = Tag(0x42006B);
/// Public Exponent
pub const PUBLIC_EXPONENT: Tag = Tag(0x42006C);
/// Public Key
pub const PUBLIC_KEY: Tag = Tag(0x42006D);
/// Public Key Template-Attribute
pub const PUBLIC_KEY_TEMPLATE_ATTRIBUTE: Tag = Tag(0x42006E);
/// Public Key Unique Identifier
pub const PUBLIC_KEY_UNIQUE_IDENTIFIER: Tag = Tag(0x42006F);
/// Put Function
pub const PUT_FUNCTION: Tag = Tag(0x420070);
/// Q
pub const Q: Tag = Tag(0x420071);
/// Q String
pub const Q_STRING: Tag = Tag(0x420072);
/// Qlength
pub const QLENGTH: Tag = Tag(0x420073);
/// Query Function
pub const QUERY_FUNCTION: Tag = Tag(0x420074);
/// Recommended Curve
pub const RECOMMENDED_CURVE: Tag = Tag(0x420075);
/// Replaced Unique Identifier
pub const REPLACED_UNIQUE_IDENTIFIER: Tag = Tag(0x420076);
/// Request Header
pub const REQUEST_HEADER: Tag = Tag(0x420077);
/// Request Message
pub const REQUEST_MESSAGE: Tag = Tag(0x420078);
/// Request Payload
pub const REQUEST_PAYLOAD: Tag = Tag(0x420079);
/// Response Header
pub const RESPONSE_HEADER: Tag = Tag(0x42007A);
/// Response Message
pub const RESPONSE_MESSAGE: Tag = Tag(0x42007B);
/// Response Payload
pub const RESPONSE_PAYLOAD: Tag = Tag(0x42007C);
/// Result Message
pub const RESULT_MESSAGE: Tag = Tag(0x42007D);
/// Result Reason
pub const RESULT_REASON: Tag = Tag(0x42007E);
/// Result Status
pub const RESULT_STATUS: Tag = Tag(0x42007F);
/// Revocation Message
pub const REVOCATION_MESSAGE: Tag = Tag(0x420080);
/// Revocation Reason
pub const REVOCATION_REASON: Tag = Tag(0x420081);
/// Revocation Reason Code
pub const REVOCATION_REASON_CODE: Tag = Tag(0x420082);
/// Key Role Type
pub const KEY_ROLE_TYPE: Tag = Tag(0x420083);
/// Salt
pub const SALT: Tag = Tag(0x420084);
/// Secret Data
pub const SECRET_DATA: Tag = Tag(0x420085);
/// Secret Data Type
pub const SECRET_DATA_TYPE: Tag = Tag(0x420086);
/// Serial Number
pub const SERIAL_NUMBER: Tag = Tag(0x420087);
/// Server Information
pub const SERVER_INFORMATION: Tag = Tag(0x420088);
/// Split Key
pub const SPLIT_KEY: Tag = Tag(0x420089);
/// Split Key Method
pub const SPLIT_KEY_METHOD: Tag = Tag(0x42008A);
/// Split Key Parts
pub const SPLIT_KEY_PARTS: Tag = Tag(0x42008B);
/// Split Key Threshold
pub const SPLIT_KEY_THRESHOLD: Tag = Tag(0x42008C);
/// State
pub const STATE: Tag = Tag(0x42008D);
/// Storage Status Mask
pub const STORAGE_STATUS_MASK: Tag = Tag(0x42008E);
/// Symmetric Key
pub const SYMMETRIC_KEY: Tag = Tag(0x42008F);
/// Template
pub const TEMPLATE: Tag = Tag(0x420090);
/// Template-Attribute
pub const TEMPLATE_ATTRIBUTE: Tag = Tag(0x420091);
/// Time Stamp
pub const TIME_STAMP: Tag = Tag(0x420092);
/// Unique Batch Item ID
pub const UNIQUE_BATCH_ITEM_ID: Tag = Tag(0x420093);
/// Unique Identifier
pub const UNIQUE_IDENTIFIER: Tag = Tag(0x420094);
/// Usage Limits
pub const USAGE_LIMITS: Tag = Tag(0x420095);
/// Usage Limits Count
pub const USAGE_LIMITS_COUNT: Tag = Tag(0x420096);
/// Usage Limits Total
pub const USAGE_LIMITS_TOTAL: Tag = Tag(0x420097);
/// Usage Limits Unit
pub const USAGE_LIMITS_UNIT: Tag = Tag(0x420098);
/// Username
pub const USERNAME: Tag = Tag(0x420099);
/// Validity Date
pub const VALIDITY_DATE: Tag = Tag(0x42009A);
/// Validity Indicator
pub const VALIDITY_INDICATOR: Tag = Tag(0x42009B);
/// Vendor Extension
pub const VENDOR_EXTENSION: Tag = Tag(0x42009C);
/// Vendor Identification
pub const VENDOR_IDENTIFICATION: Tag = Tag(0x42009D);
/// Wrapping Method
pub const WRAPPING_METHOD: Tag = Tag(0x42009E);
/// X
pub const X: Tag = Tag(0x42009F);
/// Y
pub const Y: Tag = Tag(0x4200A0);
/// Password
pub const PASSWORD: Tag = Tag(0x4200A1);
/// Device Identifier
pub const DEVICE_IDENTIFIER: Tag = Tag(0x4200A2);
/// Encoding Option
pub const ENCODING_OPTION: Tag = Tag(0x4200A3);
/// Extension Information
pub const EXTENSION_INFORMATION: Tag = Tag(0x4200A4);
/// Extension Name
pub const EXTENSION_NAME: Tag = Tag(0x4200A5);
/// Extension Tag
pub const EXTENSION_TAG: Tag = Tag(0x4200A6);
/// Extension Type
pub const EXTENSION_TYPE: Tag = Tag(0x4200A7);
/// Fresh
pub const FRESH: Tag = Tag(0x4200A8);
/// Machine Identifier
pub const MACHINE_IDENTIFIER: Tag = Tag(0x4200A9);
/// Media Identifier
pub const MEDIA_IDENTIFIER: Tag = Tag(0x4200AA);
/// Network Identifier
pub const NETWORK_IDENTIFIER: Tag = Tag(0x4200AB);
/// Object Group Member
pub const OBJECT_GROUP_MEMBER: Tag = Tag(0x4200AC);
/// Certificate Length
pub const CERTIFICATE_LENGTH: Tag = Tag(0x4200AD);
/// Digital Signature Algorithm
pub const DIGITAL_SIGNATURE_ALGORITHM: Tag = Tag(0x4200AE);
/// Certificate Serial Number
pub const CERTIFICATE_SERIAL_NUMBER: Tag = Tag(0x4200AF);
/// Device Serial Number
pub const DEVICE_SERIAL_NUMBER: Tag = Tag(0x4200B0);
/// Issuer Alternative Name
pub const ISSUER_ALTERNATIVE_NAME: Tag = Tag(0x4200B1);
/// Issuer Distinguished Name
pub const ISSUER_DISTINGUISHED_NAME: Tag = Tag(0x4200B2);
/// Subject Alternative Name
pub const SUBJECT_ALTERNATIVE_NAME: Tag = Tag(0x4200B3);
/// Subject Distinguished Name
pub const SUBJECT_DISTINGUISHED_NAME: Tag = Tag(0x4200B4);
/// X.509 Certificate Identifier
pub const X_509_CERTIFICATE_IDENTIFIER: Tag = Tag(0x4200B5);
/// X.509 Certificate Issuer
pub const X_509_CERTIFICATE_ISSUER: Tag = Tag(0x4200B6);
/// X.509 Certificate Subject
pub const X_509_CERTIFICATE_SUBJECT: Tag = Tag(0x4200B7);
/// Key Value Location
pub const KEY_VALUE_LOCATION: Tag = Tag(0x4200B8);
/// Key Value Location Value
pub const KEY_VALUE_LOCATION_VALUE: Tag = Tag(0x4200B9);
/// Key Value Location Type
pub const KEY_VALUE_LOCATION_TYPE: Tag = Tag(0x4200BA);
/// Key Value Present
pub const KEY_VALUE_PRESENT: Tag = Tag(0x4200BB);
/// Original Creation Date
pub const ORIGINAL_CREATION_DATE: Tag = Tag(0x4200BC);
/// PGP Key
pub const PGP_KEY: Tag = Tag(0x4200BD);
/// PGP Key Version
pub const PGP_KEY_VERSION: Tag = Tag(0x4200BE);
/// Alternative Name
pub const ALTERNATIVE_NAME: Tag = Tag(0x4200BF);
/// Alternative Name Value
pub const ALTERNATIVE_NAME_VALUE: Tag = Tag(0x4200C0);
/// Alternative Name Type
pub const ALTERNATIVE_NAME_TYPE: Tag = Tag(0x4200C1);
/// Data
pub const DATA: Tag = Tag(0x4200C2);
/// Signature Data
pub const SIGNATURE_DATA: Tag = Tag(0x4200C3);
/// Data Length
pub const DATA_LENGTH: Tag = Tag(0x4200C4);
/// Random IV
pub const RANDOM_IV: Tag = Tag(0x4200C5);
/// MAC Data
pub const MAC_DATA: Tag = Tag(0x4200C6);
/// Attestation Type
pub const ATTESTATION_TYPE: Tag = Tag(0x4200C7);
/// Nonce
pub const NONCE: Tag = Tag(0x4200C8);
/// Nonce ID
pub const NONCE_ID: Tag = Tag(0x4200C9);
/// Nonce Value
pub const NONCE_VALUE: Tag = Tag(0x4200CA);
/// Attestation Measurement
pub const ATTESTATION_MEASUREMENT: Tag = Tag(0x4200CB);
/// Attestation Assertion
pub const ATTESTATION_ASSERTION: Tag = Tag(0x4200CC);
/// IV Length
pub const IV_LENGTH: Tag = Tag(0x4200CD);
/// Tag Length
pub const TAG_LENGTH: Tag = Tag(0x4200CE);
/// Fixed Field Length
pub const FIXED_FIELD_LENGTH: Tag = Tag(0x4200CF);
/// Counter Length
pub const COUNTER_LENGTH: Tag = Tag(0x4200D0);
/// Initial Counter Value
pub const INITIAL_COUNTER_VALUE: Tag = Tag(0x4200D1);
/// Invocation Field Length
pub const INVOCATION_FIELD_LENGTH: Tag = Tag(0x4200D2);
/// Attestation Capable Indicator
pub const ATTESTATION_CAPABLE_INDICATOR: Tag = Tag(0x4200D3);
/// Offset Items
pub const OFFSET_ITEMS: Tag = Tag(0x4200D4);
/// Located Items
pub const LOCATED_ITEMS: Tag = Tag(0x4200D5);
/// Correlation Value
pub const CORRELATION_VALUE: Tag = Tag(0x4200D6);
/// Init Indicator
pub const INIT_INDICATOR: Tag = Tag(0x4200D7);
/// Final Indicator
pub const FINAL_INDICATOR: Tag = Tag(0x4200D8);
/// RNG Parameters
pub const RNG_PARAMETERS: Tag = Tag(0x4200D9);
/// RNG Algorithm
pub const RNG_ALGORITHM: Tag = Tag(0x4200DA);
/// DRBG Algorithm
pub const DRBG_ALGORITHM: Tag = Tag(0x4200DB);
/// FIPS186 Variation
pub const FIPS186_VARIATION: Tag = Tag(0x4200DC);
/// Prediction Resistance
pub const PREDICTION_RESISTANCE: Tag = Tag(0x4200DD);
/// Random Number Generator
pub const RANDOM_NUMBER_GENERATOR: Tag = Tag(0x4200DE);
/// Validation Information
pub const VALIDATION_INFORMATION: Tag = Tag(0x4200DF);
/// Validation Authority Type
pub const VALIDATION_AUTHORITY_TYPE: Tag = Tag(0x4200E0);
/// Validation Authority Country
pub const VALIDATION_AUTHORITY_COUNTRY: Tag = Tag(0x4200E1);
/// Validation Authority URI
pub const VALIDATION_AUTHORITY_URI: Tag = Tag(0x4200E2);
/// Validation Version Major
pub const VALIDATION_VERSION_MAJOR: Tag = Tag(0x4200E3);
/// Validation Version Minor
pub const VALIDATION_VERSION_MINOR: Tag = Tag(0x4200E4);
/// Validation Type
pub const VALIDATION_TYPE: Tag = Tag(0x4200E5);
/// Validation Level
pub const VALIDATION_LEVEL: Tag = Tag(0x4200E6);
/// Validation Certificate Identifier
pub const VALIDATION_CERTIFICATE_IDENTIFIER: Tag = Tag(0x4200E7);
/// Validation Certificate URI
pub const VALIDATION_CERTIFICATE_URI: Tag = Tag(0x4200E8);
/// Validation Vendor URI
pub const VALIDATION_VENDOR_URI: Tag = Tag(0x4200E9);
/// Validation Profile
pub const VALIDATION_PROFILE: Tag = Tag(0x4200EA);
/// Profile Information
pub const PROFILE_INFORMATION: Tag = Tag(0x4200EB);
/// Profile Name
pub const PROFILE_NAME: Tag = Tag(0x4200EC);
/// Server URI
pub const SERVER_URI: Tag = Tag(0x4200ED);
/// Server Port
pub const SERVER_PORT: Tag = Tag(0x4200EE);
/// Streaming Capability
pub const STREAMING_CAPABILITY: Tag = Tag(0x4200EF);
/// Asynchronous Capability
pub const ASYNCHRONOUS_CAPABILITY: Tag = Tag(0x4200F0);
/// Attestation Capability
pub const ATTESTATION_CAPABILITY: Tag = Tag(0x4200F1);
/// Unwrap Mode
pub const UNWRAP_MODE: Tag = Tag(0x4200F2);
/// Destroy Action
pub const DESTROY_ACTION: Tag = Tag(0x4200F3);
/// Shredding Algorithm
pub const SHREDDING_ALGORITHM: Tag = Tag(0x4200F4);
/// RNG Mode
pub const RNG_MODE: Tag = Tag(0x4200F5);
/// Client Registration Method
pub const CLIENT_REGISTRATION_METHOD: Tag = Tag(0x4200F6);
/// Capability Information
pub const CAPABILITY_INFORMATION: Tag = Tag(0x4200F7);
/// Key Wrap Type
pub const KEY_WRAP_TYPE: Tag = Tag(0x4200F8);
/// Batch Undo Capability
pub const BATCH_UNDO_CAPABILITY: Tag = Tag(0x4200F9);
/// Batch Continue Capability
pub const BATCH_CONTINUE_CAPABILITY: Tag = Tag(0x4200FA);
/// PKCS#12 Friendly Name
pub const PKCS_12_FRIENDLY_NAME: Tag = Tag(0x4200FB);
/// Description
pub const DESCRIPTION: Tag = Tag(0x4200FC);
/// Comment
pub const COMMENT: Tag = Tag(0x4200FD);
/// Authenticated Encryption Additional Data
pub const AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA: Tag = Tag(0x4200FE);
/// Encryption Additional Data
pub const ENCRYPTION_ADDITIONAL_DATA: Tag = Tag(0x4200FE);
/// Authenticated Encryption Tag
pub const AUTHENTICATED_ENCRYPTION_TAG: Tag = Tag(0x4200FF);
/// Salt Length
pub const SALT_LENGTH: Tag = Tag(0x420100);
/// Mask Generator
pub const MASK_GENERATOR: Tag = Tag(0x420101);
/// Mask Generator Hashing Algorithm
pub const MASK_GENERATOR_HASHING_ALGORITHM: Tag = Tag(0x420102);
/// P Source
pub const P_SOURCE: Tag = Tag(0x420103);
/// Trailer Field
pub const TRAILER_FIELD: Tag = Tag(0x420104);
/// Client Correlation Value
pub const CLIENT_CORRELATION_VALUE: Tag = Tag(0x420105);
/// Server Correlation Value
pub const SERVER_CORRELATION_VALUE: Tag = Tag(0x420106);
/// Digested Data
pub const DIGESTED_DATA: Tag = Tag(0x420107);
/// Certificate Subject CN
pub const CERTIFICATE_SUBJECT_CN: Tag = Tag(0x420108);
/// Certificate Subject O
pub const CERTIFICATE_SUBJECT_O: Tag = Tag(0x420109);
/// Certificate Subject OU
pub const CERTIFICATE_SUBJECT_OU: Tag = Tag(0x42010A);
/// Certificate Subject Email
pub const CERTIFICATE_SUBJECT_EMAIL: Tag = Tag(0x42010B);
/// Certificate Subject C
pub const CERTIFICATE_SUBJECT_C: Tag = Tag(0x42010C);
/// Certificate Subject ST
pub const CERTIFICATE_SUBJECT_ST: Tag = Tag(0x42010D);
/// Certificate Subject L
pub const CERTIFICATE_SUBJECT_L: Tag = Tag(0x42010E);
/// Certificate Subject UID
pub const CERTIFICATE_SUBJECT_UID: Tag = Tag(0x42010F);
/// Certificate Subject Serial Number
pub const CERTIFICATE_SUBJECT_SERIAL_NUMBER: Tag = Tag(0x420110);
/// Certificate Subject Title
pub const CERTIFICATE_SUBJECT_TITLE: Tag = Tag(0x420111);
/// Certificate Subject DC
pub const CERTIFICATE_SUBJECT_DC: Tag = Tag(0x420112);
/// Certificate Subject DN Qualifier
pub const CERTIFICATE_SUBJECT_DN_QUALIFIER: Tag = Tag(0x420113);
/// Certificate Issuer CN
pub const CERTIFICATE_ISSUER_CN: Tag = Tag(0x420114);
/// Certificate Issuer O
pub const CERTIFICATE_ISSUER_O: Tag = Tag(0x420115);
/// Certificate Issuer OU
pub const CERTIFICATE_ISSUER_OU: Tag = Tag(0x420116);
/// Certificate Issuer Email
pub const CERTIFICATE_ISSUER_EMAIL: Tag = Tag(0x420117);
/// Certificate Issuer C
pub const CERTIFICATE_ISSUER_C: Tag = Tag(0x420118);
/// Certificate Issuer ST
pub const CERTIFICATE_ISSUER_ST: Tag = Tag(0x420119);
/// Certificate Issuer L
pub const CERTIFICATE_ISSUER_L: Tag = Tag(0x42011A);
/// Certificate Issuer UID
pub const CERTIFICATE_ISSUER_UID: Tag = Tag(0x42011B);
/// Certificate Issuer Serial Number
pub const CERTIFICATE_ISSUER_SERIAL_NUMBER: Tag = Tag(0x42011C);
/// Certificate Issuer Title
pub const CERTIFICATE_ISSUER_TITLE: Tag = Tag(0x42011D);
/// Certificate Issuer DC
pub const CERTIFICATE_ISSUER_DC: Tag = Tag(0x42011E);
/// Certificate Issuer DN Qualifier
pub const CERTIFICATE_ISSUER_DN_QUALIFIER: Tag = Tag(0x42011F);
/// Sensitive
pub const SENSITIVE: Tag = Tag(0x420120);
/// Always Sensitive
pub const ALWAYS_SENSITIVE: Tag = Tag(0x420121);
/// Extractable
pub const EXTRACTABLE: Tag = Tag(0x420122);
/// Never Extractable
pub const NEVER_EXTRACTABLE: Tag = Tag(0x420123);
/// Replace Existing
pub const REPLACE_EXISTING: Tag = Tag(0x420124);
/// Attributes
pub const ATTRIBUTES: Tag = Tag(0x420125);
/// Common Attributes
pub const COMMON_ATTRIBUTES: Tag = Tag(0x420126);
/// Private Key Attributes
pub const PRIVATE_KEY_ATTRIBUTES: Tag = Tag(0x420127);
/// Public Key Attributes
pub const PUBLIC_KEY_ATTRIBUTES: Tag = Tag(0x420128);
/// Extension Enumeration
pub const EXTENSION_ENUMERATION: Tag = Tag(0x420129);
/// Extension Attribute
pub const EXTENSION_ATTRIBUTE: Tag = Tag(0x42012A);
/// Extension Parent Structure Tag
pub const EXTENSION_PARENT_STRUCTURE_TAG: Tag = Tag(0x42012B);
/// Extension Description
pub const EXTENSION_DESCRIPTION: Tag = Tag(0x42012C);
/// Server Name
pub const SERVER_NAME: Tag = Tag(0x42012D);
/// Server Serial Number
pub const SERVER_SERIAL_NUMBER: Tag = Tag(0x42012E);
/// Server Version
pub const SERVER_VERSION: Tag = Tag(0x42012F);
/// Server Load
pub const SERVER_LOAD: Tag = Tag(0x420130);
/// Product Name
pub const PRODUCT_NAME: Tag = Tag(0x420131);
/// Build Level
pub const BUILD_LEVEL: Tag = Tag(0x420132);
/// Build Date
pub const BUILD_DATE: Tag = Tag(0x420133);
/// Cluster Info
pub const CLUSTER_INFO: Tag = Tag(0x420134);
/// Alternate Failover Endpoints
pub const ALTERNATE_FAILOVER_ENDPOINTS: Tag = Tag(0x420135);
/// Short Unique Identifier
pub const SHORT_UNIQUE_IDENTIFIER: Tag = Tag(0x420136);
/// Reserved
pub const RESERVED: Tag = Tag(0x420137);
/// Tag
pub const TAG: Tag = Tag(0x420138);
/// Certificate Request Unique Identifier
pub const CERTIFICATE_REQUEST_UNIQUE_IDENTIFIER: Tag = Tag(0x420139);
/// NIST Key Type
pub const NIST_KEY_TYPE: Tag = Tag(0x42013A);
/// Attribute Reference
pub const ATTRIBUTE_REFERENCE: Tag = Tag(0x42013B);
/// Current Attribute
pub const CURRENT_ATTRIBUTE: Tag = Tag(0x42013C);
/// New Attribute
pub const NEW_ATTRIBUTE: Tag = Tag(0x42013D);
/// Certificate Request Value
pub const CERTIFICATE_REQUEST_VALUE: Tag = Tag(0x420140);
/// Log Message
pub const LOG_MESSAGE: Tag = Tag(0x420141);
/// Profile Version
pub const PROFILE_VERSION: Tag = Tag(0x420142);
/// Profile Version Major
pub const PROFILE_VERSION_MAJOR: Tag = Tag(0x420143);
/// Profile Version Minor
pub const PROFILE_VERSION_MINOR: Tag = Tag(0x420144);
/// Protection Level
pub const PROTECTION_LEVEL: Tag = Tag(0x420145);
/// Protection Period
pub const PROTECTION_PERIOD: Tag = Tag(0x420146);
/// Quantum Safe
pub const QUANTUM_SAFE: Tag = Tag(0x420147);
/// Quantum Safe Capability
pub const QUANTUM_SAFE_CAPABILITY: Tag = Tag(0x420148);
/// Ticket
pub const TICKET: Tag = Tag(0x420149);
/// Ticket Type
pub const TICKET_TYPE: Tag = Tag(0x42014A);
/// Ticket Value
pub const TICKET_VALUE: Tag = Tag(0x42014B);
/// Request Count
pub const REQUEST_COUNT: Tag = Tag(0x42014C);
/// Rights
pub const RIGHTS: Tag = Tag(0x42014D);
/// Objects
pub const OBJECTS: Tag = Tag(0x42014E);
/// Operations
pub const OPERATIONS: Tag = Tag(0x42014F);
/// Right
pub const RIGHT: Tag = Tag(0x420150);
/// Endpoint Role
pub const ENDPOINT_ROLE: Tag = Tag(0x420151);
/// Defaults Information
pub const DEFAULTS_INFORMATION: Tag = Tag(0x420152);
/// Object Defaults
pub const OBJECT_DEFAULTS: Tag = Tag(0x420153);
/// Ephemeral
pub const EPHEMERAL: Tag = Tag(0x420154);
/// Server Hashed Password
pub const SERVER_HASHED_PASSWORD: Tag = Tag(0x420155);
/// One Time Password
pub const ONE_TIME_PASSWORD: Tag = Tag(0x420156);
/// Hashed Password
pub const HASHED_PASSWORD: Tag = Tag(0x420157);
/// Adjustment Type
pub const ADJUSTMENT_TYPE: Tag = Tag(0x420158);
/// PKCS#11 Interface
pub const PKCS_11_INTERFACE: Tag = Tag(0x420159);
/// PKCS#11 Function
pub const PKCS_11_FUNCTION: Tag = Tag(0x42015A);
/// PKCS#11 Input Parameters
pub const PKCS_11_INPUT_PARAMETERS: Tag = Tag(0x42015B);
/// PKCS#11 Output Parameters
pub const PKCS_11_OUTPUT_PARAMETERS: Tag = Tag(0x42015C);
/// PKCS#11 Return Code
pub const PKCS_11_RETURN_CODE: Tag = Tag(0x42015D);
/// Protection Storage Mask
pub const PROTECTION_STORAGE_MASK: Tag = Tag(0x42015E);
/// Protection Storage Masks
pub const PROTECTION_STORAGE_MASKS: Tag = Tag(0x42015F);
/// Interop Function
pub const INTEROP_FUNCTION: Tag = Tag(0x420160);
/// Interop Identifier
pub const INTEROP_IDENTIFIER: Tag = Tag(0x420161);
/// Adjustment Value
pub const ADJUSTMENT_VALUE: Tag = Tag(0x420162);
/// Common Protection Storage Masks
pub const COMMON_PROTECTION_STORAGE_MASKS: Tag = Tag(0x420163);
/// Private Protection Storage Masks
pub const PRIVATE_PROTECTION_STORAGE_MASKS: Tag = Tag(0x420164);
/// Public Protection Storage Masks
pub const PUBLIC_PROTECTION_STORAGE_MASKS: Tag = Tag(0x420165);
/// Object Groups
pub const OBJECT_GROUPS: Tag = Tag(0x420166);
/// Object Types
pub const OBJECT_TYPES: Tag = Tag(0x420167);
/// Constraints
pub const CONSTRAINTS: Tag = Tag(0x420168);
/// Constraint
pub const CONSTRAINT: Tag = Tag(0x420169);
