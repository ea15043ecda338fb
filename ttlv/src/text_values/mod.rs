//! Value formatting and parsing shared by the KMIP-XML and KMIP-JSON encodings (KMIP Profiles 1.4 §5.4 /
//! §5.5, 2.1 §6.x), plus the error, limit and placeholder types both readers use.
//!
//! The two encodings agree on most value forms and differ where noted by [`Dialect`]:
//! - Integer: decimal (a JSON number in JSON); hex `0x` + up to 8 digits. For mask tags (Cryptographic Usage Mask, ...) a list of bit
//!   names and hex values, separated by spaces in XML and by `|` in JSON.
//! - Long Integer: decimal; hex `0x` + up to 16 digits (JSON writes hex beyond ±2^52).
//! - Big Integer: two's-complement big-endian hex, without prefix in XML and with `0x` in JSON (JSON also
//!   accepts a number); read and written in the canonical form of [`crate::big_integer`].
//! - Enumeration: the name for the tag; hex `0x` + 8 digits when unnamed; decimal (XML text, JSON number)
//!   accepted on input.
//! - Boolean: `true` / `false` (XML also `1` / `0`; JSON also `0x0000000000000001` / `...0`).
//! - Byte String: hex without prefix. Text String: as is.
//! - Date Time: ISO 8601 with offset (written in UTC, `+00:00`); Date Time Extended adds six fraction digits.
//!   Instants outside years 0000-9999 are written, and accepted, as `0x` + 16 hex digits.
//! - Interval: decimal seconds; hex accepted.

mod error;
mod names;
mod options;

pub use error::{Location, TextError, TextErrorKind};
pub use names::normalize_name;
pub(crate) use names::{hex_tag, known_tag_name, parse_tag, tag_in_kmip_range, AttributeContext};
pub use options::{Placeholder, PlaceholderResolver, ReadOptions};

pub(crate) use error::shown;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::dictionary::{enum_name, enum_value, mask_bits};
use crate::{big_integer, ItemType, Tag, Value};

/// Which text encoding a value is written in, where the two differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Xml,
    Json,
}

impl Dialect {
    fn mask_separator(self) -> char {
        match self {
            Self::Xml => ' ',
            Self::Json => '|',
        }
    }
}

/// A primitive value as the writers emit it: JSON keeps numbers and booleans native, XML prints them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// JSON numbers are written natively only within ±2^52, where every consumer's doubles are exact.
const JSON_EXACT_LIMIT: i64 = 1 << 52;

/// Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the instants ISO 8601 text covers.
const ISO_MIN_SECONDS: i64 = -62_167_219_200;
const ISO_MAX_SECONDS: i64 = 253_402_300_799;

/// Formats a primitive value; `names_tag` selects the enumeration and mask names (the tag itself, or the
/// attribute named beside an Attribute Value). Structures are the writers' business and are not passed here.
pub(crate) fn format_scalar(dialect: Dialect, names_tag: Tag, value: &Value) -> Scalar {
    match value {
        Value::Structure(_) => Scalar::Text(String::new()),
        Value::Integer(v) => match mask_bits(names_tag) {
            Some(bits) if *v != 0 => Scalar::Text(format_mask(dialect, bits, *v as u32)),
            _ => Scalar::Int(i64::from(*v)),
        },
        Value::LongInteger(v) => {
            if dialect == Dialect::Json && !(-JSON_EXACT_LIMIT < *v && *v < JSON_EXACT_LIMIT) {
                Scalar::Text(format!("0x{:016X}", *v as u64))
            } else {
                Scalar::Int(*v)
            }
        }
        Value::BigInteger(bytes) => {
            let digits = hex::encode(big_integer::canonical(bytes));
            Scalar::Text(match dialect {
                Dialect::Xml => digits,
                Dialect::Json => format!("0x{digits}"),
            })
        }
        Value::Enumeration(v) => Scalar::Text(match enum_name(names_tag, *v) {
            Some(name) => name.to_owned(),
            None => format!("0x{v:08X}"),
        }),
        Value::Boolean(b) => Scalar::Bool(*b),
        Value::TextString(s) => Scalar::Text(s.clone()),
        Value::ByteString(bytes) => Scalar::Text(hex::encode(bytes)),
        Value::DateTime(seconds) => Scalar::Text(format_date_time(*seconds, 0, false)),
        Value::Interval(v) => Scalar::Int(i64::from(*v)),
        Value::DateTimeExtended(micros) => Scalar::Text(format_date_time(
            micros.div_euclid(1_000_000),
            micros.rem_euclid(1_000_000),
            true,
        )),
    }
}

fn format_mask(dialect: Dialect, bits: &[(u32, &str)], value: u32) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = value;
    for &(bit, name) in bits {
        if bit != 0 && rest & bit == bit {
            parts.push(name.to_owned());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("0x{rest:08X}"));
    }
    parts.join(&dialect.mask_separator().to_string())
}

