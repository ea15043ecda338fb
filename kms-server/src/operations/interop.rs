//! Interop (KMIP 2.0+, 2.1 §6.1.24): a test harness marks where an interoperability test case Begins and Ends,
//! or asks to Reset. qkms keeps no per-test-case state (every test object is an ordinary managed object of the
//! caller's tenant), so each function changes nothing and is acknowledged with an empty payload; `kmip` checks
//! the function and identifier and refuses Interop in a 1.x message.

use kmip::payloads::{InteropRequest, InteropResponse};

use crate::error::KmipError;
use crate::state::RequestContext;

/// Answers an Interop request: Begin, End and Reset all succeed without changing anything.
pub fn interop(
    ctx: &RequestContext<'_>,
    request: InteropRequest,
) -> Result<InteropResponse, KmipError> {
    tracing::info!(
        function = request.interop_function.name(),
        identifier = ?request.interop_identifier,
        tenant = %ctx.caller.tenant,
        "Interop"
    );
    Ok(InteropResponse {})
}
