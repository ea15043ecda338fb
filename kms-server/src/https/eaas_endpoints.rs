//! `GET /v1/random` and `GET /v1/usage`: entropy as a service ([`crate::eaas`]).
//!
//! `encrypt=KEYID` asks for the bytes HPKE-encrypted to the caller's registered X25519 public key
//! ([`crate::eaas::recipient`]); a missing key, another tenant's, or one that is not an X25519 public key is a 400
//! naming `encrypt`.
//!
//! Errors are JSON (`{"error": ..., "field"|"limit": ...}`): 400 naming the bad parameter, 429 with Retry-After
//! naming the limit, 503 naming the pool's failure or the state file, 403 for a certificate that names no
//! tenant. Parameters are parsed by hand from the raw query so that an unknown or repeated one is refused by
//! name rather than ignored.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::ConnectionContext;
use crate::eaas::Refusal;
use crate::tenant::Role;

fn json_error(
    connection: &ConnectionContext,
    status: StatusCode,
    body: serde_json::Value,
    retry_after: Option<u64>,
) -> Response {
    connection.shared.metrics.refused(status.as_u16());
    let mut response = (
        status,
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, seconds.to_string().parse().expect("digits"));
    }
    response
}

fn bad_request(connection: &ConnectionContext, field: &str, message: String) -> Response {
    json_error(
        connection,
        StatusCode::BAD_REQUEST,
        serde_json::json!({ "error": message, "field": field }),
        None,
    )
}

/// Every route's first step: the caller a certificate names (403 otherwise) and the service (503 saying why it
/// is not served). The refusal is boxed: a `Response` is too large for an `Err` by clippy's measure.
fn admit(
    connection: &ConnectionContext,
) -> Result<(crate::tenant::Caller, Arc<crate::eaas::EaasService>), Box<Response>> {
    let caller = match &connection.caller {
        Ok(caller) => caller.clone(),
        Err(error) => {
            return Err(Box::new(json_error(
                connection,
                StatusCode::FORBIDDEN,
                serde_json::json!({ "error": error.to_string() }),
                None,
            )))
        }
    };
    match &connection.shared.eaas {
        Ok(service) => Ok((caller, Arc::clone(service))),
        Err(reason) => Err(Box::new(unavailable(connection, reason))),
    }
}

/// The answer when the service is not available on this server, saying why.
fn unavailable(connection: &ConnectionContext, reason: &str) -> Response {
    json_error(
        connection,
        StatusCode::SERVICE_UNAVAILABLE,
        serde_json::json!({ "error": reason }),
        None,
    )
}

/// The parameters of `/v1/random`.
struct RandomQuery {
    bytes: u64,
    nonce: String,
    /// The Unique Identifier of the caller's X25519 public key to HPKE-encrypt the bytes to.
    encrypt: Option<String>,
}

fn parse_random_query(query: Option<&str>) -> Result<RandomQuery, (String, String)> {
    let mut bytes = None;
    let mut nonce = None;
    let mut encrypt = None;
    for pair in query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match name {
            "bytes" => &mut bytes,
            "nonce" => &mut nonce,
            "encrypt" => &mut encrypt,
            other => {
                return Err((
                    other.into(),
                    format!(
                        "unknown parameter {other:?}: /v1/random takes bytes, nonce and encrypt"
                    ),
                ))
            }
        };
        if slot.replace(value.to_owned()).is_some() {
            return Err((name.into(), format!("{name} is given twice")));
        }
    }
    let bytes_text = bytes.ok_or_else(|| ("bytes".to_owned(), "bytes=N is required".to_owned()))?;
    let bytes = bytes_text
        .parse::<u64>()
        .ok()
        .filter(|_| bytes_text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            (
                "bytes".to_owned(),
                format!("bytes={bytes_text:?} is not a whole number"),
            )
        })?;
    Ok(RandomQuery {
        bytes,
        nonce: nonce.unwrap_or_default(),
        encrypt,
    })
}

