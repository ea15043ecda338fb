//! Property tests: arbitrary trees survive KMIP-XML and KMIP-JSON, and Big Integers read from text take the
//! same canonical form the binary reader gives them.

use proptest::prelude::*;
use ttlv::{big_integer, binary, json, tags, xml, Item, Tag, Value};

/// Characters XML 1.0 can carry (the JSON encoding can carry any).
fn xml_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[\\t\\n\\r\\u{20}-\\u{D7FF}\\u{E000}-\\u{FFFD}\\u{10000}-\\u{10FFFF}]{0,12}",
    )
    .expect("the pattern is a valid regex")
}

fn any_tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        Just(tags::BATCH_ITEM),
        Just(tags::CRYPTOGRAPHIC_USAGE_MASK),
        Just(tags::CRYPTOGRAPHIC_ALGORITHM),
        Just(tags::STATE),
        Just(tags::OPERATION),
        Just(tags::ATTRIBUTE_VALUE),
        (0x420001u32..=0x420169).prop_map(Tag),
        (0x540000u32..=0x54FFFF).prop_map(Tag),
    ]
}

/// Small numbers often, so that enumeration and mask names are exercised, not only hex forms.
fn small_or_any_u32() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..16, 0u32..0x0010_0000, any::<u32>()]
}

fn primitive() -> impl Strategy<Value = Value> {
    prop_oneof![
        small_or_any_u32().prop_map(|v| Value::Integer(v as i32)),
        any::<i64>().prop_map(Value::LongInteger),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(|b| Value::big_integer(&b)),
        small_or_any_u32().prop_map(Value::Enumeration),
        any::<bool>().prop_map(Value::Boolean),
        xml_text().prop_map(Value::TextString),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Value::ByteString),
        any::<i64>().prop_map(Value::DateTime),
        any::<u32>().prop_map(Value::Interval),
        any::<i64>().prop_map(Value::DateTimeExtended),
    ]
}

/// An Attribute Name / Attribute Value pair, so that values named through the attribute context round trip.
fn attribute() -> impl Strategy<Value = Item> {
    let names = prop_oneof![
        Just("Cryptographic Usage Mask"),
        Just("Cryptographic Algorithm"),
        Just("State"),
        Just("Object Type"),
        Just("x-custom"),
    ];
    let values = prop_oneof![
        any::<i32>().prop_map(Value::Integer),
        any::<u32>().prop_map(Value::Enumeration)
    ];
    (names, values).prop_map(|(name, value)| {
        Item::structure(
            tags::ATTRIBUTE,
            vec![
                Item::new(tags::ATTRIBUTE_NAME, Value::TextString(name.to_owned())),
                Item::new(tags::ATTRIBUTE_VALUE, value),
            ],
        )
    })
}

fn tree() -> impl Strategy<Value = Item> {
    let leaf = prop_oneof![
        4 => (any_tag(), primitive()).prop_map(|(tag, value)| Item::new(tag, value)),
        1 => attribute(),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        (any_tag(), proptest::collection::vec(inner, 0..6))
            .prop_map(|(tag, children)| Item::structure(tag, children))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn xml_round_trips_arbitrary_trees(item in tree()) {
        let compact = xml::to_string(&item).unwrap();
        prop_assert_eq!(xml::from_str(&compact).unwrap(), item.clone(), "{}", compact);
        let pretty = xml::to_string_pretty(&item).unwrap();
        prop_assert_eq!(xml::from_str(&pretty).unwrap(), item);
    }

    #[test]
    fn json_round_trips_arbitrary_trees(item in tree()) {
        let compact = json::to_string(&item).unwrap();
        prop_assert_eq!(json::from_str(&compact).unwrap(), item.clone(), "{}", compact);
        let pretty = json::to_string_pretty(&item).unwrap();
        prop_assert_eq!(json::from_str(&pretty).unwrap(), item);
    }

    #[test]
    fn json_carries_any_text(text in any::<String>()) {
        let item = Item::new(Tag(0x540001), Value::TextString(text));
        prop_assert_eq!(json::from_str(&json::to_string(&item).unwrap()).unwrap(), item);
    }

    /// Any wire-valid Big Integer (a multiple of 8 bytes) read from binary, XML hex or JSON hex gives the
    /// same tree, and shorter text forms sign-extend to the same canonical value.
    #[test]
    fn big_integers_normalise_like_the_binary_codec(words in proptest::collection::vec(any::<[u8; 8]>(), 1..4)) {
        let bytes: Vec<u8> = words.concat();
        let mut wire = vec![0x54, 0x00, 0x01, 0x04];
        wire.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        wire.extend_from_slice(&bytes);
        let from_binary = binary::decode(&wire).unwrap();

        let digits = hex::encode(&bytes);
        let xml_text = format!(r#"<TTLV tag="0x540001" type="BigInteger" value="{digits}"/>"#);
        let json_text = format!(r#"{{"tag":"0x540001","type":"BigInteger","value":"0x{digits}"}}"#);
        prop_assert_eq!(&xml::from_str(&xml_text).unwrap(), &from_binary);
        prop_assert_eq!(&json::from_str(&json_text).unwrap(), &from_binary);
        prop_assert_eq!(&from_binary.value, &Value::BigInteger(big_integer::canonical(&bytes)));

        // A shorter spelling of the same number: drop redundant sign bytes.
        let fill = if bytes[0] & 0x80 != 0 { 0xFF } else { 0x00 };
        let mut start = 0;
        while start + 1 < bytes.len() && bytes[start] == fill && bytes[start + 1] & 0x80 == fill & 0x80 {
            start += 1;
        }
        let short = hex::encode(&bytes[start..]);
        let short_text = format!(r#"<TTLV tag="0x540001" type="BigInteger" value="{short}"/>"#);
        let from_short = xml::from_str(&short_text).unwrap();
        prop_assert_eq!(&from_short, &from_binary, "{} vs {}", short, digits);
    }
}
