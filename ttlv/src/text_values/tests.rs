use super::*;

const T: Tag = Tag(0x540001);

fn xml(item_type: ItemType, text: &str) -> ValueResult {
    parse_text(Dialect::Xml, T, T, item_type, text)
}

fn json(item_type: ItemType, text: &str) -> ValueResult {
    parse_text(Dialect::Json, T, T, item_type, text)
}

fn is_bad_value(result: ValueResult) -> bool {
    matches!(result, Err(TextErrorKind::BadValue { .. }))
}

#[test]
fn integers_accept_decimal_and_bounded_hex_only() {
    assert_eq!(xml(ItemType::Integer, "-5"), Ok(Value::Integer(-5)));
    assert_eq!(xml(ItemType::Integer, "0xFFFFFFFF"), Ok(Value::Integer(-1)));
    assert!(is_bad_value(xml(ItemType::Integer, "0x100000000")));
    assert!(is_bad_value(xml(ItemType::Integer, "2147483648")));
    assert!(is_bad_value(xml(ItemType::Integer, " 1")));
    assert!(is_bad_value(xml(ItemType::Integer, "0x")));
    assert!(is_bad_value(xml(ItemType::Integer, "")));
    assert_eq!(
        xml(ItemType::LongInteger, "-9223372036854775808"),
        Ok(Value::LongInteger(i64::MIN))
    );
    assert_eq!(
        xml(ItemType::LongInteger, "0x8000000000000000"),
        Ok(Value::LongInteger(i64::MIN))
    );
    assert!(is_bad_value(xml(ItemType::LongInteger, "1.5")));
    assert_eq!(
        xml(ItemType::Interval, "4294967295"),
        Ok(Value::Interval(u32::MAX))
    );
    assert!(is_bad_value(xml(ItemType::Interval, "-1")));
}

#[test]
fn unnamed_enumerations_are_hex_and_unknown_names_are_named_errors() {
    assert_eq!(
        xml(ItemType::Enumeration, "0x80000001"),
        Ok(Value::Enumeration(0x8000_0001))
    );
    assert_eq!(xml(ItemType::Enumeration, "7"), Ok(Value::Enumeration(7)));
    assert!(is_bad_value(xml(ItemType::Enumeration, "0x1000000000")));
    assert_eq!(
        xml(ItemType::Enumeration, "NoSuchName"),
        Err(TextErrorKind::UnknownEnumName {
            tag: T,
            name: "NoSuchName".into()
        })
    );
    assert_eq!(
        format_scalar(Dialect::Xml, T, &Value::Enumeration(10)),
        Scalar::Text("0x0000000A".into())
    );
}

#[test]
fn big_integers_are_hex_in_canonical_form() {
    assert_eq!(
        xml(ItemType::BigInteger, "010001"),
        Ok(Value::BigInteger(vec![0, 0, 0, 0, 0, 1, 0, 1]))
    );
    assert_eq!(
        xml(ItemType::BigInteger, "ff"),
        Ok(Value::BigInteger(vec![0xFF; 8]))
    );
    assert!(is_bad_value(xml(ItemType::BigInteger, "0x0100")));
    assert!(is_bad_value(xml(ItemType::BigInteger, "")));
    assert!(is_bad_value(xml(ItemType::BigInteger, "123")));
    assert_eq!(
        json(ItemType::BigInteger, "0x0100"),
        Ok(Value::BigInteger(vec![0, 0, 0, 0, 0, 0, 1, 0]))
    );
    assert!(is_bad_value(json(ItemType::BigInteger, "0100")));
    let written = format_scalar(Dialect::Json, T, &Value::BigInteger(vec![0x80]));
    assert_eq!(written, Scalar::Text("0xffffffffffffff80".into()));
}

#[test]
fn byte_strings_are_unprefixed_even_hex() {
    assert_eq!(xml(ItemType::ByteString, ""), Ok(Value::ByteString(vec![])));
    assert_eq!(
        xml(ItemType::ByteString, "00aB"),
        Ok(Value::ByteString(vec![0, 0xAB]))
    );
    assert!(is_bad_value(xml(ItemType::ByteString, "0x00")));
    assert!(is_bad_value(xml(ItemType::ByteString, "abc")));
}

