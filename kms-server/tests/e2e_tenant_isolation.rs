//! Tenant isolation over mutual TLS: a second tenant (its own `issue-client` bundle) can neither read, find,
//! change nor destroy the first tenant's objects, and every refusal is the one it gets for an identifier that
//! does not exist, so the answer does not reveal that the object exists.

mod common;
mod e2e_support;

use common::TestServer;
use e2e_support::*;
use kmip::attributes::{Attribute, Name};
use kmip::client::Client;
use kmip::enums::{ObjectType, RevocationReasonCode};
use kmip::payloads::*;
use kmip::{ProtocolVersion, RequestBatchItem, RequestMessage, ResponseBatchItem, ResultStatus};

/// Sends one operation and returns its response item, whatever the result.
async fn one(client: &mut Client, payload: RequestPayload) -> ResponseBatchItem {
    let request = RequestMessage::new(
        client.protocol_version(),
        vec![RequestBatchItem::new(payload)],
    );
    let mut response = client.send(&request).await.expect("an answer");
    assert_eq!(response.items.len(), 1);
    response.items.remove(0)
}

/// Every operation on object `uid` that a foreign tenant might try.
fn attempts(uid: &str, version: ProtocolVersion) -> Vec<(&'static str, RequestPayload)> {
    let some = || Some(uid.to_owned());
    let mut list: Vec<(&'static str, RequestPayload)> = vec![
        ("Get", get(uid).into()),
        ("Get Attributes", get_attributes(uid).into()),
        (
            "Get Attribute List",
            GetAttributeListRequest {
                unique_identifier: some(),
            }
            .into(),
        ),
        (
            "Add Attribute",
            AddAttributeRequest {
                unique_identifier: some(),
                new_attribute: Attribute::Description("mine now".into()).into(),
            }
            .into(),
        ),
        (
            "Modify Attribute",
            ModifyAttributeRequest {
                unique_identifier: some(),
                current_attribute: None,
                new_attribute: vendor("owner", "mallory").into(),
            }
            .into(),
        ),
        (
            "Delete Attribute",
            DeleteAttributeRequest {
                unique_identifier: some(),
                attribute_name: Some(vendor("owner", "").name()),
                ..DeleteAttributeRequest::default()
            }
            .into(),
        ),
        (
            "Activate",
            ActivateRequest {
                unique_identifier: some(),
            }
            .into(),
        ),
        (
            "Revoke",
            RevokeRequest {
                unique_identifier: some(),
                revocation_reason: RevocationReason {
                    code: RevocationReasonCode::KeyCompromise,
                    message: None,
                },
                compromise_occurrence_date: Some(DateTime(1)),
            }
            .into(),
        ),
        (
            "Check",
            CheckRequest {
                unique_identifier: some(),
                ..CheckRequest::default()
            }
            .into(),
        ),
        (
            "Re-Key",
            ReKeyRequest {
                unique_identifier: some(),
                ..ReKeyRequest::default()
            }
            .into(),
        ),
        (
            "Destroy",
            DestroyRequest {
                unique_identifier: some(),
            }
            .into(),
        ),
    ];
    if version.is_v2() {
        list.push((
            "Set Attribute",
            SetAttributeRequest {
                unique_identifier: some(),
                new_attribute: Attribute::Description("mine now".into()).into(),
            }
            .into(),
        ));
    }
    list
}

/// A well-formed identifier that names nothing: `uid` with its last character changed.
fn nonexistent_like(uid: &str) -> String {
    let mut chars: Vec<char> = uid.chars().collect();
    let last = chars.last_mut().expect("identifiers are not empty");
    *last = if *last == '0' { '1' } else { '0' };
    chars.into_iter().collect()
}

/// What a refusal says, with the identifier it concerns blanked out.
fn refusal(
    item: &ResponseBatchItem,
    uid: &str,
) -> (ResultStatus, Option<kmip::ResultReason>, String) {
    (
        item.result_status,
        item.result_reason,
        item.result_message
            .as_deref()
            .unwrap_or_default()
            .replace(uid, "<uid>"),
    )
}

#[tokio::test]
async fn tenant_b_can_neither_read_find_change_nor_destroy_tenant_a_objects() {
    let server = TestServer::start().await;
    let mut alice = server.connect().await;
    let pre_active = alice
        .create(create_aes(
            256,
            "alice-pre-active",
            vec![vendor("owner", "alice")],
        ))
        .await
        .unwrap()
        .unique_identifier;
    let active = alice
        .create(create_aes(
            128,
            "alice-active",
            vec![vendor("owner", "alice")],
        ))
        .await
        .unwrap()
        .unique_identifier;
    alice.activate(&active).await.unwrap();
    let mut before = Vec::new();
    for uid in [&pre_active, &active] {
        // Get first: it clears Fresh, which B's attempts must not change.
        let key = material(&alice.get(get(uid)).await.unwrap());
        let attributes = attributes_of(alice.get_attributes(get_attributes(uid)).await.unwrap());
        before.push((attributes, key));
    }

    let bundle = server.issue_client("tenant-b");
    for version in [ProtocolVersion::V2_1, ProtocolVersion::V1_4] {
        let mut bob = server.connect_as(&bundle, version).await;
        for uid in [&pre_active, &active] {
            let unknown = nonexistent_like(uid);
            for ((operation, foreign), (_, missing)) in attempts(uid, version)
                .into_iter()
                .zip(attempts(&unknown, version))
            {
                let foreign = one(&mut bob, foreign).await;
                let missing = one(&mut bob, missing).await;
                assert_eq!(
                    foreign.result_status,
                    ResultStatus::OperationFailed,
                    "{version}: tenant B's {operation} on tenant A's object succeeded: {foreign:?}"
                );
                assert_eq!(
                    refusal(&foreign, uid),
                    refusal(&missing, &unknown),
                    "{version}: {operation} answers differently for a foreign and a missing object"
                );
            }
        }
        // Locate finds nothing of A's, by name, by type, or with no filter at all.
        for request in [
            locate(vec![Attribute::Name(Name::text("alice-active"))]),
            locate(vec![Attribute::ObjectType(ObjectType::SymmetricKey)]),
            locate(vec![vendor("owner", "alice")]),
            LocateRequest::default(),
        ] {
            let found = bob.locate(request).await.unwrap();
            assert!(
                found.unique_identifiers.is_empty(),
                "{version}: tenant B located {:?}",
                found.unique_identifiers
            );
        }
    }

    // Tenant B's own objects work normally, and A still cannot see them either.
    let mut bob = server.connect_as(&bundle, ProtocolVersion::V2_1).await;
    let bobs = bob
        .create(create_aes(256, "bob-key", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    assert_eq!(material(&bob.get(get(&bobs)).await.unwrap()).len(), 32);
    assert_eq!(
        one(&mut alice, get(&bobs).into()).await.result_status,
        ResultStatus::OperationFailed
    );
    assert!(alice
        .locate(locate_name("bob-key"))
        .await
        .unwrap()
        .unique_identifiers
        .is_empty());

    // A's objects are exactly as they were.
    for (uid, (attributes, key)) in [&pre_active, &active].into_iter().zip(before) {
        assert_eq!(
            attributes_of(alice.get_attributes(get_attributes(uid)).await.unwrap()),
            attributes,
            "attributes of {uid}"
        );
        assert_eq!(material(&alice.get(get(uid)).await.unwrap()), key);
    }
}
