//! One request message -> its batch items -> operation handlers -> one response message, in the request's
//! protocol version. Everything the dispatcher knows about an operation comes from the registry
//! ([`registry`]): the handler, whether it writes, which field names its target and which its result.
//!
//! Done here, once per item, so handlers never repeat it:
//! - the message's limits: at most `[limits] max_batch_items` items, and a response budget ([`budget`]) that
//!   what the items ask for is reserved against before any runs and every answer is charged against;
//! - ID Placeholder resolution (an item without a Unique Identifier acts on the object the last Create /
//!   Register / Re-Key / Locate of the batch named);
//! - the Batch Error Continuation Option (Continue, Stop, and a real Undo that rolls the store back and answers
//!   the earlier items Operation Undone);
//! - the audit record, which fails closed: an item whose record cannot be written is not acknowledged, and
//!   neither is anything else in its message (writes are rolled back, reads answered with an error naming the
//!   audit log);
//! - the usage counters.
//!
//! After the items, one `wait_durable` makes every write of the message, and its audit records, durable before
//! any of it is acknowledged.

pub mod budget;
pub mod registry;
mod undo;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use kmip::message::BatchErrorContinuationOption;
use kmip::payloads::ResponsePayload;
use kmip::{
    OperationCode, RequestMessage, ResponseBatchItem, ResponseMessage, ResultReason, ResultStatus,
};

use crate::audit::AuditEntry;
use crate::error::KmipError;
use crate::state::{RequestContext, ServerState};
use crate::store::ObjectStore;
use crate::tenant::Caller;
use crate::usage::UsageDelta;
use budget::ResponseBudget;
use registry::Effect;
use undo::JournalingStore;

pub(crate) use crate::blocking_wait::off_the_async_workers;

/// One answered item, with what the end of the message needs to know about it.
struct Answered {
    answer: ResponseBatchItem,
    effect: Effect,
}