fn format_date_time(seconds: i64, micros: i64, extended: bool) -> String {
    let iso = (ISO_MIN_SECONDS..=ISO_MAX_SECONDS)
        .contains(&seconds)
        .then(|| OffsetDateTime::from_unix_timestamp(seconds).ok())
        .flatten();
    match iso {
        Some(t) if extended => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Some(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => {
            let raw = if extended {
                seconds.wrapping_mul(1_000_000).wrapping_add(micros)
            } else {
                seconds
            };
            format!("0x{:016X}", raw as u64)
        }
    }
}

/// Why a value's text was rejected; the readers attach tag, type and position.
pub(crate) type ValueResult = Result<Value, TextErrorKind>;

fn bad(tag: Tag, item_type: ItemType, text: &str, reason: &'static str) -> TextErrorKind {
    let shown = match item_type {
        // Byte strings and big integers may be key material: say how long, never what.
        ItemType::ByteString | ItemType::BigInteger => format!("of {} characters", text.len()),
        _ => shown(text),
    };
    TextErrorKind::BadValue {
        tag,
        item_type,
        shown,
        reason,
    }
}

/// `0x` followed by 1 to `2 * max_bytes` hex digits; `None` when `text` is not in that form.
fn parse_prefixed_hex(text: &str, max_bytes: usize) -> Option<u64> {
    let digits = text.strip_prefix("0x")?;
    if digits.is_empty()
        || digits.len() > 2 * max_bytes
        || !digits.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// Decimal digits with an optional sign and nothing else (Rust's parsers already refuse spaces). Only XML
/// writes numbers as decimal text; JSON strings hold hex or names, its decimals are JSON numbers.
fn decimal<T: std::str::FromStr>(dialect: Dialect, text: &str) -> Option<T> {
    match dialect {
        Dialect::Xml => text.parse().ok(),
        Dialect::Json => None,
    }
}

/// Parses the text form of a primitive value of `item_type` for an item tagged `tag`.
pub(crate) fn parse_text(
    dialect: Dialect,
    tag: Tag,
    names_tag: Tag,
    item_type: ItemType,
    text: &str,
) -> ValueResult {
    let fail = |reason| bad(tag, item_type, text, reason);
    match item_type {
        ItemType::Structure => Err(TextErrorKind::StructureWithValue { tag }),
        ItemType::Integer => {
            if let Some(v) = decimal::<i32>(dialect, text) {
                return Ok(Value::Integer(v));
            }
            match mask_bits(names_tag) {
                Some(bits) => parse_mask(dialect, tag, names_tag, bits, text)
                    .map(|v| Value::Integer(v as i32)),
                None => parse_prefixed_hex(text, 4)
                    .map(|v| Value::Integer(v as u32 as i32))
                    .ok_or_else(|| fail("expected a 32-bit decimal or 0x hex integer")),
            }
        }
        ItemType::LongInteger => decimal::<i64>(dialect, text)
            .or_else(|| parse_prefixed_hex(text, 8).map(|v| v as i64))
            .map(Value::LongInteger)
            .ok_or_else(|| fail("expected a 64-bit decimal or 0x hex integer")),
        ItemType::BigInteger => {
            let digits = match dialect {
                Dialect::Xml => Some(text),
                Dialect::Json => text.strip_prefix("0x"),
            };
            let bytes = digits
                .filter(|d| !d.is_empty())
                .and_then(|d| hex::decode(d).ok());
            bytes
                .map(|b| Value::BigInteger(big_integer::canonical(&b)))
                .ok_or_else(|| {
                    fail(match dialect {
                        Dialect::Xml => "expected an even number of hex digits",
                        Dialect::Json => "expected 0x and an even number of hex digits",
                    })
                })
        }
        ItemType::Enumeration => {
            if let Some(v) =
                parse_prefixed_hex(text, 4).or_else(|| decimal::<u32>(dialect, text).map(u64::from))
            {
                return Ok(Value::Enumeration(v as u32));
            }
            if text.starts_with("0x") {
                return Err(fail("expected 0x and up to 8 hex digits"));
            }
            enum_value(names_tag, text)
                .map(Value::Enumeration)
                .ok_or_else(|| TextErrorKind::UnknownEnumName {
                    tag: names_tag,
                    name: text.to_owned(),
                })
        }
        ItemType::Boolean => match (dialect, text) {
            (Dialect::Xml, "true" | "1") => Ok(Value::Boolean(true)),
            (Dialect::Xml, "false" | "0") => Ok(Value::Boolean(false)),
            (Dialect::Json, _) => match parse_prefixed_hex(text, 8) {
                Some(0) => Ok(Value::Boolean(false)),
                Some(1) => Ok(Value::Boolean(true)),
                _ => Err(fail(
                    "expected true, false, 0x0000000000000000 or 0x0000000000000001",
                )),
            },
            _ => Err(fail("expected true or false")),
        },
        ItemType::TextString => Ok(Value::TextString(text.to_owned())),
        ItemType::ByteString => hex::decode(text)
            .map(Value::ByteString)
            .map_err(|_| fail("expected an even number of hex digits without 0x")),
        ItemType::DateTime => match parse_prefixed_hex(text, 8) {
            Some(raw) => Ok(Value::DateTime(raw as i64)),
            None => {
                let t = OffsetDateTime::parse(text, &Rfc3339)
                    .map_err(|_| fail("expected ISO 8601 with offset"))?;
                if t.nanosecond() != 0 {
                    return Err(fail("a Date-Time has whole seconds"));
                }
                Ok(Value::DateTime(t.unix_timestamp()))
            }
        },
        ItemType::DateTimeExtended => match parse_prefixed_hex(text, 8) {
            Some(raw) => Ok(Value::DateTimeExtended(raw as i64)),
            None => {
                let t = OffsetDateTime::parse(text, &Rfc3339)
                    .map_err(|_| fail("expected ISO 8601 with offset"))?;
                if t.nanosecond() % 1000 != 0 {
                    return Err(fail(
                        "a Date-Time Extended has at most microsecond precision",
                    ));
                }
                t.unix_timestamp()
                    .checked_mul(1_000_000)
                    .and_then(|m| m.checked_add(i64::from(t.nanosecond() / 1000)))
                    .map(Value::DateTimeExtended)
                    .ok_or_else(|| fail("out of range"))
            }
        },
        ItemType::Interval => decimal::<u32>(dialect, text)
            .or_else(|| parse_prefixed_hex(text, 4).map(|v| v as u32))
            .map(Value::Interval)
            .ok_or_else(|| fail("expected an unsigned 32-bit decimal or 0x hex integer")),
    }
}

fn parse_mask(
    dialect: Dialect,
    tag: Tag,
    names_tag: Tag,
    bits: &[(u32, &str)],
    text: &str,
) -> Result<u32, TextErrorKind> {
    let parts: Vec<&str> = match dialect {
        Dialect::Xml => text.split_ascii_whitespace().collect(),
        Dialect::Json => text.split('|').collect(),
    };
    if parts.is_empty() || parts.iter().any(|p| p.is_empty()) {
        return Err(bad(
            tag,
            ItemType::Integer,
            text,
            "expected mask bit names or 0x hex values",
        ));
    }
    let mut value = 0u32;
    for part in parts {
        value |= match parse_prefixed_hex(part, 4) {
            Some(v) => v as u32,
            None if part.starts_with("0x") => {
                return Err(bad(
                    tag,
                    ItemType::Integer,
                    text,
                    "expected 0x and up to 8 hex digits",
                ))
            }
            None => bits
                .iter()
                .find(|(_, name)| *name == part)
                .map(|(bit, _)| *bit)
                .ok_or_else(|| TextErrorKind::UnknownMaskName {
                    tag: names_tag,
                    name: part.to_owned(),
                })?,
        };
    }
    Ok(value)
}

/// Converts the text of a primitive value, first offering it to the placeholder resolver when there is one
/// and the text is written as a placeholder.
pub(crate) fn resolve_or_parse(
    resolver: &mut Option<&mut PlaceholderResolver<'_>>,
    dialect: Dialect,
    tag: Tag,
    names_tag: Tag,
    item_type: ItemType,
    text: &str,
) -> ValueResult {
    if let (Some(resolve), Some(name)) = (resolver.as_mut(), Placeholder::parse(text)) {
        return match resolve(&Placeholder {
            name,
            tag,
            item_type,
        }) {
            Some(value) if value.item_type() == item_type => Ok(value),
            Some(value) => Err(TextErrorKind::PlaceholderTypeMismatch {
                tag,
                expected: item_type,
                got: value.item_type(),
            }),
            None if item_type == ItemType::TextString => Ok(Value::TextString(text.to_owned())),
            None => Err(TextErrorKind::UnresolvedPlaceholder {
                tag,
                item_type,
                name: name.to_owned(),
            }),
        };
    }
    parse_text(dialect, tag, names_tag, item_type, text)
}

/// Converts a JSON number to a value of `item_type`.
pub(crate) fn parse_json_number(
    tag: Tag,
    item_type: ItemType,
    number: &serde_json::Number,
) -> ValueResult {
    let text = number.to_string();
    let fail = |reason| bad(tag, item_type, &text, reason);
    let wide: Option<i128> = number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from));
    let Some(n) = wide else {
        return Err(fail("expected an integer, not a fraction"));
    };
    match item_type {
        ItemType::Integer => i32::try_from(n)
            .map(Value::Integer)
            .map_err(|_| fail("out of 32-bit range")),
        ItemType::LongInteger => i64::try_from(n)
            .map(Value::LongInteger)
            .map_err(|_| fail("out of 64-bit range")),
        ItemType::BigInteger => Ok(Value::BigInteger(big_integer::from_i128(n))),
        ItemType::Enumeration => u32::try_from(n)
            .map(Value::Enumeration)
            .map_err(|_| fail("out of 32-bit range")),
        ItemType::Interval => u32::try_from(n)
            .map(Value::Interval)
            .map_err(|_| fail("out of 32-bit range")),
        _ => Err(fail("a number is not a valid form for this type")),
    }
}

#[cfg(test)]
mod tests;
