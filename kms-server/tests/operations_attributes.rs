//! Get Attributes / Get Attribute List / Add / Set / Modify / Delete Attribute through `dispatch`, in the 1.4
//! and 2.1 forms, with the version rules (read-only, single-valued, names, gating by version).

mod operations_harness;

use kmip::attributes::{Attribute, AttributeName, CustomAttribute, KnownAttribute, Name};
use kmip::enums::{KeyFormatType, State};
use kmip::payloads::*;
use kmip::{ProtocolVersion, ResultReason};
use operations_harness::*;

fn vendor(name: &str, value: &str) -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: "x".into(),
        attribute_name: name.into(),
        value: ttlv::Value::TextString(value.into()),
    })
}

fn add(uid: &str, attribute: Attribute) -> AddAttributeRequest {
    AddAttributeRequest {
        unique_identifier: Some(uid.into()),
        new_attribute: attribute.into(),
    }
}

fn modify(uid: &str, attribute: Attribute) -> ModifyAttributeRequest {
    ModifyAttributeRequest {
        unique_identifier: Some(uid.into()),
        current_attribute: None,
        new_attribute: attribute.into(),
    }
}

#[test]
fn get_attributes_returns_the_asked_attributes_in_the_asked_order() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    let ResponsePayload::GetAttributes(r) = h.ok(
        &h.alice,
        V2_1,
        get_attributes(
            &uid,
            vec![
                KnownAttribute::State.into(),
                KnownAttribute::UniqueIdentifier.into(),
                KnownAttribute::DeactivationDate.into(),
            ],
        ),
    ) else {
        panic!()
    };
    assert_eq!(
        r.attributes.0.as_slice(),
        [
            Attribute::State(State::PreActive),
            Attribute::UniqueIdentifier(uid)
        ]
    );
}

#[test]
fn a_new_key_has_digest_dates_and_provenance() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    let attributes = h.attributes(&h.alice, V2_1, &uid);
    for known in [
        KnownAttribute::Digest,
        KnownAttribute::InitialDate,
        KnownAttribute::LastChangeDate,
        KnownAttribute::KeyFormatType,
        KnownAttribute::RandomNumberGenerator,
        KnownAttribute::Fresh,
    ] {
        assert!(attributes.contains(known), "{known:?} missing");
    }
    let quantum = attributes
        .custom("x", "qkms-entropy-quantum")
        .expect("provenance attribute");
    assert_eq!(
        *quantum,
        ttlv::Value::TextString("false".into()),
        "the OS fallback is not quantum"
    );
    let summary = attributes.custom("x", "qkms-entropy-summary").unwrap();
    assert!(matches!(summary, ttlv::Value::TextString(s) if s.contains("not quantum")));
}

#[test]
fn a_1_0_client_never_sees_attributes_1_0_lacks() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    for version in [ProtocolVersion::V1_0, V1_4] {
        let attributes = h.attributes(&h.alice, version, &uid);
        assert!(
            attributes.iter().all(|a| a.name().is_available_in(version)),
            "{version}: {attributes:?}"
        );
        assert!(
            !attributes.contains(KnownAttribute::KeyFormatType),
            "Key Format Type is a 2.0 attribute"
        );
        let ResponsePayload::GetAttributeList(list) = h.ok(
            &h.alice,
            version,
            GetAttributeListRequest {
                unique_identifier: Some(uid.clone()),
            },
        ) else {
            panic!()
        };
        assert!(list
            .attribute_names
            .0
            .iter()
            .all(|n| n.is_available_in(version)));
        // The message itself encodes only what the version has.
        let encoded = ResponsePayload::GetAttributeList(list)
            .to_ttlv(version)
            .unwrap();
        assert!(
            !format!("{encoded:?}").contains("Random Number Generator")
                || version >= ProtocolVersion::V1_3
        );
    }
    let v1_0 = h.attributes(&h.alice, ProtocolVersion::V1_0, &uid);
    assert!(
        !v1_0.contains(KnownAttribute::Fresh)
            && !v1_0.contains(KnownAttribute::OriginalCreationDate)
    );
}

