//! The tag and enumeration dictionary of KMIP 1.0-1.4 and 2.0-2.1: names both ways, as the KMIP-XML and
//! KMIP-JSON encodings spell them, plus the first protocol version of each tag.
//!
//! Names are the specifications' names normalised by the KMIP Profiles rule (see [`normalize_name`]):
//! `UniqueIdentifier`, `CreateKeyPair`, `HMAC_SHA256`, `DES3`, `X_509`. The tables are generated from
//! `ttlv/tools/kmip-spec-tables.txt` by `ttlv/tools/gen_dictionary.py`; every lookup is a binary search.
//!
//! Where KMIP 2.x marks a 1.x tag or value "(Reserved)" the 1.x meaning is kept: no 2.x value reuses one, so one
//! table serves every version. A few 2.x enumerations hold tag numbers (`AttributeReference`, `Tag`); their
//! values are named by the tag table.

mod enum_table;
mod tag_table;

use crate::Tag;

/// One row of the tag table.
struct TagEntry {
    tag: Tag,
    /// KMIP-XML/JSON name.
    name: &'static str,
    /// The specification's own spelling, as KMIP 1.x Attribute Names use it ("Cryptographic Usage Mask").
    spec_name: &'static str,
    /// First protocol version (major, minor) whose tag table lists the tag.
    since: (i32, i32),
    /// First protocol version whose tag table marks the tag "(Reserved)".
    removed: Option<(i32, i32)>,
}

/// The values of one enumeration, sorted both ways for binary search.
struct EnumTable {
    /// The enumeration's KMIP-XML name.
    #[allow(dead_code)]
    // Kept for diagnostics in the generated table; read by tests through `enum_values`.
    name: &'static str,
    by_value: &'static [(u32, &'static str)],
    by_name: &'static [(&'static str, u32)],
}

fn tag_entry(tag: Tag) -> Option<&'static TagEntry> {
    tag_table::TAGS
        .binary_search_by_key(&tag, |e| e.tag)
        .ok()
        .map(|i| &tag_table::TAGS[i])
}

fn enum_table(tag: Tag) -> Option<&'static EnumTable> {
    let enums = enum_table::ENUMS;
    enums
        .binary_search_by_key(&tag, |(t, _)| *t)
        .ok()
        .map(|i| enums[i].1)
}

fn is_tag_valued(tag: Tag) -> bool {
    enum_table::TAG_VALUED.binary_search(&tag).is_ok()
}

/// The CamelCase name of a known tag.
pub fn tag_name(tag: Tag) -> Option<&'static str> {
    tag_entry(tag).map(|e| e.name)
}

/// The tag with CamelCase name `name` (also accepts the few historical aliases, e.g. `EncryptionAdditionalData`).
pub fn tag_by_name(name: &str) -> Option<Tag> {
    let names = tag_table::TAGS_BY_NAME;
    names
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| names[i].1)
}

/// The specification's spelling of a tag's name ("Cryptographic Usage Mask"), which KMIP 1.x uses as the
/// Attribute Name of standard attributes.
pub fn tag_spec_name(tag: Tag) -> Option<&'static str> {
    tag_entry(tag).map(|e| e.spec_name)
}

/// The tag whose specification name is `spec_name` ("Cryptographic Usage Mask"), e.g. a KMIP 1.x Attribute
/// Name. Custom attribute names (`x-...`, `y-...`) have no tag and give `None`.
pub fn tag_by_spec_name(spec_name: &str) -> Option<Tag> {
    let tag = tag_by_name(&normalize_name(spec_name))?;
    // Normalising is many-to-one ("Re-key" and "Re key" both give "ReKey"): accept only the exact spelling.
    (tag_spec_name(tag) == Some(spec_name)).then_some(tag)
}

/// The first protocol version (major, minor) that defines `tag`, or `None` for an unknown tag.
///
/// Tags were allocated in order, one contiguous range per version: 1.0 up to 0x4200A1, 1.1 to 0x4200B7, 1.2 to
/// 0x4200D3, 1.3 to 0x4200F7, 1.4 to 0x420124, 2.0 to 0x420165, 2.1 to 0x420176.
pub fn tag_since(tag: Tag) -> Option<(i32, i32)> {
    tag_entry(tag).map(|e| e.since)
}

/// The first protocol version that no longer defines `tag` (its number is "(Reserved)" there), or `None` when
/// the tag is unknown or still defined in KMIP 2.1. KMIP 2.0 removed the 1.x templates, Attribute Index,
/// Custom Attribute, Operation Policy Name and the deprecated certificate tags.
pub fn tag_removed_in(tag: Tag) -> Option<(i32, i32)> {
    tag_entry(tag).and_then(|e| e.removed)
}

/// Whether protocol version `version` (major, minor) defines `tag`.
pub fn tag_in_version(tag: Tag, version: (i32, i32)) -> bool {
    tag_entry(tag)
        .is_some_and(|e| e.since <= version && e.removed.is_none_or(|gone| version < gone))
}

/// The name of value `value` of the enumeration carried by items tagged `tag`.
pub fn enum_name(tag: Tag, value: u32) -> Option<&'static str> {
    if is_tag_valued(tag) {
        return tag_name(Tag(value));
    }
    let table = enum_table(tag)?;
    table
        .by_value
        .binary_search_by_key(&value, |(v, _)| *v)
        .ok()
        .map(|i| table.by_value[i].1)
}