pub async fn random(
    State(connection): State<Arc<ConnectionContext>>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Response {
    // `Accept: application/octet-stream`: the bytes as the body, the envelope (data left empty) in a header.
    let raw = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .any(|kind| kind.trim().starts_with("application/octet-stream"))
        });
    let (caller, service) = match admit(&connection) {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    let request = match parse_random_query(query.as_deref()) {
        Ok(request) => request,
        Err((field, message)) => return bad_request(&connection, &field, message),
    };
    // Drawing, encrypting and signing up to 16 MiB is blocking work: off the async workers. The octet-stream
    // form takes the bytes as they are; the JSON form has them base64-encoded into `data`.
    let issued = tokio::task::spawn_blocking(move || {
        let encrypt = request.encrypt.as_deref();
        if raw {
            service
                .issue_unencoded(&caller, request.bytes, &request.nonce, encrypt)
                .map(|(envelope, mut delivered)| (envelope, Some(std::mem::take(&mut *delivered))))
        } else {
            service
                .issue(&caller, request.bytes, &request.nonce, encrypt)
                .map(|envelope| (envelope, None))
        }
    })
    .await;
    match issued {
        Ok(Ok((envelope, Some(body)))) => (
            StatusCode::OK,
            [
                (CONTENT_TYPE, "application/octet-stream".to_owned()),
                (CACHE_CONTROL, "no-store".to_owned()),
            ],
            [(
                axum::http::HeaderName::from_static(eaas::ENVELOPE_HEADER),
                envelope.octet_stream_header(),
            )],
            body,
        )
            .into_response(),
        Ok(Ok((envelope, None))) => (
            StatusCode::OK,
            [
                (CONTENT_TYPE, "application/json"),
                (CACHE_CONTROL, "no-store"),
            ],
            envelope.to_json(),
        )
            .into_response(),
        Ok(Err(Refusal::BadRequest { field, message })) => {
            bad_request(&connection, &field, message)
        }
        Ok(Err(Refusal::OverLimit(over))) => json_error(
            &connection,
            if over.retry_after_secs.is_some() {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::BAD_REQUEST
            },
            serde_json::json!({ "error": over.message, "limit": over.limit, "field": "bytes" }),
            over.retry_after_secs,
        ),
        Ok(Err(Refusal::PoolFailed(reason))) => json_error(
            &connection,
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "error": format!("the entropy pool failed closed: {reason}") }),
            None,
        ),
        Ok(Err(Refusal::State(reason))) => json_error(
            &connection,
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "error": format!("the envelope could not be recorded: {reason}") }),
            None,
        ),
        Err(error) => json_error(
            &connection,
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({ "error": format!("the request failed: {error}") }),
            None,
        ),
    }
}

pub async fn usage(
    State(connection): State<Arc<ConnectionContext>>,
    RawQuery(query): RawQuery,
) -> Response {
    let (caller, service) = match admit(&connection) {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        let name = query.split(['=', '&']).next().unwrap_or("");
        return bad_request(
            &connection,
            name,
            format!("unknown parameter {name:?}: /v1/usage takes none"),
        );
    }
    // With a shared ledger the records come from the database: off the async workers.
    let tenant = (caller.role != Role::Operator).then(|| caller.tenant.to_string());
    let body = match tokio::task::spawn_blocking(move || service.usage(tenant.as_deref())).await {
        Ok(Ok(body)) => body,
        Ok(Err(error)) => {
            return unavailable(
                &connection,
                &format!("the usage records cannot be read: {error}"),
            )
        }
        Err(error) => {
            return unavailable(&connection, &format!("the usage request failed: {error}"))
        }
    };
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// `GET /v1/beacon/latest` and `GET /v1/beacon/{index}`: public pulses (any tenant).
pub async fn beacon(
    State(connection): State<Arc<ConnectionContext>>,
    axum::extract::Path(which): axum::extract::Path<String>,
) -> Response {
    let service = match admit(&connection) {
        Ok((_, service)) => service,
        Err(refused) => return *refused,
    };
    let index = if which == "latest" {
        None
    } else {
        match which.parse::<u64>() {
            Ok(index) if which.bytes().all(|b| b.is_ascii_digit()) => Some(index),
            _ => {
                return bad_request(
                    &connection,
                    "index",
                    format!("{which:?} is neither \"latest\" nor a pulse index"),
                )
            }
        }
    };
    match tokio::task::spawn_blocking(move || service.pulse(index)).await {
        Ok(Ok(Some(pulse))) => (
            StatusCode::OK,
            [
                (CONTENT_TYPE, "application/json"),
                (CACHE_CONTROL, "no-cache"),
            ],
            pulse.to_json(),
        )
            .into_response(),
        Ok(Ok(None)) => json_error(
            &connection,
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": format!("no pulse {which} (yet)") }),
            None,
        ),
        Ok(Err(error)) => json_error(
            &connection,
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({ "error": format!("the pulse could not be read: {error}") }),
            None,
        ),
        Err(error) => json_error(
            &connection,
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({ "error": format!("the request failed: {error}") }),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_checked_by_name() {
        let ok = parse_random_query(Some("bytes=32&nonce=00ff")).unwrap();
        assert_eq!((ok.bytes, ok.nonce.as_str()), (32, "00ff"));
        assert_eq!(ok.encrypt, None);
        let encrypted = parse_random_query(Some("bytes=32&encrypt=k-1")).unwrap();
        assert_eq!(encrypted.encrypt.as_deref(), Some("k-1"));
        let field = |q: &str| parse_random_query(Some(q)).err().map(|(field, _)| field);
        assert_eq!(field("nonce=00"), Some("bytes".into()));
        assert_eq!(field("bytes=+3"), Some("bytes".into()));
        assert_eq!(field("bytes=-1"), Some("bytes".into()));
        assert_eq!(field("bytes=ten"), Some("bytes".into()));
        assert_eq!(field("bytes=99999999999999999999999"), Some("bytes".into()));
        assert_eq!(field("bytes=1&bytes=2"), Some("bytes".into()));
        assert_eq!(field("bytes=1&size=2"), Some("size".into()));
        assert_eq!(field("bytes=1&encrypt=k&encrypt=j"), Some("encrypt".into()));
        assert_eq!(parse_random_query(None).err().unwrap().0, "bytes");
    }
}
