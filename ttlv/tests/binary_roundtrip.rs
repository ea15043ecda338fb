//! Round trips of arbitrary item trees through the binary writer and reader.

use proptest::prelude::*;
use ttlv::{big_integer, binary, Item, Tag, Value};

fn arb_tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        (0x42_0001u32..=0x42_0160).prop_map(Tag),
        (0x54_0000u32..=0x54_FFFF).prop_map(Tag),
        (0u32..=0xFF_FFFF).prop_map(Tag)
    ]
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::Integer),
        any::<i64>().prop_map(Value::LongInteger),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::big_integer(&b)),
        any::<u32>().prop_map(Value::Enumeration),
        any::<bool>().prop_map(Value::Boolean),
        ".{0,24}".prop_map(Value::TextString),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::ByteString),
        any::<i64>().prop_map(Value::DateTime),
        any::<u32>().prop_map(Value::Interval),
        any::<i64>().prop_map(Value::DateTimeExtended),
    ]
}

fn arb_item() -> impl Strategy<Value = Item> {
    let leaf = (arb_tag(), arb_leaf()).prop_map(|(tag, value)| Item::new(tag, value));
    leaf.prop_recursive(6, 96, 8, |inner| {
        (arb_tag(), proptest::collection::vec(inner, 0..8))
            .prop_map(|(tag, children)| Item::structure(tag, children))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_trees_survive_encode_then_decode(item in arb_item()) {
        let bytes = binary::encode(&item).unwrap();
        prop_assert_eq!(bytes.len() % 8, 0);
        prop_assert_eq!(binary::message_length(bytes[..8].try_into().unwrap()).unwrap(), bytes.len());
        prop_assert_eq!(binary::decode(&bytes).unwrap(), item);
    }

    #[test]
    fn encoded_len_predicts_the_encoding_and_bounds_big_integers(item in arb_item()) {
        let predicted = binary::encoded_len(&item);
        let actual = binary::encode(&item).unwrap().len();
        prop_assert!(predicted >= actual);
        // A canonical tree (what decoding gives) is predicted exactly.
        let canonical = binary::decode(&binary::encode(&item).unwrap()).unwrap();
        prop_assert_eq!(binary::encoded_len(&canonical), actual);
    }

    #[test]
    fn encode_into_appends_the_same_bytes_as_encode(item in arb_item(), prefix in proptest::collection::vec(any::<u8>(), 0..16)) {
        let mut out = prefix.clone();
        binary::encode_into(&item, &mut out).unwrap();
        prop_assert_eq!(&out[..prefix.len()], &prefix[..]);
        prop_assert_eq!(&out[prefix.len()..], &binary::encode(&item).unwrap()[..]);
    }

    #[test]
    fn any_big_integer_bytes_decode_to_their_canonical_form(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        // Built without the normalising constructor: the writer must still emit a valid, canonical encoding.
        let raw = Item::new(Tag(0x42_0052), Value::BigInteger(bytes.clone()));
        let decoded = binary::decode(&binary::encode(&raw).unwrap()).unwrap();
        prop_assert_eq!(decoded.value, Value::BigInteger(big_integer::canonical(&bytes)));
    }

    #[test]
    fn big_integers_keep_their_numeric_value(value in any::<i128>()) {
        let item = Item::new(Tag(0x42_0052), Value::big_integer_from_i128(value));
        let Value::BigInteger(bytes) = binary::decode(&binary::encode(&item).unwrap()).unwrap().value else {
            panic!("not a big integer");
        };
        prop_assert_eq!(big_integer::to_i128(&bytes), Some(value));
        prop_assert_eq!(big_integer::to_decimal(&bytes).unwrap(), value.to_string());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(item) = binary::decode(&bytes) {
            prop_assert_eq!(binary::decode(&binary::encode(&item).unwrap()).unwrap(), item);
        }
    }
}

#[test]
fn encode_rejects_a_tag_wider_than_three_bytes() {
    let item = Item::structure(
        Tag(0x42_0001),
        vec![Item::new(Tag(0x0100_0000), Value::Boolean(true))],
    );
    let mut out = vec![0xAA];
    assert_eq!(
        binary::encode_into(&item, &mut out),
        Err(ttlv::EncodeError::TagOutOfRange {
            tag: Tag(0x0100_0000)
        })
    );
    assert_eq!(out, [0xAA], "a failed encode leaves the buffer as it was");
}
