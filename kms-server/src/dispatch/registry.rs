//! The operation registry: every operation qkms answers, declared once in the `operations!` table below, with
//! everything the dispatcher and the listeners need to know about it. Each fact is a column, and every function
//! derived from the table is an exhaustive `match` over `kmip`'s payload enums, so an operation added to `kmip`
//! without a row here (or a row without its handler) does not compile.
//!
//! Columns:
//! - handler: `fn(&RequestContext, Request) -> Result<Response, KmipError>` in `operations/`;
//! - effect: `Reads` or `Writes` (may change the store: its success waits for the disk, and it is rolled back
//!   when its audit record cannot be written). Cryptographic operations only count Usage Limits down, which is
//!   written through the store and flushed with the next durable write: waiting for the disk on every Encrypt
//!   or Sign would cap their rate at the disk's;
//! - runs: `Inline` (on the connection's async task: quick, never blocks), `Offloaded` (on the blocking pool:
//!   key generation, private-key operations, store scans, anything that writes), or `(inline_if F)`;
//! - target: the request field (an `Option<String>`) that names the object acted on, filled from the ID
//!   Placeholder when absent and recorded in the audit log even when the operation fails; `_` for none;
//! - names: the response fields naming the objects the operation created, touched or located (`[a, b]`, a list
//!   field as `(all f)`, or `_`); `placeholder` where the first of them becomes the ID Placeholder (KMIP: the
//!   operations that create or locate), `-` where not;
//! - asks: bytes of answer the request asks for, reserved against the message's response budget before any
//!   item runs (`(fn F)`), or `_` when the request does not say;
//! - answer: how an item's answer is charged against the budget once made: `measured` (its encoded size),
//!   `(bytes f)` (the length of a byte field), or `_` (small: the per-item allowance covers it).
//!
//! The KMIP version that introduced each operation is the protocol's fact, [`kmip::Operation::introduced_in`],
//! checked against the specifications' tables by `kmip/tests/operation_versions.rs`; `kmip` refuses an
//! operation in an older version's message before it reaches the registry.

use kmip::payloads::{RequestPayload, ResponsePayload, SecretBytes};
use kmip::{Operation, ProtocolVersion};
use ttlv::tags;

use crate::error::KmipError;
use crate::operations::{
    activate, adjust_attribute, attributes, certify, check, create, create_key_pair, derive_key,
    destroy, discover_versions, encrypt, export, get, hash, import, interop, kem, locate, log, mac,
    query, register, rekey, revoke, rng, set_endpoint_role, sign, split_key,
};
use crate::state::RequestContext;

/// Whether an operation may change the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Reads,
    Writes,
}

/// What every answered item is charged besides its measured payload: header fields, identifiers, status.
pub const ITEM_ALLOWANCE: u64 = 512;

/// Byte lengths of the fields the `(bytes f)` answer column reads.
trait ByteLen {
    fn byte_len(&self) -> usize;
}

impl ByteLen for Vec<u8> {
    fn byte_len(&self) -> usize {
        self.len()
    }
}

impl ByteLen for SecretBytes {
    fn byte_len(&self) -> usize {
        self.len()
    }
}

impl<T: ByteLen> ByteLen for Option<T> {
    fn byte_len(&self) -> usize {
        self.as_ref().map_or(0, ByteLen::byte_len)
    }
}

macro_rules! runs_inline {
    ($r:ident, Inline) => {
        true
    };
    ($r:ident, Offloaded) => {
        false
    };
    ($r:ident, (inline_if $f:path)) => {
        $f($r)
    };
}

macro_rules! target_slot {
    ($r:ident, _) => {
        None
    };
    ($r:ident, $field:ident) => {
        Some(&mut $r.$field)
    };
}

macro_rules! target_of {
    ($r:ident, _) => {
        None
    };
    ($r:ident, $field:ident) => {
        $r.$field.as_deref()
    };
}

