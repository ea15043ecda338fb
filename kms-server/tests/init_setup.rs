//! `--init` makes a complete set-up that serves; `issue-client` makes further tenants' bundles.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::TestServer;
use kmip::ProtocolVersion;
use kms_server::auth::Authenticator;
use kms_server::config::{AuthConfig, Config};
use kms_server::setup::{self, InitOptions, SetupError};
use kms_server::tenant::TenantId;

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_qkms-server");

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_writes_every_file_with_private_keys_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(SERVER_BIN)
        .arg("--init")
        .arg(dir.path())
        .args(["--host-name", "kms.example.org"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let d = dir.path();
    for public in [
        "qkms.toml",
        "pki/ca.pem",
        "pki/server.pem",
        "pki/client.pem",
        "pki/issuing-ca.pem",
    ] {
        assert!(d.join(public).is_file(), "{public}");
    }
    for secret in [
        "pki/ca.key",
        "pki/server.key",
        "pki/client.key",
        "pki/client.p12",
        "pki/client.p12.pass",
        "root.pass",
    ] {
        assert_eq!(mode(&d.join(secret)), 0o600, "{secret}");
    }
    assert!(d.join("store").is_dir());
    assert!(
        std::fs::read_dir(d.join("store")).unwrap().count() > 0,
        "the store is created, holding the issuing CA"
    );
    let issuing_ca_path = d.join("pki/issuing-ca.pem");
    let issuing_ca = openssl(
        &[
            "x509",
            "-noout",
            "-subject",
            "-ext",
            "basicConstraints,keyUsage",
            "-in",
            issuing_ca_path.to_str().unwrap(),
        ],
        None,
    );
    for expected in [
        "CN = qkms issuing CA",
        "CA:TRUE, pathlen:1",
        "Certificate Sign",
    ] {
        assert!(
            issuing_ca.contains(expected),
            "{expected} missing from {issuing_ca}"
        );
    }
    let config = Config::load(&d.join("qkms.toml")).unwrap();
    assert_eq!(config.tls.host_names, vec!["kms.example.org".to_owned()]);
    assert_eq!(config.server.listen, "127.0.0.1:5696");
    let server_pem = std::fs::read_to_string(d.join("pki/server.pem")).unwrap();
    let text = openssl(
        &["x509", "-noout", "-ext", "subjectAltName"],
        Some(server_pem.as_bytes()),
    );
    for name in [
        "DNS:localhost",
        "IP Address:127.0.0.1",
        "DNS:kms.example.org",
    ] {
        assert!(text.contains(name), "{name} missing from {text}");
    }
}

#[test]
fn init_refuses_to_overwrite_an_existing_set_up() {
    let dir = tempfile::tempdir().unwrap();
    setup::init(dir.path(), &InitOptions::default()).unwrap();
    let ca_before = std::fs::read(dir.path().join("pki/ca.pem")).unwrap();
    let error = setup::init(dir.path(), &InitOptions::default()).unwrap_err();
    assert!(matches!(error, SetupError::AlreadyExists(_)), "{error}");
    assert_eq!(
        std::fs::read(dir.path().join("pki/ca.pem")).unwrap(),
        ca_before
    );
    let output = Command::new(SERVER_BIN)
        .arg("--init")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("refusing to overwrite"));
}

