//! Typed access to a Structure's children, turning every absence or type mismatch into a [`DecodeError`].

use ttlv::{Item, Tag, Value};

use crate::error::{tag_label, DecodeError};

/// The children of one Structure item, with typed getters.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    pub tag: Tag,
    pub children: &'a [Item],
}

impl<'a> Fields<'a> {
    /// The children of `item`, which must be a Structure tagged `expected`.
    pub fn of(item: &'a Item, expected: Tag) -> Result<Self, DecodeError> {
        if item.tag != expected {
            return Err(DecodeError::invalid_field(
                item.tag,
                format!(
                    "expected {}, found {}",
                    tag_label(expected),
                    tag_label(item.tag)
                ),
            ));
        }
        Self::of_any(item)
    }

    /// The children of `item`, which must be a Structure (any tag).
    pub fn of_any(item: &'a Item) -> Result<Self, DecodeError> {
        match &item.value {
            Value::Structure(children) => Ok(Self {
                tag: item.tag,
                children,
            }),
            other => Err(DecodeError::invalid_field(
                item.tag,
                format!(
                    "{} must be a Structure, found {}",
                    tag_label(item.tag),
                    other.item_type().name()
                ),
            )),
        }
    }

    pub fn optional(&self, tag: Tag) -> Option<&'a Item> {
        self.children.iter().find(|c| c.tag == tag)
    }

    pub fn required(&self, tag: Tag) -> Result<&'a Item, DecodeError> {
        self.optional(tag)
            .ok_or_else(|| DecodeError::missing(tag, self.tag))
    }

    pub fn all(&self, tag: Tag) -> impl Iterator<Item = &'a Item> {
        self.children.iter().filter(move |c| c.tag == tag)
    }

    pub fn required_integer(&self, tag: Tag) -> Result<i32, DecodeError> {
        integer(self.required(tag)?)
    }

    pub fn optional_integer(&self, tag: Tag) -> Result<Option<i32>, DecodeError> {
        self.optional(tag).map(integer).transpose()
    }

    pub fn required_long(&self, tag: Tag) -> Result<i64, DecodeError> {
        long_integer(self.required(tag)?)
    }

    pub fn optional_long(&self, tag: Tag) -> Result<Option<i64>, DecodeError> {
        self.optional(tag).map(long_integer).transpose()
    }

    pub fn required_enum(&self, tag: Tag) -> Result<u32, DecodeError> {
        enumeration(self.required(tag)?)
    }

    pub fn optional_enum(&self, tag: Tag) -> Result<Option<u32>, DecodeError> {
        self.optional(tag).map(enumeration).transpose()
    }

    pub fn required_bool(&self, tag: Tag) -> Result<bool, DecodeError> {
        boolean(self.required(tag)?)
    }

    pub fn optional_bool(&self, tag: Tag) -> Result<Option<bool>, DecodeError> {
        self.optional(tag).map(boolean).transpose()
    }

    pub fn required_text(&self, tag: Tag) -> Result<&'a str, DecodeError> {
        text(self.required(tag)?)
    }

    pub fn optional_text(&self, tag: Tag) -> Result<Option<&'a str>, DecodeError> {
        self.optional(tag).map(text).transpose()
    }

    pub fn required_bytes(&self, tag: Tag) -> Result<&'a [u8], DecodeError> {
        bytes(self.required(tag)?)
    }

    pub fn optional_bytes(&self, tag: Tag) -> Result<Option<&'a [u8]>, DecodeError> {
        self.optional(tag).map(bytes).transpose()
    }

    pub fn optional_date_time(&self, tag: Tag) -> Result<Option<i64>, DecodeError> {
        self.optional(tag).map(date_time).transpose()
    }

    pub fn required_date_time(&self, tag: Tag) -> Result<i64, DecodeError> {
        date_time(self.required(tag)?)
    }

    pub fn optional_interval(&self, tag: Tag) -> Result<Option<u32>, DecodeError> {
        self.optional(tag).map(interval).transpose()
    }
}

fn wrong_type(item: &Item, expected: &str) -> DecodeError {
    DecodeError::invalid_field(
        item.tag,
        format!(
            "{} must be {expected}, found {}",
            tag_label(item.tag),
            item.value.item_type().name()
        ),
    )
}

pub fn integer(item: &Item) -> Result<i32, DecodeError> {
    match item.value {
        Value::Integer(v) => Ok(v),
        _ => Err(wrong_type(item, "an Integer")),
    }
}

pub fn long_integer(item: &Item) -> Result<i64, DecodeError> {
    match item.value {
        Value::LongInteger(v) => Ok(v),
        _ => Err(wrong_type(item, "a Long Integer")),
    }
}

pub fn enumeration(item: &Item) -> Result<u32, DecodeError> {
    match item.value {
        Value::Enumeration(v) => Ok(v),
        _ => Err(wrong_type(item, "an Enumeration")),
    }
}

pub fn boolean(item: &Item) -> Result<bool, DecodeError> {
    match item.value {
        Value::Boolean(v) => Ok(v),
        _ => Err(wrong_type(item, "a Boolean")),
    }
}

pub fn text(item: &Item) -> Result<&str, DecodeError> {
    match &item.value {
        Value::TextString(v) => Ok(v),
        _ => Err(wrong_type(item, "a Text String")),
    }
}

pub fn bytes(item: &Item) -> Result<&[u8], DecodeError> {
    match &item.value {
        Value::ByteString(v) => Ok(v),
        _ => Err(wrong_type(item, "a Byte String")),
    }
}

/// A Date-Time, or a Date-Time Extended reduced to whole seconds.
pub fn date_time(item: &Item) -> Result<i64, DecodeError> {
    match item.value {
        Value::DateTime(v) => Ok(v),
        Value::DateTimeExtended(micros) => Ok(micros.div_euclid(1_000_000)),
        _ => Err(wrong_type(item, "a Date-Time")),
    }
}

pub fn interval(item: &Item) -> Result<u32, DecodeError> {
    match item.value {
        Value::Interval(v) => Ok(v),
        _ => Err(wrong_type(item, "an Interval")),
    }
}
