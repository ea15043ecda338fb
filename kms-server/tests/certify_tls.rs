//! Over real mutual TLS: a key pair made by qkms signs, and OpenSSL verifies the signature against the exported
//! SubjectPublicKeyInfo; a CSR made by `openssl req` is certified, and `openssl verify -CAfile` accepts the
//! certificate with the issuing CA certificate the server links it to.

mod common;

use std::path::Path;
use std::process::Command;

use kmip::attributes::{Attribute, CryptographicUsageMask};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, LinkType};
use kmip::objects::{KeyMaterial, ManagedObject};
use kmip::payloads::*;

fn openssl(args: &[&str], dir: &Path) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn der_to_pem(der: &[u8], label: &str, path: &Path) {
    let dir = path.parent().unwrap();
    let der_path = path.with_extension("der");
    std::fs::write(&der_path, der).unwrap();
    let kind = if label == "CERTIFICATE" {
        "x509"
    } else {
        "pkey"
    };
    let mut args = vec![
        kind,
        "-inform",
        "DER",
        "-in",
        der_path.to_str().unwrap(),
        "-out",
        path.to_str().unwrap(),
    ];
    if kind == "pkey" {
        args.insert(1, "-pubin");
    }
    openssl(&args, dir);
}

fn get_object(response: GetResponse) -> ManagedObject {
    response.object.0.unwrap()
}

#[tokio::test]
async fn a_qkms_signature_verifies_with_openssl_against_the_exported_spki() {
    let server = common::TestServer::start().await;
    let mut client = server.connect().await;
    for (algorithm, length, digest) in [
        (CryptographicAlgorithm::Ec, 256, "-sha256"),
        (CryptographicAlgorithm::Rsa, 2048, "-sha256"),
    ] {
        let pair = client
            .create_key_pair(CreateKeyPairRequest {
                common_attributes: Some(
                    vec![
                        Attribute::CryptographicAlgorithm(algorithm),
                        Attribute::CryptographicLength(length),
                        Attribute::ActivationDate(0),
                    ]
                    .into(),
                ),
                private_key_attributes: Some(
                    vec![Attribute::CryptographicUsageMask(
                        CryptographicUsageMask::SIGN,
                    )]
                    .into(),
                ),
                public_key_attributes: Some(
                    vec![Attribute::CryptographicUsageMask(
                        CryptographicUsageMask::VERIFY,
                    )]
                    .into(),
                ),
                ..Default::default()
            })
            .await
            .unwrap();
        let message = b"signed by qkms, checked by openssl";
        let signature = client
            .sign(SignRequest {
                unique_identifier: Some(pair.private_key_unique_identifier.clone()),
                data: Some(message.to_vec()),
                ..Default::default()
            })
            .await
            .unwrap()
            .signature_data
            .unwrap();
        let public = client
            .get(GetRequest {
                unique_identifier: Some(pair.public_key_unique_identifier.clone()),
                key_format_type: Some(KeyFormatType::X509),
                ..Default::default()
            })
            .await
            .unwrap();
        let block = get_object(public).key_block().cloned().unwrap();
        let KeyMaterial::Bytes(spki) = block.key_value.unwrap().material else {
            panic!("SPKI bytes")
        };
        let dir = tempfile::tempdir().unwrap();
        der_to_pem(&spki, "PUBLIC KEY", &dir.path().join("public.pem"));
        std::fs::write(dir.path().join("message"), message).unwrap();
        std::fs::write(dir.path().join("signature"), &signature).unwrap();
        let verdict = openssl(
            &[
                "dgst",
                digest,
                "-verify",
                "public.pem",
                "-signature",
                "signature",
                "message",
            ],
            dir.path(),
        );
        assert!(verdict.contains("Verified OK"), "{verdict}");
    }
}

#[tokio::test]
async fn a_csr_from_openssl_is_certified_and_the_chain_verifies_with_openssl() {
    let server = common::TestServer::start().await;
    let mut client = server.connect().await;
    let dir = tempfile::tempdir().unwrap();
    openssl(
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.pem",
            "-subj",
            "/O=Example/CN=service.example",
            "-addext",
            "subjectAltName=DNS:service.example",
            "-outform",
            "DER",
            "-out",
            "request.der",
        ],
        dir.path(),
    );
    let csr = std::fs::read(dir.path().join("request.der")).unwrap();
    let certified = client
        .certify(CertifyRequest {
            certificate_request_type: Some(EnumValue(2)),
            certificate_request_value: Some(csr.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let attributes = client
        .get_attributes(GetAttributesRequest {
            unique_identifier: Some(certified.unique_identifier.clone()),
            attribute_names: AttributeNames(vec![]),
        })
        .await
        .unwrap()
        .attributes
        .0;
    let ca_uid = attributes
        .linked(LinkType::CertificateLink)
        .expect("a link to the issuing CA")
        .to_owned();
    let ManagedObject::Certificate(issued) = get_object(
        client
            .get(GetRequest {
                unique_identifier: Some(certified.unique_identifier),
                ..Default::default()
            })
            .await
            .unwrap(),
    ) else {
        panic!("a certificate")
    };
    let ManagedObject::Certificate(ca) = get_object(
        client
            .get(GetRequest {
                unique_identifier: Some(ca_uid),
                ..Default::default()
            })
            .await
            .unwrap(),
    ) else {
        panic!("a certificate")
    };
    der_to_pem(
        &issued.certificate_value,
        "CERTIFICATE",
        &dir.path().join("issued.pem"),
    );
    der_to_pem(
        &ca.certificate_value,
        "CERTIFICATE",
        &dir.path().join("ca.pem"),
    );
    let verdict = openssl(&["verify", "-CAfile", "ca.pem", "issued.pem"], dir.path());
    assert!(verdict.contains("issued.pem: OK"), "{verdict}");
    let text = openssl(
        &["x509", "-in", "issued.pem", "-noout", "-text"],
        dir.path(),
    );
    assert!(text.contains("DNS:service.example"), "{text}");
    assert!(
        text.contains("CN = service.example") || text.contains("CN=service.example"),
        "{text}"
    );

    // A tampered request is refused with a KMIP error, not a panic.
    let mut tampered = csr;
    let last = tampered.len() - 3;
    tampered[last] ^= 0xff;
    let refused = client
        .certify(CertifyRequest {
            certificate_request_type: Some(EnumValue(2)),
            certificate_request_value: Some(tampered),
            ..Default::default()
        })
        .await;
    assert!(
        refused.is_err(),
        "a CSR with a broken signature must not be certified"
    );
}
