//! Every message of every OASIS KMIP 1.4 and 2.1 test case survives KMIP-XML -> binary TTLV -> tree, and
//! tree -> KMIP-XML / KMIP-JSON -> tree, unchanged.

use std::path::{Path, PathBuf};

use ttlv::{binary, json, tags, xml, Item, ItemType, Placeholder, ReadOptions, Value};

/// The instant `$NOW` stands for in these tests.
const NOW: i64 = 1_700_000_000;

fn test_case_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/kmip-test-cases");
    let mut files = Vec::new();
    for version in ["kmip-v1.4", "kmip-v2.1"] {
        for kind in ["mandatory", "optional"] {
            let dir = root.join(version).join(kind);
            for entry in
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "xml") {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    files
}

/// Resolves date-time placeholders relative to [`NOW`] and byte-string placeholders to their name's bytes;
/// text placeholders stay text.
fn resolve(placeholder: &Placeholder<'_>) -> Option<Value> {
    match placeholder.item_type {
        ItemType::DateTime => placeholder
            .now_offset()
            .map(|offset| Value::DateTime(NOW + offset)),
        ItemType::ByteString => Some(Value::ByteString(placeholder.name.as_bytes().to_vec())),
        _ => None,
    }
}

fn read_messages(path: &Path) -> Vec<Item> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut resolver = resolve;
    xml::read_test_case(
        &text,
        ReadOptions::default().with_placeholders(&mut resolver),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_oasis_message_round_trips_through_binary_xml_and_json() {
    let files = test_case_files();
    assert!(
        files.len() >= 154,
        "expected the OASIS test cases, found {} files",
        files.len()
    );
    let mut messages = 0;
    for path in &files {
        let name = path.display();
        let read = read_messages(path);
        assert!(!read.is_empty(), "{name}: no messages");
        for (index, message) in read.iter().enumerate() {
            assert!(
                message.tag == tags::REQUEST_MESSAGE || message.tag == tags::RESPONSE_MESSAGE,
                "{name} #{index}: root {:?}",
                message.tag
            );
            let wire =
                binary::encode(message).unwrap_or_else(|e| panic!("{name} #{index}: encode: {e}"));
            let decoded =
                binary::decode(&wire).unwrap_or_else(|e| panic!("{name} #{index}: decode: {e}"));
            assert_eq!(&decoded, message, "{name} #{index}: binary round trip");

            for (label, text) in [
                ("xml", xml::to_string(message)),
                ("pretty xml", xml::to_string_pretty(message)),
            ] {
                let text = text.unwrap_or_else(|e| panic!("{name} #{index}: write {label}: {e}"));
                let back = xml::from_str(&text)
                    .unwrap_or_else(|e| panic!("{name} #{index}: read {label}: {e}"));
                assert_eq!(&back, message, "{name} #{index}: {label} round trip");
            }
            for (label, text) in [
                ("json", json::to_string(message)),
                ("pretty json", json::to_string_pretty(message)),
            ] {
                let text = text.unwrap_or_else(|e| panic!("{name} #{index}: write {label}: {e}"));
                let back = json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{name} #{index}: read {label}: {e}"));
                assert_eq!(&back, message, "{name} #{index}: {label} round trip");
            }
            messages += 1;
        }
    }
    println!(
        "OASIS round trip: {} files, {messages} messages",
        files.len()
    );
}

#[test]
fn whole_test_case_documents_rewrite_to_the_same_messages() {
    for path in test_case_files() {
        let messages = read_messages(&path);
        let document = xml::write_test_case(&messages).unwrap();
        let again = xml::read_test_case(&document, ReadOptions::default()).unwrap();
        assert_eq!(again, messages, "{}", path.display());
    }
}

#[test]
fn text_placeholders_stay_literal_for_the_runner() {
    let path = test_case_files()
        .into_iter()
        .find(|p| p.ends_with("AKLC-M-1-14.xml"))
        .unwrap();
    let messages = read_messages(&path);
    let response = &messages[1];
    let payload = response
        .child(tags::BATCH_ITEM)
        .and_then(|b| b.child(tags::RESPONSE_PAYLOAD))
        .unwrap();
    let private_id = payload.child(tags::PRIVATE_KEY_UNIQUE_IDENTIFIER).unwrap();
    assert_eq!(
        private_id.value,
        Value::TextString("$UNIQUE_IDENTIFIER_0".into())
    );
}

#[test]
fn date_time_placeholders_resolve_through_the_callers_resolver() {
    let text = r#"<KMIP><RequestMessage><TimeStamp type="DateTime" value="$NOW-3600"/></RequestMessage></KMIP>"#;
    let mut seen = Vec::new();
    let mut resolver = |p: &Placeholder<'_>| {
        seen.push((p.name.to_owned(), p.tag, p.item_type));
        resolve(p)
    };
    let messages = xml::read_test_case(
        text,
        ReadOptions::default().with_placeholders(&mut resolver),
    )
    .unwrap();
    assert_eq!(messages[0].children()[0].value, Value::DateTime(NOW - 3600));
    assert_eq!(
        seen,
        vec![("NOW-3600".to_owned(), tags::TIME_STAMP, ItemType::DateTime)]
    );
}

/// Hex forms appear only where the source itself has them: enumerations, masks and tags are written by
/// name wherever the dictionary and the attribute context know one.
#[test]
fn rewritten_documents_use_names_where_the_source_does() {
    let hex_values = |text: &str| text.matches("value=\"0x").count();
    for path in test_case_files() {
        let source = std::fs::read_to_string(&path).unwrap();
        let written = xml::write_test_case(&read_messages(&path)).unwrap();
        assert_eq!(
            hex_values(&written),
            hex_values(&source),
            "{}\n{written}",
            path.display()
        );
        assert!(!written.contains("<TTLV"), "{}", path.display());
    }
}
