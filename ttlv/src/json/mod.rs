//! KMIP-JSON (KMIP Profiles 1.4 §5.5, 2.1 §6.5): each item is an object `{"tag": ..., "type": ...,
//! "value": ...}`; `tag` is the tag name or `0x` and six hex digits, `type` is omitted for a Structure, whose
//! `value` is the array of its children. Value forms are described in [`crate::text_values`].
//!
//! Reading is strict: unknown members, duplicate members, unknown tag, type, enumeration and mask names,
//! fractional numbers and malformed values are errors. Depth, item count and input size are bounded by
//! [`Limits`](crate::Limits) (`max_message_size` bounds the text length).
//!
//! ```
//! use ttlv::{json, tags, Item, Value};
//!
//! let item = Item::structure(tags::BATCH_ITEM, vec![Item::new(tags::BATCH_COUNT, Value::Integer(1))]);
//! let text = json::to_string(&item)?;
//! assert_eq!(text, r#"{"tag":"BatchItem","value":[{"tag":"BatchCount","type":"Integer","value":1}]}"#);
//! assert_eq!(json::from_str(&text)?, item);
//! # Ok::<(), ttlv::TextError>(())
//! ```

mod reader;
mod writer;

use crate::text_values::{ReadOptions, TextError};
use crate::Item;

/// Reads one item (usually a request or response message) with the default limits.
pub fn from_str(input: &str) -> Result<Item, TextError> {
    reader::read(input, ReadOptions::default())
}

/// Reads one item with the given limits and placeholder resolver.
pub fn from_str_with(input: &str, options: ReadOptions<'_>) -> Result<Item, TextError> {
    reader::read(input, options)
}

/// Writes `item` as compact JSON.
pub fn to_string(item: &Item) -> Result<String, TextError> {
    writer::write(item, None)
}

/// Writes `item` as JSON indented by two spaces per level.
pub fn to_string_pretty(item: &Item) -> Result<String, TextError> {
    writer::write(item, Some("  "))
}
