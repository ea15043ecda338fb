//! Interop (KMIP 2.0+, 2.1 §6.1.24): a test harness marks where an interoperability test case Begins and Ends,
//! or asks to Reset. qkms keeps no per-test-case state (every test object is an ordinary managed object of the
//! caller's tenant), so each function changes nothing and is acknowledged with an empty payload once the request
//! is checked.
//!
//! `kmip` has no typed Interop payloads: the request reaches the dispatcher as an undecoded payload with its raw
//! item, and the (empty) response travels as an undecoded payload whose raw item is what gets encoded.

use kmip::payloads::{ResponsePayload, UndecodedPayload};
use kmip::{Operation, OperationCode, ResultReason};
use ttlv::{tags, Item, Value};

use crate::error::KmipError;
use crate::state::RequestContext;

/// Interop Function values (KMIP 2.1 §11.31).
const BEGIN: u32 = 0x01;
const END: u32 = 0x02;
const RESET: u32 = 0x03;

/// Whether an undecoded request payload is an Interop request (which this module answers).
pub fn is_interop(payload: &UndecodedPayload) -> bool {
    payload.operation == Some(OperationCode::Known(Operation::Interop))
}

/// Answers an Interop request: Begin, End and Reset all succeed without changing anything.
pub fn interop(
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
            "Interop request without a Request Payload",
        ));
    };
    let function = match raw.child(tags::INTEROP_FUNCTION).map(|i| &i.value) {
        Some(Value::Enumeration(f @ (BEGIN | END | RESET))) => *f,
        Some(Value::Enumeration(other)) => {
            return Err(KmipError::invalid_field(format!(
                "Interop Function 0x{other:08X} is not Begin, End or Reset"
            )))
        }
        Some(_) => {
            return Err(KmipError::invalid_field(
                "Interop Function must be an Enumeration",
            ))
        }
        None => {
            return Err(KmipError::invalid_field(
                "Interop request without an Interop Function",
            ))
        }
    };
    let identifier = match raw.child(tags::INTEROP_IDENTIFIER).map(|i| &i.value) {
        Some(Value::TextString(id)) => id.as_str(),
        Some(_) => {
            return Err(KmipError::invalid_field(
                "Interop Identifier must be a Text String",
            ))
        }
        None => {
            return Err(KmipError::invalid_field(
                "Interop request without an Interop Identifier",
            ))
        }
    };
    tracing::info!(function, identifier, tenant = %ctx.caller.tenant, "Interop");
    Ok(ResponsePayload::Undecoded(UndecodedPayload {
        operation: request.operation,
        // Never sent: only `raw` is encoded for an undecoded payload.
        error: request.error,
        raw: Some(Item::structure(tags::RESPONSE_PAYLOAD, Vec::new())),
    }))
}