/// Answers a request message for `caller`. Never fails: every problem is a failed batch item.
pub fn dispatch(state: &ServerState, caller: &Caller, request: RequestMessage) -> ResponseMessage {
    let version = request.protocol_version();
    let now = unix_now();
    let correlation = request.header.client_correlation_value.clone();
    let respond = |items| {
        let mut response = ResponseMessage::new(version, now, items);
        response.header.client_correlation_value = correlation.clone();
        response
    };
    let limit = state.settings.max_batch_items;
    if request.items.len() > limit {
        let message = format!(
            "the message has {} batch items, more than this server's limit of {limit} ([limits] max_batch_items)",
            request.items.len()
        );
        let refusal = ResponseBatchItem::failure(None, ResultReason::InvalidMessage, &message);
        // A record the log cannot take changes nothing here: the message is refused either way.
        let _ = record(
            state,
            caller,
            now,
            None,
            Vec::new(),
            &Err(refused(&refusal)),
        );
        return respond(vec![refusal]);
    }

    // Every write goes through a journal: Undo and a failed audit record roll the message's writes back.
    // Beneath it, updates are conditional on the revision the message first read (several nodes, one database).
    let checked = Arc::new(crate::store::RevisionCheck::new(Arc::clone(&state.store)));
    let journal = Arc::new(JournalingStore::new(checked as Arc<dyn ObjectStore>));
    // The message waits for the disk only if it wrote: a Get that clears Fresh does, later Gets do not.
    let tracking = Arc::new(crate::store::WriteTracking::new(
        Arc::clone(&journal) as Arc<dyn ObjectStore>
    ));
    let message_state = ServerState {
        store: Arc::clone(&tracking) as Arc<dyn ObjectStore>,
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
        operations: registry::OPERATIONS,
    };
    let continuation = request
        .header
        .batch_error_continuation_option
        .unwrap_or(BatchErrorContinuationOption::Stop);
    let mut budget = ResponseBudget::new(
        request.header.maximum_response_size,
        state.settings.max_response_bytes,
    );
    let asked = request.items.iter().fold(0u64, |sum, item| {
        sum.saturating_add(registry::asks_for(&item.payload))
    });
    // A message asking for more than its budget: every item that asks is refused before anything is drawn;
    // the others still run (they are charged as they answer).
    let over_budget = budget.reserve(asked).err();

    let mut placeholder: Option<String> = None;
    let mut answered: Vec<Answered> = Vec::with_capacity(request.items.len());
    let mut audit_failure: Option<String> = None;
    for item in request.items {
        let batch_id = item.unique_batch_item_id.clone();
        let operation = item.operation();
        if let Some(message) = &audit_failure {
            // The log cannot record: nothing more of the message runs.
            answered.push(Answered {
                answer: ResponseBatchItem::failure(
                    operation,
                    ResultReason::GeneralFailure,
                    message,
                )
                .with_id(batch_id),
                effect: Effect::Reads,
            });
            continue;
        }
        let mut payload = item.payload;
        if let Some(slot) = registry::target_slot(&mut payload) {
            if slot.is_none() {
                slot.clone_from(&placeholder);
            }
        }
        let effect = registry::effect(&payload);
        // What the request named, recorded whether or not the operation succeeds, so a refused read of another
        // tenant's key shows which key.
        let targets: Vec<String> = registry::target(&payload)
            .map(str::to_owned)
            .into_iter()
            .collect();
        let asked = registry::asks_for(&payload);
        let mut outcome = match &over_budget {
            Some(error) if asked > 0 => Err(KmipError::new(error.reason, error.message.clone())),
            _ => registry::handle(&ctx, payload),
        };
        if over_budget.is_none() {
            budget.release(asked);
        }
        let charge = registry::ITEM_ALLOWANCE
            + outcome
                .as_ref()
                .map_or(0, |response| registry::answer_size(response, version));
        if let Err(too_large) = budget.charge(charge) {
            outcome = Err(too_large);
        }
        if let Ok(response) = &outcome {
            if let Some(uid) = registry::placeholder_set_by(response) {
                placeholder = Some(uid);
            }
        }
        if let Err(error) = record(state, caller, now, operation, targets, &outcome) {
            // Fail closed: this item's record is not in the log, so the item is not acknowledged (a read's
            // answer is dropped); below, every earlier success of the message is refused and its writes undone.
            tracing::error!(%error, "audit log append failed: refusing the message");
            let message = not_audited(&error);
            answered.push(Answered {
                answer: ResponseBatchItem::failure(
                    operation,
                    ResultReason::GeneralFailure,
                    &message,
                )
                .with_id(batch_id),
                effect,
            });
            audit_failure = Some(message);
            continue;
        }
        let failed = outcome.is_err();
        answered.push(Answered {
            answer: answer(operation, outcome).with_id(batch_id),
            effect,
        });
        if failed {
            match continuation {
                BatchErrorContinuationOption::Continue => continue,
                BatchErrorContinuationOption::Stop => break,
                BatchErrorContinuationOption::Undo => {
                    undo_earlier(&ctx, &journal, &mut answered);
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
    if audit_failure.is_none() && !tracking.wrote() {
        // A read-only message: its records need only be written where a crash of this process cannot lose them
        // (the file log's append did that; a log in the database commits them now, not necessarily flushed).
        let written = if state.audit.written_needs_a_wait() {
            off_the_async_workers(|| state.audit.wait_written())
        } else {
            state.audit.wait_written()
        };
        if let Err(error) = written {
            audit_failure = Some(not_audited(&error));
        }
    }
    if audit_failure.is_none() && tracking.wrote() {
        let flushed = off_the_async_workers(|| {
            state
                .audit
                .wait_durable()
                .map_err(|e| Unflushed::Audit(not_audited(&e)))?;
            state
                .store
                .wait_durable_through(tracking.durability_mark())
                .map_err(|e| {
                    // As clients see store errors (a full disk is named without the server's paths).
                    let e = crate::managed::store_error(e).message;
                    Unflushed::Store(format!("the change could not be made durable: {e}"))
                })
        });
        match flushed {
            Ok(()) => {}
            Err(Unflushed::Audit(message)) => audit_failure = Some(message),
            // Nothing written may be acknowledged unless it is on disk.
            Err(Unflushed::Store(message)) => {
                roll_back_and_refuse(&ctx, &journal, &mut answered, &message, |a| {
                    a.effect == Effect::Writes
                });
            }
        }
    }
    if let Some(message) = audit_failure {
        // Fail closed (the dispatcher's audit contract): the message's records could not all be appended and
        // made durable, so none of it is acknowledged. Writes are rolled back (the journal restores what the
        // message changed) and every success, read or write, becomes a General Failure naming the audit log.
        // The records already appended stay in the log: it may show an operation that was then undone, never an
        // acknowledged one it lacks.
        roll_back_and_refuse(&ctx, &journal, &mut answered, &message, |_| true);
    }
    respond(answered.into_iter().map(|a| a.answer).collect())
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

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// What one item produced: its response payload, or why it failed.
type Outcome = Result<ResponsePayload, KmipError>;

fn answer(operation: Option<OperationCode>, outcome: Outcome) -> ResponseBatchItem {
    match outcome {
        Ok(payload) => ResponseBatchItem::success(payload),
        Err(error) => ResponseBatchItem::failure(operation, error.reason, error.message),
    }
}

/// The error a message-level refusal answered, for its audit record.
fn refused(item: &ResponseBatchItem) -> KmipError {
    KmipError::new(
        item.result_reason.unwrap_or(ResultReason::GeneralFailure),
        item.result_message.clone().unwrap_or_default(),
    )
}

/// Rolls the message's writes back; keys that rolled-back Creates made in an HSM are destroyed there too (once
/// the store no longer names them), so the HSM keeps nothing the store forgot.
fn roll_back(
    ctx: &RequestContext<'_>,
    journal: &JournalingStore,
) -> Result<(), crate::store::StoreError> {
    journal.roll_back()?;
    for object in journal.take_held_inserted() {
        if let Err(error) = crate::managed::hsm_held::destroy_in_hsm(ctx, &object) {
            tracing::error!(uid = %object.uid, message = %error.message,
                "a rolled-back Create could not destroy the key it made in the HSM");
        }
    }
    Ok(())
}

/// Rolls the message's writes back and turns every success `which` selects into a General Failure saying why.
fn roll_back_and_refuse(
    ctx: &RequestContext<'_>,
    journal: &JournalingStore,
    answered: &mut [Answered],
    message: &str,
    which: impl Fn(&Answered) -> bool,
) {
    let rolled_back = roll_back(ctx, journal);
    for item in answered
        .iter_mut()
        .filter(|a| a.answer.result_status == ResultStatus::Success && which(a))
    {
        let text = match &rolled_back {
            Ok(()) => message.to_owned(),
            Err(error) => format!("{message}; rolling back failed too ({error})"),
        };
        item.answer =
            ResponseBatchItem::failure(item.answer.operation, ResultReason::GeneralFailure, text)
                .with_id(item.answer.unique_batch_item_id.take());
    }
}

/// Rolls the batch's writes back and marks its earlier successes Operation Undone (the failed item, last, stays).
fn undo_earlier(ctx: &RequestContext<'_>, journal: &JournalingStore, answered: &mut [Answered]) {
    let rolled_back = roll_back(ctx, journal);
    let Some((_failed, earlier)) = answered.split_last_mut() else {
        return;
    };
    for item in earlier
        .iter_mut()
        .filter(|a| a.answer.result_status == ResultStatus::Success)
    {
        match &rolled_back {
            Ok(()) => item.answer.result_status = ResultStatus::OperationUndone,
            // Could not undo: the item did happen; say so rather than claim it was undone.
            Err(error) => {
                item.answer.result_message =
                    Some(format!("Undo failed, this item's effect remains: {error}"));
            }
        }
    }
}

/// Audit and usage, once per item. The record names the objects the request named (`targets`, also when it
/// failed) and those the answer named (created, touched or located), and carries the Result Message of a
/// failure. The append's failure is returned: the item must then not be acknowledged (see [`dispatch`]).
fn record(
    state: &ServerState,
    caller: &Caller,
    now: i64,
    operation: Option<OperationCode>,
    targets: Vec<String>,
    outcome: &Outcome,
) -> Result<u64, crate::audit::AuditError> {
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
    state.audit.append(AuditEntry {
        tenant: &caller.tenant,
        role: caller.role,
        operation: &name,
        objects: outcome
            .as_ref()
            .map(registry::named_objects)
            .unwrap_or_default(),
        targets,
        result: outcome.as_ref().map(|_| ()).map_err(|e| e.reason),
        // The Result Message: written by qkms, never key bytes or other secrets.
        detail: outcome.as_ref().err().map(|e| e.message.as_str()),
        time: now,
    })
}
