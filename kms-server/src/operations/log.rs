//! Log (KMIP 2.0+, 2.1 §6.1.29): a client asks the server to record a message in its log. The message goes to
//! the server's tracing log with the caller's tenant; the dispatcher's audit record of the item (operation `Log`,
//! tenant, role, result) is written as for every operation. `kmip` refuses Log in a 1.x message.

use kmip::payloads::{LogRequest, LogResponse};

use crate::error::KmipError;
use crate::state::RequestContext;

/// Records the request's Log Message in the server's log and acknowledges it.
pub fn log(ctx: &RequestContext<'_>, request: LogRequest) -> Result<LogResponse, KmipError> {
    // `?` (Debug) quotes and escapes the client's text, so it cannot forge extra log lines.
    tracing::info!(tenant = %ctx.caller.tenant, message = ?request.log_message, "client Log message");
    Ok(LogResponse {})
}
