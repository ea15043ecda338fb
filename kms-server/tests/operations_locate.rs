//! Locate through `dispatch`: exact filters, ranges, masks, Maximum / Offset / Located Items, destroyed and
//! internal objects, and tenant isolation for every operation that names an object.

mod operations_harness;

use kmip::attributes::{Attribute, CryptographicUsageMask, Name};
use kmip::enums::{CryptographicAlgorithm, ObjectType, State};
use kmip::payloads::*;
use kmip::ResultReason;
use kms_server::store::{ObjectStore, StoredObject};
use operations_harness::*;

#[test]
fn name_filters_are_exact() {
    let h = Harness::new();
    let a = h.create_aes(&h.alice, V1_4, "backup-key");
    h.create_aes(&h.alice, V1_4, "backup-key-2");
    assert_eq!(
        located(h.ok(
            &h.alice,
            V1_4,
            locate(vec![Attribute::Name(Name::text("backup-key"))])
        )),
        vec![a.clone()]
    );
    assert!(located(h.ok(
        &h.alice,
        V1_4,
        locate(vec![Attribute::Name(Name::text("backup"))])
    ))
    .is_empty());
    assert!(located(h.ok(
        &h.alice,
        V1_4,
        locate(vec![Attribute::Name(Name::text("BACKUP-KEY"))])
    ))
    .is_empty());
}

#[test]
fn algorithm_length_state_type_and_mask_filters_combine() {
    let h = Harness::new();
    let k256 = h.create_aes(&h.alice, V2_1, "a");
    let ResponsePayload::Create(k128) = h.ok(&h.alice, V2_1, create_aes(128, "b")) else {
        panic!()
    };
    h.ok(&h.alice, V2_1, activate(&k256));
    let find = |attributes: Vec<Attribute>| located(h.ok(&h.alice, V2_1, locate(attributes)));
    assert_eq!(
        find(vec![Attribute::CryptographicLength(128)]),
        vec![k128.unique_identifier.clone()]
    );
    assert_eq!(
        find(vec![Attribute::State(State::Active)]),
        vec![k256.clone()]
    );
    assert_eq!(
        find(vec![
            Attribute::ObjectType(ObjectType::SymmetricKey),
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
            Attribute::CryptographicLength(256),
        ]),
        vec![k256.clone()]
    );
    assert_eq!(
        find(vec![Attribute::CryptographicUsageMask(
            CryptographicUsageMask::ENCRYPT
        )])
        .len(),
        2
    );
    assert!(find(vec![Attribute::CryptographicUsageMask(
        CryptographicUsageMask::SIGN
    )])
    .is_empty());
    assert!(find(vec![Attribute::ObjectType(ObjectType::SecretData)]).is_empty());
}

#[test]
fn two_dates_are_a_range() {
    let h = Harness::new();
    let mut request = create_aes(128, "dated");
    request
        .attributes
        .push(Attribute::ProtectStopDate(949_327_200));
    let ResponsePayload::Create(created) = h.ok(&h.alice, V2_1, request) else {
        panic!()
    };
    let find = |dates: Vec<i64>| {
        located(h.ok(
            &h.alice,
            V2_1,
            locate(dates.into_iter().map(Attribute::ProtectStopDate).collect()),
        ))
    };
    assert_eq!(
        find(vec![946_648_800, 950_104_800]),
        vec![created.unique_identifier.clone()]
    );
    assert_eq!(find(vec![949_327_200]), [created.unique_identifier]);
    assert!(find(vec![949_327_201, 950_104_800]).is_empty());
}

#[test]
fn maximum_offset_and_located_items() {
    let h = Harness::new();
    let uids: Vec<String> = (0..5)
        .map(|i| h.create_aes(&h.alice, V2_1, &format!("k{i}")))
        .collect();
    let request = LocateRequest {
        maximum_items: Some(2),
        offset_items: Some(1),
        ..LocateRequest::default()
    };
    let ResponsePayload::Locate(r) = h.ok(&h.alice, V2_1, request) else {
        panic!()
    };
    assert_eq!(r.located_items, Some(5));
    // Newest first.
    assert_eq!(r.unique_identifiers, [uids[3].clone(), uids[2].clone()]);
    let negative = LocateRequest {
        maximum_items: Some(-1),
        ..LocateRequest::default()
    };
    assert_failed(&h.one(&h.alice, V2_1, negative), ResultReason::InvalidField);
}

