//! Reader configuration: size limits and placeholder resolution for test-case documents.

use std::fmt;

use crate::{ItemType, Limits, Tag, Value};

/// A `$NAME` value in a test-case document, standing for something only known when the case runs
/// (`$UNIQUE_IDENTIFIER_0`, `$NOW-3600`, `$SIGNATURE_DATA`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placeholder<'a> {
    /// The name without the leading `$`, e.g. `NOW-3600`.
    pub name: &'a str,
    /// The tag of the item whose value it is.
    pub tag: Tag,
    /// The type the document declares for the item.
    pub item_type: ItemType,
}

impl Placeholder<'_> {
    /// Whether `text` is written as a placeholder: `$`, an upper-case name of letters, digits and `_`, then
    /// optionally a signed decimal offset (`$NOW+3600`). Returns the name without the `$`.
    pub fn parse(text: &str) -> Option<&str> {
        let name = text.strip_prefix('$')?;
        let (base, offset) = match name.find(['+', '-']) {
            Some(at) => (&name[..at], Some(&name[at + 1..])),
            None => (name, None),
        };
        let mut base_chars = base.chars();
        let base_ok = base_chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && base_chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        let offset_ok =
            offset.is_none_or(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_digit()));
        (base_ok && offset_ok).then_some(name)
    }

    /// For `NOW`, `NOW+n` and `NOW-n`: the offset in seconds from the time the case runs.
    pub fn now_offset(&self) -> Option<i64> {
        let rest = self.name.strip_prefix("NOW")?;
        if rest.is_empty() {
            return Some(0);
        }
        let (sign, digits) = match rest.split_at(1) {
            ("+", digits) => (1, digits),
            ("-", digits) => (-1, digits),
            _ => return None,
        };
        digits.parse::<i64>().ok().map(|n| sign * n)
    }
}

/// Resolves a placeholder to the value that stands in for it; `None` leaves it unresolved, which keeps a
/// TextString placeholder as its literal text and is an error for every other type.
pub type PlaceholderResolver<'r> = dyn FnMut(&Placeholder<'_>) -> Option<Value> + 'r;

/// How a text reader reads: its limits and, for test-case documents, how placeholders resolve.
///
/// `limits.max_message_size` bounds the document's length in bytes. The JSON parser also stops at 128 JSON
/// levels (two per Structure), so JSON documents nest at most about 63 items deep whatever `max_depth` says.
///
/// Without a resolver a `$NAME` value is ordinary data: literal text in a TextString, a bad value elsewhere.
#[derive(Default)]
pub struct ReadOptions<'r> {
    pub limits: Limits,
    pub(crate) resolver: Option<&'r mut PlaceholderResolver<'r>>,
}

impl<'r> ReadOptions<'r> {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            resolver: None,
        }
    }

    /// Consult `resolver` for every value written as a placeholder.
    pub fn with_placeholders(mut self, resolver: &'r mut PlaceholderResolver<'r>) -> Self {
        self.resolver = Some(resolver);
        self
    }
}

impl fmt::Debug for ReadOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadOptions")
            .field("limits", &self.limits)
            .field("resolver", &self.resolver.as_ref().map(|_| "<closure>"))
            .finish()
    }
}
