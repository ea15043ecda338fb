//! `qkms audit verify`: OK on an intact log, non-zero exit naming the first broken record otherwise.

use std::process::Command;

use kmip::ResultReason;
use kms_server::audit::{AuditEntry, AuditLog};
use kms_server::tenant::{Role, TenantId};

fn qkms(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qkms"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write_log(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("audit.log");
    let log = AuditLog::open(&path).unwrap();
    let tenant = TenantId("alice".into());
    for (i, result) in [Ok(()), Err(ResultReason::PermissionDenied), Ok(())]
        .into_iter()
        .enumerate()
    {
        log.append(AuditEntry {
            tenant: &tenant,
            role: Role::Tenant,
            operation: "Create",
            objects: vec![format!("uid-{i}")],
            targets: Vec::new(),
            result,
            detail: None,
            time: 1_700_000_000,
        })
        .unwrap();
    }
    log.wait_durable().unwrap();
    path
}

#[test]
fn verify_reports_an_intact_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let (ok, stdout, _) = qkms(&["audit", "verify", "--dir", dir.path().to_str().unwrap()]);
    assert!(ok);
    assert!(stdout.contains("3 records checked, chain OK"), "{stdout}");
    let (ok, stdout, _) = qkms(&["audit", "verify", "--log", path.to_str().unwrap()]);
    assert!(ok, "{stdout}");
}

#[test]
fn verify_fails_naming_the_tampered_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("PermissionDenied", "Success", 1)).unwrap();
    let (ok, _, stderr) = qkms(&["audit", "verify", "--log", path.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("line 2 (record 2)"), "{stderr}");
}

#[test]
fn verify_needs_a_location_and_an_existing_file() {
    assert!(!qkms(&["audit", "verify"]).0);
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = qkms(&["audit", "verify", "--dir", dir.path().to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("cannot open"), "{stderr}");
}

#[test]
fn verify_checks_the_rotated_files_and_names_a_missing_one() {
    use kms_server::audit::AuditOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open_with(
        &path,
        AuditOptions {
            max_file_bytes: 4096,
        },
    )
    .unwrap();
    let tenant = TenantId("alice".into());
    for i in 0..100 {
        log.append(AuditEntry {
            tenant: &tenant,
            role: Role::Tenant,
            operation: "Get",
            objects: Vec::new(),
            targets: vec![format!("uid-{i}")],
            result: Err(ResultReason::ItemNotFound),
            detail: Some("no such object"),
            time: 1_700_000_000,
        })
        .unwrap();
    }
    log.wait_durable().unwrap();
    let config = dir.path().join("qkms.toml");
    std::fs::write(
        &config,
        "[audit]\npath = \"audit.log\"\nmax_file_bytes = 4096\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = qkms(&["audit", "verify", "--config", config.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("100 records checked, chain OK"), "{stdout}");
    assert!(
        stdout.contains("audit.log.000001, audit.log.000002"),
        "{stdout}"
    );

    std::fs::remove_file(dir.path().join("audit.log.000002")).unwrap();
    let (ok, _, stderr) = qkms(&["audit", "verify", "--dir", dir.path().to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("audit.log.000002 is missing"), "{stderr}");
}