#[test]
fn vendor_attributes_are_added_modified_and_deleted_in_1_4_with_echoes() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V1_4, "k");
    let ResponsePayload::AddAttribute(added) =
        h.ok(&h.alice, V1_4, add(&uid, vendor("attribute1", "Value1")))
    else {
        panic!()
    };
    assert_eq!(
        added.attribute.unwrap().attribute,
        vendor("attribute1", "Value1")
    );
    let ResponsePayload::ModifyAttribute(modified) = h.ok(
        &h.alice,
        V1_4,
        modify(&uid, vendor("attribute1", "Modified")),
    ) else {
        panic!()
    };
    assert_eq!(
        modified.attribute.unwrap().attribute,
        vendor("attribute1", "Modified")
    );
    let ResponsePayload::DeleteAttribute(deleted) = h.ok(
        &h.alice,
        V1_4,
        DeleteAttributeRequest {
            unique_identifier: Some(uid.clone()),
            attribute_name: Some(vendor("attribute1", "").name()),
            ..DeleteAttributeRequest::default()
        },
    ) else {
        panic!()
    };
    assert_eq!(
        deleted.attribute.unwrap().attribute,
        vendor("attribute1", "Modified")
    );
    assert!(h
        .attributes(&h.alice, V1_4, &uid)
        .custom("x", "attribute1")
        .is_none());
}

#[test]
fn vendor_attributes_in_2_1_have_no_echo_and_delete_by_reference() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    let ResponsePayload::AddAttribute(added) = h.ok(&h.alice, V2_1, add(&uid, vendor("a", "1")))
    else {
        panic!()
    };
    assert!(added.attribute.is_none());
    h.ok(&h.alice, V2_1, add(&uid, vendor("a", "2")));
    let ResponsePayload::ModifyAttribute(_) = h.ok(
        &h.alice,
        V2_1,
        ModifyAttributeRequest {
            unique_identifier: Some(uid.clone()),
            current_attribute: Some(vendor("a", "2").into()),
            new_attribute: vendor("a", "3").into(),
        },
    ) else {
        panic!()
    };
    let values: Vec<_> = h
        .attributes(&h.alice, V2_1, &uid)
        .get_all(&vendor("a", "").name())
        .cloned()
        .collect();
    assert_eq!(values, [vendor("a", "1"), vendor("a", "3")]);
    h.ok(
        &h.alice,
        V2_1,
        DeleteAttributeRequest {
            unique_identifier: Some(uid.clone()),
            attribute_name: Some(vendor("a", "").name()),
            ..DeleteAttributeRequest::default()
        },
    );
    assert!(h
        .attributes(&h.alice, V2_1, &uid)
        .custom("x", "a")
        .is_none());
    let item = h.one(
        &h.alice,
        V2_1,
        DeleteAttributeRequest {
            unique_identifier: Some(uid),
            attribute_name: Some(vendor("a", "").name()),
            ..DeleteAttributeRequest::default()
        },
    );
    assert_failed(&item, ResultReason::AttributeNotFound);
}

#[test]
fn read_only_attributes_are_refused_per_version() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            modify(&uid, Attribute::State(State::Compromised)),
        ),
        ResultReason::AttributeReadOnly,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V1_4,
            modify(&uid, Attribute::CryptographicLength(128)),
        ),
        ResultReason::PermissionDenied,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            add(&uid, vendor("qkms-entropy-quantum", "true")),
        ),
        ResultReason::AttributeReadOnly,
    );
    let delete_provenance = DeleteAttributeRequest {
        unique_identifier: Some(uid.clone()),
        attribute_name: Some(vendor("qkms-entropy-quantum", "").name()),
        ..DeleteAttributeRequest::default()
    };
    assert_failed(
        &h.one(&h.alice, V2_1, delete_provenance),
        ResultReason::AttributeReadOnly,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            add(&uid, Attribute::KeyFormatType(KeyFormatType::Raw)),
        ),
        ResultReason::AttributeReadOnly,
    );
}

