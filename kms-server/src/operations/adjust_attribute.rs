//! Adjust Attribute (KMIP 2.0+, 2.1 §6.1.3): Increment, Decrement or Negate the single value of a numeric
//! (Integer, Long Integer, Big Integer, Interval) or Date-Time attribute, in place, under the same rules as a
//! client's Set / Modify Attribute (not read-only, allowed in the object's state).
//!
//! Errors: no such attribute: Attribute Not Found; several values: Invalid Field (which to adjust would be a
//! guess); a non-numeric attribute, an Adjustment Value of the wrong type, missing for Increment / Decrement or
//! given for Negate, Negate of an unsigned (Interval) or Date-Time value, or a result out of the type's range:
//! Invalid Field; a server-set attribute: Attribute Read Only; a state that forbids the change: Wrong Key
//! Lifecycle State.

use kmip::attributes::Attribute;
use kmip::payloads::{
    AdjustAttributeRequest, AdjustAttributeResponse, AdjustmentType, AdjustmentValue,
};
use kmip::ResultReason;
use ttlv::Value;

use crate::error::KmipError;
use crate::managed::attribute_policy::{check_client_change, is_read_only, read_only_error};
use crate::managed::lifecycle::set_changed;
use crate::managed::{load, save, target, versioned};
use crate::state::RequestContext;

pub fn adjust_attribute(
    ctx: &RequestContext<'_>,
    request: AdjustAttributeRequest,
) -> Result<AdjustAttributeResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let mut object = load(ctx, uid)?;
    let name = request.attribute_reference;
    if is_read_only(&name) {
        return Err(read_only_error(ctx.version, &name));
    }
    let values: Vec<&Attribute> = object.attributes.get_all(&name).collect();
    let current = match (values.first(), values.get(1)) {
        (None, _) => {
            return Err(versioned(
                ctx.version,
                ResultReason::AttributeNotFound,
                ResultReason::InvalidField,
                format!("{uid} has no {name} to adjust"),
            ))
        }
        (Some(_), Some(_)) => {
            return Err(KmipError::invalid_field(format!(
                "{uid} has several {name} values; Adjust Attribute needs an attribute with one"
            )))
        }
        (Some(one), None) => (*one).clone(),
    };
    let adjusted = adjust(
        &current,
        request.adjustment_type,
        request.adjustment_value.as_ref(),
    )?;
    check_client_change(ctx.version, &adjusted, object.attributes.state())?;
    set_changed(&mut object.attributes, adjusted, ctx.now);
    save(ctx, &object)?;
    Ok(AdjustAttributeResponse {
        unique_identifier: object.uid,
    })
}

/// The attribute with its value adjusted.
fn adjust(
    attribute: &Attribute,
    kind: AdjustmentType,
    by: Option<&AdjustmentValue>,
) -> Result<Attribute, KmipError> {
    if let Attribute::Custom(custom) = attribute {
        let mut custom = custom.clone();
        custom.value = adjust_value(&custom.value, kind, by)?;
        return Ok(Attribute::Custom(custom));
    }
    let mut item = attribute.to_v2().ok_or_else(|| {
        KmipError::invalid_field(format!(
            "{} has no value that can be adjusted",
            attribute.name()
        ))
    })?;
    item.value = adjust_value(&item.value, kind, by)?;
    Attribute::from_v2(&item).map_err(|e| KmipError::invalid_field(e.message))
}

fn invalid(message: impl Into<String>) -> KmipError {
    KmipError::invalid_field(message)
}

fn out_of_range() -> KmipError {
    invalid("the adjusted value is out of the attribute's range")
}

/// The amount as a signed 64-bit number: Increment adds it, Decrement subtracts it.
fn amount(kind: AdjustmentType, by: Option<&AdjustmentValue>) -> Result<Option<i128>, KmipError> {
    match (kind, by) {
        (AdjustmentType::Negate, None) => Ok(None),
        (AdjustmentType::Negate, Some(_)) => Err(invalid("Negate takes no Adjustment Value")),
        (_, None) => Err(invalid(format!(
            "{} needs an Adjustment Value",
            kind.name()
        ))),
        (_, Some(value)) => {
            let magnitude = match value {
                AdjustmentValue::Integer(v) => i128::from(*v),
                AdjustmentValue::LongInteger(v) => i128::from(*v),
                AdjustmentValue::Interval(v) => i128::from(*v),
                AdjustmentValue::BigInteger(bytes) => {
                    big_to_i128(bytes).ok_or_else(out_of_range)?
                }
            };
            Ok(Some(if kind == AdjustmentType::Decrement {
                -magnitude
            } else {
                magnitude
            }))
        }
    }
}

