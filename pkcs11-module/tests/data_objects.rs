//! CKO_DATA objects against a real server: CKA_APPLICATION, CKA_OBJECT_ID (an OID, kept byte for byte), CKA_VALUE
//! and CKA_LABEL are stored, read back, matched by C_FindObjects and changed by C_SetAttributeValue.
#![allow(unsafe_code)]

mod common;
mod raw_support;

use cryptoki_sys::*;
use raw_support::{attribute, bytes_attribute, Token, FALSE, TRUE};

/// DER of the OID 1.2.840.113549.1.7.1 (PKCS#7 data) and of 2.5.4.3 (commonName).
const OID_DATA: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01,
];
const OID_CN: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];

fn data_object(
    token: &Token,
    label: &str,
    application: &str,
    oid: &[u8],
    value: &[u8],
) -> Result<CK_OBJECT_HANDLE, CK_RV> {
    let class = CKO_DATA;
    let mut template = [
        attribute(CKA_CLASS, &class),
        attribute(CKA_TOKEN, &TRUE),
        attribute(CKA_PRIVATE, &FALSE),
        bytes_attribute(CKA_LABEL, label.as_bytes()),
        bytes_attribute(CKA_APPLICATION, application.as_bytes()),
        bytes_attribute(CKA_OBJECT_ID, oid),
        bytes_attribute(CKA_VALUE, value),
    ];
    token.create(&mut template)
}

#[test]
fn a_data_object_keeps_its_application_object_id_value_and_label() {
    let token = Token::open();
    let object = data_object(&token, "d1", "qkms tests", OID_DATA, b"payload").unwrap();
    assert_eq!(
        token.get(object, CKA_CLASS).unwrap(),
        CKO_DATA.to_ne_bytes()
    );
    assert_eq!(token.get(object, CKA_LABEL).unwrap(), b"d1");
    assert_eq!(token.get(object, CKA_APPLICATION).unwrap(), b"qkms tests");
    assert_eq!(token.get(object, CKA_OBJECT_ID).unwrap(), OID_DATA);
    assert_eq!(token.get(object, CKA_VALUE).unwrap(), b"payload");
    assert_eq!(token.get(object, CKA_ID), Err(CKR_ATTRIBUTE_TYPE_INVALID));

    // Without CKA_VALUE, CKA_APPLICATION and CKA_OBJECT_ID the standard's defaults (empty) apply.
    let class = CKO_DATA;
    let mut bare = [
        attribute(CKA_CLASS, &class),
        bytes_attribute(CKA_LABEL, b"d-empty"),
    ];
    let empty = token.create(&mut bare).unwrap();
    for kind in [CKA_VALUE, CKA_APPLICATION, CKA_OBJECT_ID] {
        assert_eq!(token.get(empty, kind).unwrap(), b"", "{kind:#x}");
    }
}

#[test]
fn find_objects_matches_application_and_object_id() {
    let token = Token::open();
    let first = data_object(&token, "same", "app-one", OID_DATA, b"1").unwrap();
    let second = data_object(&token, "same", "app-two", OID_CN, b"2").unwrap();
    let class = CKO_DATA;
    let mut by_class = [attribute(CKA_CLASS, &class)];
    let mut all = token.find(&mut by_class);
    all.sort();
    assert_eq!(all, vec![first, second]);
    let mut by_application = [
        attribute(CKA_CLASS, &class),
        bytes_attribute(CKA_APPLICATION, b"app-two"),
    ];
    assert_eq!(token.find(&mut by_application), vec![second]);
    let mut by_oid = [bytes_attribute(CKA_OBJECT_ID, OID_DATA)];
    assert_eq!(token.find(&mut by_oid), vec![first]);
    let mut by_both = [
        bytes_attribute(CKA_APPLICATION, b"app-one"),
        bytes_attribute(CKA_OBJECT_ID, OID_CN),
    ];
    assert!(token.find(&mut by_both).is_empty());
    let mut by_value = [
        attribute(CKA_CLASS, &class),
        bytes_attribute(CKA_VALUE, b"2"),
    ];
    assert_eq!(token.find(&mut by_value), vec![second]);
}

#[test]
fn set_attribute_value_changes_application_and_object_id() {
    let token = Token::open();
    let object = data_object(&token, "d2", "before", OID_DATA, b"v").unwrap();
    let mut change = [
        bytes_attribute(CKA_APPLICATION, b"after"),
        bytes_attribute(CKA_OBJECT_ID, OID_CN),
    ];
    // SAFETY: the template's values outlive the call.
    let rv = unsafe {
        token.f.C_SetAttributeValue.unwrap()(token.session, object, change.as_mut_ptr(), 2)
    };
    assert_eq!(rv, CKR_OK);
    assert_eq!(token.get(object, CKA_APPLICATION).unwrap(), b"after");
    assert_eq!(token.get(object, CKA_OBJECT_ID).unwrap(), OID_CN);
    let mut find = [bytes_attribute(CKA_APPLICATION, b"after")];
    assert_eq!(token.find(&mut find), vec![object]);
}

#[test]
fn an_object_id_is_kept_as_given_even_without_its_der_header() {
    // OpenSC 0.23's `pkcs11-tool --application-id` sends the OID's content octets only; SoftHSM2 keeps them.
    let token = Token::open();
    let bare = &OID_DATA[2..];
    let object = data_object(&token, "bare", "app", bare, b"v").unwrap();
    assert_eq!(token.get(object, CKA_OBJECT_ID).unwrap(), bare);
    let mut by_oid = [bytes_attribute(CKA_OBJECT_ID, bare)];
    assert_eq!(token.find(&mut by_oid), vec![object]);
    let mut by_der = [bytes_attribute(CKA_OBJECT_ID, OID_DATA)];
    assert!(token.find(&mut by_der).is_empty());
}
