//! One test per rule the strict binary reader enforces, each checking the error names the rule, the
//! offending item and its byte offset.

use ttlv::{binary, DecodeError, ItemType, Limits, Tag};

const OUTER: Tag = Tag(0x42_0078);
const INNER: Tag = Tag(0x42_0020);

fn header(tag: Tag, code: u8, length: u32) -> Vec<u8> {
    let [_, t0, t1, t2] = tag.0.to_be_bytes();
    let mut bytes = vec![t0, t1, t2, code];
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes
}

fn item(tag: Tag, code: u8, length: u32, value_and_padding: &[u8]) -> Vec<u8> {
    let mut bytes = header(tag, code, length);
    bytes.extend_from_slice(value_and_padding);
    bytes
}

fn structure(tag: Tag, body: &[u8]) -> Vec<u8> {
    item(tag, 0x01, body.len() as u32, body)
}

fn integer(tag: Tag, value: i32) -> Vec<u8> {
    let mut value_bytes = value.to_be_bytes().to_vec();
    value_bytes.extend_from_slice(&[0; 4]);
    item(tag, 0x02, 4, &value_bytes)
}

#[test]
fn rejects_truncated_header() {
    assert_eq!(
        binary::decode(&[0x42, 0x00, 0x20, 0x02]),
        Err(DecodeError::TruncatedHeader {
            offset: 0,
            available: 4
        })
    );
    assert_eq!(
        binary::decode(&[]),
        Err(DecodeError::TruncatedHeader {
            offset: 0,
            available: 0
        })
    );
}

#[test]
fn rejects_truncated_value() {
    let bytes = item(INNER, 0x07, 11, b"Hello Wo");
    assert_eq!(
        binary::decode(&bytes),
        Err(DecodeError::TruncatedValue {
            offset: 0,
            tag: INNER,
            needed: 16,
            available: 8
        })
    );
    let fixed = &integer(INNER, 8)[..12];
    assert_eq!(
        binary::decode(fixed),
        Err(DecodeError::TruncatedValue {
            offset: 0,
            tag: INNER,
            needed: 8,
            available: 4
        })
    );
}

#[test]
fn rejects_length_overrunning_parent_structure() {
    // The inner byte string claims 32 bytes; the structure holds only 16 after its header, yet the input
    // continues: the overrun must be caught against the structure, not the input.
    let mut body = item(INNER, 0x08, 32, &[0; 8]);
    body.extend_from_slice(&[0; 0]);
    let mut bytes = structure(OUTER, &body);
    bytes.extend_from_slice(&[0; 32]);
    assert_eq!(
        binary::decode(&bytes),
        Err(DecodeError::OverrunsStructure {
            offset: 8,
            tag: INNER,
            parent: OUTER,
            needed: 32,
            available: 8
        })
    );
}

#[test]
fn rejects_unknown_type_code() {
    for code in [0x00, 0x0C, 0x80, 0xFF] {
        let bytes = structure(OUTER, &item(INNER, code, 0, &[]));
        assert_eq!(
            binary::decode(&bytes),
            Err(DecodeError::UnknownType {
                offset: 8,
                tag: INNER,
                code
            })
        );
    }
}

#[test]
fn rejects_wrong_fixed_length_for_the_type() {
    let cases = [
        (ItemType::Integer, 4),
        (ItemType::Enumeration, 4),
        (ItemType::Interval, 4),
        (ItemType::LongInteger, 8),
        (ItemType::Boolean, 8),
        (ItemType::DateTime, 8),
        (ItemType::DateTimeExtended, 8),
    ];
    for (item_type, expected) in cases {
        for actual in [0, expected - 1, expected + 4, 16, u32::MAX] {
            let bytes = item(INNER, item_type as u8, actual, &[0; 16]);
            assert_eq!(
                binary::decode(&bytes),
                Err(DecodeError::WrongLength {
                    offset: 0,
                    tag: INNER,
                    item_type,
                    expected,
                    actual
                }),
                "{item_type:?} with length {actual}"
            );
        }
    }
}

#[test]
fn rejects_structure_length_not_multiple_of_8() {
    let mut bytes = header(OUTER, 0x01, 12);
    bytes.extend_from_slice(&integer(INNER, 1));
    assert_eq!(
        binary::decode(&bytes),
        Err(DecodeError::UnalignedStructureLength {
            offset: 0,
            tag: OUTER,
            length: 12
        })
    );
}

#[test]
fn rejects_non_zero_padding() {
    let mut fixed = integer(INNER, 8);
    fixed[15] = 1;
    assert_eq!(
        binary::decode(&fixed),
        Err(DecodeError::NonZeroPadding {
            offset: 12,
            tag: INNER
        })
    );

    let text = structure(OUTER, &item(INNER, 0x07, 3, b"abc\0\0\0\0!"));
    assert_eq!(
        binary::decode(&text),
        Err(DecodeError::NonZeroPadding {
            offset: 19,
            tag: INNER
        })
    );
}

