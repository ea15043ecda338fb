//! Locate index keys. Every key starts with the length-prefixed owner, so a tenant's prefix scan can never reach
//! another tenant's entries, and ends with the big-endian creation number, so a scan yields creation order.
//! Internal objects are not indexed at all: Locate cannot return what it cannot find.
//!
//! - owner index: `lp(owner) || created`
//! - name index:  `lp(owner) || lp(name) || created`
//! - type index:  `lp(owner) || object type (u32) || created`
//!
//! (`lp` = 4-byte big-endian length, then the bytes.) Each entry's value is the uid.

use kmip::enums::ObjectType;

use super::codec::Record;
use crate::tenant::TenantId;

fn push_lp(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

pub(crate) fn owner_prefix(owner: &TenantId) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + owner.0.len() + 8);
    push_lp(&mut out, owner.0.as_bytes());
    out
}

pub(crate) fn name_prefix(owner: &TenantId, name: &str) -> Vec<u8> {
    let mut out = owner_prefix(owner);
    push_lp(&mut out, name.as_bytes());
    out
}

pub(crate) fn type_prefix(owner: &TenantId, object_type: ObjectType) -> Vec<u8> {
    let mut out = owner_prefix(owner);
    out.extend_from_slice(&object_type.to_u32().to_be_bytes());
    out
}

fn with_created(mut prefix: Vec<u8>, created: u64) -> Vec<u8> {
    prefix.extend_from_slice(&created.to_be_bytes());
    prefix
}

/// The index entries one record owns.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct IndexKeys {
    pub owner: Vec<Vec<u8>>,
    pub name: Vec<Vec<u8>>,
    pub object_type: Vec<Vec<u8>>,
}

impl IndexKeys {
    pub(crate) fn of(record: &Record) -> Self {
        if record.internal {
            return Self::default();
        }
        let mut names: Vec<Vec<u8>> = record
            .attributes
            .names()
            .map(|n| with_created(name_prefix(&record.owner, &n.value), record.created))
            .collect();
        // Two Names with the same value share one entry.
        names.sort();
        names.dedup();
        Self {
            owner: vec![with_created(owner_prefix(&record.owner), record.created)],
            name: names,
            object_type: record
                .indexed_type
                .map(|t| with_created(type_prefix(&record.owner, t), record.created))
                .into_iter()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use kmip::attributes::{Attribute, Attributes, Name};

    use super::*;

    fn record(owner: &str, internal: bool) -> Record {
        Record {
            owner: TenantId(owner.into()),
            internal,
            created: 5,
            indexed_type: Some(ObjectType::SymmetricKey),
            attributes: Attributes::from(vec![
                Attribute::Name(Name::text("k")),
                Attribute::Name(Name::text("k")),
            ]),
        }
    }

    #[test]
    fn owner_prefixes_cannot_overlap() {
        // "ab" + name "c..." must not share a prefix with owner "abc".
        let ab = name_prefix(&TenantId("ab".into()), "c");
        assert!(!ab.starts_with(&owner_prefix(&TenantId("abc".into()))));
        assert!(ab.starts_with(&owner_prefix(&TenantId("ab".into()))));
    }

    #[test]
    fn internal_records_are_not_indexed_and_names_deduplicate() {
        assert_eq!(IndexKeys::of(&record("a", true)), IndexKeys::default());
        let keys = IndexKeys::of(&record("a", false));
        assert_eq!(keys.owner.len(), 1);
        assert_eq!(keys.name.len(), 1);
        assert_eq!(keys.object_type.len(), 1);
        assert!(keys.owner[0].ends_with(&5u64.to_be_bytes()));
    }
}