#[test]
fn single_valued_attributes_and_duplicate_names_are_refused() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "dup");
    h.ok(
        &h.alice,
        V2_1,
        add(&uid, Attribute::Description("one".into())),
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            add(&uid, Attribute::Description("two".into())),
        ),
        ResultReason::AttributeSingleValued,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V1_4,
            add(&uid, Attribute::Description("two".into())),
        ),
        ResultReason::IllegalOperation,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            add(&uid, Attribute::Name(Name::text("dup"))),
        ),
        ResultReason::NonUniqueNameAttribute,
    );
    h.ok(
        &h.alice,
        V2_1,
        add(&uid, Attribute::Name(Name::text("second"))),
    );
    assert_eq!(h.attributes(&h.alice, V2_1, &uid).names().count(), 2);
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            SetAttributeRequest {
                unique_identifier: Some(uid),
                new_attribute: Attribute::Name(Name::text("x")).into(),
            },
        ),
        ResultReason::MultiValuedAttribute,
    );
}

#[test]
fn modifying_a_missing_attribute_or_index_fails() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    assert_failed(
        &h.one(&h.alice, V2_1, modify(&uid, Attribute::Comment("c".into()))),
        ResultReason::AttributeNotFound,
    );
    let item = h.one(
        &h.alice,
        V1_4,
        ModifyAttributeRequest {
            unique_identifier: Some(uid),
            current_attribute: None,
            new_attribute: AttributeArgument {
                attribute: Attribute::Name(Name::text("n")),
                index: Some(3),
            },
        },
    );
    assert_failed(&item, ResultReason::InvalidField);
}

#[test]
fn unknown_attributes_in_a_template_are_refused_not_dropped() {
    let h = Harness::new();
    let mut request = create_aes(128, "k");
    request
        .attributes
        .push(Attribute::Unknown(kmip::attributes::UnknownAttribute {
            text_name: Some("Shoe Size".into()),
            tag: None,
            value: ttlv::Value::Integer(42),
        }));
    assert_failed(
        &h.one(&h.alice, V1_4, request.clone()),
        ResultReason::InvalidField,
    );
    assert_failed(
        &h.one(&h.alice, V2_1, request),
        ResultReason::UnsupportedAttribute,
    );
    let _ = AttributeName::Known(KnownAttribute::Name);
}

#[test]
fn attribute_index_is_echoed_below_1_4_and_whenever_the_request_named_one() {
    // KMIP 1.0-1.3 answer Add / Modify Attribute with the attribute and its index; 1.4 may leave an index of 0
    // out (the OASIS 1.4 cases do), unless the request named it (PyKMIP reads it back).
    let h = Harness::new();
    let v1_2 = ProtocolVersion::V1_2;
    let uid = h.create_aes(&h.alice, v1_2, "indexed");
    let index_of = |payload: ResponsePayload| match payload {
        ResponsePayload::AddAttribute(r) => r.attribute.unwrap().index,
        ResponsePayload::ModifyAttribute(r) => r.attribute.unwrap().index,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        index_of(h.ok(&h.alice, v1_2, add(&uid, vendor("a", "1")))),
        Some(0)
    );
    assert_eq!(
        index_of(h.ok(&h.alice, v1_2, add(&uid, vendor("a", "2")))),
        Some(1)
    );
    assert_eq!(
        index_of(h.ok(&h.alice, v1_2, modify(&uid, vendor("a", "3")))),
        Some(0)
    );
    // 1.4: left out for 0 when not asked, sent when asked or not 0.
    assert_eq!(
        index_of(h.ok(&h.alice, V1_4, modify(&uid, vendor("a", "4")))),
        None
    );
    let asked = ModifyAttributeRequest {
        new_attribute: AttributeArgument {
            attribute: vendor("a", "5"),
            index: Some(0),
        },
        ..modify(&uid, vendor("a", "5"))
    };
    assert_eq!(index_of(h.ok(&h.alice, V1_4, asked)), Some(0));
    let second = ModifyAttributeRequest {
        new_attribute: AttributeArgument {
            attribute: vendor("a", "6"),
            index: Some(1),
        },
        ..modify(&uid, vendor("a", "6"))
    };
    assert_eq!(index_of(h.ok(&h.alice, V1_4, second)), Some(1));
    // 2.x answers carry no attribute at all.
    let ResponsePayload::ModifyAttribute(r) = h.ok(&h.alice, V2_1, modify(&uid, vendor("a", "7")))
    else {
        panic!()
    };
    assert!(r.attribute.is_none());
}
