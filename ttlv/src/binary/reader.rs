//! The strict binary TTLV reader.
//!
//! Every length is checked against the bytes actually present (through [`Cursor`]) before anything is
//! allocated for it, nesting is walked with an explicit stack (no recursion, so `max_depth` bounds memory,
//! not the thread's stack), and every rule of KMIP 1.4 §9.1 / 2.1 §9 is enforced with its own error.

use super::cursor::{Cursor, Shortfall};
use crate::big_integer;
use crate::{DecodeError, Item, ItemType, Limits, Tag, Value};

/// A parsed 8-byte item header and where it sits in the message.
#[derive(Clone, Copy, Debug)]
pub(super) struct Header {
    offset: usize,
    tag: Tag,
    code: u8,
    length: u32,
}

impl Header {
    pub(super) fn parse(bytes: [u8; 8], offset: usize) -> Self {
        let [t0, t1, t2, code, l0, l1, l2, l3] = bytes;
        Self {
            offset,
            tag: Tag(u32::from_be_bytes([0, t0, t1, t2])),
            code,
            length: u32::from_be_bytes([l0, l1, l2, l3]),
        }
    }

    /// The item type, once the type code and its length rule are checked.
    pub(super) fn checked_type(&self) -> Result<ItemType, DecodeError> {
        let Self {
            offset,
            tag,
            code,
            length,
        } = *self;
        let item_type =
            ItemType::from_code(code).ok_or(DecodeError::UnknownType { offset, tag, code })?;
        let fixed_length = match item_type {
            ItemType::Integer | ItemType::Enumeration | ItemType::Interval => Some(4),
            ItemType::LongInteger
            | ItemType::Boolean
            | ItemType::DateTime
            | ItemType::DateTimeExtended => Some(8),
            ItemType::Structure
            | ItemType::BigInteger
            | ItemType::TextString
            | ItemType::ByteString => None,
        };
        if let Some(expected) = fixed_length {
            if length != expected {
                return Err(DecodeError::WrongLength {
                    offset,
                    tag,
                    item_type,
                    expected,
                    actual: length,
                });
            }
        }
        if length % 8 != 0 {
            match item_type {
                ItemType::Structure => {
                    return Err(DecodeError::UnalignedStructureLength {
                        offset,
                        tag,
                        length,
                    })
                }
                ItemType::BigInteger => {
                    return Err(DecodeError::BigIntegerLength {
                        offset,
                        tag,
                        length,
                    })
                }
                _ => {}
            }
        }
        Ok(item_type)
    }

    /// The value's length on the wire, padding included.
    pub(super) fn padded_length(&self) -> u64 {
        (u64::from(self.length) + 7) & !7
    }
}

/// What one item's header and value decode to: a finished value, or the body of a Structure to descend into.
enum Decoded<'a> {
    Value(Value),
    Structure(Cursor<'a>),
}

/// A Structure being filled: its tag, its unread body and the children read so far.
struct Frame<'a> {
    tag: Tag,
    body: Cursor<'a>,
    children: Vec<Item>,
}

impl<'a> Frame<'a> {
    fn new(tag: Tag, body: Cursor<'a>) -> Self {
        Self {
            tag,
            body,
            children: Vec::new(),
        }
    }
}

/// Decodes one complete message: exactly one top-level item and nothing after it.
pub(super) fn decode_message(input: &[u8], limits: &Limits) -> Result<Item, DecodeError> {
    let max = limits.max_message_size;
    if input.len() > max {
        return Err(DecodeError::MessageTooLarge {
            size: input.len() as u64,
            max,
        });
    }
    let mut top = Cursor::new(input);
    let header = read_header(&mut top)?;
    let item_type = header.checked_type()?;
    let declared = 8 + header.padded_length();
    if declared > max as u64 {
        return Err(DecodeError::MessageTooLarge {
            size: declared,
            max,
        });
    }
    let mut budget = Budget { limits, items: 0 };
    budget.admit(&header, 1)?;
    let root = match decode_value(&mut top, &header, item_type, None)? {
        Decoded::Value(value) => Item {
            tag: header.tag,
            value,
        },
        Decoded::Structure(body) => decode_structure(header.tag, body, &mut budget)?,
    };
    if !top.is_empty() {
        return Err(DecodeError::TrailingBytes {
            offset: top.offset(),
            count: top.remaining(),
        });
    }
    Ok(root)
}

/// The depth and item-count limits, spent as items are admitted.
struct Budget<'l> {
    limits: &'l Limits,
    items: usize,
}

impl Budget<'_> {
    fn admit(&mut self, header: &Header, depth: usize) -> Result<(), DecodeError> {
        let Header { offset, tag, .. } = *header;
        if depth > self.limits.max_depth {
            return Err(DecodeError::TooDeep {
                offset,
                tag,
                max_depth: self.limits.max_depth,
            });
        }
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(DecodeError::TooManyItems {
                offset,
                tag,
                max_items: self.limits.max_items,
            });
        }
        Ok(())
    }
}

/// Decodes a Structure's body and everything nested in it, depth-first with an explicit stack.
fn decode_structure<'a>(
    tag: Tag,
    body: Cursor<'a>,
    budget: &mut Budget<'_>,
) -> Result<Item, DecodeError> {
    let mut current = Frame::new(tag, body);
    let mut ancestors: Vec<Frame<'a>> = Vec::new();
    loop {
        if current.body.is_empty() {
            let finished = Item::structure(current.tag, current.children);
            match ancestors.pop() {
                None => return Ok(finished),
                Some(mut parent) => {
                    parent.children.push(finished);
                    current = parent;
                }
            }
            continue;
        }
        // The top-level item has depth 1 and `current` sits at depth `ancestors.len() + 1`.
        let depth = ancestors.len() + 2;
        let header = read_header(&mut current.body)?;
        let item_type = header.checked_type()?;
        budget.admit(&header, depth)?;
        match decode_value(&mut current.body, &header, item_type, Some(current.tag))? {
            Decoded::Value(value) => current.children.push(Item {
                tag: header.tag,
                value,
            }),
            Decoded::Structure(body) => {
                let parent = std::mem::replace(&mut current, Frame::new(header.tag, body));
                ancestors.push(parent);
            }
        }
    }
}

