//! Every attribute, attribute collection and attribute reference in the OASIS KMIP 1.4 and 2.1 test cases
//! decodes into the typed model and re-encodes to the identical tree for that message's protocol version.

mod oasis_support;

use kmip::attributes::{Attribute, AttributeName, Attributes};
use oasis_support::{case_files, read_messages, visit};
use ttlv::{tags, Value};

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
