//! Locate finds certificates by subject, issuer, serial number and digest, in both protocol families: the X.509
//! Certificate Subject / Issuer / Identifier and Digest attributes (1.1+), the 2.x Certificate Subject / Issuer
//! name fields, and the 1.0 text forms (Certificate Subject, Certificate Issuer, Certificate Identifier).
//! Requests go through their TTLV encoding first, so the filters are what a client's bytes decode to.

mod certify_support;
mod operations_harness;

use certify_support::*;
use kmip::attributes::{
    Attribute, AttributeName, Attributes, CryptographicUsageMask as Usage, KnownAttribute,
    UnknownAttribute,
};
use kmip::enums::{LinkType, ObjectType};
use kmip::payloads::*;
use kmip::ProtocolVersion;
use kms_server::crypto::certificate::parse_certificate;
use operations_harness::*;
use ttlv::{tags, Item, Tag, Value};

struct Certificates {
    alpha: String,
    beta: String,
    /// Issued by a tenant CA named "team CA".
    team_leaf: String,
}

fn setup(h: &Harness) -> Certificates {
    let dir = tempfile::tempdir().unwrap();
    let alpha = certified(
        h,
        &h.alice,
        V2_1,
        certify_csr(
            &openssl_csr(dir.path(), "/O=Example/CN=alpha.example", &[]),
            vec![],
        ),
    );
    let beta = certified(
        h,
        &h.alice,
        V2_1,
        certify_csr(
            &openssl_csr(dir.path(), "/O=Example/CN=beta.example", &[]),
            vec![],
        ),
    );
    let (ca_private, ca_public) = key_pair(
        h,
        &h.alice,
        V2_1,
        Usage::SIGN | Usage::CERTIFICATE_SIGN,
        true,
    );
    certified(
        h,
        &h.alice,
        V2_1,
        certify_key(
            &ca_public,
            vec![
                Attribute::Name(kmip::attributes::Name::text("team CA")),
                Attribute::CryptographicUsageMask(Usage::CERTIFICATE_SIGN),
            ],
        ),
    );
    let team_leaf = certified(
        h,
        &h.alice,
        V2_1,
        certify_csr(
            &openssl_csr(dir.path(), "/CN=leaf.team.example", &[]),
            vec![link(LinkType::PrivateKeyLink, &ca_private)],
        ),
    );
    Certificates {
        alpha,
        beta,
        team_leaf,
    }
}

/// Locate with `filters`, sent as `version`'s TTLV and decoded back, as a client's request would be.
fn locate_wire(
    h: &Harness,
    caller: &kms_server::tenant::Caller,
    version: ProtocolVersion,
    filters: Vec<Attribute>,
) -> Vec<String> {
    let request = locate(filters);
    let item = request.to_ttlv(tags::REQUEST_PAYLOAD, version);
    let decoded = LocateRequest::from_ttlv(&item, version).unwrap();
    located(h.ok(caller, version, decoded))
}

fn get(attributes: &Attributes, known: KnownAttribute) -> &Attribute {
    attributes.get(&AttributeName::Known(known)).unwrap()
}

#[test]
fn x509_subject_issuer_identifier_and_digest_find_certificates_in_both_families() {
    let h = Harness::new();
    let c = setup(&h);
    let alpha = h.attributes(&h.alice, V2_1, &c.alpha);
    for version in [V1_4, V2_1] {
        for known in [
            KnownAttribute::X509CertificateSubject,
            KnownAttribute::X509CertificateIdentifier,
            KnownAttribute::Digest,
        ] {
            let found = locate_wire(&h, &h.alice, version, vec![get(&alpha, known).clone()]);
            assert_eq!(found, vec![c.alpha.clone()], "{version:?} {known:?}");
        }
        let by_issuer = locate_wire(
            &h,
            &h.alice,
            version,
            vec![
                Attribute::ObjectType(ObjectType::Certificate),
                get(&alpha, KnownAttribute::X509CertificateIssuer).clone(),
            ],
        );
        assert!(
            by_issuer.contains(&c.alpha) && by_issuer.contains(&c.beta),
            "{version:?} {by_issuer:?}"
        );
        assert!(
            !by_issuer.contains(&c.team_leaf),
            "{version:?}: another issuer"
        );
        // Another tenant finds nothing.
        assert!(locate_wire(
            &h,
            &h.bob,
            version,
            vec![get(&alpha, KnownAttribute::Digest).clone()]
        )
        .is_empty());
    }
}

