//! The dictionary against the OASIS KMIP 1.4/2.1 test files, the tag-name table and the specifications' numbers.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use ttlv::dictionary::{
    enum_name, enum_type_name, enum_value, enum_values, is_tag_enumeration, mask_bit, mask_bits,
    normalize_name, tag_by_name, tag_by_spec_name, tag_in_version, tag_name, tag_removed_in,
    tag_since, tag_spec_name,
};
use ttlv::{tags, Tag};

/// Every tag number the dictionary may hold: the standard range up to well past KMIP 2.1's last tag.
fn all_known_tags() -> Vec<Tag> {
    (0x420000..=0x4201FF)
        .map(Tag)
        .filter(|t| tag_name(*t).is_some())
        .collect()
}

fn test_case_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "xml") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/kmip-test-cases");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    assert!(
        files.len() >= 154,
        "expected the OASIS test files under {}",
        root.display()
    );
    files
}

/// One element of an OASIS file: its name, `type` and `value`, and for an `AttributeValue` the text of the
/// `AttributeName` before it in the same `Attribute`.
struct Element {
    file: String,
    name: String,
    item_type: Option<String>,
    value: Option<String>,
    attribute_name: Option<String>,
}

fn elements() -> Vec<Element> {
    let mut all = Vec::new();
    for path in test_case_files() {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut reader = quick_xml::Reader::from_str(&text);
        let mut attribute_name = None;
        loop {
            let start: BytesStart = match reader.read_event().unwrap() {
                Event::Start(e) | Event::Empty(e) => e,
                Event::Eof => break,
                _ => continue,
            };
            let attr = |key: &str| {
                start
                    .try_get_attribute(key)
                    .unwrap()
                    .map(|a| a.unescape_value().unwrap().into_owned())
            };
            let name = String::from_utf8(start.name().as_ref().to_vec()).unwrap();
            let element = Element {
                file: file.clone(),
                item_type: attr("type"),
                value: attr("value"),
                attribute_name: if name == "AttributeValue" {
                    attribute_name.clone()
                } else {
                    None
                },
                name,
            };
            match element.name.as_str() {
                "Attribute" => attribute_name = None,
                "AttributeName" => attribute_name = element.value.clone(),
                _ => {}
            }
            all.push(element);
        }
    }
    all
}

/// The tag whose dictionary entries apply to an element's value: a 1.x `AttributeValue` takes its meaning from
/// the `AttributeName` beside it.
fn value_tag(element: &Element) -> Tag {
    let tag = tag_by_name(&element.name).unwrap();
    match (&element.attribute_name, tag) {
        (Some(attribute), tags::ATTRIBUTE_VALUE) => {
            tag_by_spec_name(attribute).unwrap_or_else(|| {
                panic!(
                    "{}: attribute name {attribute:?} is not a tag",
                    element.file
                )
            })
        }
        _ => tag,
    }
}

fn is_number(value: &str) -> bool {
    value.strip_prefix("0x").map_or_else(
        || value.parse::<i64>().is_ok(),
        |h| u32::from_str_radix(h, 16).is_ok(),
    )
}

#[test]
fn every_element_name_in_the_oasis_files_is_a_tag() {
    let unknown: BTreeSet<String> = elements()
        .into_iter()
        .filter(|e| e.name != "KMIP" && tag_by_name(&e.name).is_none())
        .map(|e| format!("{}: {}", e.file, e.name))
        .collect();
    assert!(unknown.is_empty(), "unknown element names: {unknown:#?}");
}

