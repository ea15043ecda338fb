//! Certify signed by the server's issuing CA or by a private key the tenant owns (named by a Private Key Link or
//! a Certificate Link in the request's attributes): OpenSSL verifies both chains, shows the requested
//! extensions, and Get shows the links (certificate -> issuer certificate, certificate <-> public key). Every
//! bad issuer or request is a KMIP error.

mod certify_support;
mod operations_harness;

use certify_support::*;
use kmip::attributes::{Attribute, CryptographicUsageMask as Usage, Name};
use kmip::enums::LinkType;
use kmip::payloads::*;
use kmip::ResultReason;
use kms_server::crypto::certificate::{parse_certificate, NameAttribute};
use operations_harness::*;

/// A tenant CA: a key pair of `caller` certified by the server CA with Certificate Sign usage; returns
/// (private key, public key, certificate).
fn tenant_ca(h: &Harness, caller: &kms_server::tenant::Caller) -> (String, String, String) {
    let (private, public) = key_pair(h, caller, V2_1, Usage::SIGN | Usage::CERTIFICATE_SIGN, true);
    let certificate = certified(
        h,
        caller,
        V2_1,
        certify_key(
            &public,
            vec![
                Attribute::Name(Name::text("team CA")),
                Attribute::CryptographicUsageMask(Usage::CERTIFICATE_SIGN | Usage::CRL_SIGN),
            ],
        ),
    );
    (private, public, certificate)
}

#[test]
fn a_csr_certified_by_the_server_ca_verifies_and_shows_its_extensions_in_openssl() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let csr = openssl_csr(
        dir.path(),
        "/O=Example/CN=service.example",
        &[
            "subjectAltName=DNS:service.example,IP:10.0.0.7",
            "keyUsage=critical,digitalSignature,keyAgreement",
            "extendedKeyUsage=serverAuth,clientAuth",
        ],
    );
    let uid = certified(&h, &h.alice, V1_4, certify_csr(&csr, vec![]));
    let attributes = h.attributes(&h.alice, V2_1, &uid);
    let ca_uid = attributes
        .linked(LinkType::CertificateLink)
        .unwrap()
        .to_owned();
    let ca = certificate_pem(dir.path(), "ca", &certificate_der(&h, &h.alice, &ca_uid));
    let issued = certificate_pem(dir.path(), "issued", &certificate_der(&h, &h.alice, &uid));
    let verdict = openssl(
        dir.path(),
        &[
            "verify",
            "-CAfile",
            ca.to_str().unwrap(),
            issued.to_str().unwrap(),
        ],
    );
    assert!(
        verdict.as_deref().is_ok_and(|v| v.contains(": OK")),
        "{verdict:?}"
    );
    let text = openssl(
        dir.path(),
        &["x509", "-in", "issued.pem", "-noout", "-text"],
    )
    .unwrap();
    for expected in [
        "DNS:service.example",
        "IP Address:10.0.0.7",
        "Digital Signature, Key Agreement",
        "TLS Web Server Authentication, TLS Web Client Authentication",
        "CA:FALSE",
        "Issuer: O = qkms, CN = qkms issuing CA",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
}

