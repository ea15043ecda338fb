//! Requests refused before an operation ran (answered by the listener itself) are audited too: who, what the
//! request named, the reason and the Result Message.

use kmip::{OperationCode, RequestMessage, ResponseMessage, ResultReason};

use super::{role_name, AuditLog, Fields};
use crate::tenant::Caller;

/// An operation's name as the audit record spells it.
pub fn operation_name(operation: Option<OperationCode>) -> String {
    match operation {
        Some(OperationCode::Known(op)) => op.name().to_owned(),
        Some(OperationCode::Unknown(code)) => format!("0x{code:08X}"),
        None => "(none)".to_owned(),
    }
}

impl AuditLog {
    /// Records a request the listener refused before any operation ran (undecodable message, no tenant for the
    /// certificate, a handler that failed): who (`caller`, `None` when the certificate named no tenant), the
    /// operation(s) if known, the objects named, the reason and the Result Message sent. Such a refusal
    /// acknowledges nothing, so a failure to record it is logged, not answered.
    pub fn record_refusal(
        &self,
        caller: Option<&Caller>,
        operation: &str,
        targets: Vec<String>,
        reason: ResultReason,
        detail: &str,
        time: i64,
    ) {
        let (tenant, role) = match caller {
            Some(caller) => (caller.tenant.0.clone(), role_name(caller.role)),
            None => ("(unauthenticated)".to_owned(), "none"),
        };
        let appended = self.append_fields(Fields {
            time,
            tenant,
            role: role.to_owned(),
            operation: operation.to_owned(),
            objects: Vec::new(),
            targets,
            result: reason.name().to_owned(),
            detail: Some(detail.to_owned()),
        });
        if let Err(error) = appended {
            tracing::error!(%error, operation, "cannot record a refused request in the audit log");
        }
    }

    /// Records a whole message the listener answered itself with one failed item (`response`): undecodable,
    /// invalid, no tenant for the certificate, or a handler that failed. The operations and the objects named
    /// are taken from `request` when it decoded.
    pub fn record_refused_message(
        &self,
        caller: Option<&Caller>,
        request: Option<&RequestMessage>,
        response: &ResponseMessage,
    ) {
        let Some(failure) = response.items.first() else {
            return;
        };
        let (operations, targets) = match request {
            Some(request) => (
                request
                    .items
                    .iter()
                    .map(|item| operation_name(item.operation()))
                    .collect::<Vec<_>>()
                    .join(","),
                request
                    .items
                    .iter()
                    .filter_map(|item| {
                        crate::dispatch::registry::target(&item.payload).map(str::to_owned)
                    })
                    .collect(),
            ),
            None => ("(undecoded message)".to_owned(), Vec::new()),
        };
        self.record_refusal(
            caller,
            &operations,
            targets,
            failure
                .result_reason
                .unwrap_or(ResultReason::GeneralFailure),
            failure.result_message.as_deref().unwrap_or_default(),
            response.header.time_stamp.0,
        );
    }
}
