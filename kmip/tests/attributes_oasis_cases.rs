//! Every attribute, attribute collection and attribute reference in the OASIS KMIP 1.4 and 2.1 test cases
//! decodes into the typed model and re-encodes to the identical tree for that message's protocol version.

use std::path::{Path, PathBuf};

use kmip::attributes::{Attribute, AttributeName, Attributes};
use kmip::ProtocolVersion;
use ttlv::text_values::{Placeholder, ReadOptions};
use ttlv::{tags, Item, ItemType, Value};

fn case_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/kmip-test-cases");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "xml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 150,
        "expected the OASIS test cases, found {} files",
        files.len()
    );
    files
}

/// Stand-ins for the `$NAME` placeholders: any well-typed value will do, since only round trips are checked.
fn resolve(p: &Placeholder<'_>) -> Option<Value> {
    Some(match p.item_type {
        ItemType::DateTime => Value::DateTime(1_700_000_000 + p.now_offset().unwrap_or(0)),
        ItemType::DateTimeExtended => Value::DateTimeExtended(1_700_000_000_000_000),
        ItemType::ByteString => Value::ByteString(vec![0xA5; 16]),
        ItemType::BigInteger => Value::BigInteger(vec![0; 8]),
        ItemType::Integer => Value::Integer(1),
        ItemType::LongInteger => Value::LongInteger(1),
        ItemType::Interval => Value::Interval(1),
        ItemType::Boolean => Value::Boolean(true),
        ItemType::Enumeration => Value::Enumeration(1),
        ItemType::TextString | ItemType::Structure => return None,
    })
}

fn read_messages(path: &Path) -> Vec<(ProtocolVersion, Item)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut resolver = resolve;
    let options = ReadOptions::default().with_placeholders(&mut resolver);
    let messages = ttlv::xml::read_test_case(&text, options)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    messages
        .into_iter()
        .map(|m| {
            let header = m.children().first().expect("message has a header").clone();
            let version =
                ProtocolVersion::from_ttlv(header.child(tags::PROTOCOL_VERSION).unwrap()).unwrap();
            (version, m)
        })
        .collect()
}

fn visit<'a>(item: &'a Item, out: &mut Vec<&'a Item>) {
    out.push(item);
    for child in item.children() {
        visit(child, out);
    }
}

#[test]
fn every_oasis_attribute_round_trips_in_its_version() {
    let mut checked = 0usize;
    let mut unknown = Vec::new();
    for path in case_files() {
        for (version, message) in read_messages(&path) {
            let mut items = Vec::new();
            visit(&message, &mut items);
            for item in items {
                let where_ = format!(
                    "{} ({version}), {}",
                    path.display(),
                    ttlv::xml::to_string(item).unwrap()
                );
                let v1_collection = [
                    tags::TEMPLATE_ATTRIBUTE,
                    tags::COMMON_TEMPLATE_ATTRIBUTE,
                    tags::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
                    tags::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
                ];
                let v2_collection = [
                    tags::ATTRIBUTES,
                    tags::COMMON_ATTRIBUTES,
                    tags::PRIVATE_KEY_ATTRIBUTES,
                    tags::PUBLIC_KEY_ATTRIBUTES,
                ];
                if item.tag == tags::ATTRIBUTE && !version.is_v2() {
                    let (attribute, index) = Attribute::from_v1_indexed(item)
                        .unwrap_or_else(|e| panic!("{where_}: {e}"));
                    if let Attribute::Unknown(u) = &attribute {
                        unknown.push(u.text_name.clone().unwrap_or_default());
                    }
                    assert_eq!(attribute.to_v1(index).as_ref(), Some(item), "{where_}");
                    checked += 1;
                } else if v1_collection.contains(&item.tag) && !version.is_v2() {
                    let attributes = Attributes::from_ttlv(item, version)
                        .unwrap_or_else(|e| panic!("{where_}: {e}"));
                    assert_eq!(
                        attributes.to_ttlv(version, item.tag, tags::ATTRIBUTES),
                        *item,
                        "{where_}"
                    );
                    checked += 1;
                } else if v2_collection.contains(&item.tag) && version.is_v2() {
                    let attributes = Attributes::from_ttlv(item, version)
                        .unwrap_or_else(|e| panic!("{where_}: {e}"));
                    for a in &attributes {
                        if let Attribute::Unknown(u) = a {
                            unknown.push(format!("{:?}", u.tag));
                        }
                    }
                    assert_eq!(
                        attributes.to_ttlv(version, tags::TEMPLATE_ATTRIBUTE, item.tag),
                        *item,
                        "{where_}"
                    );
                    checked += 1;
                } else if (item.tag == tags::NEW_ATTRIBUTE || item.tag == tags::CURRENT_ATTRIBUTE)
                    && version.is_v2()
                {
                    for child in item.children() {
                        let attribute =
                            Attribute::from_v2(child).unwrap_or_else(|e| panic!("{where_}: {e}"));
                        assert_eq!(
                            attribute.to_ttlv(version, None).as_ref(),
                            Some(child),
                            "{where_}"
                        );
                        checked += 1;
                    }
                } else if item.tag == tags::ATTRIBUTE_REFERENCE && version.is_v2()
                    || item.tag == tags::ATTRIBUTE_NAME
                        && !version.is_v2()
                        && matches!(item.value, Value::TextString(_))
                {
                    let name = AttributeName::from_reference(item, version)
                        .unwrap_or_else(|e| panic!("{where_}: {e}"));
                    assert_eq!(name.to_reference(version).as_ref(), Some(item), "{where_}");
                    checked += 1;
                }
            }
        }
    }
    unknown.sort();
    unknown.dedup();
    println!("checked {checked} attribute items; untyped attributes seen: {unknown:?}");
    assert!(checked > 1000, "only {checked} attribute items checked");
}
