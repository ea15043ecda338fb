//! Log (KMIP 2.0+, 2.1 §6.1.29): a client asks the server to record a message in its log. The message goes to
//! the server's tracing log with the caller's tenant; the dispatcher's audit record of the item (operation `Log`,
//! tenant, role, result) is written as for every operation. The response payload is empty.
//!
//! `kmip` has no typed Log payload: like Interop, the request reaches the dispatcher as an undecoded payload with
//! its raw item, and the empty response travels as an undecoded payload whose raw item is what gets encoded.

use kmip::payloads::{ResponsePayload, UndecodedPayload};
use kmip::{Operation, OperationCode, ResultReason};
use ttlv::{tags, Item, Value};

use crate::error::KmipError;
use crate::state::RequestContext;

/// Whether an undecoded request payload is a Log request (which this module answers).
pub fn is_log(payload: &UndecodedPayload) -> bool {
    payload.operation == Some(OperationCode::Known(Operation::Log))
}

/// Records the request's Log Message in the server's log and acknowledges it.
pub fn log(
    ctx: &RequestContext<'_>,
    request: UndecodedPayload,
) -> Result<ResponsePayload, KmipError> {
    // Before 2.0 the operation does not exist: answer with the decoder's Operation Not Supported.
    if !ctx.version.is_v2() {
        return Err(request.error.into());
    }
    let Some(raw) = request.raw.as_ref() else {
        return Err(KmipError::new(
            ResultReason::InvalidMessage,
            "Log request without a Request Payload",
        ));
    };
    let message = match raw.child(tags::LOG_MESSAGE).map(|i| &i.value) {
        Some(Value::TextString(message)) => message.as_str(),
        Some(_) => {
            return Err(KmipError::invalid_field(
                "Log Message must be a Text String",
            ))
        }
        None => {
            return Err(KmipError::invalid_field(
                "Log request without a Log Message",
            ))
        }
    };
    // `?` (Debug) quotes and escapes the client's text, so it cannot forge extra log lines.
    tracing::info!(tenant = %ctx.caller.tenant, message = ?message, "client Log message");
    Ok(ResponsePayload::Undecoded(UndecodedPayload {
        operation: request.operation,
        // Never sent: only `raw` is encoded for an undecoded payload.
        error: request.error,
        raw: Some(Item::structure(tags::RESPONSE_PAYLOAD, Vec::new())),
    }))
}