#[test]
fn a_tenant_key_signs_and_its_chain_verifies_under_the_issuing_ca() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let (ca_private, ca_public, ca_certificate) = tenant_ca(&h, &h.alice);
    let ca_info = parse_certificate(&certificate_der(&h, &h.alice, &ca_certificate)).unwrap();
    assert_eq!(
        ca_info.subject.get(&NameAttribute::CommonName),
        Some("team CA")
    );

    // Named by its private key (the key's certificate is found through its public key's Certificate Link)...
    let (_, leaf_public) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let by_key = certified(
        &h,
        &h.alice,
        V2_1,
        certify_key(
            &leaf_public,
            vec![
                Attribute::Name(Name::text("leaf.example")),
                link(LinkType::PrivateKeyLink, &ca_private),
            ],
        ),
    );
    // ... or by its certificate (the key is found through Public Key Link -> Private Key Link), in 1.4.
    let csr = openssl_csr(
        dir.path(),
        "/CN=csr-leaf.example",
        &["extendedKeyUsage=clientAuth"],
    );
    let by_certificate = certified(
        &h,
        &h.alice,
        V1_4,
        certify_csr(&csr, vec![link(LinkType::CertificateLink, &ca_certificate)]),
    );

    let root_uid = h
        .attributes(&h.alice, V2_1, &ca_certificate)
        .linked(LinkType::CertificateLink)
        .unwrap()
        .to_owned();
    let root = certificate_pem(
        dir.path(),
        "root",
        &certificate_der(&h, &h.alice, &root_uid),
    );
    let intermediate = certificate_pem(
        dir.path(),
        "intermediate",
        &certificate_der(&h, &h.alice, &ca_certificate),
    );
    for (name, uid) in [("by-key", &by_key), ("by-certificate", &by_certificate)] {
        let der = certificate_der(&h, &h.alice, uid);
        let info = parse_certificate(&der).unwrap();
        assert_eq!(
            info.issuer_der, ca_info.subject_der,
            "{name}: issuer is the tenant CA's subject"
        );
        let leaf = certificate_pem(dir.path(), name, &der);
        let verdict = openssl(
            dir.path(),
            &[
                "verify",
                "-CAfile",
                root.to_str().unwrap(),
                "-untrusted",
                intermediate.to_str().unwrap(),
                leaf.to_str().unwrap(),
            ],
        );
        assert!(
            verdict.as_deref().is_ok_and(|v| v.contains(": OK")),
            "{name}: {verdict:?}"
        );
        let attributes = h.attributes(&h.alice, V2_1, uid);
        assert_eq!(
            attributes.linked(LinkType::CertificateLink),
            Some(ca_certificate.as_str()),
            "{name}"
        );
    }
    let intermediate_text = openssl(
        dir.path(),
        &["x509", "-in", "intermediate.pem", "-noout", "-text"],
    )
    .unwrap();
    assert!(
        intermediate_text.contains("CA:TRUE, pathlen:0"),
        "{intermediate_text}"
    );
    assert!(
        intermediate_text.contains("Certificate Sign, CRL Sign"),
        "{intermediate_text}"
    );

    // Links both ways between the certificate and its public key.
    assert_eq!(
        h.attributes(&h.alice, V2_1, &by_key)
            .linked(LinkType::PublicKeyLink),
        Some(leaf_public.as_str())
    );
    assert_eq!(
        h.attributes(&h.alice, V2_1, &leaf_public)
            .linked(LinkType::CertificateLink),
        Some(by_key.as_str())
    );
    assert_eq!(
        h.attributes(&h.alice, V2_1, &ca_public)
            .linked(LinkType::CertificateLink),
        Some(ca_certificate.as_str())
    );
}

#[test]
fn a_tenant_key_without_a_certificate_issues_under_its_name() {
    let h = Harness::new();
    let (private, _) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    h.ok(
        &h.alice,
        V2_1,
        AddAttributeRequest {
            unique_identifier: Some(private.clone()),
            new_attribute: Attribute::Name(Name::text("signing key")).into(),
        },
    );
    let (_, leaf) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let uid = certified(
        &h,
        &h.alice,
        V2_1,
        certify_key(&leaf, vec![link(LinkType::PrivateKeyLink, &private)]),
    );
    let info = parse_certificate(&certificate_der(&h, &h.alice, &uid)).unwrap();
    assert_eq!(
        info.issuer.get(&NameAttribute::CommonName),
        Some("signing key")
    );
    let attributes = h.attributes(&h.alice, V2_1, &uid);
    assert_eq!(
        attributes.linked(LinkType::CertificateLink),
        None,
        "no issuer certificate to link to"
    );
}