#[test]
fn destroyed_objects_are_found_only_when_asked_for() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "gone");
    h.ok(&h.alice, V2_1, destroy(&uid));
    assert!(located(h.ok(
        &h.alice,
        V2_1,
        locate(vec![Attribute::Name(Name::text("gone"))])
    ))
    .is_empty());
    let request = LocateRequest {
        storage_status_mask: Some(storage_status::DESTROYED),
        attributes: PayloadAttributes(vec![Attribute::Name(Name::text("gone"))].into()),
        ..LocateRequest::default()
    };
    assert_eq!(located(h.ok(&h.alice, V2_1, request)), [uid]);
}

#[test]
fn custom_attribute_filters_match_values() {
    let h = Harness::new();
    let mut request = create_aes(128, "tagged");
    let tag = |v: &str| {
        Attribute::Custom(kmip::attributes::CustomAttribute {
            vendor_identification: "x".into(),
            attribute_name: "Barcode".into(),
            value: ttlv::Value::TextString(v.into()),
        })
    };
    request.attributes.push(tag("XXA012A1"));
    let ResponsePayload::Create(created) = h.ok(&h.alice, V1_4, request) else {
        panic!()
    };
    assert_eq!(
        located(h.ok(&h.alice, V1_4, locate(vec![tag("XXA012A1")]))),
        [created.unique_identifier]
    );
    assert!(located(h.ok(&h.alice, V1_4, locate(vec![tag("other")]))).is_empty());
}

#[test]
fn internal_objects_are_never_located_nor_served() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "wrapping");
    let mut internal: StoredObject = h.stored(&uid);
    internal.uid = "internal-root".into();
    internal.internal = true;
    internal
        .attributes
        .set(Attribute::UniqueIdentifier("internal-root".into()));
    h.store.insert(&internal).unwrap();
    assert_eq!(
        located(h.ok(
            &h.alice,
            V2_1,
            locate(vec![Attribute::Name(Name::text("wrapping"))])
        )),
        [uid]
    );
    assert_failed(
        &h.one(&h.alice, V2_1, get("internal-root")),
        ResultReason::ObjectNotFound,
    );
}

#[test]
fn tenant_b_can_neither_get_locate_modify_nor_destroy_tenant_a_objects() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "alice-key");
    assert!(located(h.ok(
        &h.bob,
        V2_1,
        locate(vec![Attribute::Name(Name::text("alice-key"))])
    ))
    .is_empty());
    assert!(located(h.ok(&h.bob, V2_1, LocateRequest::default())).is_empty());
    let unknown = h.one(&h.bob, V2_1, get("no-such-object"));
    let foreign = h.one(&h.bob, V2_1, get(&uid));
    assert_failed(&foreign, ResultReason::ObjectNotFound);
    // Indistinguishable from an identifier that does not exist (only the identifier differs in the message).
    assert_eq!(foreign.result_reason, unknown.result_reason);
    assert_failed(&h.one(&h.bob, V1_4, get(&uid)), ResultReason::ItemNotFound);
    assert_failed(
        &h.one(&h.bob, V2_1, get_attributes(&uid, vec![])),
        ResultReason::ObjectNotFound,
    );
    let add = AddAttributeRequest {
        unique_identifier: Some(uid.clone()),
        new_attribute: Attribute::Description("mine now".into()).into(),
    };
    assert_failed(&h.one(&h.bob, V2_1, add), ResultReason::ObjectNotFound);
    assert_failed(
        &h.one(&h.bob, V2_1, destroy(&uid)),
        ResultReason::ObjectNotFound,
    );
    assert_failed(
        &h.one(&h.bob, V2_1, activate(&uid)),
        ResultReason::ObjectNotFound,
    );
    assert_failed(
        &h.one(
            &h.bob,
            V2_1,
            revoke(&uid, RevocationReasonCode::KeyCompromise, Some(1)),
        ),
        ResultReason::ObjectNotFound,
    );
    // Alice's key is untouched.
    assert_eq!(h.state_of(&h.alice, &uid), State::PreActive);
    assert!(h.stored(&uid).object.is_some());
    assert!(!h
        .attributes(&h.alice, V2_1, &uid)
        .contains(kmip::attributes::KnownAttribute::Description));
}
