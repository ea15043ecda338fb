//! KMIP-JSON reader and writer rules, one test per rule.

use ttlv::{json, tags, Item, ItemType, Limits, ReadOptions, Tag, TextErrorKind, Value};

const EXT: Tag = Tag(0x540001);

fn kind(input: &str) -> TextErrorKind {
    json::from_str(input).expect_err("must be rejected").kind
}

#[test]
fn writes_tag_type_value_objects_with_structures_as_arrays() {
    let item = Item::structure(
        tags::BATCH_ITEM,
        vec![
            Item::new(tags::BATCH_COUNT, Value::Integer(2)),
            Item::new(EXT, Value::ByteString(vec![0xAB, 0x01])),
            Item::new(EXT, Value::LongInteger(1 << 60)),
            Item::new(EXT, Value::Boolean(true)),
            Item::structure(tags::REQUEST_PAYLOAD, vec![]),
        ],
    );
    let text = json::to_string(&item).unwrap();
    assert_eq!(
        text,
        r#"{"tag":"BatchItem","value":[{"tag":"BatchCount","type":"Integer","value":2},"#
            .to_owned()
            + r#"{"tag":"0x540001","type":"ByteString","value":"ab01"},"#
            + r#"{"tag":"0x540001","type":"LongInteger","value":"0x1000000000000000"},"#
            + r#"{"tag":"0x540001","type":"Boolean","value":true},"#
            + r#"{"tag":"RequestPayload","value":[]}]}"#
    );
    assert_eq!(json::from_str(&text).unwrap(), item);
    let pretty = json::to_string_pretty(&item).unwrap();
    assert!(
        pretty.contains("\n  \"value\": [") || pretty.contains("\"value\": ["),
        "{pretty}"
    );
    assert_eq!(json::from_str(&pretty).unwrap(), item);
}

