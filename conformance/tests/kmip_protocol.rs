//! NLnet Labs' `kmip-protocol` crate (crates.io 0.4.3, its rustls 0.19 build) as a client of a real
//! `qkms-server` over mutual TLS: every operation its client offers, each in the KMIP version the crate sends it
//! in (1.0 for most, 1.1 for Discover Versions, 1.2 for Sign and RNG Retrieve).
//!
//! Its rustls build only takes a DNS name as server name, so it connects as `localhost` (the test server's
//! certificate names it) over a TCP stream opened to the server's loopback address.
//!
//! Client limits tested around, not qkms faults: its Get Attributes decoder overflows its stack on a Digest
//! attribute and cannot read a Date-Time into its u64 or an Interval, so Get Attributes asks for named
//! attributes of types it reads (issue #14, README client notes).

mod support;

use std::net::TcpStream;

use kmip_protocol::client::tls::rustls::connect_with_tcpstream_factory;
use kmip_protocol::client::{Client, ClientCertificate, ConnectionSettings};
use kmip_protocol::types::common::{
    AttributeIndex, AttributeName, AttributeValue, CryptographicAlgorithm, CryptographicLength,
    CryptographicUsageMask, KeyFormatType, KeyMaterial, ObjectType, RevocationReasonCode,
    UniqueIdentifier,
};
use kmip_protocol::types::request::{
    Attribute, KeyBlock, KeyValue, ManagedObject, ProtocolVersion, ProtocolVersionMajor,
    ProtocolVersionMinor, RequestPayload, RevocationReason, SymmetricKey, TemplateAttribute,
};
use kmip_protocol::types::response::{ManagedObject as Got, ResponsePayload};

fn settings(server: &support::Server) -> ConnectionSettings {
    let read = |file: &str| std::fs::read(server.pki(file)).expect("the PKI --init wrote");
    ConnectionSettings {
        host: "localhost".into(),
        port: server.port,
        username: None,
        password: None,
        insecure: false,
        client_cert: Some(ClientCertificate::SeparatePem {
            cert_bytes: read("client.pem"),
            key_bytes: Some(read("client.key")),
        }),
        server_cert: None,
        ca_cert: Some(read("ca.pem")),
        connect_timeout: None,
        read_timeout: Some(std::time::Duration::from_secs(60)),
        write_timeout: Some(std::time::Duration::from_secs(60)),
        max_response_bytes: Some(1 << 20),
    }
}

fn request<T: std::io::Read + std::io::Write>(
    client: &Client<T>,
    payload: RequestPayload,
) -> ResponsePayload {
    let operation = payload.operation();
    client
        .do_request(payload)
        .unwrap_or_else(|e| panic!("{operation:?}: {e:?}"))
}

fn uid_of(response: ResponsePayload) -> String {
    match response {
        ResponsePayload::Create(r) => r.unique_identifier.0,
        ResponsePayload::Register(r) => r.unique_identifier.0,
        other => panic!("{other:?}"),
    }
}

