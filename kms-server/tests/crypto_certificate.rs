//! Certificate issuance checked by OpenSSL: `openssl verify -CAfile` accepts the chain and `openssl x509 -text`
//! shows the requested extensions; CSRs made by `openssl req` are honoured and a tampered one is refused.

mod crypto_support;

use crypto_support::{openssl, openssl_status, path_str, pool, Scratch};
use kms_server::crypto::certificate::*;
use kms_server::crypto::keygen::*;
use kms_server::crypto::CryptoError;
use time::{Duration, OffsetDateTime};

fn profile(subject: &str, basic_constraints: BasicConstraints) -> CertificateProfile {
    let now = OffsetDateTime::now_utc();
    CertificateProfile {
        subject: subject.parse().unwrap(),
        not_before: now - Duration::minutes(5),
        not_after: now + Duration::days(30),
        key_usage: Vec::new(),
        extended_key_usage: Vec::new(),
        subject_alt_names: Vec::new(),
        basic_constraints,
    }
}

fn ca_profile() -> CertificateProfile {
    CertificateProfile {
        key_usage: vec![
            KeyUsage::KeyCertSign,
            KeyUsage::CrlSign,
            KeyUsage::DigitalSignature,
        ],
        ..profile(
            "C=CH, O=qkms test, CN=qkms test CA",
            BasicConstraints::Ca { path_len: Some(0) },
        )
    }
}

fn pem(scratch: &Scratch, name: &str, der: &[u8]) -> String {
    let der_file = scratch.write(&format!("{name}.der"), der);
    let pem_file = scratch.path(&format!("{name}.pem"));
    openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        path_str(&der_file),
        "-out",
        path_str(&pem_file),
    ]);
    path_str(&pem_file).to_string()
}

fn text(pem_path: &str) -> String {
    String::from_utf8(openssl(&["x509", "-in", pem_path, "-noout", "-text"])).unwrap()
}

#[test]
fn certificates_issued_for_a_public_key_verify_under_our_ca_in_openssl() {
    let pool = pool();
    for ca_spec in [
        KeyPairSpec::Ec(EcCurve::P384),
        KeyPairSpec::Ec(EcCurve::P256),
        KeyPairSpec::Rsa { bits: 2048 },
    ] {
        let scratch = Scratch::new();
        let ca_key = generate_key_pair(&pool, ca_spec).unwrap();
        let ca_der = self_signed_certificate(&pool, &ca_key, &ca_profile()).unwrap();
        let ca_pem = pem(&scratch, "ca", &ca_der);
        let issuer = Issuer {
            certificate_der: &ca_der,
            private_key: &ca_key,
        };

        for subject_spec in [
            KeyPairSpec::Ec(EcCurve::P256),
            KeyPairSpec::Rsa { bits: 2048 },
            KeyPairSpec::Ed25519,
        ] {
            let subject_key = generate_key_pair(&pool, subject_spec).unwrap();
            let leaf_profile = CertificateProfile {
                key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
                extended_key_usage: vec![
                    ExtendedKeyUsage::ServerAuth,
                    ExtendedKeyUsage::ClientAuth,
                ],
                subject_alt_names: vec![
                    SubjectAltName::Dns("kms.example.org".into()),
                    SubjectAltName::Ip("127.0.0.1".parse().unwrap()),
                    SubjectAltName::Email("ops@example.org".into()),
                ],
                ..profile(
                    "C=CH, O=qkms test, CN=kms.example.org",
                    BasicConstraints::EndEntity,
                )
            };
            let leaf_der =
                issue_certificate(&pool, &subject_key.public_key(), &leaf_profile, &issuer)
                    .unwrap();
            let leaf_pem = pem(&scratch, "leaf", &leaf_der);
            let verdict = openssl_status(&["verify", "-CAfile", &ca_pem, &leaf_pem]);
            assert!(
                verdict.is_ok(),
                "CA {ca_spec:?} leaf {subject_spec:?}: {verdict:?}"
            );

            let shown = text(&leaf_pem);
            for expected in [
                "Digital Signature, Key Encipherment",
                "TLS Web Server Authentication, TLS Web Client Authentication",
                "DNS:kms.example.org",
                "IP Address:127.0.0.1",
                "email:ops@example.org",
                "CA:FALSE",
                "X509v3 Authority Key Identifier",
                "Subject: C = CH, O = qkms test, CN = kms.example.org",
                "Issuer: C = CH, O = qkms test, CN = qkms test CA",
            ] {
                assert!(shown.contains(expected), "missing {expected:?} in\n{shown}");
            }

            let info = parse_certificate(&leaf_der).unwrap();
            assert_eq!(info.serial_number.len(), 16);
            assert_eq!(
                info.subject.get(&NameAttribute::CommonName),
                Some("kms.example.org")
            );
            assert_eq!(
                info.issuer.get(&NameAttribute::CommonName),
                Some("qkms test CA")
            );
            assert_eq!(
                PublicKey::from_spki_der(&info.subject_public_key_info).unwrap(),
                subject_key.public_key()
            );
            assert_eq!(
                info.not_after.unix_timestamp(),
                leaf_profile.not_after.unix_timestamp()
            );
        }
        let ca_text = text(&ca_pem);
        assert!(
            ca_text.contains("CA:TRUE, pathlen:0")
                && ca_text.contains("Certificate Sign, CRL Sign"),
            "{ca_text}"
        );
    }
}

