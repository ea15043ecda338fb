//! KMIP wire encodings: a generic item tree with binary TTLV, KMIP-XML and KMIP-JSON readers and writers,
//! the tag and enumeration dictionary of KMIP 1.0-2.1, and strict decoding limits.
//!
//! No I/O, no cryptography, no KMIP semantics: those live in the `kmip` crate.

mod item;
pub mod dictionary;
pub mod tags;

pub use item::{Item, ItemType, Tag, Value};
