//! Restart persistence over real TLS and a real sled directory: objects, their material, attributes and
//! lifecycle states come back after the server stops and starts again on the same directory, and Locate still
//! finds them.

mod common;
mod e2e_support;

use common::TestServer;
use e2e_support::*;
use kmip::attributes::{Attribute, Attributes, KnownAttribute, Name};
use kmip::client::{Client, ClientError};
use kmip::enums::{ObjectType, RevocationReasonCode, State};
use kmip::payloads::*;
use kmip::{ProtocolVersion, ResultReason};

/// What a tenant can see of one object: its attributes and, unless destroyed, its key material.
#[derive(Debug, PartialEq)]
struct Snapshot {
    attributes: Attributes,
    material: Option<Vec<u8>>,
}

/// Get first: a Get clears Fresh, so the attributes read after it are stable from one snapshot to the next.
async fn snapshot(client: &mut Client, uid: &str) -> Snapshot {
    let got = client.get(get(uid)).await;
    let attributes = attributes_of(client.get_attributes(get_attributes(uid)).await.unwrap());
    let material = match got {
        Ok(response) => Some(material(&response)),
        Err(ClientError::Operation { reason, .. }) => {
            assert_eq!(attributes.state(), Some(State::Destroyed), "{reason:?}");
            None
        }
        Err(other) => panic!("Get {uid}: {other}"),
    };
    Snapshot {
        attributes,
        material,
    }
}

async fn located(client: &mut Client, request: LocateRequest) -> Vec<String> {
    let mut uids = client.locate(request).await.unwrap().unique_identifiers;
    uids.sort();
    uids
}

async fn create(client: &mut Client, request: CreateRequest) -> String {
    client.create(request).await.unwrap().unique_identifier
}

async fn register(client: &mut Client, request: RegisterRequest) -> String {
    client.register(request).await.unwrap().unique_identifier
}

#[tokio::test]
async fn objects_attributes_and_states_survive_restarts_and_stay_locatable() {
    let mut server = TestServer::start().await;
    let mut client = server.connect().await;

    // Active: a created AES-256 key with a vendor attribute and a description.
    let active = create(
        &mut client,
        create_aes(256, "persist-active", vec![vendor("purpose", "backups")]),
    )
    .await;
    client
        .add_attribute(AddAttributeRequest {
            unique_identifier: Some(active.clone()),
            new_attribute: Attribute::Description("nightly backup key".into()).into(),
        })
        .await
        .unwrap();
    client.activate(&active).await.unwrap();
    // Pre-Active: a registered AES-128 key whose bytes we know.
    let registered_bytes: Vec<u8> = (0u8..16).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
    let pre_active = register(
        &mut client,
        register_aes(&registered_bytes, "persist-registered", vec![]),
    )
    .await;
    // Secret Data, registered.
    let secret_bytes = b"correct horse battery staple".to_vec();
    let secret = register(
        &mut client,
        register_secret(
            &secret_bytes,
            "persist-secret",
            vec![vendor("owner", "ops")],
        ),
    )
    .await;
    // Deactivated: activated then revoked.
    let revoked = create(&mut client, create_aes(192, "persist-revoked", vec![])).await;
    client.activate(&revoked).await.unwrap();
    client
        .revoke(RevokeRequest {
            unique_identifier: Some(revoked.clone()),
            revocation_reason: RevocationReason {
                code: RevocationReasonCode::CessationOfOperation,
                message: Some("retired".into()),
            },
            compromise_occurrence_date: None,
        })
        .await
        .unwrap();
    // Destroyed: its material is gone, its attributes stay.
    let destroyed = create(&mut client, create_aes(128, "persist-destroyed", vec![])).await;
    client.destroy(&destroyed).await.unwrap();

    let uids = [&active, &pre_active, &secret, &revoked, &destroyed];
    let mut before = Vec::new();
    for uid in uids {
        before.push(snapshot(&mut client, uid).await);
    }
    assert_eq!(before[1].material.as_deref(), Some(&registered_bytes[..]));
    assert_eq!(before[2].material.as_deref(), Some(&secret_bytes[..]));
    assert_eq!(before[0].material.as_ref().map(Vec::len), Some(32));
    let states: Vec<_> = before.iter().map(|s| s.attributes.state()).collect();
    assert_eq!(
        states,
        [
            Some(State::Active),
            Some(State::PreActive),
            Some(State::PreActive),
            Some(State::Deactivated),
            Some(State::Destroyed)
        ]
    );
    let all_keys_before = located(
        &mut client,
        locate(vec![Attribute::ObjectType(ObjectType::SymmetricKey)]),
    )
    .await;
    drop(client);

    server.restart().await;
    let mut client = server.connect().await;
    for (uid, expected) in uids.iter().zip(&before) {
        assert_eq!(&snapshot(&mut client, uid).await, expected, "object {uid}");
    }
    assert_eq!(
        located(&mut client, locate_name("persist-active")).await,
        std::slice::from_ref(&active)
    );
    assert_eq!(
        located(&mut client, locate_name("persist-secret")).await,
        std::slice::from_ref(&secret)
    );
    assert_eq!(
        located(
            &mut client,
            locate(vec![Attribute::ObjectType(ObjectType::SymmetricKey)])
        )
        .await,
        all_keys_before
    );
    assert_eq!(
        located(&mut client, locate(vec![Attribute::State(State::Active)])).await,
        std::slice::from_ref(&active)
    );
    assert_eq!(
        located(&mut client, locate(vec![vendor("purpose", "backups")])).await,
        std::slice::from_ref(&active)
    );

    // Changes made after a restart persist through the next one, in either protocol family.
    client
        .modify_attribute(ModifyAttributeRequest {
            unique_identifier: Some(active.clone()),
            current_attribute: None,
            new_attribute: Attribute::Description("weekly backup key".into()).into(),
        })
        .await
        .unwrap();
    client
        .delete_attribute(DeleteAttributeRequest {
            unique_identifier: Some(secret.clone()),
            attribute_name: Some(vendor("owner", "").name()),
            ..DeleteAttributeRequest::default()
        })
        .await
        .unwrap();
    client.activate(&pre_active).await.unwrap();
    drop(client);

    server.restart().await;
    let mut old = server
        .connect_as(&server.client, ProtocolVersion::V1_4)
        .await;
    let active_attributes =
        attributes_of(old.get_attributes(get_attributes(&active)).await.unwrap());
    assert_eq!(
        active_attributes.get(&KnownAttribute::Description.into()),
        Some(&Attribute::Description("weekly backup key".into()))
    );
    let secret_attributes =
        attributes_of(old.get_attributes(get_attributes(&secret)).await.unwrap());
    assert!(secret_attributes.custom("x", "owner").is_none());
    assert_eq!(
        attributes_of(
            old.get_attributes(get_attributes(&pre_active))
                .await
                .unwrap()
        )
        .state(),
        Some(State::Active)
    );
    assert_eq!(
        material(&old.get(get(&pre_active)).await.unwrap()),
        registered_bytes
    );
    let located_active = old
        .locate(locate(vec![
            Attribute::Name(Name::text("persist-registered")),
            Attribute::State(State::Active),
        ]))
        .await
        .unwrap()
        .unique_identifiers;
    assert_eq!(located_active, std::slice::from_ref(&pre_active));
    // The destroyed key stays destroyed.
    let error = old.get(get(&destroyed)).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Operation { reason, .. }
            if reason != ResultReason::GeneralFailure),
        "{error}"
    );
}
