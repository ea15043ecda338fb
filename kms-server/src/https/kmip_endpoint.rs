//! `POST /kmip`: one KMIP request message in the body, in the encoding its `Content-Type` names; the response
//! message comes back in the same encoding with status 200, whatever its result (a KMIP failure is a KMIP
//! answer). Only what KMIP cannot answer is an HTTP error: an unsupported `Content-Type` (415), a body over
//! `[limits] max_message_size` (413), a body not received within `[limits] read_timeout_secs` (408) or cut off
//! (400). A body that is not a message in its encoding gets a KMIP Invalid Message failure in that encoding,
//! as the TTLV listener answers undecodable TTLV.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kmip::{ProtocolVersion, RequestMessage, ResponseMessage, ResultReason};

use super::encoding::{BodyEncodeError, MessageEncoding, SUPPORTED_CONTENT_TYPES};
use super::{refuse, ConnectionContext};
use crate::listener::responses::{encode_within, message_failure, FALLBACK_VERSION};

/// Why a request body was not read whole.
#[derive(Debug)]
enum BodyRefusal {
    TooLarge { max: usize },
    TimedOut(Duration),
    Broken(String),
}

/// The handler of `POST /kmip`.
pub async fn kmip(
    State(connection): State<Arc<ConnectionContext>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let shared = &connection.shared;
    let encoding = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(MessageEncoding::from_content_type);
    let Some(encoding) = encoding else {
        return refuse(
            &shared.metrics,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be one of {SUPPORTED_CONTENT_TYPES}"),
        );
    };
    let settings = &shared.connection.settings;
    // The body's memory is reserved from the server-wide request memory before it is read (the declared
    // length, else the largest message), and held until the answer is made.
    let declared = declared_length(&headers);
    let reserved = declared
        .and_then(|length| usize::try_from(length).ok())
        .unwrap_or(settings.limits.max_message_size)
        .min(settings.limits.max_message_size);
    let Some(_reservation) = shared.connection.request_memory.try_reserve(reserved) else {
        return refuse(
            &shared.metrics,
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the server is already holding its limit of {} bytes of requests ([limits] \
                 max_pending_request_bytes): retry later",
                shared.connection.request_memory.limit_bytes()
            ),
        );
    };
    let body = match read_body(
        body,
        declared,
        settings.limits.max_message_size,
        settings.read_timeout,
    )
    .await
    {
        Ok(body) => body,
        Err(BodyRefusal::TooLarge { max }) => {
            return refuse(
                &shared.metrics,
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body exceeds the maximum message size of {max} bytes"),
            )
        }
        Err(BodyRefusal::TimedOut(limit)) => {
            return refuse(
                &shared.metrics,
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body was not received within {} s",
                    limit.as_secs()
                ),
            )
        }
        Err(BodyRefusal::Broken(error)) => {
            return refuse(
                &shared.metrics,
                StatusCode::BAD_REQUEST,
                format!("the request body could not be read: {error}"),
            )
        }
    };
    // Decoding, dispatching and encoding run on the blocking pool, within the server's offload slots (shared
    // with the TTLV listener), so a large body never holds up the async workers.
    let Ok(slot) = Arc::clone(&shared.connection.offload_slots)
        .acquire_owned()
        .await
    else {
        return refuse(
            &shared.metrics,
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down".into(),
        );
    };
    let context = Arc::clone(&connection);
    let answered = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        answer(&context, encoding, &body)
    })
    .await
    .unwrap_or_else(|error| {
        tracing::error!(%error, "request handler failed");
        encode_response(
            encoding,
            message_failure(
                FALLBACK_VERSION,
                ResultReason::GeneralFailure,
                "internal error while handling the request",
            ),
            None,
        )
    });
    // A response that cannot be written in the request's encoding is answered, in that encoding, by a KMIP
    // General Failure saying so; only if even that cannot be written is the answer an HTTP 500.
    let encoded = answered.or_else(|error| {
        tracing::error!(%error, encoding = encoding.name(), "cannot encode a KMIP response");
        let failure = message_failure(
            FALLBACK_VERSION,
            ResultReason::GeneralFailure,
            format!("the response could not be encoded: {error}"),
        );
        encode_response(encoding, failure, None)
    });
    match encoded {
        Ok(bytes) => (
            StatusCode::OK,
            [
                (CONTENT_TYPE, encoding.content_type()),
                (CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, encoding = encoding.name(), "cannot encode a KMIP failure response");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the response could not be encoded: {error}\n"),
            )
                .into_response()
        }
    }
}