#[test]
fn issuer_keys_of_another_tenant_in_the_wrong_state_or_without_sign_usage_are_refused() {
    let h = Harness::new();
    let (_, leaf) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let with_issuer =
        |issuer: &str| certify_key(&leaf, vec![link(LinkType::PrivateKeyLink, issuer)]);

    let (bobs_key, _) = key_pair(&h, &h.bob, V2_1, Usage::SIGN, true);
    let message = refused(
        &h,
        &h.alice,
        V2_1,
        with_issuer(&bobs_key),
        ResultReason::ObjectNotFound,
    );
    assert!(message.contains("issuer key"), "{message}");
    refused(
        &h,
        &h.alice,
        V1_4,
        with_issuer(&bobs_key),
        ResultReason::ItemNotFound,
    );

    let (pre_active, _) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, false);
    refused(
        &h,
        &h.alice,
        V2_1,
        with_issuer(&pre_active),
        ResultReason::WrongKeyLifecycleState,
    );
    refused(
        &h,
        &h.alice,
        V1_4,
        with_issuer(&pre_active),
        ResultReason::PermissionDenied,
    );

    let (no_sign, _) = key_pair(&h, &h.alice, V2_1, Usage::DECRYPT, true);
    refused(
        &h,
        &h.alice,
        V2_1,
        with_issuer(&no_sign),
        ResultReason::IncompatibleCryptographicUsageMask,
    );

    let (revoked, _) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    h.ok(
        &h.alice,
        V2_1,
        revoke(
            &revoked,
            kmip::enums::RevocationReasonCode::KeyCompromise,
            Some(0),
        ),
    );
    refused(
        &h,
        &h.alice,
        V2_1,
        with_issuer(&revoked),
        ResultReason::WrongKeyLifecycleState,
    );

    refused(
        &h,
        &h.alice,
        V2_1,
        with_issuer(&leaf),
        ResultReason::InvalidObjectType,
    );

    // A certificate Link to something that is not a certificate, and two issuers at once.
    refused(
        &h,
        &h.alice,
        V2_1,
        certify_key(&leaf, vec![link(LinkType::CertificateLink, &leaf)]),
        ResultReason::InvalidObjectType,
    );
    let (signer, _) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    refused(
        &h,
        &h.alice,
        V2_1,
        certify_key(
            &leaf,
            vec![
                link(LinkType::PrivateKeyLink, &signer),
                link(LinkType::PrivateKeyLink, &signer),
            ],
        ),
        ResultReason::InvalidField,
    );
}

#[test]
fn only_the_server_ca_issues_ca_certificates_and_a_mismatched_issuer_certificate_is_refused() {
    let h = Harness::new();
    let (ca_private, _, _) = tenant_ca(&h, &h.alice);
    let (_, leaf) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let message = refused(
        &h,
        &h.alice,
        V2_1,
        certify_key(
            &leaf,
            vec![
                link(LinkType::PrivateKeyLink, &ca_private),
                Attribute::CryptographicUsageMask(Usage::CERTIFICATE_SIGN),
            ],
        ),
        ResultReason::InvalidField,
    );
    assert!(message.contains("issuing CA"), "{message}");

    let (other_private, _) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let (_, _, other_certificate) = tenant_ca(&h, &h.alice);
    refused(
        &h,
        &h.alice,
        V2_1,
        certify_key(
            &leaf,
            vec![
                link(LinkType::PrivateKeyLink, &other_private),
                link(LinkType::CertificateLink, &other_certificate),
            ],
        ),
        ResultReason::InvalidField,
    );
}

#[test]
fn bad_certificate_requests_are_refused_with_invalid_csr() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let csr = openssl_csr(dir.path(), "/CN=tampered.example", &[]);
    let mut tampered = csr.clone();
    let last = tampered.len() - 3;
    tampered[last] ^= 0xff;
    refused(
        &h,
        &h.alice,
        V2_1,
        certify_csr(&tampered, vec![]),
        ResultReason::InvalidCsr,
    );
    refused(
        &h,
        &h.alice,
        V1_4,
        certify_csr(&tampered, vec![]),
        ResultReason::InvalidField,
    );
    refused(
        &h,
        &h.alice,
        V2_1,
        certify_csr(b"not DER at all", vec![]),
        ResultReason::InvalidCsr,
    );

    // A request whose key is not the managed public key it names.
    let (_, public) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let mut mismatched = certify_csr(&csr, vec![]);
    mismatched.unique_identifier = Some(public);
    refused(&h, &h.alice, V2_1, mismatched, ResultReason::InvalidCsr);

    refused(
        &h,
        &h.alice,
        V2_1,
        CertifyRequest::default(),
        ResultReason::MissingData,
    );
}

