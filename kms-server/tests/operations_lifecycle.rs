//! The lifecycle state machine through `dispatch`: Create -> Activate -> Revoke -> Destroy in both protocol
//! families, the reasons each version expects (OASIS SKLC-M-2: 1.4 Permission Denied, 2.1 Wrong Key Lifecycle
//! State), date-driven transitions, Check and Re-Key.

mod operations_harness;

use kmip::attributes::{Attribute, CryptographicUsageMask, KnownAttribute};
use kmip::enums::{LinkType, ObjectType, State};
use kmip::payloads::*;
use kmip::{ResultReason, ResultStatus};
use operations_harness::*;

fn sklc_m_2(version: kmip::ProtocolVersion, wrong_state: ResultReason) {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, version, "SKLC-M-2");
    assert_eq!(h.state_of(&h.alice, &uid), State::PreActive);
    h.ok(&h.alice, version, activate(&uid));
    let attributes = h.attributes(&h.alice, version, &uid);
    assert_eq!(attributes.state(), Some(State::Active));
    assert!(attributes.activation_date().is_some());
    assert_failed(&h.one(&h.alice, version, destroy(&uid)), wrong_state);
    h.ok(
        &h.alice,
        version,
        revoke(&uid, RevocationReasonCode::KeyCompromise, Some(6)),
    );
    let attributes = h.attributes(&h.alice, version, &uid);
    assert_eq!(attributes.state(), Some(State::Compromised));
    assert!(attributes
        .iter()
        .any(|a| *a == Attribute::CompromiseOccurrenceDate(6)));
    h.ok(&h.alice, version, destroy(&uid));
    assert_eq!(h.state_of(&h.alice, &uid), State::DestroyedCompromised);
    assert!(
        h.stored(&uid).object.is_none(),
        "key material must be gone after Destroy"
    );
}

#[test]
fn destroying_an_active_key_is_refused_with_permission_denied_in_1_4() {
    sklc_m_2(V1_4, ResultReason::PermissionDenied);
}

#[test]
fn destroying_an_active_key_is_refused_with_wrong_key_lifecycle_state_in_2_1() {
    sklc_m_2(V2_1, ResultReason::WrongKeyLifecycleState);
}

#[test]
fn activate_twice_is_a_lifecycle_error() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    h.ok(&h.alice, V2_1, activate(&uid));
    assert_failed(
        &h.one(&h.alice, V2_1, activate(&uid)),
        ResultReason::WrongKeyLifecycleState,
    );
}

#[test]
fn a_non_compromise_revoke_deactivates_and_a_deactivated_key_can_be_destroyed() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V1_4, "k");
    h.ok(
        &h.alice,
        V1_4,
        revoke(&uid, RevocationReasonCode::Unspecified, None),
    );
    assert_eq!(h.state_of(&h.alice, &uid), State::Deactivated);
    h.ok(&h.alice, V1_4, destroy(&uid));
    assert_eq!(h.state_of(&h.alice, &uid), State::Destroyed);
    // Metadata stays: Get Attributes answers, Get does not.
    assert_failed(
        &h.one(&h.alice, V2_1, get(&uid)),
        ResultReason::ObjectDestroyed,
    );
    assert_failed(
        &h.one(&h.alice, V2_1, destroy(&uid)),
        ResultReason::ObjectDestroyed,
    );
}

#[test]
fn a_compromise_revoke_without_its_occurrence_date_takes_the_initial_date_and_says_so() {
    // PyKMIP's client sends exactly this (issue #14): accepted, with the most conservative date.
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    h.ok(
        &h.alice,
        V2_1,
        revoke(&uid, RevocationReasonCode::KeyCompromise, None),
    );
    assert_eq!(h.state_of(&h.alice, &uid), State::Compromised);
    let attributes = h.attributes(&h.alice, V2_1, &uid);
    let initial = attributes
        .iter()
        .find_map(|a| match a {
            Attribute::InitialDate(d) => Some(*d),
            _ => None,
        })
        .expect("an Initial Date");
    let occurred = attributes
        .iter()
        .find_map(|a| match a {
            Attribute::CompromiseOccurrenceDate(d) => Some(*d),
            _ => None,
        })
        .expect("a Compromise Occurrence Date");
    assert_eq!(occurred, initial);
    let noted = attributes.iter().any(|a| {
        matches!(a, Attribute::Custom(c) if c.attribute_name.contains("compromise-date-defaulted"))
    });
    assert!(
        noted,
        "the object records that the date was defaulted: {attributes:?}"
    );
}

