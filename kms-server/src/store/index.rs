//! Locate index keys. Every key starts with the length-prefixed owner, so a tenant's prefix scan can never reach
//! another tenant's entries, and ends with the big-endian creation number, so a scan yields creation order.
//! Internal objects are not indexed at all: Locate cannot return what it cannot find.
//!
//! - name index:       `lp(owner) || lp(name) || created`
//! - owner-type index: `lp(owner) || object type (u32) || created`, one entry for EVERY indexed object
//!   ([`UNTYPED`] when it has no type)
//!
//! (`lp` = 4-byte big-endian length, then the bytes.) Each entry's value is the uid.
//!
//! Why one owner-type index and no owner index: sled 0.34 keeps ~290 bytes of resident state per B-tree page
//! whatever its cache size, and a leaf holds at most 16 entries, so resident memory grows with the number of
//! entries per object (BENCHMARKS.md, "RSS at a million objects"). A separate owner index (`lp(owner) ||
//! created`) was one entry per object that the owner-type index already implies: "all of a tenant's objects in
//! creation order" is a streaming merge of the tenant's per-type ranges ([`CreationOrder`]), of which there are
//! only as many as object types it holds (about ten at most). The other ways to drop an entry were not taken:
//! the attribute tree's keys are in uid order, not creation order (Import and Register take client uids), and
//! putting the attribute record beside the sealed blob in one entry would change every read and write path and
//! `qkms store migrate`'s copy. Stores of the earlier layout are moved once by [`super::index_migration`].

use kmip::enums::ObjectType;
use sled::{IVec, Tree};

use super::codec::Record;
use crate::tenant::TenantId;

/// The type code of an indexed object without an object type (no KMIP object type has code 0).
pub(crate) const UNTYPED: u32 = 0;

/// Bytes of the type code and the creation number after the owner prefix.
const TYPE_LEN: usize = 4;
const CREATED_LEN: usize = 8;

fn push_lp(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

pub(crate) fn owner_prefix(owner: &TenantId) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + owner.0.len() + TYPE_LEN + CREATED_LEN);
    push_lp(&mut out, owner.0.as_bytes());
    out
}

pub(crate) fn name_prefix(owner: &TenantId, name: &str) -> Vec<u8> {
    let mut out = owner_prefix(owner);
    push_lp(&mut out, name.as_bytes());
    out
}

fn type_code_prefix(owner: &TenantId, code: u32) -> Vec<u8> {
    let mut out = owner_prefix(owner);
    out.extend_from_slice(&code.to_be_bytes());
    out
}

pub(crate) fn type_prefix(owner: &TenantId, object_type: ObjectType) -> Vec<u8> {
    type_code_prefix(owner, object_type.to_u32())
}

fn with_created(mut prefix: Vec<u8>, created: u64) -> Vec<u8> {
    prefix.extend_from_slice(&created.to_be_bytes());
    prefix
}

/// The index entries one record owns.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct IndexKeys {
    pub name: Vec<Vec<u8>>,
    /// The owner-type index entry (none for an internal object).
    pub owner_type: Vec<Vec<u8>>,
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
        let code = record.indexed_type.map_or(UNTYPED, ObjectType::to_u32);
        Self {
            name: names,
            owner_type: vec![with_created(
                type_code_prefix(&record.owner, code),
                record.created,
            )],
        }
    }
}

/// The length of an owner-type index key of `owner` (what a scan of the tenant's entries checks).
pub(crate) fn owner_type_key_len(owner: &TenantId) -> usize {
    4 + owner.0.len() + TYPE_LEN + CREATED_LEN
}

/// One tree entry: (key, uid).
type Entry = (IVec, IVec);

/// Every owner-type index entry of one tenant, in creation order: a k-way merge of the tenant's per-type ranges
/// (each already in creation order), streamed, so nothing is collected first.
pub(crate) struct CreationOrder {
    ranges: Vec<Range>,
}

struct Range {
    iter: sled::Iter,
    head: Option<Entry>,
}