#[test]
fn a_registered_copy_of_the_issuing_ca_certificate_names_the_server_ca() {
    let h = Harness::new();
    let (_, first) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let first = certified(&h, &h.alice, V2_1, certify_key(&first, vec![]));
    let ca_uid = h
        .attributes(&h.alice, V2_1, &first)
        .linked(LinkType::CertificateLink)
        .unwrap()
        .to_owned();
    let ca_der = certificate_der(&h, &h.alice, &ca_uid);
    let object = kmip::objects::ManagedObject::Certificate(kmip::objects::Certificate {
        certificate_type: kmip::enums::CertificateType::X509,
        certificate_value: ca_der.clone(),
    });
    let registered = match h.ok(
        &h.alice,
        V2_1,
        RegisterRequest {
            object_type: object.object_type(),
            attributes: Vec::new().into(),
            object: ObjectField(Some(object)),
            protection_storage_masks: None,
        },
    ) {
        ResponsePayload::Register(r) => r.unique_identifier,
        other => panic!("{other:?}"),
    };
    let (_, leaf) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let uid = certified(
        &h,
        &h.alice,
        V2_1,
        certify_key(&leaf, vec![link(LinkType::CertificateLink, &registered)]),
    );
    let issued = parse_certificate(&certificate_der(&h, &h.alice, &uid)).unwrap();
    assert_eq!(
        issued.issuer_der,
        parse_certificate(&ca_der).unwrap().subject_der
    );
}

#[test]
fn a_managed_public_key_gets_the_template_s_alternative_names_extended_usages_and_validity() {
    use kmip::attributes::{AlternativeName, CustomAttribute};
    use kmip::enums::AlternativeNameType;

    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = key_pair(&h, &h.alice, V2_1, Usage::SIGN, true);
    let not_before = 1_893_456_000; // 2030-01-01T00:00:00Z
    let not_after = not_before + 90 * 86_400; // 2030-04-01T00:00:00Z
    let eku = |name: &str| {
        Attribute::Custom(CustomAttribute {
            vendor_identification: "x".into(),
            attribute_name: "certificate-extended-key-usage".into(),
            value: ttlv::Value::TextString(name.into()),
        })
    };
    let alternative = |value: &str, name_type| {
        Attribute::AlternativeName(AlternativeName {
            value: value.into(),
            name_type,
        })
    };
    for version in [V1_4, V2_1] {
        let uid = certified(
            &h,
            &h.alice,
            version,
            certify_key(
                &public,
                vec![
                    Attribute::Name(Name::text("kms.example.test")),
                    Attribute::CryptographicUsageMask(Usage::SIGN),
                    alternative("kms.example.test", AlternativeNameType::DnsName),
                    alternative("192.0.2.10", AlternativeNameType::IpAddress),
                    alternative("ops@example.test", AlternativeNameType::EmailAddress),
                    eku("serverAuth"),
                    eku("1.3.6.1.5.5.7.3.2"),
                    Attribute::ActivationDate(not_before),
                    Attribute::DeactivationDate(not_after),
                ],
            ),
        );
        let name = format!("template-{}-{}", version.major, version.minor);
        certificate_pem(dir.path(), &name, &certificate_der(&h, &h.alice, &uid));
        let text = openssl(
            dir.path(),
            &["x509", "-in", &format!("{name}.pem"), "-noout", "-text"],
        )
        .unwrap();
        for expected in [
            "DNS:kms.example.test",
            "IP Address:192.0.2.10",
            "email:ops@example.test",
            "TLS Web Server Authentication, TLS Web Client Authentication",
            "Not Before: Jan  1 00:00:00 2030 GMT",
            "Not After : Apr  1 00:00:00 2030 GMT",
            "Subject: CN = kms.example.test",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
    }

    // What cannot be expressed is refused with a reason, not dropped.
    let message = refused(
        &h,
        &h.alice,
        V2_1,
        certify_key(&public, vec![eku("walkOnWater")]),
        ResultReason::InvalidField,
    );
    assert!(message.contains("walkOnWater"), "{message}");
    refused(
        &h,
        &h.alice,
        V2_1,
        certify_key(
            &public,
            vec![alternative(
                "not an address",
                AlternativeNameType::IpAddress,
            )],
        ),
        ResultReason::InvalidField,
    );
    refused(
        &h,
        &h.alice,
        V2_1,
        certify_key(
            &public,
            vec![
                Attribute::ActivationDate(not_after),
                Attribute::DeactivationDate(not_before),
            ],
        ),
        ResultReason::InvalidField,
    );
}