/// The value named `name` of the enumeration carried by items tagged `tag`.
pub fn enum_value(tag: Tag, name: &str) -> Option<u32> {
    if is_tag_valued(tag) {
        return tag_by_name(name).map(|t| t.0);
    }
    let table = enum_table(tag)?;
    table
        .by_name
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| table.by_name[i].1)
}

/// All named values of the enumeration carried by `tag`, sorted by value; `None` when `tag` carries no
/// enumeration or one whose values are tag numbers (see [`is_tag_enumeration`]).
pub fn enum_values(tag: Tag) -> Option<&'static [(u32, &'static str)]> {
    enum_table(tag).map(|t| t.by_value)
}

/// The name of the enumeration carried by `tag`: usually the tag's own name, but `HashingAlgorithm` for
/// `MaskGeneratorHashingAlgorithm`, `UniqueIdentifier` for `LinkedObjectIdentifier`, `ItemType` for
/// `ExtensionType`.
pub fn enum_type_name(tag: Tag) -> Option<&'static str> {
    enum_table(tag).map(|t| t.name)
}

/// Whether the enumeration carried by `tag` takes tag numbers as values (KMIP 2.x `AttributeReference`, `Tag`).
pub fn is_tag_enumeration(tag: Tag) -> bool {
    is_tag_valued(tag)
}

/// The named bits of a bit-mask carried by Integer items tagged `tag` (Cryptographic Usage Mask, Storage Status
/// Mask, Protection Storage Mask), as (bit value, name) pairs sorted by bit; `None` when `tag` is not a mask.
pub fn mask_bits(tag: Tag) -> Option<&'static [(u32, &'static str)]> {
    let masks = enum_table::MASKS;
    masks
        .binary_search_by_key(&tag, |(t, _)| *t)
        .ok()
        .map(|i| masks[i].1)
}

/// The bit named `name` in the mask carried by `tag` (`WrapKey` in Cryptographic Usage Mask is 0x10).
pub fn mask_bit(tag: Tag, name: &str) -> Option<u32> {
    mask_bits(tag)?
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(bit, _)| *bit)
}

/// The KMIP-XML/JSON name of a specification name, by the KMIP Profiles rule: round brackets become spaces; a
/// non-word character followed by a letter and a lower-case letter becomes a space; any other non-word,
/// non-space character becomes `_`; digits opening the first word move to its end; each word is capitalised and
/// the words are joined. "Create Key Pair" gives `CreateKeyPair`, "HMAC-SHA256" `HMAC_SHA256`, "3DES" `DES3`,
/// "Re-key" `ReKey`, "X.509" `X_509`, "PKCS#11 Function" `PKCS_11Function`.
pub fn normalize_name(spec_name: &str) -> String {
    let chars: Vec<char> = spec_name
        .chars()
        .map(|c| if c == '(' || c == ')' { ' ' } else { c })
        .collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut spaced = String::with_capacity(spec_name.len());
    for (i, &c) in chars.iter().enumerate() {
        if is_word(c) || c.is_whitespace() {
            spaced.push(c);
        } else {
            let letter_next = chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
            let lower_after = chars.get(i + 2).is_some_and(|n| n.is_lowercase());
            spaced.push(if letter_next && lower_after { ' ' } else { '_' });
        }
    }
    let mut out = String::with_capacity(spaced.len());
    for (index, word) in spaced.split_whitespace().enumerate() {
        let digits = word.chars().take_while(char::is_ascii_digit).count();
        let word = if index == 0 && digits > 0 && digits < word.len() {
            // Digits are ASCII, so `digits` is a char boundary.
            format!("{}{}", &word[digits..], &word[..digits])
        } else {
            word.to_owned()
        };
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_name_follows_the_profiles_rule() {
        for (spec, xml) in [
            ("Create Key Pair", "CreateKeyPair"),
            ("HMAC-SHA256", "HMAC_SHA256"),
            ("3DES", "DES3"),
            ("Re-key", "ReKey"),
            ("Pre-Active", "PreActive"),
            ("X.509", "X_509"),
            ("PKCS#11 Function", "PKCS_11Function"),
            ("Encrypt then MAC/sign", "EncryptThenMACSign"),
            ("Polynomial Sharing GF (2^16)", "PolynomialSharingGF2_16"),
            ("ANSI X9.31", "ANSIX9_31"),
            ("IV/Counter/Nonce", "IVCounterNonce"),
            ("Cessation of Operation", "CessationOfOperation"),
        ] {
            assert_eq!(normalize_name(spec), xml, "{spec}");
        }
    }

    #[test]
    fn every_tag_name_is_its_normalised_spec_name() {
        for e in tag_table::TAGS {
            assert_eq!(normalize_name(e.spec_name), e.name);
            assert_eq!(
                tag_by_spec_name(e.spec_name),
                Some(e.tag),
                "{}",
                e.spec_name
            );
        }
    }

    #[test]
    fn generated_tables_are_sorted_for_binary_search() {
        assert!(tag_table::TAGS.windows(2).all(|w| w[0].tag < w[1].tag));
        assert!(tag_table::TAGS_BY_NAME.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(enum_table::ENUMS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(enum_table::MASKS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(enum_table::TAG_VALUED.windows(2).all(|w| w[0] < w[1]));
        for (_, table) in enum_table::ENUMS {
            assert!(
                table.by_value.windows(2).all(|w| w[0].0 < w[1].0),
                "{}",
                table.name
            );
            assert!(
                table.by_name.windows(2).all(|w| w[0].0 < w[1].0),
                "{}",
                table.name
            );
            assert_eq!(table.by_value.len(), table.by_name.len(), "{}", table.name);
        }
    }
}
