//! Adjust Attribute (KMIP 2.0+, 2.1 §6.1.3): increment, decrement or negate a numeric or Date-Time attribute
//! on the server, so that a counter can change without a read-modify-write race between clients.

use ttlv::{tags, Item, Tag, Value};

use super::field::TtlvField;
use crate::attributes::AttributeName;
use crate::error::DecodeError;
use crate::version::ProtocolVersion;
use crate::{enum_field, kmip_enum, kmip_struct};

kmip_enum! {
    /// Adjustment Type (KMIP 2.1 §11.3).
    pub enum AdjustmentType {
        Increment = 0x01 => "Increment",
        Decrement = 0x02 => "Decrement",
        Negate = 0x03 => "Negate",
    }
}

enum_field!(AdjustmentType => "Adjustment Type");

/// Adjustment Value: the amount to add or subtract, of a numeric type (what it may be depends on the attribute
/// adjusted; the server checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdjustmentValue {
    Integer(i32),
    LongInteger(i64),
    /// Two's-complement big-endian bytes, as on the wire.
    BigInteger(Vec<u8>),
    Interval(u32),
}

impl TtlvField for AdjustmentValue {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        let value = match self {
            Self::Integer(v) => Value::Integer(*v),
            Self::LongInteger(v) => Value::LongInteger(*v),
            Self::BigInteger(v) => Value::BigInteger(v.clone()),
            Self::Interval(v) => Value::Interval(*v),
        };
        Item::new(tag, value)
    }

    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        Ok(match &item.value {
            Value::Integer(v) => Self::Integer(*v),
            Value::LongInteger(v) => Self::LongInteger(*v),
            Value::BigInteger(v) => Self::BigInteger(v.clone()),
            Value::Interval(v) => Self::Interval(*v),
            other => {
                return Err(DecodeError::invalid_field(
                    item.tag,
                    format!(
                        "Adjustment Value must be an Integer, Long Integer, Big Integer or Interval, found {}",
                        other.item_type().name()
                    ),
                ))
            }
        })
    }
}

kmip_struct! {
    /// Adjust Attribute request.
    pub struct AdjustAttributeRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        req attribute_reference: AttributeName = tags::ATTRIBUTE_REFERENCE,
        req adjustment_type: AdjustmentType = tags::ADJUSTMENT_TYPE,
        /// Required for Increment and Decrement; absent for Negate.
        opt adjustment_value: AdjustmentValue = tags::ADJUSTMENT_VALUE,
    }
}

kmip_struct! {
    /// Adjust Attribute response.
    #[derive(Default)]
    pub struct AdjustAttributeResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::KnownAttribute;

    const V: ProtocolVersion = ProtocolVersion::V2_1;

    #[test]
    fn a_request_round_trips() {
        let request = AdjustAttributeRequest {
            unique_identifier: Some("k".into()),
            attribute_reference: KnownAttribute::ActivationDate.into(),
            adjustment_type: AdjustmentType::Increment,
            adjustment_value: Some(AdjustmentValue::Interval(60)),
        };
        let item = request.to_ttlv(tags::REQUEST_PAYLOAD, V);
        assert_eq!(
            AdjustAttributeRequest::from_ttlv(&item, V).unwrap(),
            request
        );
    }

    #[test]
    fn a_text_adjustment_value_or_unknown_type_is_invalid_field() {
        let item = Item::structure(
            tags::REQUEST_PAYLOAD,
            vec![
                Item::new(
                    tags::ATTRIBUTE_REFERENCE,
                    Value::Enumeration(tags::ACTIVATION_DATE.0),
                ),
                Item::new(tags::ADJUSTMENT_TYPE, Value::Enumeration(1)),
                Item::new(tags::ADJUSTMENT_VALUE, Value::TextString("1".into())),
            ],
        );
        let e = AdjustAttributeRequest::from_ttlv(&item, V).unwrap_err();
        assert_eq!(e.reason, crate::ResultReason::InvalidField);
        let item = Item::structure(
            tags::REQUEST_PAYLOAD,
            vec![
                Item::new(
                    tags::ATTRIBUTE_REFERENCE,
                    Value::Enumeration(tags::ACTIVATION_DATE.0),
                ),
                Item::new(tags::ADJUSTMENT_TYPE, Value::Enumeration(9)),
            ],
        );
        let e = AdjustAttributeRequest::from_ttlv(&item, V).unwrap_err();
        assert_eq!(e.reason, crate::ResultReason::InvalidField);
    }
}
