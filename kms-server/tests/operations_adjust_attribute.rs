//! Adjust Attribute and Set Endpoint Role (KMIP 2.x) through `dispatch`, with their errors, and their listing
//! in Query (2.x only).

mod operations_harness;

use kmip::attributes::{Attribute, AttributeName, CustomAttribute, KnownAttribute};
use kmip::enums::State;
use kmip::payloads::*;
use kmip::{Operation, OperationCode, ResultReason};
use operations_harness::*;
use ttlv::Value;

fn counter(value: Value) -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: "acme".into(),
        attribute_name: "uses".into(),
        value,
    })
}

fn counter_name() -> AttributeName {
    counter(Value::Integer(0)).name()
}

fn adjust(
    uid: &str,
    name: AttributeName,
    kind: AdjustmentType,
    by: Option<AdjustmentValue>,
) -> AdjustAttributeRequest {
    AdjustAttributeRequest {
        unique_identifier: Some(uid.into()),
        attribute_reference: name,
        adjustment_type: kind,
        adjustment_value: by,
    }
}

fn with_counter(h: &Harness, value: Value) -> String {
    let uid = h.create_aes(&h.alice, V2_1, "k");
    h.ok(
        &h.alice,
        V2_1,
        AddAttributeRequest {
            unique_identifier: Some(uid.clone()),
            new_attribute: counter(value).into(),
        },
    );
    uid
}

fn counter_value(h: &Harness, uid: &str) -> Value {
    let attributes = h.attributes(&h.alice, V2_1, uid);
    match attributes.get(&counter_name()) {
        Some(Attribute::Custom(c)) => c.value.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_vendor_counter_is_incremented_decremented_and_negated() {
    let h = Harness::new();
    let uid = with_counter(&h, Value::Integer(10));
    h.ok(
        &h.alice,
        V2_1,
        adjust(
            &uid,
            counter_name(),
            AdjustmentType::Increment,
            Some(AdjustmentValue::Integer(5)),
        ),
    );
    assert_eq!(counter_value(&h, &uid), Value::Integer(15));
    h.ok(
        &h.alice,
        V2_1,
        adjust(
            &uid,
            counter_name(),
            AdjustmentType::Decrement,
            Some(AdjustmentValue::Integer(20)),
        ),
    );
    assert_eq!(counter_value(&h, &uid), Value::Integer(-5));
    h.ok(
        &h.alice,
        V2_1,
        adjust(&uid, counter_name(), AdjustmentType::Negate, None),
    );
    assert_eq!(counter_value(&h, &uid), Value::Integer(5));
}

#[test]
fn a_date_moves_by_an_interval_under_the_state_rules() {
    let h = Harness::new();
    let uid = h.create_aes(&h.alice, V2_1, "k");
    let future = 4_000_000_000i64;
    h.ok(
        &h.alice,
        V2_1,
        SetAttributeRequest {
            unique_identifier: Some(uid.clone()),
            new_attribute: Attribute::ActivationDate(future).into(),
        },
    );
    let name: AttributeName = KnownAttribute::ActivationDate.into();
    h.ok(
        &h.alice,
        V2_1,
        adjust(
            &uid,
            name.clone(),
            AdjustmentType::Increment,
            Some(AdjustmentValue::Interval(3600)),
        ),
    );
    assert_eq!(
        h.attributes(&h.alice, V2_1, &uid).activation_date(),
        Some(future + 3600)
    );
    // Once Active, the Activation Date is fixed.
    let active = h.create_aes(&h.alice, V2_1, "a");
    h.ok(&h.alice, V2_1, activate(&active));
    assert_eq!(h.state_of(&h.alice, &active), State::Active);
    let item = h.one(
        &h.alice,
        V2_1,
        adjust(
            &active,
            name,
            AdjustmentType::Decrement,
            Some(AdjustmentValue::Interval(1)),
        ),
    );
    assert_failed(&item, ResultReason::WrongKeyLifecycleState);
}

#[test]
fn adjust_attribute_errors_are_kmip_errors() {
    let h = Harness::new();
    let uid = with_counter(&h, Value::Integer(i32::MAX));
    // Overflow.
    let item = h.one(
        &h.alice,
        V2_1,
        adjust(
            &uid,
            counter_name(),
            AdjustmentType::Increment,
            Some(AdjustmentValue::Integer(1)),
        ),
    );
    assert_failed(&item, ResultReason::InvalidField);
    assert_eq!(
        counter_value(&h, &uid),
        Value::Integer(i32::MAX),
        "unchanged"
    );
    // Missing value, value for Negate, wrong value type.
    for (kind, by) in [
        (AdjustmentType::Increment, None),
        (AdjustmentType::Negate, Some(AdjustmentValue::Integer(1))),
        (
            AdjustmentType::Decrement,
            Some(AdjustmentValue::BigInteger(vec![1])),
        ),
    ] {
        let item = h.one(&h.alice, V2_1, adjust(&uid, counter_name(), kind, by));
        assert_failed(&item, ResultReason::InvalidField);
    }
    // Not numeric.
    let name: AttributeName = KnownAttribute::Name.into();
    let item = h.one(
        &h.alice,
        V2_1,
        adjust(&uid, name, AdjustmentType::Negate, None),
    );
    assert_failed(&item, ResultReason::InvalidField);
    // Absent.
    let name: AttributeName = KnownAttribute::DeactivationDate.into();
    let item = h.one(
        &h.alice,
        V2_1,
        adjust(
            &uid,
            name,
            AdjustmentType::Increment,
            Some(AdjustmentValue::Interval(1)),
        ),
    );
    assert_failed(&item, ResultReason::AttributeNotFound);
    // Server-set.
    let name: AttributeName = KnownAttribute::CryptographicLength.into();
    let item = h.one(
        &h.alice,
        V2_1,
        adjust(
            &uid,
            name,
            AdjustmentType::Increment,
            Some(AdjustmentValue::Integer(1)),
        ),
    );
    assert_failed(&item, ResultReason::AttributeReadOnly);
    // Another tenant's object.
    let item = h.one(
        &h.bob,
        V2_1,
        adjust(&uid, counter_name(), AdjustmentType::Negate, None),
    );
    assert_failed(&item, ResultReason::ObjectNotFound);
}

#[test]
fn set_endpoint_role_accepts_client_and_refuses_server() {
    let h = Harness::new();
    let ResponsePayload::SetEndpointRole(r) = h.ok(
        &h.alice,
        V2_1,
        SetEndpointRoleRequest {
            endpoint_role: EndpointRole::Client,
        },
    ) else {
        panic!()
    };
    assert_eq!(r.endpoint_role, EndpointRole::Client);
    let item = h.one(
        &h.alice,
        V2_1,
        SetEndpointRoleRequest {
            endpoint_role: EndpointRole::Server,
        },
    );
    assert_failed(&item, ResultReason::FeatureNotSupported);
}

#[test]
fn query_lists_both_operations_in_2x_only() {
    let h = Harness::new();
    let query = || QueryRequest {
        query_functions: vec![QueryFunction::QueryOperations],
    };
    let wanted = [
        OperationCode::Known(Operation::AdjustAttribute),
        OperationCode::Known(Operation::SetEndpointRole),
    ];
    let ResponsePayload::Query(v2) = h.ok(&h.alice, V2_1, query()) else {
        panic!()
    };
    assert!(wanted.iter().all(|op| v2.operations.contains(op)));
    let ResponsePayload::Query(v1) = h.ok(&h.alice, V1_4, query()) else {
        panic!()
    };
    assert!(wanted.iter().all(|op| !v1.operations.contains(op)));
}