#[test]
fn certificates_issued_from_an_openssl_csr_carry_its_subject_and_names() {
    let pool = pool();
    let scratch = Scratch::new();
    let ca_key = generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256)).unwrap();
    let ca_der = self_signed_certificate(&pool, &ca_key, &ca_profile()).unwrap();
    let ca_pem = pem(&scratch, "ca", &ca_der);
    let issuer = Issuer {
        certificate_der: &ca_der,
        private_key: &ca_key,
    };

    for (name, newkey) in [("ec", "ec"), ("rsa", "rsa:2048")] {
        let csr = scratch.path(&format!("{name}.csr"));
        let key_out = scratch.path(&format!("{name}.key"));
        let mut args = vec![
            "req",
            "-new",
            "-newkey",
            newkey,
            "-nodes",
            "-keyout",
            path_str(&key_out),
        ];
        if name == "ec" {
            args.extend(["-pkeyopt", "ec_paramgen_curve:P-256"]);
        }
        args.extend([
            "-subj",
            "/C=DE/O=CSR Org/CN=csr.example.net",
            "-addext",
            "subjectAltName=DNS:csr.example.net,DNS:alt.example.net",
            "-addext",
            "keyUsage=digitalSignature",
            "-outform",
            "DER",
            "-out",
            path_str(&csr),
        ]);
        openssl(&args);
        let csr_der = std::fs::read(&csr).unwrap();

        let request = parse_and_verify_csr(&csr_der).unwrap();
        assert_eq!(
            request.subject.to_string(),
            "C=DE, O=CSR Org, CN=csr.example.net"
        );
        assert_eq!(request.key_usage, vec![KeyUsage::DigitalSignature]);

        let leaf_profile = CertificateProfile {
            subject: DistinguishedName::new(),
            extended_key_usage: vec![ExtendedKeyUsage::ClientAuth],
            ..profile("CN=ignored", BasicConstraints::EndEntity)
        };
        let leaf_der = issue_certificate_from_csr(&pool, &csr_der, &leaf_profile, &issuer).unwrap();
        let leaf_pem = pem(&scratch, "leaf", &leaf_der);
        assert!(openssl_status(&["verify", "-CAfile", &ca_pem, &leaf_pem]).is_ok());
        let shown = text(&leaf_pem);
        for expected in [
            "Subject: C = DE, O = CSR Org, CN = csr.example.net",
            "DNS:csr.example.net, DNS:alt.example.net",
            "TLS Web Client Authentication",
            "Digital Signature",
        ] {
            assert!(shown.contains(expected), "missing {expected:?} in\n{shown}");
        }
        // The certificate holds the CSR's key: its modulus/point matches the private key OpenSSL kept.
        let their_spki = openssl(&[
            "pkey",
            "-in",
            path_str(&key_out),
            "-pubout",
            "-outform",
            "DER",
        ]);
        assert_eq!(
            parse_certificate(&leaf_der)
                .unwrap()
                .subject_public_key_info,
            their_spki
        );

        let mut tampered = csr_der.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(
            issue_certificate_from_csr(&pool, &tampered, &leaf_profile, &issuer),
            Err(CryptoError::CsrSignatureInvalid)
        ));
    }
    assert!(matches!(
        parse_and_verify_csr(b"junk"),
        Err(CryptoError::Malformed { .. })
    ));
}

#[test]
fn issuance_refuses_a_foreign_issuer_key_and_bad_profiles() {
    let pool = pool();
    let ca_key = generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256)).unwrap();
    let other_key = generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256)).unwrap();
    let ca_der = self_signed_certificate(&pool, &ca_key, &ca_profile()).unwrap();
    let subject = generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P256))
        .unwrap()
        .public_key();
    let leaf = profile("CN=leaf", BasicConstraints::EndEntity);
    let foreign = Issuer {
        certificate_der: &ca_der,
        private_key: &other_key,
    };
    assert!(matches!(
        issue_certificate(&pool, &subject, &leaf, &foreign),
        Err(CryptoError::InvalidKey(_))
    ));

    let issuer = Issuer {
        certificate_der: &ca_der,
        private_key: &ca_key,
    };
    let backwards = CertificateProfile {
        not_after: leaf.not_before - Duration::days(1),
        ..leaf.clone()
    };
    assert!(matches!(
        issue_certificate(&pool, &subject, &backwards, &issuer),
        Err(CryptoError::InvalidInput(_))
    ));
    let unnamed = CertificateProfile {
        subject: DistinguishedName::new(),
        ..leaf.clone()
    };
    assert!(matches!(
        issue_certificate(&pool, &subject, &unnamed, &issuer),
        Err(CryptoError::InvalidInput(_))
    ));
    let bad_country = CertificateProfile {
        subject: "C=Ümlaut".parse().unwrap(),
        ..leaf
    };
    assert!(matches!(
        issue_certificate(&pool, &subject, &bad_country, &issuer),
        Err(CryptoError::InvalidInput(_))
    ));
    assert!(matches!(
        parse_certificate(b"\x30\x00"),
        Err(CryptoError::Malformed { .. })
    ));
}