macro_rules! names {
    ($r:ident, _) => {
        Vec::new()
    };
    ($r:ident, (all $field:ident)) => {
        $r.$field.clone()
    };
    ($r:ident, [$($field:ident),+]) => {
        vec![$($r.$field.clone()),+]
    };
}

macro_rules! first_named {
    ($r:ident, _) => {
        None
    };
    ($r:ident, (all $field:ident)) => {
        $r.$field.first().cloned()
    };
    ($r:ident, [$first:ident $(, $rest:ident)*]) => {
        Some($r.$first.clone())
    };
}

macro_rules! sets_placeholder {
    (placeholder) => {
        true
    };
    (-) => {
        false
    };
}

macro_rules! asks {
    ($r:ident, _) => {
        0
    };
    ($r:ident, (fn $f:path)) => {
        $f($r)
    };
}

macro_rules! answer_size {
    ($r:ident, $version:ident, _) => {
        0
    };
    ($r:ident, $version:ident, measured) => {
        ttlv::binary::encoded_len(&$r.to_ttlv(tags::RESPONSE_PAYLOAD, $version)) as u64
    };
    ($r:ident, $version:ident, (bytes $field:ident)) => {
        $r.$field.byte_len() as u64
    };
}

macro_rules! operations {
    ($(
        $variant:ident: $handler:path, $effect:ident, $runs:tt,
            target $target:tt, names $names:tt $placeholder:tt, asks $asks:tt, answer $answer:tt;
    )+) => {
        /// Every operation the server answers, in table order (what Query lists, filtered by version).
        pub const OPERATIONS: &[Operation] = &[$(Operation::$variant),+];

        /// Runs the item's handler. An undecoded payload (unknown operation, one too new for the message's
        /// version, a malformed payload) is answered with the reason `kmip` found.
        pub fn handle(
            ctx: &RequestContext<'_>,
            payload: RequestPayload,
        ) -> Result<ResponsePayload, KmipError> {
            match payload {
                $( RequestPayload::$variant(r) => $handler(ctx, r).map(ResponsePayload::from), )+
                RequestPayload::Undecoded(undecoded) => Err(undecoded.error.into()),
            }
        }

        /// Whether the item may change the store.
        pub fn effect(payload: &RequestPayload) -> Effect {
            match payload {
                $( RequestPayload::$variant(_) => Effect::$effect, )+
                RequestPayload::Undecoded(_) => Effect::Reads,
            }
        }

        /// Whether the item is quick enough to run on the connection's async task.
        pub fn runs_inline(payload: &RequestPayload) -> bool {
            match payload {
                $( RequestPayload::$variant(_r) => runs_inline!(_r, $runs), )+
                // Answered with an error at once.
                RequestPayload::Undecoded(_) => true,
            }
        }

        /// The request field naming the object acted on (to fill from the ID Placeholder).
        pub fn target_slot(payload: &mut RequestPayload) -> Option<&mut Option<String>> {
            match payload {
                $( RequestPayload::$variant(_r) => target_slot!(_r, $target), )+
                RequestPayload::Undecoded(_) => None,
            }
        }

        /// The object the request names, if any.
        pub fn target(payload: &RequestPayload) -> Option<&str> {
            match payload {
                $( RequestPayload::$variant(_r) => target_of!(_r, $target), )+
                RequestPayload::Undecoded(_) => None,
            }
        }

        /// The objects a successful answer names (created, touched or located), for the audit record.
        pub fn named_objects(response: &ResponsePayload) -> Vec<String> {
            match response {
                $( ResponsePayload::$variant(_r) => names!(_r, $names), )+
                ResponsePayload::Undecoded(_) => Vec::new(),
            }
        }

        /// The identifier a successful answer sets the ID Placeholder to.
        pub fn placeholder_set_by(response: &ResponsePayload) -> Option<String> {
            match response {
                $( ResponsePayload::$variant(_r) if sets_placeholder!($placeholder) => first_named!(_r, $names), )+
                _ => None,
            }
        }

        /// Bytes of answer the request asks for, reserved before any item runs.
        pub fn asks_for(payload: &RequestPayload) -> u64 {
            match payload {
                $( RequestPayload::$variant(_r) => asks!(_r, $asks), )+
                RequestPayload::Undecoded(_) => 0,
            }
        }

        /// What the answer costs against the message's response budget, beyond [`ITEM_ALLOWANCE`].
        pub fn answer_size(response: &ResponsePayload, version: ProtocolVersion) -> u64 {
            let _ = version;
            match response {
                $( ResponsePayload::$variant(_r) => answer_size!(_r, version, $answer), )+
                ResponsePayload::Undecoded(_) => 0,
            }
        }
    };
}

