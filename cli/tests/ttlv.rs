//! `qkms ttlv encode` and `decode` against the OASIS test cases: text → wire → text gives the same tree.

use std::io::Write;
use std::process::{Command, Stdio};

fn qkms(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qkms"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qkms runs");
    child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(stdin)
        .expect("stdin written");
    child.wait_with_output().expect("qkms finishes")
}

const CASE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../conformance/kmip-test-cases/kmip-v2.1/mandatory/AKLC-M-1-21.xml"
);

#[test]
fn a_test_case_document_encodes_and_decodes_back_to_the_same_messages() {
    let encoded = qkms(&["ttlv", "encode", "--now", "1700000000", CASE], b"");
    assert!(
        encoded.status.success(),
        "{}",
        String::from_utf8_lossy(&encoded.stderr)
    );
    let hex_text = String::from_utf8(encoded.stdout).unwrap();
    assert!(
        hex_text.starts_with("420078"),
        "a RequestMessage comes first: {}",
        &hex_text[..16]
    );

    let decoded = qkms(&["ttlv", "decode", "--to", "xml"], hex_text.as_bytes());
    assert!(
        decoded.status.success(),
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    let xml = String::from_utf8(decoded.stdout).unwrap();
    let document = format!("<KMIP>{xml}</KMIP>");
    let mut resolve = |p: &ttlv::Placeholder<'_>| {
        p.now_offset()
            .map(|o| ttlv::Value::DateTime(1_700_000_000 + o))
    };
    let options = ttlv::ReadOptions::new(ttlv::Limits::default()).with_placeholders(&mut resolve);
    let original =
        ttlv::xml::read_test_case(&std::fs::read_to_string(CASE).unwrap(), options).unwrap();
    let round_tripped =
        ttlv::xml::read_test_case(&document, ttlv::ReadOptions::new(ttlv::Limits::default()))
            .unwrap();
    assert_eq!(original, round_tripped);
}

#[test]
fn binary_input_decodes_to_json_and_tree() {
    let encoded = qkms(&["ttlv", "encode", "--to", "binary", CASE], b"");
    assert!(
        encoded.status.success(),
        "{}",
        String::from_utf8_lossy(&encoded.stderr)
    );
    assert!(encoded.status.success());
    let json = qkms(
        &["ttlv", "decode", "--from", "binary", "--to", "json"],
        &encoded.stdout,
    );
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let text = String::from_utf8(json.stdout).unwrap();
    assert!(
        text.contains("\"tag\": \"RequestMessage\"") || text.contains("\"tag\":\"RequestMessage\""),
        "{text}"
    );

    let tree = qkms(&["ttlv", "decode", "--to", "tree"], &encoded.stdout);
    let text = String::from_utf8(tree.stdout).unwrap();
    assert!(
        text.contains("Operation (0x42005C) Enumeration: CreateKeyPair"),
        "{text}"
    );
}

#[test]
fn a_corrupt_capture_fails_with_a_message_naming_the_offset() {
    let output = qkms(&["ttlv", "decode"], b"4200780100000010420077");
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("byte 0"), "{error}");
}
