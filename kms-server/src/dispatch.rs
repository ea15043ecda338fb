//! One request message -> its batch items -> operation handlers -> one response message, in the request's
//! protocol version.
//!
//! Done here, once per item, so handlers never repeat it: ID Placeholder resolution (an item without a Unique
//! Identifier acts on the object the last Create / Register / Re-Key / Locate of the batch named), the Batch Error
//! Continuation Option (Continue, Stop, and a real Undo that rolls the store back and answers the earlier items
//! Operation Undone), the audit record and the usage counters. After the items, one `wait_durable` makes every
//! write of the message durable before any of it is acknowledged.

mod undo;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use kmip::message::BatchErrorContinuationOption;
use kmip::payloads::{RequestPayload, ResponsePayload};
use kmip::{
    Operation, OperationCode, RequestBatchItem, RequestMessage, ResponseBatchItem, ResponseMessage,
    ResultReason, ResultStatus,
};

use crate::audit::AuditEntry;
use crate::error::KmipError;
use crate::operations::{
    adjust_attribute, attributes, certify, create, crypto_ops, discover_versions, endpoint_role,
    get, import_export, interop, key_pair, lifecycle, locate, log, query, register, rekey, rng,
    signing,
};
use crate::state::{RequestContext, ServerState};
use crate::tenant::Caller;
use crate::usage::UsageDelta;
use undo::JournalingStore;

/// The operations this server answers (Query lists those the request's version defines).
pub const HANDLED_OPERATIONS: &[Operation] = &[
    Operation::DiscoverVersions,
    Operation::Query,
    Operation::Create,
    Operation::CreateKeyPair,
    Operation::Register,
    Operation::ReKey,
    Operation::ReKeyKeyPair,
    Operation::Certify,
    Operation::ReCertify,
    Operation::Get,
    Operation::Import,
    Operation::Export,
    Operation::GetAttributes,
    Operation::GetAttributeList,
    Operation::AddAttribute,
    Operation::ModifyAttribute,
    Operation::DeleteAttribute,
    Operation::SetAttribute,
    Operation::AdjustAttribute,
    Operation::SetEndpointRole,
    Operation::Locate,
    Operation::Check,
    Operation::Activate,
    Operation::Revoke,
    Operation::Destroy,
    Operation::RngRetrieve,
    Operation::RngSeed,
    Operation::Encrypt,
    Operation::Decrypt,
    Operation::Sign,
    Operation::SignatureVerify,
    Operation::Mac,
    Operation::MacVerify,
    Operation::Hash,
    Operation::Log,
    Operation::Interop,
];

/// Runs `wait`, which blocks on the disk. Quick messages (Get among them) are dispatched on an async worker of the
/// listener, and only a message that turned out to write waits for a flush: on a multi-threaded runtime the
/// worker hands its other connections to another thread first, so one flush never stalls them. Elsewhere (a
/// blocking thread, no runtime, a single-threaded test runtime) it simply waits.
fn off_the_async_workers<T>(wait: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    }
}

