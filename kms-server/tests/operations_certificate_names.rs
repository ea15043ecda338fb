//! A registered certificate gets the KMIP 2.x Certificate Subject / Issuer name-field attributes (CN, O, ...)
//! from its own subject and issuer names, visible to 2.x clients only.

mod operations_harness;

use kmip::attributes::{Attribute, AttributeName, Attributes, UnknownAttribute};
use kmip::enums::CertificateType;
use kmip::objects::{Certificate, ManagedObject};
use kmip::payloads::*;
use operations_harness::*;
use rcgen::{CertificateParams, DnType, KeyPair};
use ttlv::{tags, Tag, Value};

fn self_signed_der(common_name: &str, organization: &str) -> Vec<u8> {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, organization);
    let key = KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

fn register_certificate(h: &Harness, der: Vec<u8>) -> String {
    let object = ManagedObject::Certificate(Certificate {
        certificate_type: CertificateType::X509,
        certificate_value: der,
    });
    let request = RegisterRequest {
        object_type: object.object_type(),
        attributes: Vec::new().into(),
        object: ObjectField(Some(object)),
        protection_storage_masks: None,
    };
    match h.ok(&h.alice, V2_1, request) {
        ResponsePayload::Register(r) => r.unique_identifier,
        other => panic!("{other:?}"),
    }
}

fn text_attribute(attributes: &Attributes, tag: Tag) -> Option<String> {
    match attributes.get(&AttributeName::from_tag(tag)) {
        Some(Attribute::Unknown(UnknownAttribute {
            value: Value::TextString(text),
            ..
        })) => Some(text.clone()),
        None => None,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_registered_certificate_has_its_subject_and_issuer_name_fields() {
    let h = Harness::new();
    let uid = register_certificate(&h, self_signed_der("CN", "qkms test"));
    let attributes = h.attributes(&h.alice, V2_1, &uid);
    for (tag, expected) in [
        (tags::CERTIFICATE_SUBJECT_CN, Some("CN")),
        (tags::CERTIFICATE_SUBJECT_O, Some("qkms test")),
        (tags::CERTIFICATE_ISSUER_CN, Some("CN")),
        (tags::CERTIFICATE_ISSUER_O, Some("qkms test")),
        (tags::CERTIFICATE_SUBJECT_OU, None),
    ] {
        assert_eq!(
            text_attribute(&attributes, tag).as_deref(),
            expected,
            "{tag:?}"
        );
    }
}
