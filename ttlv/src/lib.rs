//! KMIP wire encodings: a generic item tree with binary TTLV, KMIP-XML and KMIP-JSON readers and writers,
//! the tag and enumeration dictionary of KMIP 1.0-2.1, and strict decoding limits.
//!
//! No I/O, no cryptography, no KMIP semantics: those live in the `kmip` crate.

pub mod binary;
pub mod dictionary;
mod error;
mod item;
pub mod json;
mod limits;
pub mod tags;
pub mod text_values;
pub mod xml;

pub use error::{DecodeError, EncodeError};
pub use item::big_integer;
pub use item::{Item, ItemType, Tag, Value};
pub use limits::Limits;
pub use text_values::{Placeholder, PlaceholderResolver, ReadOptions, TextError, TextErrorKind};