fn adjust_value(
    value: &Value,
    kind: AdjustmentType,
    by: Option<&AdjustmentValue>,
) -> Result<Value, KmipError> {
    // Each attribute type takes the Adjustment Value types that cannot change its meaning: a count takes counts,
    // a date or an interval takes seconds (an Interval, or a Long Integer / Integer number of seconds).
    let accepts = |allowed: &[fn(&AdjustmentValue) -> bool], what: &str| -> Result<(), KmipError> {
        match by {
            Some(v) if !allowed.iter().any(|ok| ok(v)) => Err(invalid(format!(
                "a {what} attribute is adjusted by {}",
                match what {
                    "Integer" => "an Integer",
                    "Long Integer" => "an Integer or Long Integer",
                    "Big Integer" => "an Integer, Long Integer or Big Integer",
                    _ => "an Interval, Integer or Long Integer (seconds)",
                }
            ))),
            _ => Ok(()),
        }
    };
    let int: fn(&AdjustmentValue) -> bool = |v| matches!(v, AdjustmentValue::Integer(_));
    let long: fn(&AdjustmentValue) -> bool = |v| matches!(v, AdjustmentValue::LongInteger(_));
    let big: fn(&AdjustmentValue) -> bool = |v| matches!(v, AdjustmentValue::BigInteger(_));
    let interval: fn(&AdjustmentValue) -> bool = |v| matches!(v, AdjustmentValue::Interval(_));
    let unsigned_negate = |what: &str| invalid(format!("a {what} value cannot be negated"));
    Ok(match value {
        Value::Integer(v) => {
            accepts(&[int], "Integer")?;
            let next = match amount(kind, by)? {
                None => i128::from(*v).checked_neg(),
                Some(d) => i128::from(*v).checked_add(d),
            };
            Value::Integer(
                next.and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(out_of_range)?,
            )
        }
        Value::LongInteger(v) => {
            accepts(&[int, long], "Long Integer")?;
            let next = match amount(kind, by)? {
                None => i128::from(*v).checked_neg(),
                Some(d) => i128::from(*v).checked_add(d),
            };
            Value::LongInteger(
                next.and_then(|n| i64::try_from(n).ok())
                    .ok_or_else(out_of_range)?,
            )
        }
        Value::BigInteger(bytes) => {
            accepts(&[int, long, big], "Big Integer")?;
            let v = big_to_i128(bytes).ok_or_else(out_of_range)?;
            let next = match amount(kind, by)? {
                None => v.checked_neg(),
                Some(d) => v.checked_add(d),
            };
            Value::BigInteger(i128_to_big(next.ok_or_else(out_of_range)?))
        }
        Value::Interval(v) => {
            accepts(&[int, long, interval], "Interval")?;
            let d = amount(kind, by)?.ok_or_else(|| unsigned_negate("Interval"))?;
            let next = i128::from(*v).checked_add(d);
            Value::Interval(
                next.and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(out_of_range)?,
            )
        }
        Value::DateTime(v) => {
            accepts(&[int, long, interval], "Date-Time")?;
            let d = amount(kind, by)?.ok_or_else(|| unsigned_negate("Date-Time"))?;
            let next = i128::from(*v).checked_add(d);
            Value::DateTime(
                next.and_then(|n| i64::try_from(n).ok())
                    .ok_or_else(out_of_range)?,
            )
        }
        other => {
            return Err(invalid(format!(
                "only numeric and Date-Time attributes can be adjusted, not a {}",
                other.item_type().name()
            )))
        }
    })
}

/// A two's-complement big-endian Big Integer as an i128, when it fits.
fn big_to_i128(bytes: &[u8]) -> Option<i128> {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let fill = if negative { 0xFF } else { 0x00 };
    // Leading sign-extension bytes carry no value.
    let start = bytes.iter().position(|b| *b != fill).unwrap_or(bytes.len());
    let significant = &bytes[start.saturating_sub(1)..];
    if significant.len() > 16 {
        return None;
    }
    let mut out = [fill; 16];
    out[16 - significant.len()..].copy_from_slice(significant);
    let value = i128::from_be_bytes(out);
    // A leading byte kept for its sign must agree with the value's sign.
    ((value < 0) == negative).then_some(value)
}

