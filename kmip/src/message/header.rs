//! Request and response headers.

use ttlv::tags;

use super::credential::Authentication;
use crate::payloads::field::{since, DateTime, EnumValue};
const V1_2: ProtocolVersion = ProtocolVersion::V1_2;
const V1_4: ProtocolVersion = ProtocolVersion::V1_4;
const V2_0: ProtocolVersion = ProtocolVersion::V2_0;
use crate::version::ProtocolVersion;
use crate::{enum_field, kmip_enum, kmip_struct};

kmip_enum! {
    /// Batch Error Continuation Option: what the server does with the rest of a batch after a failed item.
    pub enum BatchErrorContinuationOption {
        Continue = 0x01 => "Continue",
        Stop = 0x02 => "Stop",
        Undo = 0x03 => "Undo",
    }
}

enum_field!(BatchErrorContinuationOption => "Batch Error Continuation Option");

kmip_struct! {
    /// Request Header.
    pub struct RequestHeader {
        req protocol_version: ProtocolVersion = tags::PROTOCOL_VERSION,
        opt maximum_response_size: i32 = tags::MAXIMUM_RESPONSE_SIZE,
        /// KMIP 1.4+.
        opt client_correlation_value: String = since(tags::CLIENT_CORRELATION_VALUE, V1_4),
        /// KMIP 1.4+.
        opt server_correlation_value: String = since(tags::SERVER_CORRELATION_VALUE, V1_4),
        opt asynchronous_indicator: bool = tags::ASYNCHRONOUS_INDICATOR,
        opt attestation_capable_indicator: bool = since(tags::ATTESTATION_CAPABLE_INDICATOR, V1_2),
        vec attestation_types: EnumValue = since(tags::ATTESTATION_TYPE, V1_2),
        opt authentication: Authentication = tags::AUTHENTICATION,
        opt batch_error_continuation_option: BatchErrorContinuationOption = tags::BATCH_ERROR_CONTINUATION_OPTION,
        opt batch_order_option: bool = tags::BATCH_ORDER_OPTION,
        opt time_stamp: DateTime = tags::TIME_STAMP,
        req batch_count: i32 = tags::BATCH_COUNT,
    }
}

impl RequestHeader {
    /// A header with only the protocol version and batch count set.
    pub fn new(protocol_version: ProtocolVersion, batch_count: i32) -> Self {
        Self {
            protocol_version,
            maximum_response_size: None,
            client_correlation_value: None,
            server_correlation_value: None,
            asynchronous_indicator: None,
            attestation_capable_indicator: None,
            attestation_types: Vec::new(),
            authentication: None,
            batch_error_continuation_option: None,
            batch_order_option: None,
            time_stamp: None,
            batch_count,
        }
    }
}

kmip_struct! {
    /// Response Header.
    pub struct ResponseHeader {
        req protocol_version: ProtocolVersion = tags::PROTOCOL_VERSION,
        req time_stamp: DateTime = tags::TIME_STAMP,
        opt nonce: crate::payloads::field::Nonce = since(tags::NONCE, V1_2),
        /// KMIP 2.0+.
        opt server_hashed_password: Vec<u8> = since(tags::SERVER_HASHED_PASSWORD, V2_0),
        vec attestation_types: EnumValue = since(tags::ATTESTATION_TYPE, V1_2),
        /// KMIP 1.4+.
        opt client_correlation_value: String = since(tags::CLIENT_CORRELATION_VALUE, V1_4),
        /// KMIP 1.4+.
        opt server_correlation_value: String = since(tags::SERVER_CORRELATION_VALUE, V1_4),
        req batch_count: i32 = tags::BATCH_COUNT,
    }
}

impl ResponseHeader {
    /// A header with only the required fields set; `time_stamp` is seconds since the Unix epoch (the caller
    /// supplies the clock, so encoding stays deterministic).
    pub fn new(protocol_version: ProtocolVersion, time_stamp: i64, batch_count: i32) -> Self {
        Self {
            protocol_version,
            time_stamp: DateTime(time_stamp),
            nonce: None,
            server_hashed_password: None,
            attestation_types: Vec::new(),
            client_correlation_value: None,
            server_correlation_value: None,
            batch_count,
        }
    }
}
