//! KMIP-XML reader and writer rules, one test per rule.

use ttlv::{tags, xml, Item, ItemType, Limits, ReadOptions, Tag, TextErrorKind, Value};

const EXT: Tag = Tag(0x540001);

fn kind(input: &str) -> TextErrorKind {
    xml::from_str(input).expect_err("must be rejected").kind
}

fn kind_with(input: &str, limits: Limits) -> TextErrorKind {
    xml::from_str_with(input, ReadOptions::new(limits))
        .expect_err("must be rejected")
        .kind
}

#[test]
fn writes_structures_without_type_and_unnamed_tags_as_ttlv() {
    let item = Item::structure(
        tags::BATCH_ITEM,
        vec![
            Item::new(tags::BATCH_COUNT, Value::Integer(2)),
            Item::new(EXT, Value::TextString("a\"<&>\n".into())),
            Item::structure(tags::REQUEST_PAYLOAD, vec![]),
        ],
    );
    let text = xml::to_string(&item).unwrap();
    assert_eq!(
        text,
        "<BatchItem><BatchCount type=\"Integer\" value=\"2\"/>\
         <TTLV tag=\"0x540001\" type=\"TextString\" value=\"a&quot;&lt;&amp;&gt;&#10;\"/>\
         <RequestPayload/></BatchItem>"
    );
    assert_eq!(xml::from_str(&text).unwrap(), item);
    let pretty = xml::to_string_pretty(&item).unwrap();
    assert!(pretty.contains("\n  <BatchCount"), "{pretty}");
    assert_eq!(xml::from_str(&pretty).unwrap(), item);
}

#[test]
fn accepts_declaration_comments_and_explicit_end_tags() {
    let text = "<?xml version=\"1.0\"?>\n<!-- c --><BatchItem type=\"Structure\">\n\
                <BatchCount type=\"Integer\" value=\"1\"></BatchCount><!-- d -->\n</BatchItem>\n";
    let item = xml::from_str(text).unwrap();
    assert_eq!(
        item,
        Item::structure(
            tags::BATCH_ITEM,
            vec![Item::new(tags::BATCH_COUNT, Value::Integer(1))]
        )
    );
}

#[test]
fn rejects_unknown_element_names() {
    assert_eq!(
        kind("<NoSuchTag/>"),
        TextErrorKind::UnknownTagName("NoSuchTag".into())
    );
}

