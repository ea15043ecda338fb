//! KMIP 1.x Template objects through `dispatch`: Register, Get, Get Attributes, Locate, Destroy; Create, Register
//! and Create Key Pair applying a named Template's attributes; Query listing Template in 1.x only; and the
//! errors (unknown Template, 2.x, bad content, duplicate names).

mod operations_harness;

use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask, Name};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject, Template};
use kmip::payloads::*;
use kmip::ResultReason;
use operations_harness::*;
use zeroize::Zeroizing;

fn aes_template_content() -> Attributes {
    vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
        Attribute::CryptographicLength(192),
        Attribute::CryptographicUsageMask(CryptographicUsageMask(
            CryptographicUsageMask::ENCRYPT.bits(),
        )),
        Attribute::ObjectGroup("from-template".into()),
    ]
    .into()
}

fn register_template(name: &str, content: Attributes) -> RegisterRequest {
    RegisterRequest {
        object_type: ObjectType::Template,
        attributes: vec![Attribute::Name(Name::text(name))].into(),
        object: ObjectField(Some(ManagedObject::Template(Template {
            attributes: content,
        }))),
        protection_storage_masks: None,
    }
}

fn uid_of(payload: ResponsePayload) -> String {
    match payload {
        ResponsePayload::Register(r) => r.unique_identifier,
        ResponsePayload::Create(r) => r.unique_identifier,
        other => panic!("unexpected {other:?}"),
    }
}

/// A Template-Attribute naming `templates`, plus `explicit` attributes.
fn naming(templates: &[&str], explicit: Vec<Attribute>) -> Attributes {
    let mut attributes: Attributes = explicit.into();
    attributes.template_names = templates.iter().map(|t| Name::text(*t)).collect();
    attributes
}

fn create_from(templates: &[&str], explicit: Vec<Attribute>) -> CreateRequest {
    CreateRequest {
        object_type: ObjectType::SymmetricKey,
        attributes: naming(templates, explicit),
        protection_storage_masks: None,
    }
}

#[test]
fn a_registered_template_can_be_got_listed_located_and_destroyed() {
    let h = Harness::new();
    let uid = uid_of(h.ok(
        &h.alice,
        V1_4,
        register_template("tpl", aes_template_content()),
    ));
    let ResponsePayload::Get(got) = h.ok(&h.alice, V1_4, get(&uid)) else {
        panic!()
    };
    assert_eq!(got.object_type, ObjectType::Template);
    assert_eq!(
        got.object.0,
        Some(ManagedObject::Template(Template {
            attributes: aes_template_content()
        }))
    );
    let attributes = h.attributes(&h.alice, V1_4, &uid);
    assert_eq!(attributes.object_type(), Some(ObjectType::Template));
    assert!(attributes.names().any(|n| n.value == "tpl"));
    assert_eq!(
        located(h.ok(
            &h.alice,
            V1_4,
            locate(vec![
                Attribute::ObjectType(ObjectType::Template),
                Attribute::Name(Name::text("tpl")),
            ])
        )),
        vec![uid.clone()]
    );
    // Another tenant sees nothing.
    assert!(located(h.ok(
        &h.bob,
        V1_4,
        locate(vec![Attribute::ObjectType(ObjectType::Template)])
    ))
    .is_empty());
    h.ok(&h.alice, V1_4, destroy(&uid));
    // A destroyed Template no longer applies.
    let item = h.one(&h.alice, V1_4, create_from(&["tpl"], vec![]));
    assert_failed(&item, ResultReason::ItemNotFound);
}

#[test]
fn create_applies_the_named_template_with_explicit_attributes_winning() {
    let h = Harness::new();
    h.ok(
        &h.alice,
        V1_4,
        register_template("tpl", aes_template_content()),
    );
    let uid = uid_of(h.ok(
        &h.alice,
        V1_4,
        create_from(
            &["tpl"],
            vec![
                Attribute::CryptographicLength(256),
                Attribute::Name(Name::text("key")),
            ],
        ),
    ));
    let attributes = h.attributes(&h.alice, V1_4, &uid);
    assert_eq!(
        attributes.cryptographic_algorithm(),
        Some(CryptographicAlgorithm::Aes)
    );
    assert_eq!(attributes.cryptographic_length(), Some(256));
    assert!(attributes
        .iter()
        .any(|a| *a == Attribute::ObjectGroup("from-template".into())));
    assert!(attributes.names().any(|n| n.value == "key"));
    assert_eq!(key_bytes(&h.ok(&h.alice, V1_4, get(&uid))).len(), 32);

    // Only the template: its length applies.
    let uid = uid_of(h.ok(&h.alice, V1_4, create_from(&["tpl"], vec![])));
    assert_eq!(
        h.attributes(&h.alice, V1_4, &uid).cryptographic_length(),
        Some(192)
    );
}