#[test]
fn rejects_boolean_other_than_0_or_1() {
    for value in [2u64, 0x0100, u64::MAX] {
        let bytes = item(INNER, 0x06, 8, &value.to_be_bytes());
        assert_eq!(
            binary::decode(&bytes),
            Err(DecodeError::InvalidBoolean {
                offset: 0,
                tag: INNER,
                value
            })
        );
    }
}

#[test]
fn rejects_big_integer_length_not_multiple_of_8() {
    let bytes = item(INNER, 0x04, 4, &[0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(
        binary::decode(&bytes),
        Err(DecodeError::BigIntegerLength {
            offset: 0,
            tag: INNER,
            length: 4
        })
    );
}

#[test]
fn rejects_invalid_utf8() {
    let bytes = structure(
        OUTER,
        &item(INNER, 0x07, 4, &[b'o', b'k', 0xC3, 0x28, 0, 0, 0, 0]),
    );
    assert_eq!(
        binary::decode(&bytes),
        Err(DecodeError::InvalidUtf8 {
            offset: 18,
            tag: INNER
        })
    );
}

#[test]
fn rejects_nesting_deeper_than_limit() {
    // Depth 4: OUTER > OUTER > OUTER > INNER.
    let nested = structure(
        OUTER,
        &structure(OUTER, &structure(OUTER, &integer(INNER, 1))),
    );
    let limits = |max_depth| Limits {
        max_depth,
        ..Limits::default()
    };
    assert!(binary::decode_with(&nested, &limits(4)).is_ok());
    assert_eq!(
        binary::decode_with(&nested, &limits(3)),
        Err(DecodeError::TooDeep {
            offset: 24,
            tag: INNER,
            max_depth: 3
        })
    );
    assert_eq!(
        binary::decode_with(&nested, &limits(2)),
        Err(DecodeError::TooDeep {
            offset: 16,
            tag: OUTER,
            max_depth: 2
        })
    );
}

#[test]
fn rejects_message_larger_than_limit() {
    let bytes = structure(OUTER, &[integer(INNER, 1), integer(INNER, 2)].concat());
    let limits = |max_message_size| Limits {
        max_message_size,
        ..Limits::default()
    };
    assert!(binary::decode_with(&bytes, &limits(40)).is_ok());
    assert_eq!(
        binary::decode_with(&bytes, &limits(39)),
        Err(DecodeError::MessageTooLarge { size: 40, max: 39 })
    );
    // The declared length is checked too, before the body is looked at.
    assert_eq!(
        binary::decode_with(&header(OUTER, 0x01, 1 << 20), &limits(4096)),
        Err(DecodeError::MessageTooLarge {
            size: 8 + (1 << 20),
            max: 4096
        })
    );
}

#[test]
fn rejects_more_items_than_limit() {
    let bytes = structure(OUTER, &[integer(INNER, 1), integer(INNER, 2)].concat());
    let limits = |max_items| Limits {
        max_items,
        ..Limits::default()
    };
    assert!(binary::decode_with(&bytes, &limits(3)).is_ok());
    assert_eq!(
        binary::decode_with(&bytes, &limits(2)),
        Err(DecodeError::TooManyItems {
            offset: 24,
            tag: INNER,
            max_items: 2
        })
    );
}

#[test]
fn rejects_trailing_bytes_after_top_level_item() {
    let mut bytes = integer(INNER, 1);
    bytes.extend_from_slice(&integer(INNER, 2));
    assert_eq!(
        binary::decode(&bytes),
        Err(DecodeError::TrailingBytes {
            offset: 16,
            count: 16
        })
    );
    let mut one_extra = integer(INNER, 1);
    one_extra.push(0);
    assert_eq!(
        binary::decode(&one_extra),
        Err(DecodeError::TrailingBytes {
            offset: 16,
            count: 1
        })
    );
}

#[test]
fn errors_name_their_offset_and_tag() {
    let error = DecodeError::NonZeroPadding {
        offset: 12,
        tag: INNER,
    };
    assert_eq!((error.offset(), error.tag()), (12, Some(INNER)));
    assert_eq!(
        error.to_string(),
        "non-zero padding after 0x420020 at byte 12"
    );
}

#[test]
fn message_length_reads_the_header_only() {
    let mut text = header(INNER, 0x07, 11);
    assert_eq!(
        binary::message_length(text[..8].try_into().unwrap()),
        Ok(24)
    );
    text[3] = 0x2A;
    assert_eq!(
        binary::message_length(text[..8].try_into().unwrap()),
        Err(DecodeError::UnknownType {
            offset: 0,
            tag: INNER,
            code: 0x2A
        })
    );
    let huge = header(OUTER, 0x01, 0xFFFF_FFF8);
    let huge: &[u8; 8] = huge[..8].try_into().unwrap();
    assert_eq!(binary::message_length(huge), Ok(8 + 0xFFFF_FFF8));
    assert_eq!(
        binary::message_length_with(huge, &Limits::default()),
        Err(DecodeError::MessageTooLarge {
            size: 8 + 0xFFFF_FFF8,
            max: Limits::DEFAULT_MAX_MESSAGE_SIZE
        })
    );
}