#[test]
fn rejects_unknown_type_names() {
    assert_eq!(
        kind(r#"<BatchCount type="Int" value="1"/>"#),
        TextErrorKind::UnknownType("Int".into())
    );
}

#[test]
fn rejects_bad_values_naming_tag_and_type() {
    match kind(r#"<BatchCount type="Integer" value="one"/>"#) {
        TextErrorKind::BadValue { tag, item_type, .. } => {
            assert_eq!((tag, item_type), (tags::BATCH_COUNT, ItemType::Integer));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rejects_unknown_enumeration_names() {
    assert_eq!(
        kind(r#"<TTLV tag="0x540001" type="Enumeration" value="Nope"/>"#),
        TextErrorKind::UnknownEnumName {
            tag: EXT,
            name: "Nope".into()
        }
    );
}

#[test]
fn rejects_unexpected_attributes() {
    assert_eq!(
        kind(r#"<BatchCount type="Integer" value="1" x="y"/>"#),
        TextErrorKind::UnexpectedAttribute("x".into())
    );
    assert_eq!(
        kind(r#"<BatchCount tag="0x540001" type="Integer" value="1"/>"#),
        TextErrorKind::UnexpectedAttribute("tag".into())
    );
    assert!(matches!(
        kind(r#"<BatchCount type="Integer" type="Integer" value="1"/>"#),
        TextErrorKind::Syntax(_)
    ));
}

#[test]
fn rejects_structures_with_values_and_primitives_without() {
    assert_eq!(
        kind(r#"<BatchItem value="1"/>"#),
        TextErrorKind::StructureWithValue {
            tag: tags::BATCH_ITEM
        }
    );
    assert_eq!(
        kind(r#"<BatchCount type="Integer"/>"#),
        TextErrorKind::MissingValue {
            tag: tags::BATCH_COUNT,
            item_type: ItemType::Integer
        }
    );
}

#[test]
fn rejects_children_inside_primitives() {
    assert_eq!(
        kind(r#"<BatchCount type="Integer" value="1"><BatchItem/></BatchCount>"#),
        TextErrorKind::ChildrenInPrimitive {
            tag: tags::BATCH_COUNT,
            item_type: ItemType::Integer
        }
    );
}

#[test]
fn rejects_text_cdata_doctype_and_processing_instructions() {
    for input in [
        "<BatchItem>text</BatchItem>",
        "<BatchItem><![CDATA[x]]></BatchItem>",
        "<!DOCTYPE x><BatchItem/>",
        "<BatchItem><?pi x?></BatchItem>",
        "<BatchItem>&amp;</BatchItem>",
    ] {
        assert!(
            matches!(kind(input), TextErrorKind::UnexpectedContent(_)),
            "{input}"
        );
    }
}

#[test]
fn rejects_malformed_xml() {
    for input in [
        "<BatchItem>",
        "<BatchItem></BatchCount>",
        "<BatchItem",
        "</BatchItem>",
        "<BatchItem/><",
    ] {
        assert!(matches!(kind(input), TextErrorKind::Syntax(_)), "{input}");
    }
}

#[test]
fn rejects_characters_xml_cannot_carry() {
    assert!(matches!(
        kind(r#"<TTLV tag="0x540001" type="TextString" value="&#1;"/>"#),
        TextErrorKind::Syntax(_)
    ));
    assert!(matches!(
        kind(r#"<TTLV tag="0x540001" type="TextString" value="&bogus;"/>"#),
        TextErrorKind::Syntax(_)
    ));
}

#[test]
fn requires_exactly_one_root() {
    assert_eq!(kind(""), TextErrorKind::NoRoot);
    assert_eq!(kind("<!-- only -->"), TextErrorKind::NoRoot);
    assert_eq!(
        kind("<BatchItem/><BatchItem/>"),
        TextErrorKind::MultipleRoots
    );
}

#[test]
fn unnamed_elements_need_a_tag_in_the_kmip_ranges() {
    assert!(matches!(
        kind(r#"<TTLV type="Integer" value="1"/>"#),
        TextErrorKind::Syntax(_)
    ));
    assert_eq!(
        kind(r#"<TTLV tag="0x430001" type="Integer" value="1"/>"#),
        TextErrorKind::BadTag("0x430001".into())
    );
    assert_eq!(
        kind(r#"<TTLV tag="0x5400011" type="Integer" value="1"/>"#),
        TextErrorKind::BadTag("0x5400011".into())
    );
}

#[test]
fn enforces_depth_item_and_size_limits() {
    let nested = |depth: usize| "<BatchItem>".repeat(depth) + &"</BatchItem>".repeat(depth);
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(xml::from_str_with(&nested(3), ReadOptions::new(limits)).is_ok());
    assert_eq!(
        kind_with(&nested(4), limits),
        TextErrorKind::TooDeep { limit: 3 }
    );
    assert!(matches!(
        kind(&nested(100_000)),
        TextErrorKind::TooDeep { .. }
    ));

    let limits = Limits {
        max_items: 3,
        ..Limits::default()
    };
    let wide = |n: usize| {
        format!(
            "<BatchItem>{}</BatchItem>",
            "<BatchCount type=\"Integer\" value=\"1\"/>".repeat(n)
        )
    };
    assert!(xml::from_str_with(&wide(2), ReadOptions::new(limits)).is_ok());
    assert_eq!(
        kind_with(&wide(3), limits),
        TextErrorKind::TooManyItems { limit: 3 }
    );

    let limits = Limits {
        max_message_size: 10,
        ..Limits::default()
    };
    assert_eq!(
        kind_with("<BatchItem/>", limits),
        TextErrorKind::InputTooLarge { limit: 10 }
    );
}

#[test]
fn errors_report_line_column_and_path() {
    let input = "<BatchItem>\n  <RequestPayload>\n    <BatchCount type=\"Integer\" value=\"x\"/>\n";
    let error = xml::from_str(input).unwrap_err();
    assert_eq!(error.location.line, Some(3));
    assert_eq!(error.location.column, Some(5));
    assert_eq!(error.location.path, "BatchItem/RequestPayload/BatchCount");
    assert!(error.to_string().contains("line 3, column 5"), "{error}");
}

#[test]
fn placeholders_are_plain_data_without_a_resolver() {
    let text = r#"<TTLV tag="0x540001" type="TextString" value="$UNIQUE_IDENTIFIER_0"/>"#;
    assert_eq!(
        xml::from_str(text).unwrap().value,
        Value::TextString("$UNIQUE_IDENTIFIER_0".into())
    );
    assert!(matches!(
        kind(r#"<TimeStamp type="DateTime" value="$NOW"/>"#),
        TextErrorKind::BadValue { .. }
    ));
}

#[test]
fn unresolved_non_text_placeholders_are_errors_in_test_cases() {
    let text = r#"<KMIP><RequestMessage><TimeStamp type="DateTime" value="$NOW"/></RequestMessage></KMIP>"#;
    let mut resolver = |_: &ttlv::Placeholder<'_>| None;
    let error = xml::read_test_case(
        text,
        ReadOptions::default().with_placeholders(&mut resolver),
    )
    .unwrap_err();
    assert_eq!(
        error.kind,
        TextErrorKind::UnresolvedPlaceholder {
            tag: tags::TIME_STAMP,
            item_type: ItemType::DateTime,
            name: "NOW".into()
        }
    );
}

#[test]
fn test_case_documents_need_a_kmip_root() {
    let read = |text: &str| xml::read_test_case(text, ReadOptions::default());
    assert_eq!(
        read("<Kmip/>").unwrap_err().kind,
        TextErrorKind::WrongDocumentRoot("Kmip".into())
    );
    assert_eq!(
        read("<KMIP a=\"b\"/>").unwrap_err().kind,
        TextErrorKind::WrongDocumentRoot("KMIP".into())
    );
    assert_eq!(read("").unwrap_err().kind, TextErrorKind::NoRoot);
    assert_eq!(
        read("<KMIP/><KMIP/>").unwrap_err().kind,
        TextErrorKind::MultipleRoots
    );
    assert_eq!(read("<KMIP/>").unwrap(), Vec::<Item>::new());
    let two = read("<KMIP><!-- x --><RequestMessage/><ResponseMessage/></KMIP>").unwrap();
    assert_eq!(
        two.iter().map(|m| m.tag).collect::<Vec<_>>(),
        vec![tags::REQUEST_MESSAGE, tags::RESPONSE_MESSAGE]
    );
}

#[test]
fn writer_refuses_tags_xml_cannot_express_and_replaces_characters_it_cannot_carry() {
    let bad_tag = Item::new(Tag(0x010203), Value::Integer(1));
    assert!(matches!(
        xml::to_string(&bad_tag).unwrap_err().kind,
        TextErrorKind::NotRepresentable { .. }
    ));
    // Text XML 1.0 cannot carry is still written, well-formed, with the replacement character in its place.
    let control = Item::new(EXT, Value::TextString("a\u{1}b".into()));
    let written = xml::to_string(&control).unwrap();
    assert_eq!(
        xml::from_str(&written).unwrap().value,
        Value::TextString(format!("a{}b", xml::REPLACEMENT))
    );
}
