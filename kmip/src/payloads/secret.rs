//! Byte and text values that are secret (plaintext, passwords, seeds): zeroized on drop, redacted in `Debug`.

use std::fmt;

use ttlv::{Item, Tag, Value};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::field::TtlvField;
use crate::error::DecodeError;
use crate::fields;
use crate::version::ProtocolVersion;

/// Secret bytes (a Byte String on the wire).
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {} bytes])", self.0.len())
    }
}

impl TtlvField for SecretBytes {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::ByteString(self.0.clone()))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        fields::bytes(item).map(|b| Self(b.to_vec()))
    }
}

/// Secret text (a Text String on the wire), such as a password.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText([REDACTED])")
    }
}

impl TtlvField for SecretText {
    fn to_item(&self, tag: Tag, _: ProtocolVersion) -> Item {
        Item::new(tag, Value::TextString(self.0.clone()))
    }
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        fields::text(item).map(|t| Self(t.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secret_values() {
        let bytes = SecretBytes::new(b"top secret".to_vec());
        let text = SecretText::new("hunter2");
        assert!(!format!("{bytes:?}").contains("116"));
        assert!(!format!("{text:?}").contains("hunter2"));
    }
}
