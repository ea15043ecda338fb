//! The audit log on a real full file system (a small tmpfs, filled): appends fail with the reason, the file
//! keeps ending in a complete record, the health state says so; once space is freed the next append succeeds,
//! the health is OK again and the chain verifies.

mod tmpfs_support;

use kms_server::audit::{verify, AuditEntry, AuditHealth, AuditLog, AuditOptions};
use kms_server::tenant::{Role, TenantId};
use tmpfs_support::Tmpfs;

fn entry(tenant: &TenantId, i: usize) -> AuditEntry<'_> {
    AuditEntry {
        tenant,
        role: Role::Tenant,
        operation: "Create",
        objects: vec![format!("uid-{i}")],
        targets: Vec::new(),
        result: Ok(()),
        detail: None,
        time: 1_700_000_000,
    }
}

#[test]
fn a_full_file_system_fails_appends_cleanly_and_the_log_recovers_by_itself() {
    let tmpfs = Tmpfs::mount("256k");
    let path = tmpfs.path().join("audit.log");
    let log = AuditLog::open(&path).unwrap();
    let tenant = TenantId("alice".into());
    for i in 0..5 {
        log.append(entry(&tenant, i)).unwrap();
    }
    log.wait_durable().unwrap();
    let filler = tmpfs.fill();

    // Appends fail (maybe after a few that still fit in the file's last page), each with the reason.
    let mut appended = 5;
    let mut failures = 0;
    for i in 5..200 {
        match log.append(entry(&tenant, i)) {
            Ok(_) => appended += 1,
            Err(error) => {
                failures += 1;
                assert!(
                    error.to_string().contains("No space left on device"),
                    "{error}"
                );
            }
        }
    }
    // At most what fits in the rest of the file's last 4 KiB page (records are over 200 bytes).
    assert!(
        appended - 5 <= 20 && failures == 195 - (appended - 5),
        "appends kept succeeding on a full file system ({appended} appended)"
    );
    match log.health() {
        AuditHealth::Failing { message, .. } => {
            assert!(message.contains("No space left"), "{message}")
        }
        AuditHealth::Ok => panic!("the health must show the failing appends"),
    }
    // The file holds exactly the records appended, each complete (partial writes were cut back).
    assert_eq!(verify(&path).unwrap().records, appended);

    std::fs::remove_file(filler).unwrap();
    log.append(entry(&tenant, 1000)).unwrap();
    log.wait_durable().unwrap();
    assert_eq!(log.health(), AuditHealth::Ok);
    assert_eq!(verify(&path).unwrap().records, appended + 1);
}

#[test]
fn rotation_on_a_full_file_system_fails_cleanly_and_the_chain_continues_once_space_returns() {
    let tmpfs = Tmpfs::mount("256k");
    let path = tmpfs.path().join("audit.log");
    let log = AuditLog::open_with(
        &path,
        AuditOptions {
            max_file_bytes: 4096,
        },
    )
    .unwrap();
    let tenant = TenantId("alice".into());
    let mut appended = 0u64;
    for i in 0..30 {
        log.append(entry(&tenant, i)).unwrap();
        appended += 1;
    }
    let filler = tmpfs.fill();
    let mut failures = 0;
    for i in 30..100 {
        match log.append(entry(&tenant, i)) {
            Ok(_) => appended += 1,
            Err(_) => failures += 1,
        }
    }
    assert!(failures > 50, "{failures} failures");
    assert!(matches!(log.health(), AuditHealth::Failing { .. }));
    assert_eq!(verify(&path).unwrap().records, appended);

    std::fs::remove_file(filler).unwrap();
    for i in 100..130 {
        log.append(entry(&tenant, i)).unwrap();
        appended += 1;
    }
    log.wait_durable().unwrap();
    assert_eq!(log.health(), AuditHealth::Ok);
    let report = verify(&path).unwrap();
    assert_eq!(report.records, appended);
    assert!(report.files.len() > 2, "{:?}", report.files);
}
