//! Re-Certify: a new certificate for the same public key, same subject and extensions, same issuer (server CA or
//! tenant CA), validity moved by the Offset, Replacement / Replaced Object links, the public key relinked, the
//! Names moved; OpenSSL verifies the renewal. Bad requests are KMIP errors.

mod certify_support;
mod operations_harness;

use certify_support::*;
use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask as Usage, Name};
use kmip::enums::{LinkType, RevocationReasonCode, State};
use kmip::payloads::*;
use kmip::ResultReason;
use kms_server::crypto::certificate::{certificate_extensions, parse_certificate};
use operations_harness::*;

fn recertify(uid: &str) -> ReCertifyRequest {
    ReCertifyRequest {
        unique_identifier: Some(uid.to_owned()),
        ..Default::default()
    }
}

fn date(attributes: &Attributes, pick: fn(&Attribute) -> Option<i64>) -> Option<i64> {
    attributes.iter().find_map(pick)
}

#[test]
fn a_renewal_keeps_key_subject_and_extensions_moves_dates_by_the_offset_and_links_both_ways() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let csr = openssl_csr(
        dir.path(),
        "/O=Example/CN=web.example",
        &[
            "subjectAltName=DNS:web.example",
            "extendedKeyUsage=serverAuth",
        ],
    );
    let old = certified(
        &h,
        &h.alice,
        V2_1,
        certify_csr(
            &csr,
            vec![
                Attribute::Name(Name::text("web certificate")),
                Attribute::ActivationDate(1_000),
                Attribute::DeactivationDate(4_000_000_000),
            ],
        ),
    );
    let old_der = certificate_der(&h, &h.alice, &old);
    let mut request = recertify(&old);
    request.offset = Some(Interval(3_600));
    request.certificate_request_type = Some(EnumValue(2));
    request.certificate_request_value = Some(csr.clone());
    let new = certified(&h, &h.alice, V2_1, request);
    assert_ne!(new, old);

    let new_attributes = h.attributes(&h.alice, V2_1, &new);
    let now = date(&new_attributes, |a| match a {
        Attribute::InitialDate(d) => Some(*d),
        _ => None,
    })
    .unwrap();
    assert_eq!(new_attributes.activation_date(), Some(now + 3_600));
    let deactivation = date(&new_attributes, |a| match a {
        Attribute::DeactivationDate(d) => Some(*d),
        _ => None,
    });
    assert_eq!(deactivation, Some(4_000_000_000 + (now + 3_600 - 1_000)));
    assert_eq!(
        h.state_of(&h.alice, &new),
        State::PreActive,
        "active only once the offset has passed"
    );

    let (old_info, new_der) = (
        parse_certificate(&old_der).unwrap(),
        certificate_der(&h, &h.alice, &new),
    );
    let new_info = parse_certificate(&new_der).unwrap();
    assert_eq!(
        new_info.subject_public_key_info,
        old_info.subject_public_key_info
    );
    assert_eq!(new_info.subject_der, old_info.subject_der);
    assert_eq!(new_info.issuer_der, old_info.issuer_der);
    assert_ne!(new_info.serial_number, old_info.serial_number);
    assert_eq!(new_info.not_before.unix_timestamp(), now + 3_600);
    assert_eq!(
        new_info.not_after - new_info.not_before,
        old_info.not_after - old_info.not_before
    );
    assert_eq!(
        certificate_extensions(&new_der).unwrap(),
        certificate_extensions(&old_der).unwrap()
    );

    let old_attributes = h.attributes(&h.alice, V2_1, &old);
    assert_eq!(
        old_attributes.linked(LinkType::ReplacementObjectLink),
        Some(new.as_str())
    );
    assert_eq!(
        new_attributes.linked(LinkType::ReplacedObjectLink),
        Some(old.as_str())
    );
    assert_eq!(
        new_attributes.linked(LinkType::CertificateLink),
        old_attributes.linked(LinkType::CertificateLink),
        "same issuer certificate"
    );
    assert!(new_attributes.names().any(|n| n.value == "web certificate"));
    assert_eq!(
        old_attributes.names().count(),
        0,
        "the Names move to the renewal"
    );

    // OpenSSL accepts the renewal under the issuing CA.
    let ca_uid = new_attributes.linked(LinkType::CertificateLink).unwrap();
    let ca = certificate_pem(dir.path(), "ca", &certificate_der(&h, &h.alice, ca_uid));
    let renewed = certificate_pem(dir.path(), "renewed", &new_der);
    let verdict = openssl(
        dir.path(),
        &[
            "verify",
            "-attime",
            &(now + 7_200).to_string(),
            "-CAfile",
            ca.to_str().unwrap(),
            renewed.to_str().unwrap(),
        ],
    );
    assert!(
        verdict.as_deref().is_ok_and(|v| v.contains(": OK")),
        "{verdict:?}"
    );
}