/// Answers a request message for `caller`. Never fails: every problem is a failed batch item.
pub fn dispatch(state: &ServerState, caller: &Caller, request: RequestMessage) -> ResponseMessage {
    let version = request.protocol_version();
    let now = unix_now();
    let continuation = request
        .header
        .batch_error_continuation_option
        .unwrap_or(BatchErrorContinuationOption::Stop);
    // Every write is journalled, the handlers seeing the journal as their store: Undo rolls the batch back with
    // it, and so does a failure of the audit log (fail closed: nothing unrecorded is acknowledged).
    let journal = Arc::new(JournalingStore::new(Arc::clone(&state.store)));
    // The message waits for the disk only if it wrote: a Get that clears Fresh does, later Gets do not.
    let tracking = Arc::new(crate::store::WriteTracking::new(
        Arc::clone(&journal) as Arc<dyn crate::store::ObjectStore>
    ));
    let message_state = ServerState {
        store: Arc::clone(&tracking) as Arc<dyn crate::store::ObjectStore>,
        entropy: state.entropy.clone(),
        audit: Arc::clone(&state.audit),
        usage: Arc::clone(&state.usage),
        settings: state.settings.clone(),
    };
    let ctx = RequestContext {
        state: &message_state,
        caller,
        version,
        now,
    };

    let mut placeholder: Option<String> = None;
    let mut answers: Vec<ResponseBatchItem> = Vec::with_capacity(request.items.len());
    // Set when an item's audit record could not be appended: the rest of the message is not run.
    let mut audit_failure: Option<String> = None;
    for item in request.items {
        let batch_id = item.unique_batch_item_id.clone();
        let operation = item.operation();
        if let Some(message) = &audit_failure {
            answers.push(
                ResponseBatchItem::failure(operation, ResultReason::GeneralFailure, message)
                    .with_id(batch_id),
            );
            continue;
        }
        let (outcome, targets) = run_item(&ctx, item, &mut placeholder);
        if let Err(error) = record(state, caller, now, operation, &outcome, targets) {
            // FAIL CLOSED: this item's record is not in the log, so the item is not acknowledged (a read's
            // answer is dropped); below, every earlier success of the message is refused and its writes undone.
            let message = not_audited(&error);
            answers.push(
                ResponseBatchItem::failure(operation, ResultReason::GeneralFailure, &message)
                    .with_id(batch_id),
            );
            audit_failure = Some(message);
            continue;
        }
        let failed = outcome.is_err();
        answers.push(answer(operation, outcome).with_id(batch_id));
        if failed {
            match continuation {
                BatchErrorContinuationOption::Continue => continue,
                BatchErrorContinuationOption::Stop => break,
                BatchErrorContinuationOption::Undo => {
                    undo_earlier(&journal, &mut answers);
                    break;
                }
            }
        }
    }
    // One flush of each per message that changed something (a write was attempted through its store view): the
    // audit log, then the store, so a write and its record are on disk before it is acknowledged. A read-only
    // message's records are appended (in the page cache, safe from a server crash) and synced by the server's
    // periodic audit sync instead of by every read (while a sync fails, `AuditLog::append` retries it first and
    // fails, so reads are refused above).
    if audit_failure.is_none() && tracking.wrote() {
        let flushed = off_the_async_workers(|| {
            state
                .audit
                .wait_durable()
                .map_err(|e| Unflushed::Audit(not_audited(&e)))?;
            state
                .store
                .wait_durable()
                .map_err(|e| Unflushed::Store(format!("the change could not be made durable: {e}")))
        });
        match flushed {
            Ok(()) => {}
            Err(Unflushed::Audit(message)) => audit_failure = Some(message),
            // Nothing written may be acknowledged unless it is on disk.
            Err(Unflushed::Store(message)) => {
                refuse_successes(&mut answers, &message, |a| is_write(a.operation))
            }
        }
    }
    if let Some(message) = audit_failure {
        // FAIL CLOSED (the dispatcher's audit contract): the message's records could not all be appended and
        // made durable, so none of it is acknowledged. Writes are rolled back (the journal restores what the
        // message changed) and every success, read or write, becomes a General Failure naming the audit log.
        // The records already appended stay in the log: it may show an operation that was then undone, never
        // an acknowledged one it lacks.
        if let Err(error) = journal.roll_back() {
            tracing::error!(%error, "cannot roll back a message whose audit records failed");
        }
        refuse_successes(&mut answers, &message, |_| true);
    }
    let mut response = ResponseMessage::new(version, now, answers);
    response.header.client_correlation_value = request.header.client_correlation_value;
    response
}

/// The Result Message of an item refused because the audit log failed: it names the audit log and the cause,
/// not the file's path.
fn not_audited(error: &crate::audit::AuditError) -> String {
    format!(
        "refused: the audit log cannot record this request ({}); nothing was done; the server accepts requests \
         again once its audit log can be written",
        error.cause()
    )
}

/// Which end-of-message flush failed.
enum Unflushed {
    Audit(String),
    Store(String),
}

