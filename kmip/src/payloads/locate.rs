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

#[cfg(test)]
mod tests {
    use ttlv::{Item, Value};

    use super::*;

    #[test]
    fn offset_items_in_a_1_2_locate_is_read_and_never_sent_at_1_2() {
        // PyKMIP 0.11 sends Offset Items (a KMIP 1.3 field) in its 1.2 Locate: read and honoured.
        let v1_2 = ProtocolVersion::V1_2;
        let item = Item::structure(
            tags::REQUEST_PAYLOAD,
            vec![
                Item::new(tags::MAXIMUM_ITEMS, Value::Integer(5)),
                Item::new(tags::OFFSET_ITEMS, Value::Integer(2)),
            ],
        );
        let request = LocateRequest::from_ttlv(&item, v1_2).unwrap();
        assert_eq!(request.offset_items, Some(2));
        // qkms itself leaves it out of a 1.2 message, and sends it from 1.3 on.
        let encoded = request.to_ttlv(tags::REQUEST_PAYLOAD, v1_2);
        assert!(encoded
            .children()
            .iter()
            .all(|c| c.tag != tags::OFFSET_ITEMS));
        let encoded = request.to_ttlv(tags::REQUEST_PAYLOAD, ProtocolVersion::V1_3);
        assert!(encoded
            .children()
            .iter()
            .any(|c| c.tag == tags::OFFSET_ITEMS));
        let answer = LocateResponse {
            located_items: Some(7),
            unique_identifiers: vec!["a".into()],
        };
        let encoded = answer.to_ttlv(tags::RESPONSE_PAYLOAD, v1_2);
        assert!(encoded
            .children()
            .iter()
            .all(|c| c.tag != tags::LOCATED_ITEMS));
    }
}