/// The shortest two's-complement big-endian form of `value` (the TTLV encoder pads it to 8 bytes).
fn i128_to_big(value: i128) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let fill = if value < 0 { 0xFF } else { 0x00 };
    let mut start = 0;
    while start < 15 && bytes[start] == fill && (bytes[start + 1] & 0x80 != 0) == (value < 0) {
        start += 1;
    }
    bytes[start..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::attributes::CustomAttribute;

    fn custom(value: Value) -> Attribute {
        Attribute::Custom(CustomAttribute {
            vendor_identification: "acme".into(),
            attribute_name: "counter".into(),
            value,
        })
    }

    fn value_of(attribute: &Attribute) -> Value {
        match attribute {
            Attribute::Custom(c) => c.value.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn integers_increment_decrement_and_negate() {
        let a = custom(Value::Integer(5));
        let up = adjust(
            &a,
            AdjustmentType::Increment,
            Some(&AdjustmentValue::Integer(3)),
        )
        .unwrap();
        assert_eq!(value_of(&up), Value::Integer(8));
        let down = adjust(
            &a,
            AdjustmentType::Decrement,
            Some(&AdjustmentValue::Integer(7)),
        )
        .unwrap();
        assert_eq!(value_of(&down), Value::Integer(-2));
        let neg = adjust(&a, AdjustmentType::Negate, None).unwrap();
        assert_eq!(value_of(&neg), Value::Integer(-5));
        let long = custom(Value::LongInteger(1 << 40));
        let up = adjust(
            &long,
            AdjustmentType::Increment,
            Some(&AdjustmentValue::Integer(1)),
        )
        .unwrap();
        assert_eq!(value_of(&up), Value::LongInteger((1 << 40) + 1));
    }

    #[test]
    fn dates_and_intervals_move_by_seconds_and_cannot_be_negated() {
        let date = Attribute::ActivationDate(1_000);
        let later = adjust(
            &date,
            AdjustmentType::Increment,
            Some(&AdjustmentValue::Interval(60)),
        )
        .unwrap();
        assert_eq!(later, Attribute::ActivationDate(1_060));
        let e = adjust(&date, AdjustmentType::Negate, None).unwrap_err();
        assert_eq!(e.reason, ResultReason::InvalidField);
        let interval = custom(Value::Interval(10));
        let e = adjust(
            &interval,
            AdjustmentType::Decrement,
            Some(&AdjustmentValue::Integer(11)),
        )
        .unwrap_err();
        assert_eq!(e.reason, ResultReason::InvalidField);
    }

    #[test]
    fn overflow_wrong_types_and_missing_values_are_invalid_field() {
        let max = custom(Value::Integer(i32::MAX));
        let cases = [
            adjust(
                &max,
                AdjustmentType::Increment,
                Some(&AdjustmentValue::Integer(1)),
            ),
            adjust(
                &max,
                AdjustmentType::Increment,
                Some(&AdjustmentValue::LongInteger(1)),
            ),
            adjust(&max, AdjustmentType::Increment, None),
            adjust(
                &max,
                AdjustmentType::Negate,
                Some(&AdjustmentValue::Integer(1)),
            ),
            adjust(
                &custom(Value::Integer(i32::MIN)),
                AdjustmentType::Negate,
                None,
            ),
            adjust(
                &custom(Value::TextString("x".into())),
                AdjustmentType::Increment,
                Some(&AdjustmentValue::Integer(1)),
            ),
            adjust(&Attribute::Sensitive(true), AdjustmentType::Negate, None),
        ];
        for case in cases {
            assert_eq!(case.unwrap_err().reason, ResultReason::InvalidField);
        }
    }

    #[test]
    fn big_integers_keep_their_sign_in_twos_complement() {
        assert_eq!(big_to_i128(&[0x00, 0x80]), Some(128));
        assert_eq!(big_to_i128(&[0xFF, 0x7F]), Some(-129));
        assert_eq!(big_to_i128(&[0; 24]), Some(0));
        assert_eq!(big_to_i128(&[0x01; 17]), None);
        for v in [0i128, 1, -1, 127, 128, -128, -129, i128::MAX, i128::MIN] {
            assert_eq!(big_to_i128(&i128_to_big(v)), Some(v), "{v}");
        }
        let a = custom(Value::BigInteger(vec![0x00, 0xFF]));
        let up = adjust(
            &a,
            AdjustmentType::Increment,
            Some(&AdjustmentValue::Integer(1)),
        )
        .unwrap();
        assert_eq!(value_of(&up), Value::BigInteger(vec![0x01, 0x00]));
    }
}
