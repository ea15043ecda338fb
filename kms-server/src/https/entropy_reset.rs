//! `POST /v1/entropy/sources/{id}/reset`: an operator clears an entropy source's latched health-test failure
//! without restarting the server (`qkms entropy reset` calls it).
//!
//! Operators only (`[auth] operators`): a reset decides whether a device that failed its SP 800-90B tests may
//! feed keys again, which no tenant may decide. Every attempt by an identified caller (refused or not) is
//! appended to the audit log as operation `EntropySourceReset` naming the source (`entropy-source:<id>`), and
//! the answer is sent only once that record is on disk. The pool reruns the start-up health tests on fresh
//! samples before the source contributes again and reseeds every DRBG instance; the answer says where the
//! source and the pool stand afterwards. Every answer, refusals included, is a JSON document.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use entropy::EntropyError;
use kmip::ResultReason;
use serde_json::{json, Value};

use super::ConnectionContext;
use crate::audit::AuditEntry;
use crate::tenant::{Caller, Role};

/// The audit log's operation name for a reset.
pub const AUDIT_OPERATION: &str = "EntropySourceReset";

fn answer(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// A refusal as JSON, counted in the metrics.
fn refuse(connection: &ConnectionContext, status: StatusCode, message: String) -> Response {
    connection.shared.metrics.refused(status.as_u16());
    answer(status, &json!({ "error": message }))
}

pub async fn reset(
    State(connection): State<Arc<ConnectionContext>>,
    Path(id): Path<String>,
) -> Response {
    let caller = match &connection.caller {
        Ok(caller) => caller.clone(),
        Err(error) => return refuse(&connection, StatusCode::FORBIDDEN, error.to_string()),
    };
    if caller.role != Role::Operator {
        let denied = audit(
            &connection,
            &caller,
            &id,
            Err(ResultReason::PermissionDenied),
        )
        .await;
        let message = format!(
            "resetting an entropy source is for operators ([auth] operators); tenant {} is not one",
            caller.tenant
        );
        return match denied {
            Ok(()) => refuse(&connection, StatusCode::FORBIDDEN, message),
            Err(response) => response,
        };
    }
    let pool = connection.shared.entropy.clone();
    let source = id.clone();
    let outcome = tokio::task::spawn_blocking(move || pool.reset_source(&source))
        .await
        .unwrap_or_else(|error| {
            Err(EntropyError::SeederStopped(format!(
                "the reset task failed: {error}"
            )))
        });
    let (result, status, body) = match outcome {
        Ok(source) => {
            let pool = connection.shared.entropy.status();
            let body = json!({
                "source": source.id,
                "reset": true,
                "health": source.health.state,
                "contributing": source.contributing,
                "entropy": {
                    "state": pool.state,
                    "quantum": pool.quantum_now,
                    "seeding_sources": pool.seeding_sources,
                    "summary": pool.summary,
                },
            });
            (Ok(()), StatusCode::OK, body)
        }
        Err(EntropyError::UnknownSource(_)) => (
            Err(ResultReason::ItemNotFound),
            StatusCode::NOT_FOUND,
            json!({ "error": format!("no entropy source with id {id:?} is configured") }),
        ),
        Err(error) => (
            Err(ResultReason::GeneralFailure),
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": format!("the reset of entropy source {id:?} failed: {error}") }),
        ),
    };
    if let Err(response) = audit(&connection, &caller, &id, result).await {
        return response;
    }
    if status != StatusCode::OK {
        connection.shared.metrics.refused(status.as_u16());
    }
    answer(status, &body)
}

/// Appends the attempt's audit record and waits until it is on disk; on failure, the 500 answer to send.
async fn audit(
    connection: &ConnectionContext,
    caller: &Caller,
    id: &str,
    result: Result<(), ResultReason>,
) -> Result<(), Response> {
    let log = Arc::clone(&connection.shared.audit);
    let tenant = caller.tenant.clone();
    let role = caller.role;
    let object = format!("entropy-source:{id}");
    let written = tokio::task::spawn_blocking(move || {
        log.append(AuditEntry {
            tenant: &tenant,
            role,
            operation: AUDIT_OPERATION,
            objects: vec![object.clone()],
            targets: vec![object],
            result,
            detail: None,
            time: time::OffsetDateTime::now_utc().unix_timestamp(),
        })?;
        log.wait_durable()
    })
    .await;
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot record an entropy source reset in the audit log");
            Err(refuse(
                connection,
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the audit log cannot record this request: {error}"),
            ))
        }
        Err(error) => Err(refuse(
            connection,
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the audit task failed: {error}"),
        )),
    }
}