/// The body length the request's Content-Length declares, if it declares one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
}

/// Reads the whole body (`declared` long, when the request says), refusing it as soon as it is known to exceed
/// `max` bytes.
async fn read_body(
    body: Body,
    declared: Option<u64>,
    max: usize,
    timeout: Duration,
) -> Result<Vec<u8>, BodyRefusal> {
    if declared.is_some_and(|length| length > max as u64) {
        return Err(BodyRefusal::TooLarge { max });
    }
    let read = async {
        let mut body = std::pin::pin!(body);
        let mut bytes = Vec::with_capacity(declared.map_or(0, |d| d as usize));
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            let frame = frame.map_err(|error| BodyRefusal::Broken(error.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > max {
                    return Err(BodyRefusal::TooLarge { max });
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| BodyRefusal::TimedOut(timeout))?
}

/// Decodes, dispatches and encodes: the encoded KMIP response to `body`. Runs on a blocking thread.
fn answer(
    connection: &ConnectionContext,
    encoding: MessageEncoding,
    body: &[u8],
) -> Result<Vec<u8>, BodyEncodeError> {
    let shared = &connection.shared;
    // A request refused here never reaches the dispatcher: its refusal is audited here.
    let failure = |version: ProtocolVersion,
                   reason: ResultReason,
                   message: String,
                   request: Option<&RequestMessage>| {
        let response = message_failure(version, reason, message);
        shared.metrics.record(&response);
        shared.connection.audit.record_refused_message(
            connection.caller.as_ref().ok(),
            request,
            &response,
        );
        encode_response(encoding, response, None)
    };
    let item = match encoding.decode(body, &shared.connection.settings.limits) {
        Ok(item) => item,
        Err(error) => {
            return failure(
                FALLBACK_VERSION,
                ResultReason::InvalidMessage,
                error.to_string(),
                None,
            )
        }
    };
    let version = RequestMessage::peek_protocol_version(&item).unwrap_or(FALLBACK_VERSION);
    let request = match RequestMessage::from_ttlv(&item) {
        Ok(request) => request,
        Err(error) => {
            return failure(
                version,
                error.reason,
                format!("the request message is invalid: {}", error.message),
                None,
            )
        }
    };
    let caller = match &connection.caller {
        Ok(caller) => caller.clone(),
        Err(error) => {
            return failure(
                version,
                ResultReason::PermissionDenied,
                error.to_string(),
                Some(&request),
            )
        }
    };
    let maximum_response_size = request.header.maximum_response_size;
    let response = (shared.connection.dispatcher)(&caller, request);
    encode_response(encoding, response, maximum_response_size)
}

/// Encodes `response`, applying the request's Maximum Response Size.
///
/// The size is measured on the message's TTLV encoding whatever the transport encoding: Maximum Response Size
/// bounds the message, and the text forms of one message are several times longer than its TTLV form (the
/// MSGENC-JSON/XML test cases expect a 2048-byte limit to admit a Query answer whose JSON is about 3 KB).
fn encode_response(
    encoding: MessageEncoding,
    response: ResponseMessage,
    maximum_response_size: Option<i32>,
) -> Result<Vec<u8>, BodyEncodeError> {
    if encoding == MessageEncoding::Ttlv {
        return Ok(encode_within(response, maximum_response_size)?);
    }
    let item = response.to_ttlv();
    let within = match maximum_response_size.and_then(|max| usize::try_from(max).ok()) {
        None => true,
        Some(max) => ttlv::binary::encode(&item)?.len() <= max,
    };
    if within {
        return encoding.encode(&item);
    }
    // The shrunk message (Response Too Large items) is small: re-reading its TTLV is cheaper than duplicating
    // the shrinking rule.
    let shrunk = encode_within(response, maximum_response_size)?;
    let item = ttlv::binary::decode(&shrunk).map_err(BodyEncodeError::Reread)?;
    encoding.encode(&item)
}
