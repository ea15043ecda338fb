//! The byte-exact encoding examples of KMIP 1.4 §9.1.2: each encodes to the specification's bytes and
//! decodes back to the same item.

use serde_json::Value as Json;
use ttlv::{binary, Item, ItemType, Tag, Value};

const EXAMPLES: &str = include_str!("data/kmip-spec-v1.4-9.1.2-examples.json");

fn parse_tag(text: &str) -> Tag {
    Tag(u32::from_str_radix(text.trim_start_matches("0x"), 16).expect("hex tag"))
}

fn parse_value(item_type: ItemType, text: &str) -> Value {
    match item_type {
        ItemType::Integer => Value::Integer(text.parse().expect("integer")),
        ItemType::LongInteger => Value::LongInteger(text.parse().expect("long integer")),
        ItemType::BigInteger => Value::big_integer_from_decimal(text).expect("big integer"),
        ItemType::Enumeration => Value::Enumeration(text.parse().expect("enumeration")),
        ItemType::Boolean => Value::Boolean(match text {
            "True" => true,
            "False" => false,
            other => panic!("boolean {other}"),
        }),
        ItemType::TextString => Value::TextString(text.to_owned()),
        ItemType::ByteString => Value::ByteString(hex::decode(text).expect("hex bytes")),
        ItemType::DateTime => Value::DateTime(text.parse().expect("date-time")),
        ItemType::Interval => Value::Interval(text.parse().expect("interval")),
        ItemType::DateTimeExtended => {
            Value::DateTimeExtended(text.parse().expect("date-time extended"))
        }
        // The examples write a Structure's children as `Type(0xTAG)=value, ...`.
        ItemType::Structure => Value::Structure(
            text.split(", ")
                .map(|child| {
                    let (type_name, rest) = child.split_once('(').expect("child type");
                    let (tag, value) = rest.split_once(")=").expect("child tag and value");
                    let child_type = ItemType::from_name(type_name).expect("known child type");
                    Item::new(parse_tag(tag), parse_value(child_type, value))
                })
                .collect(),
        ),
    }
}

fn examples() -> Vec<(Item, Vec<u8>)> {
    let json: Json = serde_json::from_str(EXAMPLES).expect("examples JSON");
    json.as_array()
        .expect("array of examples")
        .iter()
        .map(|example| {
            let field = |name: &str| {
                example[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("field {name}"))
            };
            let item_type = ItemType::from_name(field("type")).expect("known type");
            let item = Item::new(
                parse_tag(field("tag")),
                parse_value(item_type, field("value")),
            );
            (item, hex::decode(field("hex")).expect("hex encoding"))
        })
        .collect()
}

#[test]
fn every_spec_example_is_covered() {
    let types: Vec<ItemType> = examples()
        .iter()
        .map(|(item, _)| item.value.item_type())
        .collect();
    assert_eq!(types.len(), 10);
    for expected in [
        ItemType::Integer,
        ItemType::BigInteger,
        ItemType::Boolean,
        ItemType::Structure,
    ] {
        assert!(types.contains(&expected), "{expected:?} example missing");
    }
}

#[test]
fn spec_examples_encode_byte_exactly() {
    for (item, bytes) in examples() {
        assert_eq!(
            hex::encode_upper(binary::encode(&item).unwrap()),
            hex::encode_upper(&bytes),
            "{item:?}"
        );
    }
}

#[test]
fn spec_examples_decode_to_the_same_item() {
    for (item, bytes) in examples() {
        assert_eq!(
            binary::decode(&bytes).unwrap(),
            item,
            "{}",
            hex::encode_upper(&bytes)
        );
    }
}

#[test]
fn spec_examples_report_their_message_length() {
    for (_, bytes) in examples() {
        let header: &[u8; 8] = bytes[..8].try_into().unwrap();
        assert_eq!(binary::message_length(header).unwrap(), bytes.len());
    }
}

#[test]
fn spec_big_integer_example_displays_in_decimal() {
    let (item, _) = examples()
        .into_iter()
        .find(|(item, _)| item.value.item_type() == ItemType::BigInteger)
        .unwrap();
    let Value::BigInteger(bytes) = &item.value else {
        unreachable!("filtered on type")
    };
    assert_eq!(
        ttlv::big_integer::to_decimal(bytes).unwrap(),
        "1234567890000000000000000000"
    );
}
