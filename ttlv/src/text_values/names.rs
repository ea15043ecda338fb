//! Names in the text encodings: tags by CamelCase name or hex, and the "Normalizing Names" rule of the KMIP
//! Profiles (XML 5.4.1.1 / JSON 5.5.1.1) that turns an Attribute Name such as `Cryptographic Usage Mask` into
//! the tag name `CryptographicUsageMask`, so that the Attribute Value beside it can use enumeration and mask
//! names.

use crate::dictionary::{tag_by_name, tag_name};
use crate::{tags, Item, Tag, Value};

/// Tags accepted in hex form: the standard (`0x42xxxx`) and extension (`0x54xxxx`) ranges.
pub(crate) fn tag_in_kmip_range(tag: Tag) -> bool {
    matches!(tag.0 >> 16, 0x42 | 0x54)
}

/// The tag named `text`: a dictionary name, or `0x` and six hex digits within the KMIP ranges.
pub(crate) fn parse_tag(text: &str) -> Option<Tag> {
    if let Some(digits) = text.strip_prefix("0x") {
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let tag = Tag(u32::from_str_radix(digits, 16).ok()?);
        return tag_in_kmip_range(tag).then_some(tag);
    }
    tag_by_name(text)
}

/// A tag as written in the text encodings, or `None` when it is not known and has to be written in hex.
pub(crate) fn known_tag_name(tag: Tag) -> Option<&'static str> {
    tag_name(tag)
}

/// A tag in hex: `0x` and six upper-case digits.
pub(crate) fn hex_tag(tag: Tag) -> String {
    format!("0x{:06X}", tag.0)
}

/// The KMIP Profiles name normalisation: brackets become spaces; a non-word character before a capitalised
/// word becomes a space; other non-word characters become `_`; leading digits of the first word move to its
/// end; each word is capitalised and the spaces dropped. `X.509 Certificate Identifier` becomes
/// `X_509CertificateIdentifier`, `PKCS#12 Friendly Name` becomes `PKCS_12FriendlyName`.
pub fn normalize_name(name: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let chars: Vec<char> = name
        .chars()
        .map(|c| if c == '(' || c == ')' { ' ' } else { c })
        .collect();
    let mut spaced = String::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let starts_word = chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic())
            && chars.get(i + 2).is_some_and(|n| n.is_ascii_lowercase());
        spaced.push(match c {
            ' ' => ' ',
            c if is_word(c) => c,
            _ if starts_word => ' ',
            _ => '_',
        });
    }
    let mut out = String::with_capacity(spaced.len());
    for (index, word) in spaced.split(' ').enumerate() {
        let word = if index == 0 {
            let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            format!("{}{}", &word[digits..], &word[..digits])
        } else {
            word.to_owned()
        };
        let mut word_chars = word.chars();
        if let Some(first) = word_chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(word_chars);
        }
    }
    out
}

/// Tracks, while walking the children of one Structure, the attribute named by the latest Attribute Name, so
/// that an Attribute Value Enumeration or mask Integer is written and read with that attribute's names.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AttributeContext {
    named: Option<Tag>,
}

impl AttributeContext {
    /// Note a child just read or written.
    pub(crate) fn observe(&mut self, child: &Item) {
        if child.tag == tags::ATTRIBUTE_NAME {
            self.named = match &child.value {
                Value::TextString(name) => tag_by_name(&normalize_name(name)),
                _ => None,
            };
        }
    }

    /// The tag whose enumeration and mask names apply to a child tagged `tag`.
    pub(crate) fn names_tag(&self, tag: Tag) -> Tag {
        match self.named {
            Some(named) if tag == tags::ATTRIBUTE_VALUE => named,
            _ => tag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_specification_examples() {
        assert_eq!(
            normalize_name("Cryptographic Usage Mask"),
            "CryptographicUsageMask"
        );
        assert_eq!(
            normalize_name("X.509 Certificate Identifier"),
            "X_509CertificateIdentifier"
        );
        assert_eq!(
            normalize_name("PKCS#12 Friendly Name"),
            "PKCS_12FriendlyName"
        );
        assert_eq!(
            normalize_name("Common Template-Attribute"),
            "CommonTemplateAttribute"
        );
        assert_eq!(normalize_name("x-ID"), "X_ID");
        assert_eq!(normalize_name("3DES"), "DES3");
        assert_eq!(normalize_name("CRT Coefficient"), "CRTCoefficient");
    }

    #[test]
    fn parses_hex_tags_only_in_kmip_ranges() {
        assert_eq!(parse_tag("0x540001"), Some(Tag(0x540001)));
        assert_eq!(parse_tag("0x42000d"), Some(Tag(0x42000D)));
        assert_eq!(parse_tag("0x430001"), None);
        assert_eq!(parse_tag("0x54001"), None);
        assert_eq!(parse_tag("0x54000g"), None);
        assert_eq!(parse_tag("BatchCount"), Some(tags::BATCH_COUNT));
        assert_eq!(parse_tag("NoSuchTag"), None);
    }
}