#[test]
fn register_and_create_key_pair_apply_templates_too() {
    let h = Harness::new();
    h.ok(
        &h.alice,
        V1_4,
        register_template(
            "secret-tpl",
            vec![Attribute::ObjectGroup("secrets".into())].into(),
        ),
    );
    let register = RegisterRequest {
        object_type: ObjectType::SecretData,
        attributes: naming(
            &["secret-tpl"],
            vec![Attribute::CryptographicUsageMask(CryptographicUsageMask(
                CryptographicUsageMask::DERIVE_KEY.bits(),
            ))],
        ),
        object: ObjectField(Some(ManagedObject::SecretData(kmip::objects::SecretData {
            secret_data_type: kmip::enums::SecretDataType::Password,
            key_block: KeyBlock::new(
                KeyFormatType::Opaque,
                KeyMaterial::Bytes(Zeroizing::new(b"hunter2".to_vec())),
                None,
                None,
            ),
        }))),
        protection_storage_masks: None,
    };
    let uid = uid_of(h.ok(&h.alice, V1_4, register));
    assert!(h
        .attributes(&h.alice, V1_4, &uid)
        .iter()
        .any(|a| *a == Attribute::ObjectGroup("secrets".into())));

    h.ok(
        &h.alice,
        V1_4,
        register_template(
            "ec-tpl",
            vec![
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Ec),
                Attribute::CryptographicLength(256),
            ]
            .into(),
        ),
    );
    let request = CreateKeyPairRequest {
        common_attributes: Some(naming(&["ec-tpl"], vec![])),
        private_key_attributes: Some(
            vec![Attribute::CryptographicUsageMask(CryptographicUsageMask(
                CryptographicUsageMask::SIGN.bits(),
            ))]
            .into(),
        ),
        public_key_attributes: Some(
            vec![Attribute::CryptographicUsageMask(CryptographicUsageMask(
                CryptographicUsageMask::VERIFY.bits(),
            ))]
            .into(),
        ),
        ..CreateKeyPairRequest::default()
    };
    let ResponsePayload::CreateKeyPair(pair) = h.ok(&h.alice, V1_4, request) else {
        panic!()
    };
    let private = h.attributes(&h.alice, V1_4, &pair.private_key_unique_identifier);
    assert_eq!(
        private.cryptographic_algorithm(),
        Some(CryptographicAlgorithm::Ec)
    );
    assert_eq!(private.cryptographic_length(), Some(256));
}

#[test]
fn an_unknown_or_foreign_template_is_item_not_found() {
    let h = Harness::new();
    h.ok(
        &h.alice,
        V1_4,
        register_template("alice-only", aes_template_content()),
    );
    assert_failed(
        &h.one(&h.alice, V1_4, create_from(&["nope"], vec![])),
        ResultReason::ItemNotFound,
    );
    assert_failed(
        &h.one(&h.bob, V1_4, create_from(&["alice-only"], vec![])),
        ResultReason::ItemNotFound,
    );
}

#[test]
fn bad_templates_are_refused_with_kmip_errors() {
    let h = Harness::new();
    // Server-only attributes cannot go in a Template.
    let item = h.one(
        &h.alice,
        V1_4,
        register_template("t", vec![Attribute::InitialDate(5)].into()),
    );
    assert_failed(&item, ResultReason::PermissionDenied);
    // Nor a Name (every object made from it would share it).
    let item = h.one(
        &h.alice,
        V1_4,
        register_template("t", vec![Attribute::Name(Name::text("n"))].into()),
    );
    assert_failed(&item, ResultReason::InvalidField);
    // A Register of type Template must carry a Template.
    let mut wrong = register_template("t", aes_template_content());
    wrong.object = ObjectField(None);
    assert_failed(&h.one(&h.alice, V1_4, wrong), ResultReason::InvalidField);
    // Names of Templates are unique within a tenant.
    h.ok(
        &h.alice,
        V1_4,
        register_template("t", aes_template_content()),
    );
    let item = h.one(
        &h.alice,
        V1_4,
        register_template("t", aes_template_content()),
    );
    assert_failed(&item, ResultReason::InvalidField);
    // A template naming a template.
    let mut nested = register_template("u", aes_template_content());
    nested.attributes.template_names = vec![Name::text("t")];
    assert_failed(&h.one(&h.alice, V1_4, nested), ResultReason::InvalidField);
    // 2.x has no Template object.
    let item = h.one(
        &h.alice,
        V2_1,
        register_template("v2", aes_template_content()),
    );
    assert_failed(&item, ResultReason::InvalidObjectType);
}

#[test]
fn a_template_contradicting_the_request_object_type_is_invalid_field() {
    let h = Harness::new();
    let mut content = aes_template_content();
    content.push(Attribute::ObjectType(ObjectType::SecretData));
    h.ok(&h.alice, V1_4, register_template("secretish", content));
    let item = h.one(&h.alice, V1_4, create_from(&["secretish"], vec![]));
    assert_failed(&item, ResultReason::InvalidField);
}

#[test]
fn query_lists_template_in_1x_only() {
    let h = Harness::new();
    let query = || QueryRequest {
        query_functions: vec![QueryFunction::QueryObjects],
    };
    let template = EnumValue(ObjectType::Template.to_u32());
    let ResponsePayload::Query(v1) = h.ok(&h.alice, V1_4, query()) else {
        panic!()
    };
    assert!(v1.object_types.contains(&template));
    let ResponsePayload::Query(v2) = h.ok(&h.alice, V2_1, query()) else {
        panic!()
    };
    assert!(!v2.object_types.contains(&template));
}