operations! {
    //              handler                              effect  runs
    DiscoverVersions: discover_versions::discover_versions, Reads, Inline,
        target _, names _ -, asks _, answer _;
    Query: query::query, Reads, Inline,
        target _, names _ -, asks _, answer measured;
    Create: create::create, Writes, Offloaded,
        target _, names [unique_identifier] placeholder, asks _, answer _;
    CreateKeyPair: create_key_pair::create_key_pair, Writes, Offloaded,
        target _, names [private_key_unique_identifier, public_key_unique_identifier] placeholder, asks _, answer _;
    Register: register::register, Writes, Offloaded,
        target _, names [unique_identifier] placeholder, asks _, answer _;
    ReKey: rekey::rekey, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] placeholder, asks _, answer _;
    ReKeyKeyPair: create_key_pair::rekey_key_pair, Writes, Offloaded,
        target private_key_unique_identifier,
        names [private_key_unique_identifier, public_key_unique_identifier] placeholder, asks _, answer _;
    Certify: certify::certify, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] placeholder, asks _, answer _;
    ReCertify: certify::recertify, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] placeholder, asks _, answer _;
    // Derive Key names its base object(s) in a list: no single target to fill from the ID Placeholder.
    DeriveKey: derive_key::derive_key, Writes, Offloaded,
        target _, names [unique_identifier] placeholder, asks _, answer _;
    CreateSplitKey: split_key::create_split_key, Writes, Offloaded,
        target unique_identifier, names (all unique_identifiers) placeholder, asks _, answer measured;
    JoinSplitKey: split_key::join_split_key, Writes, Offloaded,
        target _, names [unique_identifier] placeholder, asks _, answer _;
    // A first Get clears the Fresh attribute, as bookkeeping: the Get is served even when that write, or the
    // message's flush, fails (a full disk), so it is not refused with the message's writes.
    Get: get::get, Reads, Inline,
        target unique_identifier, names [unique_identifier] -, asks _, answer measured;
    Import: import::import, Writes, Offloaded,
        target _, names [unique_identifier] placeholder, asks _, answer _;
    Export: export::export, Reads, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer measured;
    GetAttributes: attributes::get_attributes, Reads, Inline,
        target unique_identifier, names [unique_identifier] -, asks _, answer measured;
    GetAttributeList: attributes::get_attribute_list, Reads, Inline,
        target unique_identifier, names [unique_identifier] -, asks _, answer measured;
    AddAttribute: attributes::add_attribute, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    ModifyAttribute: attributes::modify_attribute, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    DeleteAttribute: attributes::delete_attribute, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    SetAttribute: attributes::set_attribute, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    AdjustAttribute: adjust_attribute::adjust_attribute, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    SetEndpointRole: set_endpoint_role::set_endpoint_role, Reads, Inline,
        target _, names _ -, asks _, answer _;
    Locate: locate::locate, Reads, Offloaded,
        target _, names (all unique_identifiers) placeholder, asks _, answer measured;
    Check: check::check, Reads, Inline,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    Activate: activate::activate, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    Revoke: revoke::revoke, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    Destroy: destroy::destroy, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    RngRetrieve: rng::rng_retrieve, Reads, (inline_if rng::is_quick),
        target _, names _ -, asks (fn rng::requested_bytes), answer (bytes data);
    RngSeed: rng::rng_seed, Reads, Offloaded,
        target _, names _ -, asks _, answer _;
    Encrypt: encrypt::encrypt, Reads, Inline,
        target unique_identifier, names [unique_identifier] -, asks _, answer (bytes data);
    Decrypt: encrypt::decrypt, Reads, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer (bytes data);
    Sign: sign::sign, Reads, (inline_if sign::is_quick),
        target unique_identifier, names [unique_identifier] -, asks _, answer (bytes signature_data);
    SignatureVerify: sign::signature_verify, Reads, Offloaded,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    Mac: mac::mac, Reads, Inline,
        target unique_identifier, names [unique_identifier] -, asks _, answer (bytes mac_data);
    MacVerify: mac::mac_verify, Reads, Inline,
        target unique_identifier, names [unique_identifier] -, asks _, answer _;
    Hash: hash::hash, Reads, Inline,
        target _, names _ -, asks _, answer (bytes data);
    Log: log::log, Reads, Inline,
        target _, names _ -, asks _, answer _;
    Interop: interop::interop, Reads, Inline,
        target _, names _ -, asks _, answer _;
    // Provisional (issue #18): each registers the shared secret as a new Secret Data, named in the answer.
    Encapsulate: kem::encapsulate, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] placeholder, asks _, answer (bytes data);
    Decapsulate: kem::decapsulate, Writes, Offloaded,
        target unique_identifier, names [unique_identifier] placeholder, asks _, answer _;
}

