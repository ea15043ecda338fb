//! One audit record: its JSON line and the canonical bytes its hash covers.
//!
//! The hash is not taken over the JSON text (whitespace, escaping and key order would make "the same record"
//! ambiguous) but over a length-prefixed binary encoding of every field but the hash itself, `lp` being a 4-byte
//! big-endian length and the bytes:
//! - version 2 (written now): `"qkms audit record v2\0" || sequence (u64 BE) || time (i64 BE) || lp(tenant) ||
//!   lp(role) || lp(operation) || count (u32 BE) || lp(object)* || count (u32 BE) || lp(target)* || lp(result) ||
//!   detail (0x00 when absent, else 0x01 || lp(detail)) || lp(previous_hash)`;
//! - version 1 (logs written before targets and detail existed; still verified, and a log may hold version 1
//!   records followed by version 2 ones): `"qkms audit record v1\0" || sequence || time || lp(tenant) || lp(role)
//!   || lp(operation) || count || lp(object)* || lp(result) || lp(previous_hash)`.
//!
//! Every field is covered, so any edit shows as a hash mismatch; the domain string differs per version, so a
//! record cannot be re-read as the other version.

use sha2::{Digest, Sha256};

/// The previous hash of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The record version this server writes.
pub const CURRENT_VERSION: u32 = 2;

const DOMAIN_V1: &[u8] = b"qkms audit record v1\0";
const DOMAIN_V2: &[u8] = b"qkms audit record v2\0";

fn version_1() -> u32 {
    1
}

/// One line of `audit.log`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// The record format: 2 now; absent (1) in records written before version 2.
    #[serde(default = "version_1")]
    pub version: u32,
    /// 1 for the first record, then +1 per record, across rotated files: a gap or repeat means deletion,
    /// insertion or reordering.
    pub sequence: u64,
    /// Seconds since the Unix epoch.
    pub time: i64,
    pub tenant: String,
    /// `tenant` or `operator` (`none` for a connection whose certificate named no tenant).
    pub role: String,
    /// The KMIP operation's name (`Create`, `Get`, ...).
    pub operation: String,
    /// Unique Identifiers of the objects the operation produced or touched (empty when it failed).
    pub objects: Vec<String>,
    /// Unique Identifiers the request named (after ID Placeholder resolution), recorded also when it failed:
    /// which key another tenant tried to read. Version 2.
    #[serde(default)]
    pub targets: Vec<String>,
    /// `Success`, or the KMIP Result Reason of the failure (`ItemNotFound`, `PermissionDenied`, ...).
    pub result: String,
    /// Why it failed or was refused: the Result Message sent to the client. Version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The previous record's `hash` (hex), [`GENESIS_HASH`] for the first.
    pub previous_hash: String,
    /// SHA-256 (hex) of this record's canonical encoding.
    pub hash: String,
}

fn push_lp(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn push_list(out: &mut Vec<u8>, items: &[String]) {
    out.extend_from_slice(&(items.len() as u32).to_be_bytes());
    for item in items {
        push_lp(out, item.as_bytes());
    }
}

impl AuditRecord {
    /// Whether the fields fit the record's version: a version 1 record has no targets and no detail (its hash
    /// would not cover them), and no other version exists.
    pub fn check_shape(&self) -> Result<(), String> {
        match self.version {
            1 if !self.targets.is_empty() || self.detail.is_some() => Err(
                "a version 1 record cannot carry targets or detail (its hash does not cover them)"
                    .into(),
            ),
            1 | 2 => Ok(()),
            other => Err(format!("unknown record version {other}")),
        }
    }

    /// The bytes the hash covers (every field but `hash`), in the record's version.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let v2 = self.version >= 2;
        out.extend_from_slice(if v2 { DOMAIN_V2 } else { DOMAIN_V1 });
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        push_lp(&mut out, self.tenant.as_bytes());
        push_lp(&mut out, self.role.as_bytes());
        push_lp(&mut out, self.operation.as_bytes());
        push_list(&mut out, &self.objects);
        if v2 {
            push_list(&mut out, &self.targets);
        }
        push_lp(&mut out, self.result.as_bytes());
        if v2 {
            match &self.detail {
                None => out.push(0),
                Some(detail) => {
                    out.push(1);
                    push_lp(&mut out, detail.as_bytes());
                }
            }
        }
        push_lp(&mut out, self.previous_hash.as_bytes());
        out
    }

    /// SHA-256 of the canonical bytes, lower-case hex.
    pub fn compute_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_bytes()))
    }
}

/// `text` cut to at most `max` bytes (at a character boundary), the cut marked with the original length: what a
/// client sent (an identifier, echoed in a message) must not make one record arbitrarily large.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...[{} bytes]", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> AuditRecord {
        AuditRecord {
            version: 2,
            sequence: 1,
            time: 1_700_000_000,
            tenant: "alice".into(),
            role: "tenant".into(),
            operation: "Create".into(),
            objects: vec!["a".into(), "b".into()],
            targets: vec!["t".into()],
            result: "Success".into(),
            detail: Some("why".into()),
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
            |r| r.targets.clear(),
            |r| r.result = "ItemNotFound".into(),
            |r| r.detail = None,
            |r| r.detail = Some(String::new()),
            |r| r.previous_hash = "1".repeat(64),
            |r| r.version = 1,
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
        let mut c = record();
        c.objects = vec!["a".into()];
        c.targets = vec!["b".into(), "t".into()];
        let mut d = record();
        d.objects = vec!["a".into(), "b".into()];
        assert_ne!(c.compute_hash(), d.compute_hash());
    }

    /// A version 1 line as the previous release wrote it still reads and hashes to its stored hash; it may not
    /// gain version 2 fields.
    #[test]
    fn version_1_records_still_verify() {
        let line = r#"{"sequence":1,"time":1700000000,"tenant":"alice","role":"tenant","operation":"Create","objects":["uid-0"],"result":"Success","previous_hash":"0000000000000000000000000000000000000000000000000000000000000000","hash":"HASH"}"#;
        let mut v1: AuditRecord = serde_json::from_str(line).unwrap();
        assert_eq!(v1.version, 1);
        let expected = {
            let mut bytes = b"qkms audit record v1\0".to_vec();
            bytes.extend_from_slice(&1u64.to_be_bytes());
            bytes.extend_from_slice(&1_700_000_000i64.to_be_bytes());
            for field in ["alice", "tenant", "Create"] {
                push_lp(&mut bytes, field.as_bytes());
            }
            bytes.extend_from_slice(&1u32.to_be_bytes());
            push_lp(&mut bytes, b"uid-0");
            push_lp(&mut bytes, b"Success");
            push_lp(&mut bytes, GENESIS_HASH.as_bytes());
            bytes
        };
        assert_eq!(v1.canonical_bytes(), expected);
        assert!(v1.check_shape().is_ok());
        v1.detail = Some("added later".into());
        assert!(v1.check_shape().is_err());
        let mut v3 = record();
        v3.version = 3;
        assert!(v3.check_shape().is_err());
    }

    #[test]
    fn long_text_is_bounded_at_a_character_boundary() {
        assert_eq!(bounded("short", 10), "short");
        let long = "é".repeat(10);
        let cut = bounded(&long, 5);
        assert_eq!(cut, "éé...[20 bytes]");
    }
}
