//! The binary TTLV writer: one pass over the tree. A Structure's length is written as a placeholder and
//! patched once its children are written, so no child is ever serialised twice.

use crate::big_integer;
use crate::{EncodeError, Item, ItemType, Tag, Value};

/// A Structure whose header is written with a placeholder length, to be patched by [`LengthPatch::finish`].
struct LengthPatch {
    header_at: usize,
    tag: Tag,
}

impl LengthPatch {
    fn begin(out: &mut Vec<u8>, tag: Tag) -> Result<Self, EncodeError> {
        let header_at = out.len();
        write_header(out, tag, ItemType::Structure, 0)?;
        Ok(Self { header_at, tag })
    }

    /// Writes the length of everything appended since [`LengthPatch::begin`] into the header.
    fn finish(self, out: &mut [u8]) -> Result<(), EncodeError> {
        let body_start = self.header_at + 8;
        let length = out.len() - body_start;
        let length = value_length(self.tag, length)?;
        out[self.header_at + 4..body_start].copy_from_slice(&length.to_be_bytes());
        Ok(())
    }
}

fn value_length(tag: Tag, length: usize) -> Result<u32, EncodeError> {
    u32::try_from(length).map_err(|_| EncodeError::ValueTooLong { tag, length })
}

fn write_header(
    out: &mut Vec<u8>,
    tag: Tag,
    item_type: ItemType,
    length: u32,
) -> Result<(), EncodeError> {
    if tag.0 > 0xFF_FFFF {
        return Err(EncodeError::TagOutOfRange { tag });
    }
    let [_, t0, t1, t2] = tag.0.to_be_bytes();
    let [l0, l1, l2, l3] = length.to_be_bytes();
    out.extend_from_slice(&[t0, t1, t2, item_type as u8, l0, l1, l2, l3]);
    Ok(())
}

/// A header and an 8-byte value (already laid out with any padding) in one append.
fn write_fixed(
    out: &mut Vec<u8>,
    tag: Tag,
    item_type: ItemType,
    length: u32,
    word: [u8; 8],
) -> Result<(), EncodeError> {
    write_header(out, tag, item_type, length)?;
    out.extend_from_slice(&word);
    Ok(())
}

/// A 4-byte value followed by 4 zero bytes of padding.
fn padded_four(bytes: [u8; 4]) -> [u8; 8] {
    let [a, b, c, d] = bytes;
    [a, b, c, d, 0, 0, 0, 0]
}

fn write_variable(
    out: &mut Vec<u8>,
    tag: Tag,
    item_type: ItemType,
    bytes: &[u8],
) -> Result<(), EncodeError> {
    let length = value_length(tag, bytes.len())?;
    write_header(out, tag, item_type, length)?;
    out.extend_from_slice(bytes);
    let padding = (8 - bytes.len() % 8) % 8;
    out.extend_from_slice(&[0u8; 8][..padding]);
    Ok(())
}

/// Appends the encoding of `item` to `out`.
pub(super) fn write_item(item: &Item, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let tag = item.tag;
    match &item.value {
        Value::Structure(children) => {
            let patch = LengthPatch::begin(out, tag)?;
            for child in children {
                write_item(child, out)?;
            }
            patch.finish(out)
        }
        Value::Integer(v) => {
            write_fixed(out, tag, ItemType::Integer, 4, padded_four(v.to_be_bytes()))
        }
        Value::Enumeration(v) => write_fixed(
            out,
            tag,
            ItemType::Enumeration,
            4,
            padded_four(v.to_be_bytes()),
        ),
        Value::Interval(v) => write_fixed(
            out,
            tag,
            ItemType::Interval,
            4,
            padded_four(v.to_be_bytes()),
        ),
        Value::LongInteger(v) => write_fixed(out, tag, ItemType::LongInteger, 8, v.to_be_bytes()),
        Value::DateTime(v) => write_fixed(out, tag, ItemType::DateTime, 8, v.to_be_bytes()),
        Value::DateTimeExtended(v) => {
            write_fixed(out, tag, ItemType::DateTimeExtended, 8, v.to_be_bytes())
        }
        Value::Boolean(v) => {
            write_fixed(out, tag, ItemType::Boolean, 8, u64::from(*v).to_be_bytes())
        }
        Value::TextString(text) => write_variable(out, tag, ItemType::TextString, text.as_bytes()),
        Value::ByteString(bytes) => write_variable(out, tag, ItemType::ByteString, bytes),
        Value::BigInteger(bytes) => {
            if big_integer::is_canonical(bytes) {
                write_variable(out, tag, ItemType::BigInteger, bytes)
            } else {
                write_variable(
                    out,
                    tag,
                    ItemType::BigInteger,
                    &big_integer::canonical(bytes),
                )
            }
        }
    }
}
