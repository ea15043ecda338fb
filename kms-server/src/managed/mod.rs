//! Managed objects and the KMIP rules every operation shares: the one access check (`load`: the caller's
//! tenant, never a server object) and the errors it answers, the lifecycle state machine, attribute policy, the
//! attributes the server gives new objects (`provenance`), templates, key codecs and key use, rendering (Get and
//! Export), wrapping, client-supplied objects, key-pair rules, multi-part streams and certificate issuing.
//! The handlers in `operations/` are built from these; nothing here handles a whole operation.

pub mod attribute_policy;
pub mod certificates;
pub mod cipher_params;
pub mod client_objects;
pub mod dsa_keys;
pub mod hsm_held;
pub mod key_codec;
pub mod key_pairs;
pub mod key_specs;
pub mod key_use;
pub mod lifecycle;
pub mod pq_key_codec;
pub mod provenance;
pub mod rendering;
pub mod streams;
pub mod template;
pub mod wrapping;
pub mod x25519_keys;

use kmip::{ProtocolVersion, ResultReason};

use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::{Namespace, StoreError, StoredObject};

/// The object `uid`, if it exists, belongs to the caller's tenant and is not one of the server's own objects.
/// Anything else is the same "not found" answer, so a tenant learns nothing about other tenants' identifiers.
/// Time-driven state changes (an Activation or Deactivation Date that has passed) are applied to the copy
/// returned.
pub fn load(ctx: &RequestContext<'_>, uid: &str) -> Result<StoredObject, KmipError> {
    // Looked up in the caller's own namespace: another tenant's object of the same uid is simply not there.
    let found = ctx
        .state
        .store
        .get(Namespace::Tenant(&ctx.caller.tenant), uid)
        .map_err(store_error)?;
    match found {
        Some(mut object) if object.owner == ctx.caller.tenant && !object.internal => {
            lifecycle::apply_date_transitions(&mut object.attributes, ctx.now);
            Ok(object)
        }
        _ => Err(not_found(ctx.version, uid)),
    }
}

/// Writes back an object [`load`] returned (its owner and uid unchanged).
pub fn save(ctx: &RequestContext<'_>, object: &StoredObject) -> Result<(), KmipError> {
    ctx.state.store.update(object).map_err(store_error)
}

/// The Unique Identifier an operation acts on; the dispatcher has already filled in the ID Placeholder.
pub fn target(uid: &Option<String>) -> Result<&str, KmipError> {
    uid.as_deref().ok_or_else(|| {
        KmipError::new(
            ResultReason::MissingData,
            "no Unique Identifier given and no earlier batch item set the ID Placeholder",
        )
    })
}

/// "No such object", in the reason the version has for it (2.x Object Not Found, 1.x Item Not Found).
pub fn not_found(version: ProtocolVersion, uid: &str) -> KmipError {
    let reason = if version.is_v2() {
        ResultReason::ObjectNotFound
    } else {
        ResultReason::ItemNotFound
    };
    KmipError::new(reason, format!("no object with Unique Identifier {uid:?}"))
}

/// The object's lifecycle state forbids the operation: 2.x Wrong Key Lifecycle State, 1.x Permission Denied
/// (what the OASIS 1.4 cases expect).
pub fn wrong_state(version: ProtocolVersion, message: impl Into<String>) -> KmipError {
    let reason = if version.is_v2() {
        ResultReason::WrongKeyLifecycleState
    } else {
        ResultReason::PermissionDenied
    };
    KmipError::new(reason, message)
}

/// A reason from 2.x where the version has it, else the 1.x fallback.
pub fn versioned(
    version: ProtocolVersion,
    v2: ResultReason,
    v1: ResultReason,
    message: impl Into<String>,
) -> KmipError {
    KmipError::new(if v2.defined_in(version) { v2 } else { v1 }, message)
}

/// A store failure, as the client sees it (the details go to the message; nothing about other tenants).
pub fn store_error(error: StoreError) -> KmipError {
    match error {
        StoreError::Entropy(e) => entropy_error(&e),
        // The path and the OS error are in the server's log; the client learns what happened and what to expect.
        StoreError::DiskFull { .. } => KmipError::general(
            "the server's disk is full: the object store ([store] path) has no space left, so nothing was \
             stored; reads still work, and writes are accepted again once space is freed",
        ),
        other => KmipError::general(format!("object store: {other}")),
    }
}

/// The entropy pool refused (fails closed): Cryptographic Failure naming the failing source(s).
pub fn entropy_error(error: &entropy::EntropyError) -> KmipError {
    KmipError::new(
        ResultReason::CryptographicFailure,
        format!("randomness unavailable, the server fails closed: {error}"),
    )
}

/// A fresh Unique Identifier: a time-ordered UUID (RFC 9562 version 7: 48 bits of Unix milliseconds, then 74
/// bits drawn from the entropy pool like everything random here).
///
/// Why time-ordered: the store is a B-tree keyed by (namespace, uid). Random (version 4) uids spread every Create
/// over the whole tree, so each insert touched a leaf that had long left sled's page cache; at ~1M objects the
/// server spent a fifth more CPU per Create and sled's in-memory page table kept growing (BENCHMARKS.md, "The sled
/// store at scale"). Version 7 uids land at the right edge of the tenant's range, as the Locate indexes already
/// do. A uid reveals its creation time to the tenant that owns it, which its Initial Date attribute says anyway.
pub fn new_uid(ctx: &RequestContext<'_>) -> Result<String, KmipError> {
    let mut random = [0u8; 10];
    ctx.state
        .entropy
        .try_fill(&mut random)
        .map_err(|e| entropy_error(&e))?;
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Ok(uuid_v7(unix_ms, &random))
}

/// The text form of the version 7 UUID made of `unix_ms` (its low 48 bits) and `random`.
fn uuid_v7(unix_ms: u64, random: &[u8; 10]) -> String {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(random);
    bytes[6] = (bytes[6] & 0x0f) | 0x70;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_follow_the_protocol_family() {
        assert_eq!(
            not_found(ProtocolVersion::V1_4, "x").reason,
            ResultReason::ItemNotFound
        );
        assert_eq!(
            not_found(ProtocolVersion::V2_1, "x").reason,
            ResultReason::ObjectNotFound
        );
        assert_eq!(
            wrong_state(ProtocolVersion::V1_2, "x").reason,
            ResultReason::PermissionDenied
        );
        assert_eq!(
            wrong_state(ProtocolVersion::V2_0, "x").reason,
            ResultReason::WrongKeyLifecycleState
        );
        let e = versioned(
            ProtocolVersion::V1_4,
            ResultReason::AttributeReadOnly,
            ResultReason::PermissionDenied,
            "m",
        );
        assert_eq!(e.reason, ResultReason::PermissionDenied);
    }

    #[test]
    fn uids_are_version_7_uuids_ordered_by_time() {
        let early = uuid_v7(0x0189_0000_0001, &[0xff; 10]);
        let later = uuid_v7(0x0189_0000_0002, &[0x00; 10]);
        assert_eq!(early, "01890000-0001-7fff-bfff-ffffffffffff");
        assert_eq!(later, "01890000-0002-7000-8000-000000000000");
        assert!(early < later, "a later uid sorts after an earlier one");
    }

    #[test]
    fn a_missing_identifier_without_placeholder_is_missing_data() {
        assert_eq!(target(&None).unwrap_err().reason, ResultReason::MissingData);
        assert_eq!(target(&Some("a".into())).unwrap(), "a");
    }
}