fn v2_field(tag: Tag, value: &str) -> Attribute {
    Attribute::Unknown(UnknownAttribute {
        text_name: None,
        tag: Some(tag),
        value: Value::TextString(value.into()),
    })
}

#[test]
fn v2_certificate_subject_and_issuer_name_fields_find_certificates() {
    let h = Harness::new();
    let c = setup(&h);
    let found = locate_wire(
        &h,
        &h.alice,
        V2_1,
        vec![v2_field(tags::CERTIFICATE_SUBJECT_CN, "alpha.example")],
    );
    assert_eq!(found, vec![c.alpha.clone()]);
    let mut by_org = locate_wire(
        &h,
        &h.alice,
        V2_1,
        vec![v2_field(tags::CERTIFICATE_SUBJECT_O, "Example")],
    );
    by_org.sort();
    let mut expected = vec![c.alpha.clone(), c.beta.clone()];
    expected.sort();
    assert_eq!(by_org, expected);
    let found = locate_wire(
        &h,
        &h.alice,
        V2_1,
        vec![v2_field(tags::CERTIFICATE_ISSUER_CN, "team CA")],
    );
    assert_eq!(found, vec![c.team_leaf.clone()]);
    assert!(locate_wire(
        &h,
        &h.alice,
        V2_1,
        vec![v2_field(tags::CERTIFICATE_SUBJECT_CN, "nobody")]
    )
    .is_empty());
}

fn v1_text_form(name: &str, fields: Vec<(Tag, String)>) -> Attribute {
    Attribute::Unknown(UnknownAttribute {
        text_name: Some(name.into()),
        tag: None,
        value: Value::Structure(
            fields
                .into_iter()
                .map(|(t, v)| Item::new(t, Value::TextString(v)))
                .collect(),
        ),
    })
}

#[test]
fn v1_0_text_forms_find_certificates_by_subject_issuer_and_serial_number() {
    let h = Harness::new();
    let c = setup(&h);
    let subject = v1_text_form(
        "Certificate Subject",
        vec![(
            tags::CERTIFICATE_SUBJECT_DISTINGUISHED_NAME,
            "CN=alpha.example, O=Example".into(),
        )],
    );
    assert_eq!(
        locate_wire(&h, &h.alice, V1_4, vec![subject]),
        vec![c.alpha.clone()]
    );

    let issuer = v1_text_form(
        "Certificate Issuer",
        vec![(
            tags::CERTIFICATE_ISSUER_DISTINGUISHED_NAME,
            "CN=team CA".into(),
        )],
    );
    assert_eq!(
        locate_wire(&h, &h.alice, V1_4, vec![issuer]),
        vec![c.team_leaf.clone()]
    );

    let info = parse_certificate(&certificate_der(&h, &h.alice, &c.beta)).unwrap();
    let serial_hex = info
        .serial_number
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let identifier = |serial: String| {
        v1_text_form(
            "Certificate Identifier",
            vec![
                (tags::ISSUER, "O=qkms, CN=qkms issuing CA".into()),
                (tags::SERIAL_NUMBER, serial),
            ],
        )
    };
    assert_eq!(
        locate_wire(&h, &h.alice, V1_4, vec![identifier(serial_hex)]),
        vec![c.beta.clone()]
    );
    assert!(locate_wire(&h, &h.alice, V1_4, vec![identifier("12345".into())]).is_empty());
}
