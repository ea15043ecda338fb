//! One audit record: its JSON line and the canonical bytes its hash covers.
//!
//! The hash is not taken over the JSON text (whitespace, escaping and key order would make "the same record"
//! ambiguous) but over a length-prefixed binary encoding of every field but the hash itself:
//! `"qkms audit record v1\0" || sequence (u64 BE) || time (i64 BE) || lp(tenant) || lp(role) || lp(operation) ||
//! count (u32 BE) || lp(object)* || lp(result) || lp(previous_hash)`, where `lp` is a 4-byte big-endian length
//! and the bytes. Every field is covered, so any edit shows as a hash mismatch.

use sha2::{Digest, Sha256};

/// The previous hash of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN: &[u8] = b"qkms audit record v1\0";

/// One line of `audit.log`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// 1 for the first record, then +1 per record: a gap or repeat means deletion, insertion or reordering.
    pub sequence: u64,
    /// Seconds since the Unix epoch.
    pub time: i64,
    pub tenant: String,
    /// `tenant` or `operator`.
    pub role: String,
    /// The KMIP operation's name (`Create`, `Get`, ...).
    pub operation: String,
    /// Unique Identifiers of the objects the operation touched.
    pub objects: Vec<String>,
    /// `Success`, or the KMIP Result Reason of the failure (`ItemNotFound`, `PermissionDenied`, ...).
    pub result: String,
    /// The previous record's `hash` (hex), [`GENESIS_HASH`] for the first.
    pub previous_hash: String,
    /// SHA-256 (hex) of this record's canonical encoding.
    pub hash: String,
}

fn push_lp(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl AuditRecord {
    /// The bytes the hash covers (every field but `hash`).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(DOMAIN);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        push_lp(&mut out, self.tenant.as_bytes());
        push_lp(&mut out, self.role.as_bytes());
        push_lp(&mut out, self.operation.as_bytes());
        out.extend_from_slice(&(self.objects.len() as u32).to_be_bytes());
        for object in &self.objects {
            push_lp(&mut out, object.as_bytes());
        }
        push_lp(&mut out, self.result.as_bytes());
        push_lp(&mut out, self.previous_hash.as_bytes());
        out
    }

    /// SHA-256 of the canonical bytes, lower-case hex.
    pub fn compute_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> AuditRecord {
        AuditRecord {
            sequence: 1,
            time: 1_700_000_000,
            tenant: "alice".into(),
            role: "tenant".into(),
            operation: "Create".into(),
            objects: vec!["a".into(), "b".into()],
            result: "Success".into(),
            previous_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = record().compute_hash();
        let edits: Vec<fn(&mut AuditRecord)> = vec![
            |r| r.sequence = 2,
            |r| r.time += 1,
            |r| r.tenant.push('x'),
            |r| r.role = "operator".into(),
            |r| r.operation = "Get".into(),
            |r| r.objects.pop().map(drop).unwrap_or(()),
            |r| r.result = "ItemNotFound".into(),
            |r| r.previous_hash = "1".repeat(64),
        ];
        for edit in edits {
            let mut r = record();
            edit(&mut r);
            assert_ne!(r.compute_hash(), base);
        }
        assert_eq!(record().compute_hash(), base);
    }

    #[test]
    fn moving_bytes_between_fields_changes_the_hash() {
        let mut a = record();
        a.objects = vec!["ab".into()];
        let mut b = record();
        b.objects = vec!["a".into(), "b".into()];
        assert_ne!(a.compute_hash(), b.compute_hash());
    }
}
