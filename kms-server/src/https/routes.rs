//! The HTTPS routes: `POST /kmip`, `GET /health`, `GET /metrics`, `POST /v1/entropy/sources/{id}/reset`,
//! `GET /v1/random` and `GET /v1/usage` (entropy as a service, [`eaas_endpoints`]).
//!
//! Every route sits behind the TLS handshake, which requires a client certificate from `[tls] ca_files`, as the
//! TTLV listener does. Beyond that:
//! - `/health` answers any caller whose certificate names a tenant. It says whether keys can be made and from
//!   what randomness, which every tenant already learns from Query and from each key's provenance attributes;
//!   keeping it behind a client certificate means no unauthenticated request reaches the server at all.
//! - `/metrics` answers operators only (`[auth] operators`): it counts every tenant's requests, which one tenant
//!   must not see of another.
//! - `/v1/entropy/sources/{id}/reset` answers operators only, audited ([`entropy_reset`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::{eaas_endpoints, entropy_reset, health, kmip_endpoint, refuse, ConnectionContext};
use crate::tenant::Role;

/// The routes, each connection's context given per connection with `with_state`.
pub fn router() -> Router<Arc<ConnectionContext>> {
    Router::new()
        .route("/kmip", post(kmip_endpoint::kmip))
        .route("/health", get(health_endpoint))
        .route("/metrics", get(metrics_endpoint))
        .route("/v1/entropy/sources/{id}/reset", post(entropy_reset::reset))
        .route("/v1/random", get(eaas_endpoints::random))
        .route("/v1/usage", get(eaas_endpoints::usage))
        .route("/v1/beacon/{which}", get(eaas_endpoints::beacon))
        .fallback(not_found)
}

async fn health_endpoint(State(connection): State<Arc<ConnectionContext>>) -> Response {
    if let Err(error) = &connection.caller {
        return refuse(
            &connection.shared.metrics,
            StatusCode::FORBIDDEN,
            error.to_string(),
        );
    }
    let status = connection.shared.entropy.status();
    let audit = connection.shared.connection.audit.health();
    let store = connection.shared.store.condition();
    let overall = health::overall_with_store(health::overall_with_audit(&status, &audit), &store);
    let code = match overall {
        health::Overall::Failing => StatusCode::SERVICE_UNAVAILABLE,
        health::Overall::Ok | health::Overall::Degraded => StatusCode::OK,
    };
    let mut document = health::with_store(health::document(&status, &audit), overall, &store);
    health::add_hsm(&mut document, &connection.shared.metrics.hsm_status());
    let body = document.to_string();
    (
        code,
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn metrics_endpoint(State(connection): State<Arc<ConnectionContext>>) -> Response {
    let shared = &connection.shared;
    match &connection.caller {
        Ok(caller) if caller.role == Role::Operator => {}
        Ok(caller) => {
            return refuse(
                &shared.metrics,
                StatusCode::FORBIDDEN,
                format!(
                    "/metrics is for operators ([auth] operators); tenant {} is not one",
                    caller.tenant
                ),
            )
        }
        Err(error) => return refuse(&shared.metrics, StatusCode::FORBIDDEN, error.to_string()),
    }
    let mut body = shared
        .metrics
        .render(&shared.entropy.status(), &shared.usage.snapshot());
    if let Ok(eaas) = &shared.eaas {
        // With a shared ledger the per-tenant bytes are read from the database: off the async workers.
        let eaas = Arc::clone(eaas);
        if let Ok(lines) = tokio::task::spawn_blocking(move || eaas.render_metrics()).await {
            body.push_str(&lines);
        }
    }
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn not_found(State(connection): State<Arc<ConnectionContext>>) -> Response {
    refuse(
        &connection.shared.metrics,
        StatusCode::NOT_FOUND,
        "no such resource: the routes are POST /kmip, GET /health, GET /metrics, GET /v1/random, GET /v1/usage, \
         GET /v1/beacon/latest|INDEX and POST /v1/entropy/sources/{id}/reset"
            .into(),
    )
}