#[cfg(test)]
mod tests {
    use kmip::payloads::{
        CreateResponse, GetRequest, LocateResponse, RngRetrieveRequest, RngRetrieveResponse,
    };

    use super::*;

    #[test]
    fn every_typed_operation_has_exactly_one_row() {
        // `handle` is an exhaustive match over kmip's payloads, so this checks the other direction: no row for
        // an operation kmip cannot decode, and no operation listed twice.
        let mut seen = std::collections::HashSet::new();
        for op in OPERATIONS {
            assert!(seen.insert(*op), "{op} is listed twice");
            assert!(
                kmip::payloads::TYPED_OPERATIONS.contains(op),
                "{op} has no typed payload"
            );
        }
        assert_eq!(OPERATIONS.len(), kmip::payloads::TYPED_OPERATIONS.len());
    }

    #[test]
    fn placeholders_come_from_creating_and_locating_operations_only() {
        let created: ResponsePayload = CreateResponse {
            object_type: kmip::enums::ObjectType::SymmetricKey,
            unique_identifier: "k".into(),
            attributes: None,
        }
        .into();
        assert_eq!(placeholder_set_by(&created).as_deref(), Some("k"));
        let located: ResponsePayload = LocateResponse {
            located_items: None,
            unique_identifiers: vec!["a".into(), "b".into()],
        }
        .into();
        assert_eq!(placeholder_set_by(&located).as_deref(), Some("a"));
        assert_eq!(
            named_objects(&located),
            vec!["a".to_owned(), "b".to_owned()]
        );
        let mut get: RequestPayload = GetRequest::default().into();
        assert!(target_slot(&mut get).is_some());
        // Clearing Fresh is bookkeeping: a Get is not refused when the message's writes cannot be flushed.
        assert_eq!(effect(&get), Effect::Reads);
    }

    #[test]
    fn rng_retrieve_reserves_what_it_asks_for_and_is_charged_what_it_got() {
        let asked: RequestPayload = RngRetrieveRequest {
            data_length: 1 << 20,
        }
        .into();
        assert_eq!(asks_for(&asked), 1 << 20);
        let answered: ResponsePayload = RngRetrieveResponse {
            data: SecretBytes::new(vec![0; 100]),
        }
        .into();
        assert_eq!(answer_size(&answered, ProtocolVersion::V2_1), 100);
    }
}
