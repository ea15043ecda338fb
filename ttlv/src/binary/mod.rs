//! Binary TTLV (KMIP 1.4 §9.1, KMIP 2.1 §9): each item is a 3-byte tag, a 1-byte type, a 4-byte length
//! (excluding padding) and the value, padded with zeros to a multiple of 8 bytes.
//!
//! The reader is strict and bounded (see [`Limits`] and [`DecodeError`]); the writer is one pass.
//!
//! ```
//! use ttlv::{binary, tags, Item, Value};
//!
//! let item = Item::structure(tags::PROTOCOL_VERSION, vec![
//!     Item::new(tags::PROTOCOL_VERSION_MAJOR, Value::Integer(1)),
//!     Item::new(tags::PROTOCOL_VERSION_MINOR, Value::Integer(4)),
//! ]);
//! let bytes = binary::encode(&item)?;
//! assert_eq!(binary::message_length(bytes[..8].try_into()?)?, bytes.len());
//! assert_eq!(binary::decode(&bytes)?, item);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cursor;
mod reader;
mod writer;

use crate::{DecodeError, EncodeError, Item, Limits};

/// Decodes one message (exactly one top-level item, nothing after it) under the default [`Limits`].
pub fn decode(input: &[u8]) -> Result<Item, DecodeError> {
    decode_with(input, &Limits::default())
}

/// Decodes one message (exactly one top-level item, nothing after it) under `limits`.
///
/// Big Integers come out in canonical form (see [`crate::big_integer::canonical`]).
pub fn decode_with(input: &[u8], limits: &Limits) -> Result<Item, DecodeError> {
    reader::decode_message(input, limits)
}

/// The encoding of `item`.
///
/// Fails only for trees binary TTLV cannot express: a tag above `0xFFFFFF`, or a value longer than 4 GiB.
pub fn encode(item: &Item) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into(item, &mut out)?;
    Ok(out)
}

/// Appends the encoding of `item` to `out`. On error `out` is left as it was.
///
/// Big Integers are written in canonical form: sign-extended to the shortest multiple of 8 bytes.
pub fn encode_into(item: &Item, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = out.len();
    writer::write_item(item, out).inspect_err(|_| out.truncate(start))
}

/// How many bytes [`encode`] would write for `item`, computed without encoding (an upper bound for a Big
/// Integer, which encoding may shorten to its canonical form). The dispatcher charges responses against a
/// message's budget with it.
pub fn encoded_len(item: &Item) -> usize {
    let padded = |n: usize| n.div_ceil(8) * 8;
    8 + match &item.value {
        crate::Value::Structure(children) => children.iter().map(encoded_len).sum(),
        crate::Value::BigInteger(bytes) => padded(bytes.len()).max(8),
        crate::Value::TextString(text) => padded(text.len()),
        crate::Value::ByteString(bytes) => padded(bytes.len()),
        _ => 8,
    }
}

/// The total length of the message whose first 8 bytes are `header`: the header plus the padded value.
///
/// A transport reads 8 bytes, calls this (or [`message_length_with`]) and only then reads the body. The
/// header's type code and its length rule are checked, so an obviously invalid message is rejected before
/// its body is read.
pub fn message_length(header: &[u8; 8]) -> Result<usize, DecodeError> {
    let header = reader::Header::parse(*header, 0);
    header.checked_type()?;
    let total = 8 + header.padded_length();
    usize::try_from(total).map_err(|_| DecodeError::MessageTooLarge {
        size: total,
        max: usize::MAX,
    })
}

/// [`message_length`], also rejecting a message longer than `limits.max_message_size`.
pub fn message_length_with(header: &[u8; 8], limits: &Limits) -> Result<usize, DecodeError> {
    let total = message_length(header)?;
    let max = limits.max_message_size;
    if total > max {
        return Err(DecodeError::MessageTooLarge {
            size: total as u64,
            max,
        });
    }
    Ok(total)
}