/// Runs `openssl ARGS` (stdin from `input`), returning stdout; fails the test if OpenSSL fails.
fn openssl(args: &[&str], input: Option<&[u8]>) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl must be installed (the CI image has it)");
    if let Some(input) = input {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn client_p12_opens_in_openssl_with_the_documented_password() {
    let dir = tempfile::tempdir().unwrap();
    let report = setup::init(dir.path(), &InitOptions::default()).unwrap();
    let p12 = report.client.pkcs12.to_str().unwrap().to_owned();
    let pass = format!("file:{}", report.client.pkcs12_password.display());
    let dump = openssl(&["pkcs12", "-in", &p12, "-passin", &pass, "-noenc"], None);
    assert!(dump.contains("BEGIN PRIVATE KEY"), "{dump}");
    assert!(dump.contains("CN = default"), "{dump}");
    // The key inside is the key in client.key.
    let key_from_p12 = openssl(&["pkey", "-pubout"], Some(dump.as_bytes()));
    let key_file = openssl(
        &[
            "pkey",
            "-pubout",
            "-in",
            report.client.key.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(key_from_p12, key_file);
    // A wrong password is refused (the MAC is checked).
    let wrong = Command::new("openssl")
        .args(["pkcs12", "-in", &p12, "-passin", "pass:wrong", "-noenc"])
        .output()
        .unwrap();
    assert!(!wrong.status.success());
}

#[tokio::test]
async fn initialised_set_up_serves_discover_versions_over_mutual_tls() {
    let server = TestServer::start().await;
    let mut client = server.connect().await;
    let versions = client.discover_versions(vec![]).await.unwrap();
    assert_eq!(versions.first(), Some(&ProtocolVersion::V2_1));
    assert!(versions.contains(&ProtocolVersion::V1_0));
    let mut old = server
        .connect_as(&server.client, ProtocolVersion::V1_2)
        .await;
    let versions = old
        .discover_versions(vec![ProtocolVersion::V1_2])
        .await
        .unwrap();
    assert_eq!(versions, vec![ProtocolVersion::V1_2]);
}

#[tokio::test]
async fn issued_client_bundle_connects_and_maps_to_its_own_tenant() {
    let server = TestServer::start().await;
    let bundle = server.issue_client("tenant-b");
    for file in [
        &bundle.ca,
        &bundle.certificate,
        &bundle.key,
        &bundle.pkcs12,
        &bundle.pkcs12_password,
    ] {
        assert!(file.is_file(), "{}", file.display());
    }
    let certificate = kmip::client::certificates_from_file(&bundle.certificate)
        .unwrap()
        .remove(0);
    let caller = Authenticator::new(&AuthConfig::default())
        .unwrap()
        .identify(&certificate)
        .unwrap();
    assert_eq!(caller.tenant, TenantId("tenant-b".into()));
    let mut client = server.connect_as(&bundle, ProtocolVersion::V2_1).await;
    client.discover_versions(vec![]).await.unwrap();
    // The same name again would overwrite the bundle: refused.
    let again = setup::issue_client(
        &server.config,
        "tenant-b",
        &server.dir.path().join("clients/tenant-b"),
    );
    assert!(matches!(again, Err(SetupError::AlreadyExists(_))));
}

#[test]
fn issue_client_command_writes_a_bundle_openssl_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let report = setup::init(dir.path(), &InitOptions::default()).unwrap();
    let out = dir.path().join("alice");
    let output = Command::new(SERVER_BIN)
        .args(["issue-client", "alice", "--out"])
        .arg(&out)
        .arg("--config")
        .arg(&report.config_file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ca = dir.path().join("pki/ca.pem");
    let verified = openssl(
        &[
            "verify",
            "-CAfile",
            ca.to_str().unwrap(),
            out.join("client.pem").to_str().unwrap(),
        ],
        None,
    );
    assert!(verified.contains(": OK"), "{verified}");
    let subject = openssl(
        &[
            "x509",
            "-noout",
            "-subject",
            "-in",
            out.join("client.pem").to_str().unwrap(),
        ],
        None,
    );
    assert!(subject.contains("CN = alice"), "{subject}");
    let bad = Command::new(SERVER_BIN)
        .args(["issue-client", "../evil", "--out"])
        .arg(dir.path().join("evil"))
        .arg("--config")
        .arg(&report.config_file)
        .output()
        .unwrap();
    assert!(
        !bad.status.success(),
        "names that are not tenant names are refused"
    );
}

#[tokio::test]
async fn fingerprint_mapping_admits_only_listed_certificates() {
    let mut server = TestServer::start_with(|config| {
        config.auth.tenant_mapping = kms_server::config::TenantMapping::Fingerprint;
    })
    .await;
    // Unlisted: the handshake succeeds (the chain is valid) but every request is refused.
    let mut client = server.connect().await;
    let error = client.discover_versions(vec![]).await.unwrap_err();
    assert!(
        error.to_string().contains("not in the tenant mapping"),
        "{error}"
    );

    let issued =
        setup::issue_client(&server.config, "tenant-f", &server.dir.path().join("f")).unwrap();
    server
        .config
        .auth
        .fingerprints
        .insert(issued.fingerprint.clone(), "tenant-f".into());
    server.restart().await;
    let mut client = server
        .connect_as(&issued.bundle, ProtocolVersion::V2_1)
        .await;
    client.discover_versions(vec![]).await.unwrap();
}

#[tokio::test]
async fn certificates_issued_by_an_initialised_server_verify_against_pki_issuing_ca_pem() {
    use kmip::enums::LinkType;
    use kmip::objects::ManagedObject;
    use kmip::payloads::{CertifyRequest, EnumValue, GetAttributesRequest, GetRequest};

    let server = TestServer::start().await;
    let pki = server.dir.path().join("pki");
    let mut client = server.connect().await;
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
            pki.join("csr-key.pem").to_str().unwrap(),
            "-subj",
            "/CN=init.example",
            "-outform",
            "DER",
            "-out",
            pki.join("request.der").to_str().unwrap(),
        ],
        None,
    );
    let csr = std::fs::read(pki.join("request.der")).unwrap();
    let uid = client
        .certify(CertifyRequest {
            certificate_request_type: Some(EnumValue(2)),
            certificate_request_value: Some(csr),
            ..Default::default()
        })
        .await
        .unwrap()
        .unique_identifier;
    let certificate_of = |response: kmip::payloads::GetResponse| match response.object.0 {
        Some(ManagedObject::Certificate(c)) => c.certificate_value,
        other => panic!("not a certificate: {other:?}"),
    };
    let get = |uid: &str| GetRequest {
        unique_identifier: Some(uid.to_owned()),
        ..Default::default()
    };
    let issued = certificate_of(client.get(get(&uid)).await.unwrap());
    std::fs::write(pki.join("issued.der"), &issued).unwrap();
    let issuing_ca = pki.join("issuing-ca.pem");
    let issued_pem = openssl(
        &[
            "x509",
            "-inform",
            "DER",
            "-in",
            pki.join("issued.der").to_str().unwrap(),
        ],
        None,
    );
    std::fs::write(pki.join("issued.pem"), issued_pem).unwrap();
    let verdict = openssl(
        &[
            "verify",
            "-CAfile",
            issuing_ca.to_str().unwrap(),
            pki.join("issued.pem").to_str().unwrap(),
        ],
        None,
    );
    assert!(verdict.contains(": OK"), "{verdict}");

    // The CA certificate the issued certificate links to is the one --init wrote.
    let attributes = client
        .get_attributes(GetAttributesRequest {
            unique_identifier: Some(uid),
            attribute_names: kmip::payloads::AttributeNames(vec![]),
        })
        .await
        .unwrap()
        .attributes
        .0;
    let ca_uid = attributes
        .linked(LinkType::CertificateLink)
        .unwrap()
        .to_owned();
    let linked = certificate_of(client.get(get(&ca_uid)).await.unwrap());
    let written = kmip::client::certificates_from_file(&issuing_ca)
        .unwrap()
        .remove(0);
    assert_eq!(linked, written.as_ref());
}
