//! Activate, Revoke, Destroy, Check: operations on one object's life.

use ttlv::tags;

pub use crate::attributes::RevocationReason;
pub use crate::enums::RevocationReasonCode;
use crate::kmip_struct;
use crate::payloads::field::{DateTime, Interval};

kmip_struct! {
    /// Activate request (no Unique Identifier: the ID Placeholder).
    #[derive(Default)]
    pub struct ActivateRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Destroy request (no Unique Identifier: the ID Placeholder).
    #[derive(Default)]
    pub struct DestroyRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Activate response.
    #[derive(Default)]
    pub struct ActivateResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Destroy response.
    #[derive(Default)]
    pub struct DestroyResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Revoke response.
    #[derive(Default)]
    pub struct RevokeResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Revoke request.
    pub struct RevokeRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        req revocation_reason: RevocationReason = tags::REVOCATION_REASON,
        /// Required by the server when the reason is a compromise.
        opt compromise_occurrence_date: DateTime = tags::COMPROMISE_OCCURRENCE_DATE,
    }
}

kmip_struct! {
    /// Check request (and, with the values that failed the check, its response).
    #[derive(Default)]
    pub struct CheckRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt usage_limits_count: i64 = tags::USAGE_LIMITS_COUNT,
        opt cryptographic_usage_mask: i32 = tags::CRYPTOGRAPHIC_USAGE_MASK,
        opt lease_time: Interval = tags::LEASE_TIME,
    }
}

kmip_struct! {
    /// Check response.
    #[derive(Default)]
    pub struct CheckResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt usage_limits_count: i64 = tags::USAGE_LIMITS_COUNT,
        opt cryptographic_usage_mask: i32 = tags::CRYPTOGRAPHIC_USAGE_MASK,
        opt lease_time: Interval = tags::LEASE_TIME,
    }
}
