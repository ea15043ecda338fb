//! The log's behaviour on real files: rotation and the chain across files, reopening, verification naming where
//! the chain breaks, version 1 records followed by version 2, and failures reported (the full-disk recovery runs
//! on a real tmpfs in `tests/audit_full_disk.rs`).

use std::path::Path;

use super::*;

fn entry<'a>(tenant: &'a TenantId, i: usize) -> AuditEntry<'a> {
    AuditEntry {
        tenant,
        role: Role::Tenant,
        operation: "Get",
        objects: Vec::new(),
        targets: vec![format!("uid-{i}")],
        result: Err(ResultReason::ItemNotFound),
        detail: Some("no such object"),
        time: 1_700_000_000,
    }
}

fn fill(log: &AuditLog, count: usize) {
    let tenant = TenantId("alice".into());
    for i in 0..count {
        log.append(entry(&tenant, i)).unwrap();
    }
    log.wait_durable().unwrap();
}

fn small(path: &Path) -> AuditLog {
    AuditLog::open_with(
        path,
        AuditOptions {
            max_file_bytes: 2_000,
        },
    )
    .unwrap()
}

#[test]
fn records_carry_targets_and_detail_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&path).unwrap();
    fill(&log, 3);
    let text = std::fs::read_to_string(&path).unwrap();
    let first: AuditRecord = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first.version, 2);
    assert_eq!(first.targets, vec!["uid-0".to_owned()]);
    assert_eq!(first.detail.as_deref(), Some("no such object"));
    assert_eq!(first.result, "ItemNotFound");
    let report = verify(&path).unwrap();
    assert_eq!(report.records, 3);
    assert_eq!(report.files, vec![path.clone()]);
    assert_eq!(log.health(), AuditHealth::Ok);
}

#[test]
fn the_chain_continues_across_rotated_files_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = small(&path);
    fill(&log, 40);
    drop(log);
    // Reopened: the chain continues from the newest record.
    let log = small(&path);
    fill(&log, 40);
    let rotated = files::rotated_files(&path).unwrap();
    assert!(rotated.len() >= 4, "{rotated:?}");
    let numbers: Vec<u64> = rotated.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, (1..=rotated.len() as u64).collect::<Vec<_>>());
    for (_, file) in &rotated {
        assert!(std::fs::metadata(file).unwrap().len() <= 2_000);
    }
    let report = verify(&path).unwrap();
    assert_eq!(report.records, 80);
    assert_eq!(report.files.len(), rotated.len() + 1);
    assert_eq!(report.files.last(), Some(&path));
}

#[test]
fn a_missing_current_file_after_rotation_continues_from_the_newest_rotated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = small(&path);
    fill(&log, 30);
    drop(log);
    // As if the server stopped between the rename and the creation of the new file.
    let next = files::rotated_files(&path).unwrap().len() as u64 + 1;
    std::fs::rename(&path, files::rotated_path(&path, next)).unwrap();
    let log = small(&path);
    fill(&log, 5);
    assert_eq!(verify(&path).unwrap().records, 35);
}

#[test]
fn a_deleted_middle_file_is_reported_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    fill(&small(&path), 60);
    let missing = files::rotated_path(&path, 2);
    std::fs::remove_file(&missing).unwrap();
    let error = verify(&path).unwrap_err().to_string();
    assert!(error.contains("audit.log.000002 is missing"), "{error}");
}

#[test]
fn deleted_records_are_reported_by_file_line_and_expected_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    fill(&small(&path), 60);
    let second = files::rotated_path(&path, 2);
    let text = std::fs::read_to_string(&second).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let first_sequence = serde_json::from_str::<AuditRecord>(lines[0])
        .unwrap()
        .sequence;
    // Delete lines 3 and 4 of the second file.
    let kept: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2 && *i != 3)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(&second, kept).unwrap();
    let error = verify(&path).unwrap_err().to_string();
    let expected = first_sequence + 2;
    assert!(
        error.contains("audit.log.000002 broken at line 3")
            && error.contains(&format!(
                "expected sequence {expected}, found {}",
                expected + 2
            ))
            && error.contains("2 record(s) missing"),
        "{error}"
    );
}

#[test]
fn version_1_records_then_version_2_records_verify_as_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    // A log as the previous release wrote it: no version, targets or detail.
    let mut previous = GENESIS_HASH.to_owned();
    let mut text = String::new();
    for sequence in 1..=3 {
        let mut record = AuditRecord {
            version: 1,
            sequence,
            time: 1_700_000_000,
            tenant: "alice".into(),
            role: "tenant".into(),
            operation: "Create".into(),
            objects: vec![format!("uid-{sequence}")],
            targets: Vec::new(),
            result: "Success".into(),
            detail: None,
            previous_hash: previous.clone(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        previous = record.hash.clone();
        let mut value = serde_json::to_value(&record).unwrap();
        let object = value.as_object_mut().unwrap();
        object.remove("version");
        object.remove("targets");
        text.push_str(&format!("{value}\n"));
    }
    std::fs::write(&path, text).unwrap();
    let log = AuditLog::open(&path).unwrap();
    fill(&log, 2);
    assert_eq!(verify(&path).unwrap().records, 5);
}

#[test]
fn an_append_that_cannot_be_written_is_an_error_and_the_health_says_so() {
    // /dev/full refuses every write with ENOSPC, as a full file system does.
    let log = AuditLog::open("/dev/full").unwrap();
    let tenant = TenantId("alice".into());
    let error = log.append(entry(&tenant, 0)).unwrap_err();
    assert!(
        error.to_string().contains("No space left on device"),
        "{error}"
    );
    match log.health() {
        AuditHealth::Failing { message, since } => {
            assert!(message.contains("cannot append"), "{message}");
            assert!(since <= std::time::SystemTime::now());
        }
        AuditHealth::Ok => panic!("a failed append must show in the health state"),
    }
    // Still failing: each append reports it.
    assert!(log.append(entry(&tenant, 1)).is_err());
}