#[test]
fn every_enumeration_name_in_the_oasis_files_resolves_and_round_trips() {
    let mut checked = 0;
    let mut failures = BTreeSet::new();
    for element in elements() {
        if element.item_type.as_deref() != Some("Enumeration") {
            continue;
        }
        let value = element.value.as_deref().unwrap();
        if is_number(value) {
            continue; // Extension values (0x8XXXXXXX) are written as numbers.
        }
        let tag = value_tag(&element);
        checked += 1;
        match enum_value(tag, value) {
            Some(number) if enum_name(tag, number) == Some(value) => {}
            other => {
                failures.insert(format!(
                    "{}: {} {value} -> {other:?}",
                    element.file, element.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "unresolved enumeration names: {failures:#?}"
    );
    assert!(checked > 1000, "only {checked} enumeration values checked");
}

#[test]
fn every_mask_bit_name_in_the_oasis_files_resolves() {
    let mut checked = 0;
    for element in elements() {
        let value = element.value.as_deref().unwrap_or("");
        if element.item_type.as_deref() != Some("Integer")
            || is_number(value)
            || value.starts_with('$')
        {
            continue;
        }
        let tag = value_tag(&element);
        assert!(
            mask_bits(tag).is_some(),
            "{}: {} is not a mask but holds {value:?}",
            element.file,
            element.name
        );
        for bit_name in value.split_whitespace() {
            assert!(
                mask_bit(tag, bit_name).is_some(),
                "{}: {} bit {bit_name:?}",
                element.file,
                element.name
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} mask bit names checked");
}

#[test]
fn every_name_of_the_shipped_tag_table_resolves_to_its_number() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kmip-tags-merged.json");
    let table: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (name, entry) in table.as_object().unwrap() {
        let number =
            u32::from_str_radix(entry["tag"].as_str().unwrap().trim_start_matches("0x"), 16)
                .unwrap();
        assert_eq!(tag_by_name(name), Some(Tag(number)), "{name}");
    }
}

#[test]
fn tag_names_and_numbers_round_trip_without_duplicates() {
    let known = all_known_tags();
    assert_eq!(known.len(), 372, "KMIP 1.0-2.1 define 372 distinct tags");
    let mut names = BTreeSet::new();
    for tag in known {
        let name = tag_name(tag).unwrap();
        assert!(names.insert(name), "duplicate tag name {name}");
        assert_eq!(tag_by_name(name), Some(tag), "{name}");
        assert!(tag_since(tag).is_some(), "{name}");
        assert_eq!(
            tag_by_spec_name(tag_spec_name(tag).unwrap()),
            Some(tag),
            "{name}"
        );
    }
    assert_eq!(tag_name(Tag(0x420000)), None);
    assert_eq!(tag_name(Tag(0x42013E)), None, "0x42013E is reserved");
    assert_eq!(
        tag_name(Tag(0x540001)),
        None,
        "extension tags are not in the dictionary"
    );
    assert_eq!(tag_by_name("NoSuchTag"), None);
    assert_eq!(tag_by_name(""), None);
}

#[test]
fn enumeration_and_mask_tables_have_unique_names_and_values() {
    for tag in all_known_tags() {
        if let Some(values) = enum_values(tag) {
            let mut names = BTreeSet::new();
            assert!(
                values.windows(2).all(|w| w[0].0 < w[1].0),
                "{tag:?} values sorted and unique"
            );
            for (number, name) in values {
                assert!(names.insert(*name), "{tag:?}: duplicate name {name}");
                assert_eq!(enum_value(tag, name), Some(*number), "{tag:?} {name}");
                assert_eq!(enum_name(tag, *number), Some(*name), "{tag:?} {number:#x}");
                assert_eq!(
                    normalize_name(name),
                    *name,
                    "{tag:?}: {name} is not in normalised form"
                );
            }
        }
        if let Some(bits) = mask_bits(tag) {
            assert!(
                bits.windows(2).all(|w| w[0].0 < w[1].0),
                "{tag:?} bits sorted and unique"
            );
            let names: BTreeSet<_> = bits.iter().map(|(_, n)| *n).collect();
            assert_eq!(names.len(), bits.len(), "{tag:?}: duplicate bit name");
            assert!(
                bits.iter().all(|(bit, _)| bit.is_power_of_two()),
                "{tag:?}: not single bits"
            );
            assert!(
                enum_values(tag).is_none(),
                "{tag:?} is both a mask and an enumeration"
            );
        }
    }
}

#[test]
fn spot_checks_against_the_specifications() {
    assert_eq!(tag_by_name("UniqueIdentifier"), Some(Tag(0x420094)));
    assert_eq!(tags::UNIQUE_IDENTIFIER, Tag(0x420094));
    assert_eq!(
        tag_name(tags::X_509_CERTIFICATE_IDENTIFIER),
        Some("X_509CertificateIdentifier")
    );
    assert_eq!(tag_name(tags::PKCS_11_FUNCTION), Some("PKCS_11Function"));
    assert_eq!(tag_name(tags::ROTATE_INTERVAL), Some("RotateInterval"));
    assert_eq!(
        tags::ENCRYPTION_ADDITIONAL_DATA,
        tags::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA
    );
    assert_eq!(tag_by_name("EncryptionAdditionalData"), Some(Tag(0x4200FE)));
    assert_eq!(
        tag_name(Tag(0x4200FE)),
        Some("AuthenticatedEncryptionAdditionalData")
    );
    assert_eq!(
        tag_spec_name(tags::CRYPTOGRAPHIC_USAGE_MASK),
        Some("Cryptographic Usage Mask")
    );
    assert_eq!(tag_by_spec_name("x-custom"), None);

    assert_eq!(enum_value(tags::OPERATION, "CreateKeyPair"), Some(0x02));
    assert_eq!(enum_name(tags::OPERATION, 0x3B), Some("Ping"));
    assert_eq!(enum_value(tags::CRYPTOGRAPHIC_ALGORITHM, "AES"), Some(0x03));
    assert_eq!(
        enum_value(tags::CRYPTOGRAPHIC_ALGORITHM, "DES3"),
        Some(0x02)
    );
    assert_eq!(
        enum_value(tags::CRYPTOGRAPHIC_ALGORITHM, "HMAC_SHA256"),
        Some(0x09)
    );
    assert_eq!(enum_value(tags::RESULT_REASON, "ItemNotFound"), Some(0x01));
    assert_eq!(
        enum_value(tags::RESULT_REASON, "GeneralFailure"),
        Some(0x100)
    );
    assert_eq!(enum_value(tags::OBJECT_TYPE, "SymmetricKey"), Some(0x02));
    assert_eq!(enum_value(tags::KEY_FORMAT_TYPE, "PKCS_1"), Some(0x03));
    assert_eq!(enum_value(tags::STATE, "PreActive"), Some(0x01));
    assert_eq!(enum_value(tags::LINK_TYPE, "PublicKeyLink"), Some(0x102));
    assert_eq!(enum_value(tags::RECOMMENDED_CURVE, "P_256"), Some(0x07));
    assert_eq!(
        enum_value(tags::MASK_GENERATOR_HASHING_ALGORITHM, "SHA_256"),
        Some(0x06)
    );
    assert_eq!(
        enum_type_name(tags::MASK_GENERATOR_HASHING_ALGORITHM),
        Some("HashingAlgorithm")
    );
    assert_eq!(
        enum_value(tags::UNIQUE_IDENTIFIER, "IDPlaceholder"),
        Some(0x01)
    );
    assert_eq!(enum_value(tags::RESULT_STATUS, "Success"), Some(0));
    assert_eq!(enum_value(tags::OPERATION, "NoSuchOperation"), None);
    assert_eq!(
        enum_value(tags::UNIQUE_BATCH_ITEM_ID, "Create"),
        None,
        "not an enumeration"
    );
    assert_eq!(
        enum_name(tags::OPERATION, 0x8000_0001),
        None,
        "extensions have no name"
    );

    assert!(is_tag_enumeration(tags::ATTRIBUTE_REFERENCE));
    assert_eq!(
        enum_value(tags::ATTRIBUTE_REFERENCE, "ActivationDate"),
        Some(0x420001)
    );
    assert_eq!(enum_name(tags::TAG, 0x420094), Some("UniqueIdentifier"));
    assert_eq!(enum_values(tags::ATTRIBUTE_REFERENCE), None);

    assert_eq!(
        mask_bit(tags::CRYPTOGRAPHIC_USAGE_MASK, "WrapKey"),
        Some(0x10)
    );
    assert_eq!(
        mask_bit(tags::CRYPTOGRAPHIC_USAGE_MASK, "FPEDecrypt"),
        Some(0x80_0000)
    );
    assert_eq!(
        mask_bit(tags::STORAGE_STATUS_MASK, "OnLineStorage"),
        Some(0x01)
    );
    assert_eq!(
        mask_bit(tags::PROTECTION_STORAGE_MASK, "Software"),
        Some(0x01)
    );
    assert_eq!(mask_bits(tags::OPERATION), None);
}

#[test]
fn tag_versions_follow_the_specification_tag_tables() {
    assert_eq!(tag_since(tags::ACTIVATION_DATE), Some((1, 0)));
    assert_eq!(tag_since(tags::PASSWORD), Some((1, 0)));
    assert_eq!(tag_since(tags::DEVICE_IDENTIFIER), Some((1, 1)));
    assert_eq!(tag_since(tags::ALTERNATIVE_NAME), Some((1, 2)));
    assert_eq!(tag_since(tags::OFFSET_ITEMS), Some((1, 3)));
    assert_eq!(tag_since(tags::SENSITIVE), Some((1, 4)));
    assert_eq!(tag_since(tags::ATTRIBUTES), Some((2, 0)));
    assert_eq!(tag_since(tags::CONSTRAINT), Some((2, 1)));
    assert_eq!(tag_since(Tag(0x420000)), None);
    assert_eq!(tag_removed_in(tags::TEMPLATE_ATTRIBUTE), Some((2, 0)));
    assert_eq!(tag_removed_in(tags::ATTRIBUTE_INDEX), Some((2, 0)));
    assert_eq!(tag_removed_in(tags::UNIQUE_IDENTIFIER), None);
    assert!(!tag_in_version(tags::SENSITIVE, (1, 0)));
    assert!(tag_in_version(tags::SENSITIVE, (1, 4)));
    assert!(tag_in_version(tags::ATTRIBUTE_INDEX, (1, 4)));
    assert!(!tag_in_version(tags::ATTRIBUTE_INDEX, (2, 0)));
    assert!(!tag_in_version(tags::ROTATE_DATE, (2, 0)));
}