fn read_header(cursor: &mut Cursor<'_>) -> Result<Header, DecodeError> {
    let offset = cursor.offset();
    cursor
        .take_8()
        .map(|bytes| Header::parse(bytes, offset))
        .map_err(|Shortfall { available }| DecodeError::TruncatedHeader { offset, available })
}

/// The error for a value that does not fit: truncation at top level, an overrun inside a Structure.
fn shortfall(header: &Header, parent: Option<Tag>, available: usize) -> DecodeError {
    let (offset, tag, needed) = (header.offset, header.tag, header.padded_length());
    match parent {
        None => DecodeError::TruncatedValue {
            offset,
            tag,
            needed,
            available,
        },
        Some(parent) => DecodeError::OverrunsStructure {
            offset,
            tag,
            parent,
            needed,
            available,
        },
    }
}

/// The value bytes (without padding) of a variable-length item; the padding is consumed and checked.
fn variable_value<'a>(
    cursor: &mut Cursor<'a>,
    header: &Header,
    parent: Option<Tag>,
) -> Result<&'a [u8], DecodeError> {
    let available = cursor.remaining();
    let padded = usize::try_from(header.padded_length())
        .map_err(|_| shortfall(header, parent, available))?;
    let mut value = cursor
        .sub(padded)
        .map_err(|s| shortfall(header, parent, s.available))?;
    let length = header.length as usize;
    let bytes = value
        .take(length)
        .map_err(|s| shortfall(header, parent, s.available))?;
    let padding_offset = value.offset();
    if value
        .take(value.remaining())
        .is_ok_and(|padding| padding.iter().any(|&b| b != 0))
    {
        return Err(DecodeError::NonZeroPadding {
            offset: padding_offset,
            tag: header.tag,
        });
    }
    Ok(bytes)
}

/// The 8 bytes of a fixed-size item (value and padding).
fn fixed_value(
    cursor: &mut Cursor<'_>,
    header: &Header,
    parent: Option<Tag>,
) -> Result<[u8; 8], DecodeError> {
    cursor
        .take_8()
        .map_err(|s| shortfall(header, parent, s.available))
}

/// A 4-byte value followed by 4 bytes of padding, which must be zero.
fn four_byte_value(word: [u8; 8], header: &Header) -> Result<[u8; 4], DecodeError> {
    let [a, b, c, d, pad @ ..] = word;
    if pad != [0; 4] {
        return Err(DecodeError::NonZeroPadding {
            offset: header.offset + 12,
            tag: header.tag,
        });
    }
    Ok([a, b, c, d])
}

fn decode_value<'a>(
    cursor: &mut Cursor<'a>,
    header: &Header,
    item_type: ItemType,
    parent: Option<Tag>,
) -> Result<Decoded<'a>, DecodeError> {
    let value = match item_type {
        ItemType::Structure => {
            // The length is a multiple of 8 (checked with the header), so the body carries no padding.
            let length = header.length as usize;
            let body = cursor
                .sub(length)
                .map_err(|s| shortfall(header, parent, s.available))?;
            return Ok(Decoded::Structure(body));
        }
        ItemType::Integer => {
            let word = fixed_value(cursor, header, parent)?;
            Value::Integer(i32::from_be_bytes(four_byte_value(word, header)?))
        }
        ItemType::Enumeration => {
            let word = fixed_value(cursor, header, parent)?;
            Value::Enumeration(u32::from_be_bytes(four_byte_value(word, header)?))
        }
        ItemType::Interval => {
            let word = fixed_value(cursor, header, parent)?;
            Value::Interval(u32::from_be_bytes(four_byte_value(word, header)?))
        }
        ItemType::LongInteger => {
            Value::LongInteger(i64::from_be_bytes(fixed_value(cursor, header, parent)?))
        }
        ItemType::DateTime => {
            Value::DateTime(i64::from_be_bytes(fixed_value(cursor, header, parent)?))
        }
        ItemType::DateTimeExtended => {
            Value::DateTimeExtended(i64::from_be_bytes(fixed_value(cursor, header, parent)?))
        }
        ItemType::Boolean => match u64::from_be_bytes(fixed_value(cursor, header, parent)?) {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            value => {
                return Err(DecodeError::InvalidBoolean {
                    offset: header.offset,
                    tag: header.tag,
                    value,
                });
            }
        },
        ItemType::TextString => {
            let bytes = variable_value(cursor, header, parent)?;
            let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 {
                offset: header.offset + 8 + e.valid_up_to(),
                tag: header.tag,
            })?;
            Value::TextString(text.to_owned())
        }
        ItemType::ByteString => Value::ByteString(variable_value(cursor, header, parent)?.to_vec()),
        ItemType::BigInteger => {
            let bytes = variable_value(cursor, header, parent)?;
            if bytes.is_empty() {
                // A zero-length Big Integer is zero; its canonical form is one zero word.
                Value::BigInteger(vec![0; 8])
            } else {
                Value::BigInteger(big_integer::trim_redundant_words(bytes).to_vec())
            }
        }
    };
    Ok(Decoded::Value(value))
}
