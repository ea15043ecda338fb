//! Per-tenant uid namespaces over mutual TLS (issue #12, part 1). Found: Import takes a client-chosen uid, so
//! tenant B could learn that tenant A used a uid (Object Already Exists), pre-empt A's issuing-CA copy
//! (`qkms-issuing-ca-for-<A>`), and register its own key under the issuing CA's uid. Now each tenant's uids are
//! its own: B's Import of any uid succeeds or fails exactly as if A did not exist, A's objects and A's
//! certificates are untouched by it, and the server's own objects are reachable by no request.

mod common;
mod e2e_support;

use common::TestServer;
use e2e_support::*;
use kmip::enums::ObjectType;
use kmip::objects::ManagedObject;
use kmip::payloads::*;
use kmip::{ProtocolVersion, ResultReason};

fn import_copy(uid: &str, object: ManagedObject) -> ImportRequest {
    ImportRequest {
        unique_identifier: uid.into(),
        object_type: object.object_type(),
        replace_existing: None,
        key_wrap_type: None,
        attributes: None,
        object: ObjectField(Some(object)),
    }
}

fn symmetric_object(response: &GetResponse) -> ManagedObject {
    response.object.0.clone().expect("an object")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_probe_preempt_or_replace_another_tenants_or_the_servers_uids() {
    let server = TestServer::start().await;
    let mut alice = server.connect().await;
    let bob_bundle = server.issue_client("tenant-b");
    let mut bob = server.connect_as(&bob_bundle, ProtocolVersion::V2_1).await;

    // Alice's key, under a uid she chose.
    let created = alice
        .create(create_aes(256, "alice-key", vec![]))
        .await
        .unwrap();
    let alice_secret = material(&alice.get(get(&created.unique_identifier)).await.unwrap());
    let object = symmetric_object(&alice.get(get(&created.unique_identifier)).await.unwrap());
    let imported = alice
        .call(import_copy("shared-name", object))
        .await
        .expect("Alice imports under a uid of her choice");
    assert!(matches!(imported, ResponsePayload::Import(_)));

    // Bob imports his own key under the same uid, under the server's issuing-CA uids and under Alice's
    // issuing-CA copy uid: each succeeds as it would on an empty server (no Object Already Exists that would
    // reveal Alice's uid or the server's objects).
    let bob_key = bob
        .create(create_aes(256, "bob-key", vec![]))
        .await
        .unwrap();
    let bob_object = symmetric_object(&bob.get(get(&bob_key.unique_identifier)).await.unwrap());
    for uid in [
        "shared-name",
        "qkms-issuing-ca-key",
        "qkms-issuing-ca-certificate",
        "qkms-issuing-ca-for-default",
    ] {
        let answer = bob.call(import_copy(uid, bob_object.clone())).await;
        assert!(
            matches!(answer, Ok(ResponsePayload::Import(_))),
            "Bob's Import of {uid:?}: {answer:?}"
        );
    }

    // Alice still sees her own object under "shared-name", untouched.
    assert_eq!(
        material(&alice.get(get("shared-name")).await.unwrap()),
        alice_secret
    );
    // Alice's Certify is signed by the server's issuing CA, and her copy of the CA certificate is the server's,
    // not Bob's key planted under those uids.
    let pair = match alice
        .call(CreateKeyPairRequest {
            common_attributes: Some(
                vec![
                    kmip::attributes::Attribute::CryptographicAlgorithm(
                        kmip::enums::CryptographicAlgorithm::Ec,
                    ),
                    kmip::attributes::Attribute::CryptographicLength(256),
                ]
                .into(),
            ),
            ..Default::default()
        })
        .await
        .expect("a P-256 pair")
    {
        ResponsePayload::CreateKeyPair(r) => r,
        other => panic!("unexpected {other:?}"),
    };
    let certified = match alice
        .call(CertifyRequest {
            unique_identifier: Some(pair.public_key_unique_identifier.clone()),
            ..CertifyRequest::default()
        })
        .await
    {
        Ok(ResponsePayload::Certify(r)) => r.unique_identifier,
        other => panic!("Certify: {other:?}"),
    };
    let issuing_ca =
        kmip::client::certificates_from_file(&server.dir.path().join("pki/issuing-ca.pem"))
            .expect("the issuing CA certificate --init wrote");
    let copy = alice.get(get("qkms-issuing-ca-for-default")).await.unwrap();
    match copy.object.0 {
        Some(ManagedObject::Certificate(c)) => {
            assert_eq!(
                c.certificate_value,
                issuing_ca[0].as_ref(),
                "Alice's CA copy is the server's CA"
            );
        }
        other => panic!("Alice's CA copy is a certificate, not {other:?}"),
    }
    let issued = alice.get(get(&certified)).await.unwrap();
    assert_eq!(issued.object_type, ObjectType::Certificate);

    // No request reaches the server's objects: Bob's Get of the CA key uid gives Bob's own import back, and a
    // tenant that imported nothing there gets "not found".
    let carol_bundle = server.issue_client("tenant-c");
    let mut carol = server
        .connect_as(&carol_bundle, ProtocolVersion::V2_1)
        .await;
    match carol.call(get("qkms-issuing-ca-key")).await {
        Err(kmip::client::ClientError::Operation { reason, .. }) => {
            assert_eq!(reason, ResultReason::ObjectNotFound)
        }
        other => panic!("Carol reached the server's CA key: {other:?}"),
    }
}
