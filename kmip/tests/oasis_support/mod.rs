//! Shared by the OASIS sweeps of attributes and managed objects: every test-case file, its messages with
//! placeholders resolved to stand-in values, and each message's protocol version.
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::path::{Path, PathBuf};

use kmip::ProtocolVersion;
use ttlv::text_values::{Placeholder, ReadOptions};
use ttlv::{tags, Item, ItemType, Value};

pub fn case_files() -> Vec<PathBuf> {
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

pub fn read_messages(path: &Path) -> Vec<(ProtocolVersion, Item)> {
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

pub fn visit<'a>(item: &'a Item, out: &mut Vec<&'a Item>) {
    out.push(item);
    for child in item.children() {
        visit(child, out);
    }
}
