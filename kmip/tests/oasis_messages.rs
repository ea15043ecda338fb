//! Every Request/Response Message of the OASIS KMIP 1.4 and 2.1 test cases decodes into the typed messages
//! and re-encodes to the identical tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kmip::payloads::{RequestPayload, ResponsePayload, TYPED_OPERATIONS};
use kmip::{OperationCode, RequestMessage, ResponseMessage};
use ttlv::{tags, Item, ItemType, Limits, Placeholder, ReadOptions, Value};

const FIXED_NOW: i64 = 1_700_000_000;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/kmip-test-cases")
}

fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            xml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(path);
        }
    }
}

/// Placeholders become fixed values of the declared type; TextString placeholders stay literal.
fn resolve(placeholder: &Placeholder<'_>) -> Option<Value> {
    let offset = placeholder.now_offset();
    Some(match placeholder.item_type {
        ItemType::DateTime => Value::DateTime(FIXED_NOW + offset.unwrap_or(0)),
        ItemType::DateTimeExtended => {
            Value::DateTimeExtended((FIXED_NOW + offset.unwrap_or(0)) * 1_000_000)
        }
        ItemType::ByteString => Value::ByteString(placeholder.name.as_bytes().to_vec()),
        ItemType::Integer => Value::Integer(1),
        ItemType::LongInteger => Value::LongInteger(1),
        ItemType::Interval => Value::Interval(1),
        ItemType::Enumeration => Value::Enumeration(1),
        ItemType::Boolean => Value::Boolean(true),
        ItemType::BigInteger => Value::BigInteger(vec![0; 8]),
        ItemType::TextString | ItemType::Structure => return None,
    })
}

fn read_case(path: &Path) -> Vec<Item> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut resolver = resolve;
    let options = ReadOptions::new(Limits::default()).with_placeholders(&mut resolver);
    ttlv::xml::read_test_case(&text, options).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Default)]
struct Tally {
    files: usize,
    requests: usize,
    responses: usize,
    typed_items: usize,
    /// Response items without a payload (failures, and operations whose response has none).
    items_without_payload: usize,
    /// Items of operations qkms does not type (answered Operation Not Supported), by operation.
    untyped_items: BTreeMap<String, usize>,
    /// Items of typed operations that did not decode: (file, message index, operation, error).
    failures: Vec<String>,
    /// Messages whose re-encoding differs: (file, message index, first difference).
    mismatches: Vec<String>,
}

fn first_difference(a: &Item, b: &Item, path: &str) -> String {
    if a.tag != b.tag {
        return format!("{path}: tag {} vs {}", a.tag, b.tag);
    }
    let here = format!(
        "{path}/{}",
        ttlv::dictionary::tag_name(a.tag).unwrap_or("?")
    );
    match (&a.value, &b.value) {
        (Value::Structure(x), Value::Structure(y)) => {
            for (i, (cx, cy)) in x.iter().zip(y.iter()).enumerate() {
                if cx != cy {
                    return first_difference(cx, cy, &format!("{here}[{i}]"));
                }
            }
            format!("{here}: {} children vs {}", x.len(), y.len())
        }
        (x, y) => format!("{here}: {x:?} vs {y:?}"),
    }
}

fn is_typed(op: Option<OperationCode>) -> bool {
    matches!(op, Some(OperationCode::Known(op)) if TYPED_OPERATIONS.contains(&op))
}

fn label(op: Option<OperationCode>) -> String {
    op.map_or("<none>".to_owned(), |o| o.to_string())
}

fn check_file(path: &Path, tally: &mut Tally) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    tally.files += 1;
    for (index, item) in read_case(path).iter().enumerate() {
        let reencoded = if item.tag == tags::REQUEST_MESSAGE {
            tally.requests += 1;
            let message = RequestMessage::from_ttlv(item)
                .unwrap_or_else(|e| panic!("{name} message {index}: request does not decode: {e}"));
            for batch in &message.items {
                match &batch.payload {
                    RequestPayload::Undecoded(u) if is_typed(u.operation) => {
                        tally.failures.push(format!(
                            "{name} #{index} request {}: {}",
                            label(u.operation),
                            u.error
                        ))
                    }
                    RequestPayload::Undecoded(u) => {
                        *tally.untyped_items.entry(label(u.operation)).or_default() += 1;
                    }
                    _ => tally.typed_items += 1,
                }
            }
            message.to_ttlv()
        } else if item.tag == tags::RESPONSE_MESSAGE {
            tally.responses += 1;
            let message = ResponseMessage::from_ttlv(item).unwrap_or_else(|e| {
                panic!("{name} message {index}: response does not decode: {e}")
            });
            for batch in &message.items {
                match &batch.payload {
                    Some(ResponsePayload::Undecoded(u)) if is_typed(u.operation) => {
                        tally.failures.push(format!(
                            "{name} #{index} response {}: {}",
                            label(u.operation),
                            u.error
                        ))
                    }
                    Some(ResponsePayload::Undecoded(u)) => {
                        *tally.untyped_items.entry(label(u.operation)).or_default() += 1;
                    }
                    Some(_) => tally.typed_items += 1,
                    None => tally.items_without_payload += 1,
                }
            }
            message.to_ttlv()
        } else {
            panic!(
                "{name} message {index}: unexpected top-level {:?}",
                item.tag
            );
        };
        // The typed message also survives the binary wire form.
        let wire = ttlv::binary::encode(&reencoded).unwrap();
        assert_eq!(
            ttlv::binary::decode(&wire).unwrap(),
            reencoded,
            "{name} #{index}: binary round trip"
        );
        if &reencoded != item {
            tally.mismatches.push(format!(
                "{name} #{index}: {}",
                first_difference(item, &reencoded, "")
            ));
        }
    }
}

#[test]
fn every_oasis_message_decodes_and_reencodes_identically() {
    let mut files = Vec::new();
    xml_files(&cases_dir(), &mut files);
    files.sort();
    assert!(
        files.len() >= 154,
        "expected the OASIS test cases, found {} files",
        files.len()
    );
    let mut tally = Tally::default();
    for file in &files {
        check_file(file, &mut tally);
    }
    println!(
        "files {} requests {} responses {} typed payloads {} response items without payload {} \
         untyped (Operation Not Supported) items {:?}",
        tally.files,
        tally.requests,
        tally.responses,
        tally.typed_items,
        tally.items_without_payload,
        tally.untyped_items
    );
    for failure in &tally.failures {
        println!("DECODE FAILURE {failure}");
    }
    for mismatch in &tally.mismatches {
        println!("MISMATCH {mismatch}");
    }
    assert!(
        tally.failures.is_empty(),
        "{} typed items did not decode",
        tally.failures.len()
    );
    assert!(
        tally.mismatches.is_empty(),
        "{} messages re-encode differently",
        tally.mismatches.len()
    );
}
