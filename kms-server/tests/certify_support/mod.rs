//! Shared by the `certify_*` tests: key pairs and certificates through the in-process dispatcher, CSRs made by
//! `openssl req`, and OpenSSL's verdict on what qkms issued.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kmip::attributes::{Attribute, CryptographicUsageMask, Link};
use kmip::enums::{CryptographicAlgorithm, LinkType};
use kmip::objects::ManagedObject;
use kmip::payloads::*;
use kmip::{ProtocolVersion, ResultReason, ResultStatus};
use kms_server::tenant::Caller;

use crate::operations_harness::Harness;

/// An EC P-256 key pair; Active when `active`; the private key allows `private_usage`.
pub fn key_pair(
    h: &Harness,
    caller: &Caller,
    version: ProtocolVersion,
    private_usage: CryptographicUsageMask,
    active: bool,
) -> (String, String) {
    let mut common = vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Ec),
        Attribute::CryptographicLength(256),
    ];
    if active {
        common.push(Attribute::ActivationDate(0));
    }
    let request = CreateKeyPairRequest {
        common_attributes: Some(common.into()),
        private_key_attributes: Some(vec![Attribute::CryptographicUsageMask(private_usage)].into()),
        public_key_attributes: Some(
            vec![Attribute::CryptographicUsageMask(
                CryptographicUsageMask::VERIFY,
            )]
            .into(),
        ),
        ..Default::default()
    };
    match h.ok(caller, version, request) {
        ResponsePayload::CreateKeyPair(r) => (
            r.private_key_unique_identifier,
            r.public_key_unique_identifier,
        ),
        other => panic!("{other:?}"),
    }
}

pub fn link(link_type: LinkType, uid: &str) -> Attribute {
    Attribute::Link(Link {
        link_type,
        linked_object_identifier: uid.to_owned(),
    })
}

/// Certify of a managed public key with `attributes`.
pub fn certify_key(uid: &str, attributes: Vec<Attribute>) -> CertifyRequest {
    CertifyRequest {
        unique_identifier: Some(uid.to_owned()),
        attributes: Some(attributes.into()),
        ..Default::default()
    }
}

/// Certify of a DER PKCS#10 request with `attributes`.
pub fn certify_csr(csr: &[u8], attributes: Vec<Attribute>) -> CertifyRequest {
    CertifyRequest {
        certificate_request_type: Some(EnumValue(2)),
        certificate_request_value: Some(csr.to_vec()),
        attributes: Some(attributes.into()),
        ..Default::default()
    }
}

pub fn certified(
    h: &Harness,
    caller: &Caller,
    version: ProtocolVersion,
    request: impl Into<RequestPayload>,
) -> String {
    match h.ok(caller, version, request) {
        ResponsePayload::Certify(r) => r.unique_identifier,
        ResponsePayload::ReCertify(r) => r.unique_identifier,
        other => panic!("{other:?}"),
    }
}

/// Runs a request that must fail with `reason`; returns the message.
pub fn refused(
    h: &Harness,
    caller: &Caller,
    version: ProtocolVersion,
    request: impl Into<RequestPayload>,
    reason: ResultReason,
) -> String {
    let item = h.one(caller, version, request);
    assert_eq!(
        item.result_status,
        ResultStatus::OperationFailed,
        "{item:?}"
    );
    assert_eq!(
        item.result_reason,
        Some(reason),
        "{:?}",
        item.result_message
    );
    item.result_message.unwrap_or_default()
}

/// The DER of certificate `uid`.
pub fn certificate_der(h: &Harness, caller: &Caller, uid: &str) -> Vec<u8> {
    let request = GetRequest {
        unique_identifier: Some(uid.to_owned()),
        ..Default::default()
    };
    match h.ok(caller, ProtocolVersion::V2_1, request) {
        ResponsePayload::Get(r) => match r.object.0 {
            Some(ManagedObject::Certificate(c)) => c.certificate_value,
            other => panic!("not a certificate: {other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

/// `openssl ARGS` in `dir`: stdout, or the failure with stderr.
pub fn openssl(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// Writes `der` as `DIR/NAME.pem` (through `openssl x509`, so a certificate OpenSSL cannot read fails here).
pub fn certificate_pem(dir: &Path, name: &str, der: &[u8]) -> PathBuf {
    let der_path = dir.join(format!("{name}.der"));
    std::fs::write(&der_path, der).unwrap();
    let pem = dir.join(format!("{name}.pem"));
    openssl(
        dir,
        &[
            "x509",
            "-inform",
            "DER",
            "-in",
            der_path.to_str().unwrap(),
            "-out",
            pem.to_str().unwrap(),
        ],
    )
    .unwrap();
    pem
}

/// A P-256 PKCS#10 request (DER) from `openssl req` for `subject` (`/O=.../CN=...`) with `-addext` values.
pub fn openssl_csr(dir: &Path, subject: &str, extensions: &[&str]) -> Vec<u8> {
    let mut args = vec![
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "csr-key.pem",
        "-subj",
        subject,
        "-outform",
        "DER",
        "-out",
        "request.der",
    ];
    for extension in extensions {
        args.push("-addext");
        args.push(extension);
    }
    openssl(dir, &args).unwrap();
    std::fs::read(dir.join("request.der")).unwrap()
}