#[test]
fn kmip_protocol_drives_every_operation_it_offers() {
    let server = support::Server::start();
    let address = server.address.clone();
    let client = connect_with_tcpstream_factory(&settings(&server), move |_, _| {
        Ok(TcpStream::connect(&address)?)
    })
    .unwrap_or_else(|e| panic!("kmip-protocol connects over TLS as localhost: {e:?}"));

    // Discover Versions (a 1.1 message, as the crate opens with it) and Query.
    let ResponsePayload::DiscoverVersions(versions) = request(
        &client,
        RequestPayload::DiscoverVersions(vec![ProtocolVersion(
            ProtocolVersionMajor(1),
            ProtocolVersionMinor(1),
        )]),
    ) else {
        panic!("a Discover Versions answer")
    };
    let offered = versions.supported_versions.unwrap_or_default();
    assert_eq!(offered.len(), 1, "asked for 1.1 only: {offered:?}");
    let query = client.query().expect("Query");
    assert!(query.operations.is_some_and(|o| !o.is_empty()));

    // Create, Get, Get Attributes (named), Get Attribute List, Locate by name.
    let name = format!("kmip-protocol-{}", std::process::id());
    let created = uid_of(request(
        &client,
        RequestPayload::Create(
            ObjectType::SymmetricKey,
            TemplateAttribute::unnamed(vec![
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
                Attribute::CryptographicLength(256),
                Attribute::CryptographicUsageMask(CryptographicUsageMask::Encrypt),
                Attribute::Name(name.clone()),
            ]),
        ),
    ));
    let got = client.get_key(&created).expect("Get");
    let Got::SymmetricKey(key) = got.cryptographic_object else {
        panic!("a symmetric key")
    };
    let material = key.key_block.key_value.key_material;
    assert!(matches!(&material, KeyMaterial::Bytes(b) if b.len() == 32));
    let ResponsePayload::GetAttributes(attributes) = request(
        &client,
        RequestPayload::GetAttributes(
            Some(UniqueIdentifier(created.clone())),
            Some(vec![
                AttributeName("Cryptographic Algorithm".into()),
                AttributeName("Cryptographic Length".into()),
            ]),
        ),
    ) else {
        panic!("a Get Attributes answer")
    };
    let attributes = attributes.attributes.unwrap_or_default();
    assert!(attributes
        .iter()
        .any(|a| a.name.0 == "Cryptographic Length"
            && matches!(a.value, AttributeValue::Integer(256))));
    let ResponsePayload::GetAttributeList(list) = request(
        &client,
        RequestPayload::GetAttributeList(Some(UniqueIdentifier(created.clone()))),
    ) else {
        panic!("a Get Attribute List answer")
    };
    assert!(list
        .attributes
        .iter()
        .any(|n| n == "Cryptographic Algorithm"));
    let ResponsePayload::Locate(located) = request(
        &client,
        RequestPayload::Locate(vec![Attribute::Name(name.clone())]),
    ) else {
        panic!("a Locate answer")
    };
    assert_eq!(
        located.unique_identifiers,
        vec![UniqueIdentifier(created.clone())]
    );

    // Add, Modify (the crate's rename_key), Delete Attribute: 1.0 answers carry the attribute.
    let ResponsePayload::AddAttribute(added) = request(
        &client,
        RequestPayload::AddAttribute(
            Some(UniqueIdentifier(created.clone())),
            Attribute::ContactInformation("ops@example.org".into()),
        ),
    ) else {
        panic!("an Add Attribute answer")
    };
    assert_eq!(added.attribute.name.0, "Contact Information");
    let renamed = client
        .rename_key(&created, format!("{name}-renamed"))
        .expect("Modify Attribute");
    assert_eq!(renamed.attribute.name.0, "Name");
    let ResponsePayload::DeleteAttribute(deleted) = request(
        &client,
        RequestPayload::DeleteAttribute(
            Some(UniqueIdentifier(created.clone())),
            AttributeName("Contact Information".into()),
            Some(AttributeIndex(0)),
        ),
    ) else {
        panic!("a Delete Attribute answer")
    };
    assert_eq!(deleted.attribute.name.0, "Contact Information");

    // Register a symmetric key; Get gives its bytes back.
    let bytes: Vec<u8> = (1u8..=16).collect();
    let registered = uid_of(request(
        &client,
        RequestPayload::Register(
            ObjectType::SymmetricKey,
            TemplateAttribute::unnamed(vec![Attribute::CryptographicUsageMask(
                CryptographicUsageMask::Encrypt,
            )]),
            Some(ManagedObject::SymmetricKey(SymmetricKey(KeyBlock(
                KeyFormatType::Raw,
                None,
                Some(KeyValue(KeyMaterial::Bytes(bytes.clone()), None)),
                Some(CryptographicAlgorithm::AES),
                Some(CryptographicLength(128)),
                None,
            )))),
        ),
    ));
    let Got::SymmetricKey(key) = client
        .get_key(&registered)
        .expect("Get")
        .cryptographic_object
    else {
        panic!("a symmetric key")
    };
    assert!(matches!(key.key_block.key_value.key_material, KeyMaterial::Bytes(b) if b == bytes));

    // Create Key Pair (RSA), Activate, Sign (a 1.2 message), RNG Retrieve (1.2), Revoke, Destroy.
    let (private, public) = client
        .create_rsa_key_pair(2048, format!("{name}-private"), format!("{name}-public"))
        .expect("Create Key Pair");
    client.activate_key(&private).expect("Activate");
    let signed = client
        .sign(&private, b"signed by qkms for kmip-protocol")
        .expect("Sign");
    assert_eq!(signed.signature_data.len(), 256);
    let random = client.rng_retrieve(32).expect("RNG Retrieve");
    assert_eq!(random.data.len(), 32);
    client.revoke_key(&private).expect("Revoke");
    let ResponsePayload::Revoke(_) = request(
        &client,
        RequestPayload::Revoke(
            Some(UniqueIdentifier(created.clone())),
            RevocationReason(RevocationReasonCode::Unspecified, None),
            None,
        ),
    ) else {
        panic!("a Revoke answer")
    };
    for uid in [&private, &public, &created, &registered] {
        client.destroy_key(uid).expect("Destroy");
    }
    assert!(
        client.get_key(&created).is_err(),
        "a destroyed key has no value"
    );
}
