//! KMIP-XML (KMIP Profiles 1.4 §5.4, 2.1 §6.4): each item is an element named for its tag, with `type` and
//! `value` attributes; a Structure omits `type` and holds its children as elements. A tag without a name is
//! written `<TTLV tag="0x540001" .../>`. Value forms are described in [`crate::text_values`].
//!
//! Reading is strict: unknown element, type, enumeration and mask names, attributes other than `type`,
//! `value` (and `tag` on `TTLV`), text content, CDATA, DOCTYPE and malformed values are errors that say
//! where they are. Depth, item count and input size are bounded by [`Limits`](crate::Limits) (`max_message_size` bounds the text length).
//!
//! OASIS test-case documents (`<KMIP>` around a sequence of messages, with `$NAME` placeholders) are read by
//! [`read_test_case`].
//!
//! ```
//! use ttlv::{tags, xml, Item, ItemType, Placeholder, ReadOptions, Value};
//!
//! let item = xml::from_str(r#"<BatchCount type="Integer" value="1"/>"#)?;
//! assert_eq!(item, Item::new(tags::BATCH_COUNT, Value::Integer(1)));
//! assert_eq!(xml::to_string(&item)?, r#"<BatchCount type="Integer" value="1"/>"#);
//!
//! // A test case: `$NOW` resolves through the caller; `$UNIQUE_IDENTIFIER_0` stays text.
//! let case = r#"<KMIP><RequestMessage>
//!     <TimeStamp type="DateTime" value="$NOW-60"/>
//!     <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>
//! </RequestMessage></KMIP>"#;
//! let mut resolve = |p: &Placeholder<'_>| match p.item_type {
//!     ItemType::DateTime => p.now_offset().map(|offset| Value::DateTime(1_700_000_000 + offset)),
//!     _ => None,
//! };
//! let messages = xml::read_test_case(case, ReadOptions::default().with_placeholders(&mut resolve))?;
//! assert_eq!(messages[0].children()[0].value, Value::DateTime(1_699_999_940));
//! assert_eq!(messages[0].children()[1].value, Value::TextString("$UNIQUE_IDENTIFIER_0".into()));
//! # Ok::<(), ttlv::TextError>(())
//! ```

mod reader;
mod writer;

use crate::text_values::{Location, ReadOptions, TextError, TextErrorKind};
use crate::Item;

use reader::DocumentShape;
pub use writer::REPLACEMENT;

/// Reads one item (usually a request or response message) with the default limits.
pub fn from_str(input: &str) -> Result<Item, TextError> {
    from_str_with(input, ReadOptions::default())
}

/// Reads one item with the given limits and placeholder resolver.
pub fn from_str_with(input: &str, options: ReadOptions<'_>) -> Result<Item, TextError> {
    let mut items = reader::read(input, options, DocumentShape::SingleItem)?;
    // The reader fails with `NoRoot` or `MultipleRoots` unless exactly one item was read.
    items
        .pop()
        .ok_or_else(|| TextError::new(TextErrorKind::NoRoot, Location::default()))
}

/// Reads an OASIS test-case document: `<KMIP>`, comments, and the request and response messages in order.
///
/// Placeholders (`$UNIQUE_IDENTIFIER_0`, `$NOW-3600`, `$SIGNATURE_DATA`, ...) go to the resolver in
/// `options`; a TextString placeholder the resolver leaves unresolved stays as its literal text, so that a
/// runner can substitute identifiers later. Any other unresolved placeholder is an error.
pub fn read_test_case(input: &str, options: ReadOptions<'_>) -> Result<Vec<Item>, TextError> {
    reader::read(input, options, DocumentShape::TestCase)
}

/// Writes `item` as compact XML (no whitespace between elements).
pub fn to_string(item: &Item) -> Result<String, TextError> {
    let mut out = String::new();
    writer::write(item, None, &mut out, 0)?;
    Ok(out)
}

/// Writes `item` as XML indented by two spaces per level.
pub fn to_string_pretty(item: &Item) -> Result<String, TextError> {
    let mut out = String::new();
    writer::write(item, Some("  "), &mut out, 0)?;
    Ok(out)
}

/// Writes messages as a test-case document: `<KMIP>` around them, indented.
pub fn write_test_case(messages: &[Item]) -> Result<String, TextError> {
    let mut out = String::from("<KMIP>");
    for message in messages {
        writer::write(message, Some("  "), &mut out, 1)?;
    }
    out.push_str("\n</KMIP>\n");
    Ok(out)
}
