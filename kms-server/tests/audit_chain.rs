//! The audit log's hash chain: intact logs verify; edits, deletions, reordering and insertions are caught at
//! the first broken record; reopening continues the chain.

use std::path::Path;
use std::sync::Arc;

use kmip::ResultReason;
use kms_server::audit::{verify, AuditEntry, AuditError, AuditLog, AuditRecord, GENESIS_HASH};
use kms_server::tenant::{Role, TenantId};

fn entry<'a>(tenant: &'a TenantId, i: usize) -> AuditEntry<'a> {
    AuditEntry {
        tenant,
        role: Role::Tenant,
        operation: if i.is_multiple_of(2) { "Create" } else { "Get" },
        objects: vec![format!("uid-{i}")],
        targets: vec![format!("uid-{i}")],
        result: if i.is_multiple_of(3) {
            Err(ResultReason::ItemNotFound)
        } else {
            Ok(())
        },
        detail: i.is_multiple_of(3).then_some("no such object"),
        time: 1_700_000_000 + i as i64,
    }
}

fn write_log(path: &Path, records: usize) {
    let log = AuditLog::open(path).unwrap();
    let tenant = TenantId("alice".into());
    for i in 0..records {
        log.append(entry(&tenant, i)).unwrap();
    }
    log.wait_durable().unwrap();
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(
        path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

fn broken_at(path: &Path) -> (u64, String) {
    match verify(path) {
        Err(AuditError::Broken { line, reason, .. }) => (line, reason),
        other => panic!("expected a break, got {other:?}"),
    }
}

#[test]
fn an_intact_log_verifies_and_records_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    write_log(&path, 10);
    let report = verify(&path).unwrap();
    assert_eq!(report.records, 10);
    let records: Vec<AuditRecord> = lines(&path)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0].previous_hash, GENESIS_HASH);
    assert_eq!(records[0].result, "ItemNotFound");
    assert_eq!(records[1].result, "Success");
    assert_eq!(records[1].operation, "Get");
    assert_eq!(records[1].tenant, "alice");
    assert_eq!(records[1].role, "tenant");
    assert_eq!(records[1].objects, ["uid-1"]);
    assert_eq!(records[9].sequence, 10);
    assert_eq!(report.head_hash, records[9].hash);
}

#[test]
fn an_empty_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    drop(AuditLog::open(&path).unwrap());
    assert_eq!(verify(&path).unwrap().records, 0);
}

#[test]
fn an_edited_record_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    write_log(&path, 8);
    let mut content = lines(&path);
    content[4] = content[4].replace("\"alice\"", "\"mallory\"");
    write_lines(&path, &content);
    let (line, reason) = broken_at(&path);
    assert_eq!(line, 5);
    assert!(reason.contains("altered"), "{reason}");
}

#[test]
fn an_edited_record_with_a_recomputed_hash_breaks_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    write_log(&path, 8);
    let mut content = lines(&path);
    let mut record: AuditRecord = serde_json::from_str(&content[2]).unwrap();
    record.result = "Success".into();
    record.objects = vec!["someone-else".into()];
    record.hash = record.compute_hash();
    content[2] = serde_json::to_string(&record).unwrap();
    write_lines(&path, &content);
    let (line, reason) = broken_at(&path);
    assert_eq!(line, 4);
    assert!(reason.contains("previous hash"), "{reason}");
}

#[test]
fn a_deleted_record_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    write_log(&path, 8);
    let mut content = lines(&path);
    content.remove(3);
    write_lines(&path, &content);
    let (line, reason) = broken_at(&path);
    assert_eq!(line, 4);
    assert!(reason.contains("expected sequence 4, found 5"), "{reason}");
}

#[test]
fn reordered_records_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    write_log(&path, 8);
    let mut content = lines(&path);
    content.swap(5, 6);
    write_lines(&path, &content);
    assert_eq!(broken_at(&path).0, 6);
}

#[test]
fn garbage_and_cut_lines_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    write_log(&path, 4);
    let mut content = lines(&path);
    content.insert(1, "{\"not\": \"a record\"}".into());
    write_lines(&path, &content);
    let (line, reason) = broken_at(&path);
    assert_eq!(line, 2);
    assert!(reason.contains("not a valid audit record"), "{reason}");

    write_log(&dir.path().join("cut.log"), 4);
    let cut = dir.path().join("cut.log");
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let (line, reason) = broken_at(&cut);
    assert_eq!(line, 4);
    assert!(reason.contains("incomplete"), "{reason}");
}

#[test]
fn reopening_continues_the_chain_and_cuts_an_interrupted_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    write_log(&path, 3);
    // A crash in the middle of a write leaves half a line.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"sequence\":4,\"ti");
    std::fs::write(&path, bytes).unwrap();
    write_log(&path, 2);
    let report = verify(&path).unwrap();
    assert_eq!(report.records, 5);
}

#[test]
fn a_tampered_last_record_stops_the_log_from_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    write_log(&path, 3);
    let mut content = lines(&path);
    content[2] = content[2].replace("Create", "Check");
    write_lines(&path, &content);
    assert!(matches!(
        AuditLog::open(&path),
        Err(AuditError::Head { .. })
    ));
}

#[test]
fn concurrent_appends_form_one_chain_and_share_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = Arc::new(AuditLog::open(&path).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let tenant = TenantId(format!("tenant-{t}"));
                for i in 0..50 {
                    log.append(entry(&tenant, i)).unwrap();
                    log.wait_durable().unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(verify(&path).unwrap().records, 400);
    let stats = log.commit_stats();
    assert!(stats.flushes < stats.writes, "{stats:?}");
}
