//! Cryptographic operations with a managed key: Encrypt, Decrypt, Sign, Signature Verify, MAC, MAC Verify,
//! and Hash. Each can be one-shot or a stream (Init Indicator, Correlation Value, Final Indicator).

use ttlv::tags;

use super::field::since;
pub use crate::attributes::CryptographicParameters;
use crate::kmip_struct;
use crate::payloads::field::EnumValue;
use crate::payloads::secret::SecretBytes;
use crate::version::ProtocolVersion;

kmip_struct! {
    /// Encrypt request.
    #[derive(Default)]
    pub struct EncryptRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
        opt data: SecretBytes = tags::DATA,
        opt iv_counter_nonce: Vec<u8> = tags::IV_COUNTER_NONCE,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
        opt init_indicator: bool = tags::INIT_INDICATOR,
        opt final_indicator: bool = tags::FINAL_INDICATOR,
        opt authenticated_encryption_additional_data: Vec<u8> = tags::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
    }
}

kmip_struct! {
    /// Encrypt response.
    #[derive(Default)]
    pub struct EncryptResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt data: Vec<u8> = tags::DATA,
        opt iv_counter_nonce: Vec<u8> = tags::IV_COUNTER_NONCE,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
        opt authenticated_encryption_tag: Vec<u8> = tags::AUTHENTICATED_ENCRYPTION_TAG,
    }
}

kmip_struct! {
    /// Decrypt request.
    #[derive(Default)]
    pub struct DecryptRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
        opt data: Vec<u8> = tags::DATA,
        opt iv_counter_nonce: Vec<u8> = tags::IV_COUNTER_NONCE,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
        opt init_indicator: bool = tags::INIT_INDICATOR,
        opt final_indicator: bool = tags::FINAL_INDICATOR,
        opt authenticated_encryption_additional_data: Vec<u8> = tags::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
        opt authenticated_encryption_tag: Vec<u8> = tags::AUTHENTICATED_ENCRYPTION_TAG,
    }
}

kmip_struct! {
    /// Decrypt response.
    #[derive(Default)]
    pub struct DecryptResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt data: SecretBytes = tags::DATA,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// Sign request.
    #[derive(Default)]
    pub struct SignRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
        opt data: Vec<u8> = tags::DATA,
        /// KMIP 1.4+: a digest already computed by the client.
        opt digested_data: Vec<u8> = since(tags::DIGESTED_DATA, ProtocolVersion::V1_4),
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
        opt init_indicator: bool = tags::INIT_INDICATOR,
        opt final_indicator: bool = tags::FINAL_INDICATOR,
    }
}

kmip_struct! {
    /// Sign response.
    #[derive(Default)]
    pub struct SignResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt signature_data: Vec<u8> = tags::SIGNATURE_DATA,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// Signature Verify request.
    #[derive(Default)]
    pub struct SignatureVerifyRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
        opt data: Vec<u8> = tags::DATA,
        opt digested_data: Vec<u8> = since(tags::DIGESTED_DATA, ProtocolVersion::V1_4),
        opt signature_data: Vec<u8> = tags::SIGNATURE_DATA,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
        opt init_indicator: bool = tags::INIT_INDICATOR,
        opt final_indicator: bool = tags::FINAL_INDICATOR,
    }
}

/// Validity Indicator values.
pub mod validity {
    pub const VALID: u32 = 0x01;
    pub const INVALID: u32 = 0x02;
    pub const UNKNOWN: u32 = 0x03;

    /// The Validity Indicator for a verification's outcome.
    pub fn indicator(valid: bool) -> super::EnumValue {
        super::EnumValue(if valid { VALID } else { INVALID })
    }
}

kmip_struct! {
    /// Signature Verify response.
    #[derive(Default)]
    pub struct SignatureVerifyResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        /// [`validity`] values; absent only in the intermediate parts of a stream.
        opt validity_indicator: EnumValue = tags::VALIDITY_INDICATOR,
        /// Recovered data (signature schemes with message recovery).
        opt data: Vec<u8> = tags::DATA,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// MAC request.
    #[derive(Default)]
    pub struct MacRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
        opt data: Vec<u8> = tags::DATA,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
        opt init_indicator: bool = tags::INIT_INDICATOR,
        opt final_indicator: bool = tags::FINAL_INDICATOR,
    }
}

kmip_struct! {
    /// MAC response.
    #[derive(Default)]
    pub struct MacResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt mac_data: Vec<u8> = tags::MAC_DATA,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// MAC Verify request.
    #[derive(Default)]
    pub struct MacVerifyRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
        opt data: Vec<u8> = tags::DATA,
        opt mac_data: Vec<u8> = tags::MAC_DATA,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
        opt init_indicator: bool = tags::INIT_INDICATOR,
        opt final_indicator: bool = tags::FINAL_INDICATOR,
    }
}

kmip_struct! {
    /// MAC Verify response.
    #[derive(Default)]
    pub struct MacVerifyResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt validity_indicator: EnumValue = tags::VALIDITY_INDICATOR,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// Hash request (no key: the Cryptographic Parameters name the hashing algorithm).
    #[derive(Default)]
    pub struct HashRequest {
        req cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
        opt data: Vec<u8> = tags::DATA,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
        opt init_indicator: bool = tags::INIT_INDICATOR,
        opt final_indicator: bool = tags::FINAL_INDICATOR,
    }
}

kmip_struct! {
    /// Hash response: the digest.
    #[derive(Default)]
    pub struct HashResponse {
        opt data: Vec<u8> = tags::DATA,
        opt correlation_value: Vec<u8> = tags::CORRELATION_VALUE,
    }
}
