//! Regression, over a real TLS connection: Re-Certify of a registered certificate whose validity is as long as
//! X.509 allows (1970-01-02 .. 9999-12-31), or with an Offset that pushes the renewal past 9999, panicked in date
//! arithmetic and was answered "internal error". Now it is an Invalid Field failure saying why, and the server
//! keeps answering.

mod common;

use common::TestServer;
use kmip::client::ClientError;
use kmip::enums::CertificateType;
use kmip::objects::{Certificate, ManagedObject};
use kmip::payloads::*;
use kmip::ResultReason;
use rcgen::{CertificateParams, DnType, KeyPair};
use time::macros::datetime;
use time::OffsetDateTime;

fn self_signed(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Vec<u8> {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "long-lived.example");
    params.not_before = not_before;
    params.not_after = not_after;
    let key = KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

async fn register(client: &mut kmip::client::Client, der: Vec<u8>) -> String {
    let object = ManagedObject::Certificate(Certificate {
        certificate_type: CertificateType::X509,
        certificate_value: der,
    });
    client
        .register(RegisterRequest {
            object_type: object.object_type(),
            attributes: Vec::new().into(),
            object: ObjectField(Some(object)),
            protection_storage_masks: None,
        })
        .await
        .unwrap()
        .unique_identifier
}

fn recertify(uid: &str, offset: Option<u32>) -> ReCertifyRequest {
    ReCertifyRequest {
        unique_identifier: Some(uid.to_owned()),
        offset: offset.map(Interval),
        ..Default::default()
    }
}

fn assert_invalid_field(result: Result<ReCertifyResponse, ClientError>) -> String {
    match result {
        Err(ClientError::Operation {
            reason, message, ..
        }) => {
            assert_eq!(reason, ResultReason::InvalidField, "{message}");
            assert!(!message.contains("internal error"), "{message}");
            message
        }
        other => panic!("expected an Invalid Field failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewing_a_certificate_valid_until_9999_is_an_invalid_field_not_a_panic() {
    let server = TestServer::start().await;
    let mut client = server.connect().await;
    let uid = register(
        &mut client,
        self_signed(
            datetime!(1970-01-02 00:00 UTC),
            datetime!(9999-12-31 23:59:59 UTC),
        ),
    )
    .await;
    let message = assert_invalid_field(client.re_certify(recertify(&uid, None)).await);
    assert!(message.contains("9999-12-31"), "{message}");

    // A long certificate that could be renewed from now, but not with a large Offset: it would end past 9999.
    let ordinary = register(
        &mut client,
        self_signed(
            datetime!(2020-01-01 00:00 UTC),
            datetime!(9950-01-01 00:00 UTC),
        ),
    )
    .await;
    let message = assert_invalid_field(
        client
            .re_certify(recertify(&ordinary, Some(u32::MAX)))
            .await,
    );
    assert!(message.contains("Offset"), "{message}");

    // The same connection still works, and a renewal that fits succeeds.
    let short = register(
        &mut client,
        self_signed(
            datetime!(2020-01-01 00:00 UTC),
            datetime!(2030-01-01 00:00 UTC),
        ),
    )
    .await;
    let renewed = client
        .re_certify(recertify(&short, Some(3_600)))
        .await
        .unwrap();
    assert_ne!(renewed.unique_identifier, short);
}