fn created_of(key: &[u8]) -> u64 {
    key.len()
        .checked_sub(CREATED_LEN)
        .and_then(|at| <[u8; CREATED_LEN]>::try_from(&key[at..]).ok())
        .map_or(0, u64::from_be_bytes)
}

impl CreationOrder {
    /// Finds the type codes `owner` has entries under (one seek each) and opens a range per code.
    pub(crate) fn new(tree: &Tree, owner: &TenantId) -> Result<Self, sled::Error> {
        let prefix = owner_prefix(owner);
        let mut ranges = Vec::new();
        let mut from = prefix.clone();
        while let Some(entry) = tree.range(from.as_slice()..).next() {
            let (key, _) = entry?;
            let Some(code) = key
                .strip_prefix(prefix.as_slice())
                .and_then(|rest| rest.get(..TYPE_LEN))
                .and_then(|code| <[u8; TYPE_LEN]>::try_from(code).ok())
            else {
                break;
            };
            let code = u32::from_be_bytes(code);
            let mut iter = tree.scan_prefix(type_code_prefix(owner, code));
            let head = iter.next().transpose()?;
            ranges.push(Range { iter, head });
            let Some(next) = code.checked_add(1) else {
                break;
            };
            from = type_code_prefix(owner, next);
        }
        Ok(Self { ranges })
    }
}

impl Iterator for CreationOrder {
    type Item = Result<Entry, sled::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let earliest = self
            .ranges
            .iter()
            .enumerate()
            .filter_map(|(i, range)| range.head.as_ref().map(|(key, _)| (created_of(key), i)))
            .min()?
            .1;
        let range = &mut self.ranges[earliest];
        let entry = range.head.take()?;
        match range.iter.next().transpose() {
            Ok(head) => range.head = head,
            Err(e) => return Some(Err(e)),
        }
        Some(Ok(entry))
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
        assert_eq!(keys.name.len(), 1);
        assert_eq!(keys.owner_type.len(), 1);
        assert!(keys.owner_type[0].ends_with(&5u64.to_be_bytes()));
        assert_eq!(
            keys.owner_type[0].len(),
            owner_type_key_len(&TenantId("a".into()))
        );
        let untyped = Record {
            indexed_type: None,
            ..record("a", false)
        };
        assert_eq!(
            IndexKeys::of(&untyped).owner_type,
            vec![with_created(type_code_prefix(&untyped.owner, UNTYPED), 5)]
        );
    }

    #[test]
    fn a_tenants_entries_merge_into_creation_order_and_no_one_elses() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("index").unwrap();
        let (a, ab) = (TenantId("a".into()), TenantId("ab".into()));
        // Tenant "a": creation numbers spread over three types (one of them UNTYPED and one the largest code).
        let entries = [
            (UNTYPED, 4u64),
            (ObjectType::SymmetricKey.to_u32(), 1),
            (ObjectType::SymmetricKey.to_u32(), 6),
            (u32::MAX, 2),
            (ObjectType::PrivateKey.to_u32(), 3),
            (ObjectType::PrivateKey.to_u32(), 7),
            (UNTYPED, 9),
        ];
        for (code, created) in entries {
            let key = with_created(type_code_prefix(&a, code), created);
            tree.insert(key, format!("a{created}").as_bytes()).unwrap();
        }
        // Tenant "ab" sorts right after "a"'s keys would if prefixes could overlap; it has earlier numbers.
        for created in [0u64, 5, 8] {
            let key = with_created(type_code_prefix(&ab, UNTYPED), created);
            tree.insert(key, format!("ab{created}").as_bytes()).unwrap();
        }
        let uids = |owner: &TenantId| {
            CreationOrder::new(&tree, owner)
                .unwrap()
                .map(|entry| String::from_utf8(entry.unwrap().1.to_vec()).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            uids(&a),
            ["a1", "a2", "a3", "a4", "a6", "a7", "a9"].map(String::from)
        );
        assert_eq!(uids(&ab), ["ab0", "ab5", "ab8"].map(String::from));
        assert!(uids(&TenantId("b".into())).is_empty());
        assert!(uids(&TenantId(String::new())).is_empty());
    }
}
