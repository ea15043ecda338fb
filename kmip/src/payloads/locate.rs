//! Locate.

use ttlv::tags;

use super::attrs::PayloadAttributes;
use super::field::since;
use crate::kmip_struct;
use crate::version::ProtocolVersion;

/// Storage Status Mask bits.
pub mod storage_status {
    pub const ON_LINE: i32 = 0x01;
    pub const ARCHIVAL: i32 = 0x02;
    pub const DESTROYED: i32 = 0x04;
}

/// Object Group Member values.
pub mod object_group_member {
    pub const GROUP_MEMBER_FRESH: u32 = 0x01;
    pub const GROUP_MEMBER_DEFAULT: u32 = 0x02;
}

kmip_struct! {
    /// Locate request: objects whose attributes match all of `attributes`.
    #[derive(Default)]
    pub struct LocateRequest {
        opt maximum_items: i32 = tags::MAXIMUM_ITEMS,
        /// KMIP 1.3+.
        opt offset_items: i32 = since(tags::OFFSET_ITEMS, ProtocolVersion::V1_3),
        opt storage_status_mask: i32 = tags::STORAGE_STATUS_MASK,
        opt object_group_member: super::field::EnumValue = tags::OBJECT_GROUP_MEMBER,
        multi attributes: PayloadAttributes = (),
    }
}

kmip_struct! {
    /// Locate response.
    #[derive(Default)]
    pub struct LocateResponse {
        /// KMIP 1.3+: how many objects matched in all (before Maximum Items / Offset Items).
        opt located_items: i32 = since(tags::LOCATED_ITEMS, ProtocolVersion::V1_3),
        vec unique_identifiers: String = tags::UNIQUE_IDENTIFIER,
    }
}