#[test]
fn a_renewal_of_a_managed_key_certificate_relinks_the_key_and_keeps_a_tenant_issuer() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let (ca_private, ca_public) = key_pair(
        &h,
        &h.alice,
        V2_1,
        Usage::SIGN | Usage::CERTIFICATE_SIGN,
        true,
    );
    let team_ca = certified(
        &h,
        &h.alice,
        V2_1,
        certify_key(
            &ca_public,
            vec![Attribute::CryptographicUsageMask(Usage::CERTIFICATE_SIGN)],
        ),
    );
    let (_, public) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let old = certified(
        &h,
        &h.alice,
        V1_4,
        certify_key(
            &public,
            vec![
                link(LinkType::PrivateKeyLink, &ca_private),
                Attribute::ActivationDate(0),
            ],
        ),
    );
    let new = certified(&h, &h.alice, V1_4, recertify(&old));
    assert_eq!(
        h.state_of(&h.alice, &new),
        State::Active,
        "a renewal without offset is usable at once"
    );
    let attributes = h.attributes(&h.alice, V2_1, &new);
    assert_eq!(
        attributes.linked(LinkType::CertificateLink),
        Some(team_ca.as_str())
    );
    assert_eq!(
        attributes.linked(LinkType::PublicKeyLink),
        Some(public.as_str())
    );
    assert_eq!(
        h.attributes(&h.alice, V2_1, &public)
            .linked(LinkType::CertificateLink),
        Some(new.as_str())
    );

    let root_uid = h
        .attributes(&h.alice, V2_1, &team_ca)
        .linked(LinkType::CertificateLink)
        .unwrap()
        .to_owned();
    let root = certificate_pem(
        dir.path(),
        "root",
        &certificate_der(&h, &h.alice, &root_uid),
    );
    let intermediate =
        certificate_pem(dir.path(), "team", &certificate_der(&h, &h.alice, &team_ca));
    let renewed = certificate_pem(dir.path(), "renewed", &certificate_der(&h, &h.alice, &new));
    let verdict = openssl(
        dir.path(),
        &[
            "verify",
            "-CAfile",
            root.to_str().unwrap(),
            "-untrusted",
            intermediate.to_str().unwrap(),
            renewed.to_str().unwrap(),
        ],
    );
    assert!(
        verdict.as_deref().is_ok_and(|v| v.contains(": OK")),
        "{verdict:?}"
    );
}

#[test]
fn bad_renewals_are_refused() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let certificate = certified(&h, &h.alice, V2_1, certify_key(&public, vec![]));

    refused(
        &h,
        &h.alice,
        V2_1,
        recertify(&public),
        ResultReason::InvalidObjectType,
    );
    refused(
        &h,
        &h.bob,
        V2_1,
        recertify(&certificate),
        ResultReason::ObjectNotFound,
    );
    refused(
        &h,
        &h.bob,
        V1_4,
        recertify(&certificate),
        ResultReason::ItemNotFound,
    );
    refused(
        &h,
        &h.alice,
        V2_1,
        ReCertifyRequest::default(),
        ResultReason::MissingData,
    );

    // A request for another key is no proof of possession of this one; a tampered one does not verify.
    let csr = openssl_csr(dir.path(), "/CN=other.example", &[]);
    let mut other_key = recertify(&certificate);
    other_key.certificate_request_value = Some(csr.clone());
    refused(&h, &h.alice, V2_1, other_key, ResultReason::InvalidCsr);
    let mut tampered = csr;
    let last = tampered.len() - 3;
    tampered[last] ^= 0xff;
    let mut bad = recertify(&certificate);
    bad.certificate_request_value = Some(tampered);
    refused(&h, &h.alice, V2_1, bad, ResultReason::InvalidCsr);

    // A compromised certificate is not renewed.
    h.ok(
        &h.alice,
        V2_1,
        revoke(&certificate, RevocationReasonCode::KeyCompromise, Some(0)),
    );
    refused(
        &h,
        &h.alice,
        V2_1,
        recertify(&certificate),
        ResultReason::WrongKeyLifecycleState,
    );
}

#[test]
fn re_certify_requests_survive_their_ttlv_encoding_in_both_families() {
    let h = Harness::new();
    let (_, public) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let certificate = certified(&h, &h.alice, V2_1, certify_key(&public, vec![]));
    for version in [V1_4, V2_1] {
        let request = ReCertifyRequest {
            unique_identifier: Some(certificate.clone()),
            certificate_request_type: Some(EnumValue(2)),
            certificate_request_value: Some(vec![0x30, 0x00]),
            offset: Some(Interval(60)),
            attributes: Some(vec![Attribute::Description("renewal".into())].into()),
            protection_storage_masks: None,
        };
        let item = request.to_ttlv(ttlv::tags::REQUEST_PAYLOAD, version);
        let decoded = ReCertifyRequest::from_ttlv(&item, version).unwrap();
        assert_eq!(decoded, request, "{version:?}");
        let mut without_csr = decoded;
        without_csr.certificate_request_type = None;
        without_csr.certificate_request_value = None;
        let renewed = certified(&h, &h.alice, version, without_csr);
        let attributes = h.attributes(&h.alice, V2_1, &renewed);
        assert!(attributes
            .iter()
            .any(|a| *a == Attribute::Description("renewal".into())));
    }
}