#[test]
fn an_activation_date_in_the_past_makes_the_object_active_and_deactivation_dates_deactivate_it() {
    let h = Harness::new();
    let mut request = create_aes(128, "dated");
    request.attributes.push(Attribute::ActivationDate(1_000));
    let ResponsePayload::Create(created) = h.ok(&h.alice, V2_1, request) else {
        panic!()
    };
    let uid = created.unique_identifier;
    assert_eq!(h.state_of(&h.alice, &uid), State::Active);
    h.ok(
        &h.alice,
        V2_1,
        SetAttributeRequest {
            unique_identifier: Some(uid.clone()),
            new_attribute: Attribute::DeactivationDate(2_000).into(),
        },
    );
    assert_eq!(h.state_of(&h.alice, &uid), State::Deactivated);
}

#[test]
fn the_activation_date_of_an_active_key_cannot_be_modified() {
    for (version, reason) in [
        (V1_4, ResultReason::PermissionDenied),
        (V2_1, ResultReason::WrongKeyLifecycleState),
    ] {
        let h = Harness::new();
        let uid = h.create_aes(&h.alice, version, "k");
        h.ok(&h.alice, version, activate(&uid));
        let item = h.one(
            &h.alice,
            version,
            ModifyAttributeRequest {
                unique_identifier: Some(uid),
                current_attribute: None,
                new_attribute: Attribute::ActivationDate(5).into(),
            },
        );
        assert_failed(&item, reason);
    }
}

#[test]
fn check_compares_the_usage_mask() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    let check = |mask: u32| CheckRequest {
        unique_identifier: Some(uid.clone()),
        cryptographic_usage_mask: Some(mask as i32),
        ..CheckRequest::default()
    };
    h.ok(
        &h.alice,
        V2_1,
        check(CryptographicUsageMask::ENCRYPT.bits()),
    );
    assert_failed(
        &h.one(&h.alice, V2_1, check(CryptographicUsageMask::SIGN.bits())),
        ResultReason::IncompatibleCryptographicUsageMask,
    );
    assert_failed(
        &h.one(&h.alice, V1_4, check(CryptographicUsageMask::SIGN.bits())),
        ResultReason::IllegalOperation,
    );
}

#[test]
fn rekey_makes_a_new_key_linked_both_ways_with_the_offset_applied() {
    let h = Harness::new();
    let old = h.create_aes(&h.alice, V2_1, "rotating");
    h.ok(&h.alice, V2_1, activate(&old));
    let ResponsePayload::ReKey(rekeyed) = h.ok(
        &h.alice,
        V2_1,
        ReKeyRequest {
            unique_identifier: Some(old.clone()),
            offset: Some(Interval(3600)),
            ..ReKeyRequest::default()
        },
    ) else {
        panic!()
    };
    let new = rekeyed.unique_identifier;
    assert_ne!(new, old);
    let new_attributes = h.attributes(&h.alice, V2_1, &new);
    assert_eq!(
        new_attributes.linked(LinkType::ReplacedObjectLink),
        Some(old.as_str())
    );
    assert_eq!(new_attributes.object_type(), Some(ObjectType::SymmetricKey));
    assert_eq!(new_attributes.cryptographic_length(), Some(256));
    assert_eq!(
        new_attributes.state(),
        Some(State::PreActive),
        "activation is an hour away"
    );
    assert!(new_attributes.names().any(|n| n.value == "rotating"));
    let old_attributes = h.attributes(&h.alice, V2_1, &old);
    assert_eq!(
        old_attributes.linked(LinkType::ReplacementObjectLink),
        Some(new.as_str())
    );
    assert_ne!(
        key_bytes(&h.ok(&h.alice, V2_1, get(&old))),
        key_bytes(&h.ok(&h.alice, V2_1, get(&new)))
    );
    assert!(new_attributes.contains(KnownAttribute::RandomNumberGenerator));
}

#[test]
fn every_write_is_made_durable_before_the_answer() {
    let h = Harness::new();
    let before = h
        .store
        .durable_waits
        .load(std::sync::atomic::Ordering::SeqCst);
    let uid = h.create_aes(&h.alice, V2_1, "k");
    assert_eq!(
        h.store
            .durable_waits
            .load(std::sync::atomic::Ordering::SeqCst),
        before + 1
    );
    let item = h.one(&h.alice, V2_1, get_attributes(&uid, vec![]));
    assert_eq!(item.result_status, ResultStatus::Success);
    assert_eq!(
        h.store
            .durable_waits
            .load(std::sync::atomic::Ordering::SeqCst),
        before + 1,
        "a read-only message needs no flush"
    );
}