#[test]
fn byte_string_errors_never_quote_the_bytes() {
    let err = xml(ItemType::ByteString, "secretsecret").unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[test]
fn booleans_follow_each_dialect() {
    assert_eq!(xml(ItemType::Boolean, "true"), Ok(Value::Boolean(true)));
    assert_eq!(xml(ItemType::Boolean, "0"), Ok(Value::Boolean(false)));
    assert!(is_bad_value(xml(ItemType::Boolean, "True")));
    assert_eq!(
        json(ItemType::Boolean, "0x0000000000000001"),
        Ok(Value::Boolean(true))
    );
    assert!(is_bad_value(json(ItemType::Boolean, "0x0000000000000002")));
    assert!(is_bad_value(json(ItemType::Boolean, "true")));
}

#[test]
fn date_times_are_iso_8601_with_offset_and_whole_seconds() {
    assert_eq!(
        xml(ItemType::DateTime, "1970-01-01T00:00:06+00:00"),
        Ok(Value::DateTime(6))
    );
    assert_eq!(
        xml(ItemType::DateTime, "2000-02-02T00:00:00+10:00"),
        Ok(Value::DateTime(949_413_600))
    );
    assert!(is_bad_value(xml(ItemType::DateTime, "2000-02-02T00:00:00")));
    assert!(is_bad_value(xml(
        ItemType::DateTime,
        "2000-02-02T00:00:00.5Z"
    )));
    assert!(is_bad_value(xml(ItemType::DateTime, "$NOW")));
    assert_eq!(
        format_scalar(Dialect::Xml, T, &Value::DateTime(6)),
        Scalar::Text("1970-01-01T00:00:06+00:00".into())
    );
    assert_eq!(
        xml(ItemType::DateTimeExtended, "1970-01-01T00:00:01.000002Z"),
        Ok(Value::DateTimeExtended(1_000_002))
    );
    assert!(is_bad_value(xml(
        ItemType::DateTimeExtended,
        "1970-01-01T00:00:01.0000021Z"
    )));
    assert_eq!(
        format_scalar(Dialect::Json, T, &Value::DateTimeExtended(-1)),
        Scalar::Text("1969-12-31T23:59:59.999999+00:00".into())
    );
}

#[test]
fn date_times_beyond_iso_years_round_trip_as_hex() {
    for seconds in [i64::MIN, ISO_MIN_SECONDS - 1, ISO_MAX_SECONDS + 1, i64::MAX] {
        let Scalar::Text(text) = format_scalar(Dialect::Xml, T, &Value::DateTime(seconds)) else {
            panic!("date-times are text")
        };
        assert!(text.starts_with("0x"), "{text}");
        assert_eq!(xml(ItemType::DateTime, &text), Ok(Value::DateTime(seconds)));
    }
    for seconds in [ISO_MIN_SECONDS, ISO_MAX_SECONDS] {
        let Scalar::Text(text) = format_scalar(Dialect::Xml, T, &Value::DateTime(seconds)) else {
            panic!("date-times are text")
        };
        assert!(!text.starts_with("0x"), "{text}");
        assert_eq!(xml(ItemType::DateTime, &text), Ok(Value::DateTime(seconds)));
    }
}

#[test]
fn json_long_integers_beyond_double_precision_are_hex() {
    assert_eq!(
        format_scalar(Dialect::Json, T, &Value::LongInteger(1 << 52)),
        Scalar::Text("0x0010000000000000".into())
    );
    assert_eq!(
        format_scalar(Dialect::Json, T, &Value::LongInteger((1 << 52) - 1)),
        Scalar::Int((1 << 52) - 1)
    );
    assert_eq!(
        format_scalar(Dialect::Xml, T, &Value::LongInteger(1 << 60)),
        Scalar::Int(1 << 60)
    );
}

#[test]
fn json_numbers_are_range_checked_integers() {
    let n = |v: i64| serde_json::Number::from(v);
    assert_eq!(
        parse_json_number(T, ItemType::Integer, &n(-3)),
        Ok(Value::Integer(-3))
    );
    assert!(parse_json_number(T, ItemType::Integer, &n(1 << 31)).is_err());
    assert!(parse_json_number(T, ItemType::Enumeration, &n(-1)).is_err());
    assert!(parse_json_number(T, ItemType::TextString, &n(1)).is_err());
    assert_eq!(
        parse_json_number(T, ItemType::BigInteger, &n(-1)),
        Ok(Value::BigInteger(vec![0xFF; 8]))
    );
    let fraction = serde_json::Number::from_f64(1.5).unwrap();
    assert!(parse_json_number(T, ItemType::Interval, &fraction).is_err());
    let huge = serde_json::Number::from(u64::MAX);
    assert_eq!(
        parse_json_number(T, ItemType::LongInteger, &huge).ok(),
        None
    );
}

#[test]
fn placeholders_need_an_upper_case_name_and_optional_offset() {
    assert_eq!(Placeholder::parse("$NOW-3600"), Some("NOW-3600"));
    assert_eq!(
        Placeholder::parse("$UNIQUE_IDENTIFIER_0"),
        Some("UNIQUE_IDENTIFIER_0")
    );
    assert_eq!(Placeholder::parse("$now"), None);
    assert_eq!(Placeholder::parse("$NOW-"), None);
    assert_eq!(Placeholder::parse("NOW"), None);
    let at = |name| {
        Placeholder {
            name,
            tag: T,
            item_type: ItemType::DateTime,
        }
        .now_offset()
    };
    assert_eq!(at("NOW"), Some(0));
    assert_eq!(at("NOW+3600"), Some(3600));
    assert_eq!(at("NOW-3600"), Some(-3600));
    assert_eq!(at("NOWX"), None);
}

#[test]
fn resolver_results_must_match_the_declared_type() {
    let mut to_text = |_: &Placeholder<'_>| Some(Value::TextString("x".into()));
    let mut resolver: Option<&mut PlaceholderResolver<'_>> = Some(&mut to_text);
    assert_eq!(
        resolve_or_parse(
            &mut resolver,
            Dialect::Xml,
            T,
            T,
            ItemType::DateTime,
            "$NOW"
        ),
        Err(TextErrorKind::PlaceholderTypeMismatch {
            tag: T,
            expected: ItemType::DateTime,
            got: ItemType::TextString
        })
    );
    let mut nothing = |_: &Placeholder<'_>| None;
    let mut resolver: Option<&mut PlaceholderResolver<'_>> = Some(&mut nothing);
    assert_eq!(
        resolve_or_parse(
            &mut resolver,
            Dialect::Xml,
            T,
            T,
            ItemType::TextString,
            "$UID"
        ),
        Ok(Value::TextString("$UID".into()))
    );
    assert_eq!(
        resolve_or_parse(
            &mut resolver,
            Dialect::Xml,
            T,
            T,
            ItemType::ByteString,
            "$DATA"
        ),
        Err(TextErrorKind::UnresolvedPlaceholder {
            tag: T,
            item_type: ItemType::ByteString,
            name: "DATA".into()
        })
    );
}