/// Replaces each successful answer `which` selects by a General Failure carrying `message`.
fn refuse_successes(
    answers: &mut [ResponseBatchItem],
    message: &str,
    which: impl Fn(&ResponseBatchItem) -> bool,
) {
    for answer in answers
        .iter_mut()
        .filter(|a| a.result_status == ResultStatus::Success && which(a))
    {
        *answer =
            ResponseBatchItem::failure(answer.operation, ResultReason::GeneralFailure, message)
                .with_id(answer.unique_batch_item_id.take());
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Operations that may change the store (whose success waits for durability).
fn is_write(operation: Option<OperationCode>) -> bool {
    !matches!(
        operation,
        Some(OperationCode::Known(
            Operation::DiscoverVersions
                | Operation::Query
                | Operation::SetEndpointRole
                | Operation::GetAttributes
                | Operation::GetAttributeList
                | Operation::Locate
                | Operation::Check
                | Operation::RngRetrieve
                | Operation::RngSeed
                // Cryptographic operations change nothing but a Usage Limits count, which is written
                // through the store like any change and flushed with the next durable write; waiting for
                // the disk on every Encrypt or Sign would cap the operation rate at the disk's.
                | Operation::Encrypt
                | Operation::Decrypt
                | Operation::Sign
                | Operation::SignatureVerify
                | Operation::Mac
                | Operation::MacVerify
                | Operation::Hash
        ))
    )
}

/// What one item produced: its response payload, or why it failed.
type Outcome = Result<ResponsePayload, KmipError>;

fn answer(operation: Option<OperationCode>, outcome: Outcome) -> ResponseBatchItem {
    match outcome {
        Ok(payload) => ResponseBatchItem::success(payload),
        Err(error) => ResponseBatchItem::failure(operation, error.reason, error.message),
    }
}

/// Rolls the batch's writes back and marks its earlier successes Operation Undone (the failed item, last, stays).
fn undo_earlier(journal: &JournalingStore, answers: &mut [ResponseBatchItem]) {
    let rolled_back = journal.roll_back();
    let Some((_failed, earlier)) = answers.split_last_mut() else {
        return;
    };
    for answer in earlier
        .iter_mut()
        .filter(|a| a.result_status == ResultStatus::Success)
    {
        match &rolled_back {
            Ok(()) => answer.result_status = ResultStatus::OperationUndone,
            // Could not undo: the item did happen; say so rather than claim it was undone.
            Err(error) => {
                answer.result_message =
                    Some(format!("Undo failed, this item's effect remains: {error}"));
            }
        }
    }
}

/// Fills in the ID Placeholder where the item names no object, runs the handler, and remembers the identifier
/// the item produced for later items. Also returns the identifiers the request named, for the audit record.
fn run_item(
    ctx: &RequestContext<'_>,
    item: RequestBatchItem,
    placeholder: &mut Option<String>,
) -> (Outcome, Vec<String>) {
    let mut payload = item.payload;
    fill_placeholder(&mut payload, placeholder);
    let targets = targets_of(&payload);
    let outcome = handle(ctx, payload);
    if let Ok(response) = &outcome {
        if let Some(uid) = produced_identifier(response) {
            *placeholder = Some(uid);
        }
    }
    (outcome, targets)
}

/// The Unique Identifiers a request payload names (its Unique Identifier field), for the audit record: recorded
/// whether or not the operation succeeds, so a refused read of another tenant's key shows which key.
pub fn targets_of(payload: &RequestPayload) -> Vec<String> {
    use RequestPayload as P;
    let named = match payload {
        P::ReKey(p) => &p.unique_identifier,
        P::Get(p) => &p.unique_identifier,
        P::GetAttributes(p) => &p.unique_identifier,
        P::GetAttributeList(p) => &p.unique_identifier,
        P::AddAttribute(p) => &p.unique_identifier,
        P::ModifyAttribute(p) => &p.unique_identifier,
        P::DeleteAttribute(p) => &p.unique_identifier,
        P::SetAttribute(p) => &p.unique_identifier,
        P::AdjustAttribute(p) => &p.unique_identifier,
        P::Check(p) => &p.unique_identifier,
        P::Activate(p) => &p.unique_identifier,
        P::Revoke(p) => &p.unique_identifier,
        P::Destroy(p) => &p.unique_identifier,
        P::Encrypt(p) => &p.unique_identifier,
        P::Decrypt(p) => &p.unique_identifier,
        P::Sign(p) => &p.unique_identifier,
        P::SignatureVerify(p) => &p.unique_identifier,
        P::Mac(p) => &p.unique_identifier,
        P::MacVerify(p) => &p.unique_identifier,
        P::ReKeyKeyPair(p) => &p.private_key_unique_identifier,
        P::Certify(p) => &p.unique_identifier,
        P::ReCertify(p) => &p.unique_identifier,
        P::Export(p) => &p.unique_identifier,
        P::Import(p) => return vec![p.unique_identifier.clone()],
        _ => return Vec::new(),
    };
    named.iter().cloned().collect()
}

fn fill_placeholder(payload: &mut RequestPayload, placeholder: &Option<String>) {
    let slot = match payload {
        RequestPayload::ReKey(p) => &mut p.unique_identifier,
        RequestPayload::Get(p) => &mut p.unique_identifier,
        RequestPayload::GetAttributes(p) => &mut p.unique_identifier,
        RequestPayload::GetAttributeList(p) => &mut p.unique_identifier,
        RequestPayload::AddAttribute(p) => &mut p.unique_identifier,
        RequestPayload::ModifyAttribute(p) => &mut p.unique_identifier,
        RequestPayload::DeleteAttribute(p) => &mut p.unique_identifier,
        RequestPayload::SetAttribute(p) => &mut p.unique_identifier,
        RequestPayload::AdjustAttribute(p) => &mut p.unique_identifier,
        RequestPayload::Check(p) => &mut p.unique_identifier,
        RequestPayload::Activate(p) => &mut p.unique_identifier,
        RequestPayload::Revoke(p) => &mut p.unique_identifier,
        RequestPayload::Destroy(p) => &mut p.unique_identifier,
        RequestPayload::Encrypt(p) => &mut p.unique_identifier,
        RequestPayload::Decrypt(p) => &mut p.unique_identifier,
        RequestPayload::Sign(p) => &mut p.unique_identifier,
        RequestPayload::SignatureVerify(p) => &mut p.unique_identifier,
        RequestPayload::Mac(p) => &mut p.unique_identifier,
        RequestPayload::MacVerify(p) => &mut p.unique_identifier,
        RequestPayload::ReKeyKeyPair(p) => &mut p.private_key_unique_identifier,
        RequestPayload::Certify(p) => &mut p.unique_identifier,
        RequestPayload::ReCertify(p) => &mut p.unique_identifier,
        RequestPayload::Export(p) => &mut p.unique_identifier,
        _ => return,
    };
    if slot.is_none() {
        slot.clone_from(placeholder);
    }
}

/// The identifier an operation sets the ID Placeholder to (KMIP: the object it created or located).
fn produced_identifier(response: &ResponsePayload) -> Option<String> {
    match response {
        ResponsePayload::Create(r) => Some(r.unique_identifier.clone()),
        ResponsePayload::Register(r) => Some(r.unique_identifier.clone()),
        ResponsePayload::ReKey(r) => Some(r.unique_identifier.clone()),
        ResponsePayload::CreateKeyPair(r) => Some(r.private_key_unique_identifier.clone()),
        ResponsePayload::ReKeyKeyPair(r) => Some(r.private_key_unique_identifier.clone()),
        ResponsePayload::Certify(r) => Some(r.unique_identifier.clone()),
        ResponsePayload::ReCertify(r) => Some(r.unique_identifier.clone()),
        ResponsePayload::Import(r) => Some(r.unique_identifier.clone()),
        ResponsePayload::Locate(r) => r.unique_identifiers.first().cloned(),
        _ => None,
    }
}

fn handle(ctx: &RequestContext<'_>, payload: RequestPayload) -> Outcome {
    use RequestPayload as P;
    Ok(match payload {
        P::Undecoded(undecoded) if interop::is_interop(&undecoded) => {
            interop::interop(ctx, undecoded)?
        }
        P::Undecoded(undecoded) if log::is_log(&undecoded) => log::log(ctx, undecoded)?,
        P::Undecoded(undecoded) => return Err(undecoded.error.into()),
        P::DiscoverVersions(r) => discover_versions::discover_versions(ctx, r)?.into(),
        P::Query(r) => query::query(ctx, r)?.into(),
        P::Create(r) => create::create(ctx, r)?.into(),
        P::Register(r) => register::register(ctx, r)?.into(),
        P::ReKey(r) => rekey::rekey(ctx, r)?.into(),
        P::Get(r) => get::get(ctx, r)?.into(),
        P::GetAttributes(r) => attributes::get_attributes(ctx, r)?.into(),
        P::GetAttributeList(r) => attributes::get_attribute_list(ctx, r)?.into(),
        P::AddAttribute(r) => attributes::add_attribute(ctx, r)?.into(),
        P::ModifyAttribute(r) => attributes::modify_attribute(ctx, r)?.into(),
        P::DeleteAttribute(r) => attributes::delete_attribute(ctx, r)?.into(),
        P::SetAttribute(r) => attributes::set_attribute(ctx, r)?.into(),
        P::AdjustAttribute(r) => adjust_attribute::adjust_attribute(ctx, r)?.into(),
        P::SetEndpointRole(r) => endpoint_role::set_endpoint_role(ctx, r)?.into(),
        P::Locate(r) => locate::locate(ctx, r)?.into(),
        P::Check(r) => lifecycle::check(ctx, r)?.into(),
        P::Activate(r) => lifecycle::activate(ctx, r)?.into(),
        P::Revoke(r) => lifecycle::revoke(ctx, r)?.into(),
        P::Destroy(r) => lifecycle::destroy(ctx, r)?.into(),
        P::RngRetrieve(r) => rng::rng_retrieve(ctx, r)?.into(),
        P::RngSeed(r) => rng::rng_seed(ctx, r)?.into(),
        P::CreateKeyPair(r) => key_pair::create_key_pair(ctx, r)?.into(),
        P::ReKeyKeyPair(r) => key_pair::rekey_key_pair(ctx, r)?.into(),
        P::Encrypt(r) => crypto_ops::encrypt(ctx, r)?.into(),
        P::Decrypt(r) => crypto_ops::decrypt(ctx, r)?.into(),
        P::Sign(r) => signing::sign(ctx, r)?.into(),
        P::SignatureVerify(r) => signing::signature_verify(ctx, r)?.into(),
        P::Mac(r) => signing::mac(ctx, r)?.into(),
        P::MacVerify(r) => signing::mac_verify(ctx, r)?.into(),
        P::Hash(r) => signing::hash(ctx, r)?.into(),
        P::Certify(r) => certify::certify(ctx, r)?.into(),
        P::ReCertify(r) => certify::recertify(ctx, r)?.into(),
        P::Import(r) => import_export::import(ctx, r)?.into(),
        P::Export(r) => import_export::export(ctx, r)?.into(),
    })
}

/// Audit and usage, once per item. The audit record's failure is returned: the item must then not be
/// acknowledged (see `dispatch`).
fn record(
    state: &ServerState,
    caller: &Caller,
    now: i64,
    operation: Option<OperationCode>,
    outcome: &Outcome,
    targets: Vec<String>,
) -> Result<(), crate::audit::AuditError> {
    let delta = UsageDelta {
        failed: outcome.is_err(),
        keys_created: match outcome {
            Ok(ResponsePayload::Create(_) | ResponsePayload::ReKey(_)) => 1,
            Ok(ResponsePayload::CreateKeyPair(_) | ResponsePayload::ReKeyKeyPair(_)) => 2,
            _ => 0,
        },
        random_bytes_served: match outcome {
            Ok(ResponsePayload::RngRetrieve(r)) => r.data.len() as u64,
            _ => 0,
        },
    };
    state.usage.record(&caller.tenant, delta);
    let name = crate::audit::operation_name(operation);
    let entry = AuditEntry {
        tenant: &caller.tenant,
        role: caller.role,
        operation: &name,
        objects: objects_of(outcome),
        targets,
        result: outcome.as_ref().map(|_| ()).map_err(|e| e.reason),
        // The Result Message: written by qkms, never key bytes or other secrets.
        detail: outcome.as_ref().err().map(|e| e.message.as_str()),
        time: now,
    };
    state.audit.append(entry).map(drop)
}

/// The objects an item created, touched or located, for the audit record.
fn objects_of(outcome: &Outcome) -> Vec<String> {
    use ResponsePayload as P;
    let Ok(payload) = outcome else {
        return Vec::new();
    };
    let one = match payload {
        P::Create(r) => &r.unique_identifier,
        P::Register(r) => &r.unique_identifier,
        P::ReKey(r) => &r.unique_identifier,
        P::Get(r) => &r.unique_identifier,
        P::GetAttributes(r) => &r.unique_identifier,
        P::GetAttributeList(r) => &r.unique_identifier,
        P::AddAttribute(r) => &r.unique_identifier,
        P::ModifyAttribute(r) => &r.unique_identifier,
        P::DeleteAttribute(r) => &r.unique_identifier,
        P::SetAttribute(r) => &r.unique_identifier,
        P::AdjustAttribute(r) => &r.unique_identifier,
        P::Check(r) => &r.unique_identifier,
        P::Activate(r) => &r.unique_identifier,
        P::Revoke(r) => &r.unique_identifier,
        P::Destroy(r) => &r.unique_identifier,
        P::Encrypt(r) => &r.unique_identifier,
        P::Decrypt(r) => &r.unique_identifier,
        P::Sign(r) => &r.unique_identifier,
        P::SignatureVerify(r) => &r.unique_identifier,
        P::Mac(r) => &r.unique_identifier,
        P::MacVerify(r) => &r.unique_identifier,
        P::Certify(r) => &r.unique_identifier,
        P::ReCertify(r) => &r.unique_identifier,
        P::Import(r) => &r.unique_identifier,
        P::Export(r) => &r.unique_identifier,
        P::CreateKeyPair(r) => {
            return vec![
                r.private_key_unique_identifier.clone(),
                r.public_key_unique_identifier.clone(),
            ]
        }
        P::ReKeyKeyPair(r) => {
            return vec![
                r.private_key_unique_identifier.clone(),
                r.public_key_unique_identifier.clone(),
            ]
        }
        P::Locate(r) => return r.unique_identifiers.clone(),
        _ => return Vec::new(),
    };
    vec![one.clone()]
}