#[test]
fn accepts_the_alternative_value_forms() {
    let read = |text: &str| json::from_str(text).unwrap().value;
    assert_eq!(
        read(r#"{"tag":"0x540001","type":"Integer","value":"0x0000000A"}"#),
        Value::Integer(10)
    );
    assert_eq!(
        read(r#"{"tag":"0x540001","type":"Enumeration","value":7}"#),
        Value::Enumeration(7)
    );
    assert_eq!(
        read(r#"{"tag":"0x540001","type":"Boolean","value":"0x0000000000000000"}"#),
        Value::Boolean(false)
    );
    assert_eq!(
        read(r#"{"tag":"0x540001","type":"BigInteger","value":-1}"#),
        Value::BigInteger(vec![0xFF; 8])
    );
    assert_eq!(
        read(r#"{"tag":"0x540001","type":"Interval","value":"0x00000E10"}"#),
        Value::Interval(3600)
    );
    assert_eq!(
        read(r#"{"tag":"0x540001","type":"DateTime","value":"0x0000000000000006"}"#),
        Value::DateTime(6)
    );
    assert_eq!(
        read(r#"{"tag":"BatchItem","type":"Structure","value":[]}"#),
        Value::Structure(vec![])
    );
}

#[test]
fn rejects_unknown_duplicate_and_missing_members() {
    for input in [
        r#"{"tag":"BatchItem","value":[],"extra":1}"#,
        r#"{"tag":"BatchItem","tag":"BatchItem","value":[]}"#,
        r#"{"tag":"BatchItem"}"#,
        r#"{"value":[]}"#,
        r#"{"tag":"BatchItem","value":null}"#,
        r#"{"tag":"BatchItem","value":{}}"#,
    ] {
        assert!(matches!(kind(input), TextErrorKind::Syntax(_)), "{input}");
    }
}

#[test]
fn rejects_unknown_tag_names_and_bad_hex_tags() {
    assert_eq!(
        kind(r#"{"tag":"NoSuchTag","value":[]}"#),
        TextErrorKind::UnknownTagName("NoSuchTag".into())
    );
    assert_eq!(
        kind(r#"{"tag":"0x430001","value":[]}"#),
        TextErrorKind::BadTag("0x430001".into())
    );
}

#[test]
fn rejects_unknown_type_names() {
    assert_eq!(
        kind(r#"{"tag":"BatchCount","type":"int","value":1}"#),
        TextErrorKind::UnknownType("int".into())
    );
}

#[test]
fn structures_need_arrays_and_primitives_refuse_them() {
    assert_eq!(
        kind(r#"{"tag":"BatchItem","value":"x"}"#),
        TextErrorKind::StructureWithValue {
            tag: tags::BATCH_ITEM
        }
    );
    assert_eq!(
        kind(r#"{"tag":"BatchCount","type":"Integer","value":[]}"#),
        TextErrorKind::ChildrenInPrimitive {
            tag: tags::BATCH_COUNT,
            item_type: ItemType::Integer
        }
    );
}

#[test]
fn rejects_values_of_the_wrong_json_kind() {
    for input in [
        r#"{"tag":"BatchCount","type":"Integer","value":true}"#,
        r#"{"tag":"BatchCount","type":"Integer","value":1.5}"#,
        r#"{"tag":"BatchCount","type":"Integer","value":2147483648}"#,
        r#"{"tag":"BatchCount","type":"Integer","value":"12"}"#,
        r#"{"tag":"0x540001","type":"TextString","value":1}"#,
        r#"{"tag":"0x540001","type":"ByteString","value":"0xab"}"#,
        r#"{"tag":"0x540001","type":"Boolean","value":"true"}"#,
    ] {
        assert!(
            matches!(kind(input), TextErrorKind::BadValue { .. }),
            "{input}"
        );
    }
}

#[test]
fn rejects_trailing_content_and_non_objects() {
    for input in [
        "",
        "[]",
        "1",
        r#"{"tag":"BatchItem","value":[]} {}"#,
        r#"{"tag":"BatchItem","value":[]"#,
    ] {
        assert!(matches!(kind(input), TextErrorKind::Syntax(_)), "{input}");
    }
}

#[test]
fn enforces_depth_item_and_size_limits() {
    let nested =
        |depth: usize| r#"{"tag":"BatchItem","value":["#.repeat(depth) + &"]}".repeat(depth);
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(json::from_str_with(&nested(3), ReadOptions::new(limits)).is_ok());
    assert_eq!(
        json::from_str_with(&nested(4), ReadOptions::new(limits))
            .unwrap_err()
            .kind,
        TextErrorKind::TooDeep { limit: 3 }
    );
    assert!(matches!(
        kind(&nested(100_000)),
        TextErrorKind::TooDeep { .. }
    ));

    let limits = Limits {
        max_items: 2,
        ..Limits::default()
    };
    let wide = r#"{"tag":"BatchItem","value":[{"tag":"BatchItem","value":[]},{"tag":"BatchItem","value":[]}]}"#;
    assert_eq!(
        json::from_str_with(wide, ReadOptions::new(limits))
            .unwrap_err()
            .kind,
        TextErrorKind::TooManyItems { limit: 2 }
    );

    let limits = Limits {
        max_message_size: 10,
        ..Limits::default()
    };
    let error = json::from_str_with(
        r#"{"tag":"BatchItem","value":[]}"#,
        ReadOptions::new(limits),
    )
    .unwrap_err();
    assert_eq!(error.kind, TextErrorKind::InputTooLarge { limit: 10 });
}

#[test]
fn errors_report_position_or_path() {
    let error = json::from_str("{\n\"tag\": 1}").unwrap_err();
    assert_eq!(error.location.line, Some(2));
    let error = json::from_str(
        r#"{"tag":"BatchItem","value":[{"tag":"BatchCount","type":"Integer","value":"x"}]}"#,
    )
    .unwrap_err();
    assert_eq!(error.location.path, "BatchItem/BatchCount");
}

#[test]
fn writer_escapes_control_characters_and_refuses_bad_tags() {
    let item = Item::new(EXT, Value::TextString("\u{1}\"\\\n".into()));
    let text = json::to_string(&item).unwrap();
    assert!(text.contains(r#""\u0001\"\\\n""#), "{text}");
    assert_eq!(json::from_str(&text).unwrap(), item);
    let bad_tag = Item::new(Tag(0x010203), Value::Integer(1));
    assert!(matches!(
        json::to_string(&bad_tag).unwrap_err().kind,
        TextErrorKind::NotRepresentable { .. }
    ));
}
