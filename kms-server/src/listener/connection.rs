//! One client connection: many request messages in sequence, each framed, decoded, dispatched and answered.

use std::sync::Arc;

use kmip::transport::{self, TransportError};
use kmip::{RequestMessage, ResponseMessage, ResultReason};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use tokio::sync::watch;

use super::admission::Reservation;
use super::responses::{encode_within, message_failure, FALLBACK_VERSION};
use super::Shared;
use crate::auth::AuthError;
use crate::tenant::Caller;

/// The idle bound of a connection holding session leases: in effect none (a year).
const LEASE_HOLDER_IDLE: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// What happened to a message read from the stream.
enum Next {
    /// Answer with this encoded response, then keep reading.
    Answer(Vec<u8>),
    /// Answer with this encoded response, then close (the stream's framing is lost).
    AnswerAndClose(Vec<u8>),
    /// Close without answering (peer gone, timed out, or no response can be framed).
    Close,
}

/// Serves one authenticated TLS stream until the peer closes it, a timeout fires, or framing is lost.
/// Between messages it also watches `shutdown` and closes when the server stops.
pub async fn serve_connection<S>(
    stream: S,
    caller: Result<Caller, AuthError>,
    shared: Arc<Shared>,
    peer: String,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    loop {
        // Idle: wait for the first byte of the next message (or the server's shutdown).
        // A connection holding PKCS#11 session leases is never closed for idleness: closing it would destroy
        // its application's session objects (see `session_lease`).
        let idle_timeout = match &caller {
            Ok(caller) if caller.leases.holds_any() => LEASE_HOLDER_IDLE,
            _ => shared.settings.idle_timeout,
        };
        let idle = tokio::select! {
            idle = tokio::time::timeout(idle_timeout, stream.fill_buf()) => idle,
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        };
        match idle {
            Err(_) => {
                tracing::debug!(%peer, "idle timeout: closing the connection");
                return;
            }
            Ok(Err(error)) => {
                tracing::debug!(%peer, %error, "read failed: closing the connection");
                return;
            }
            Ok(Ok([])) => return,
            Ok(Ok(_)) => {}
        }
        let timeout = shared.settings.read_timeout;
        let read = tokio::time::timeout(timeout, read_request(&mut stream, &shared))
            .await
            .unwrap_or(Err(TransportError::Timeout(timeout)));
        // The request's memory reservation is held until its answer is written.
        let (next, _reservation) = match read {
            Ok(Request::Admitted(bytes, reservation)) => {
                (answer(bytes, &caller, &shared).await, Some(reservation))
            }
            Ok(Request::OverMemory { declared }) => {
                tracing::warn!(%peer, declared, "server-wide request memory exhausted: refusing a message");
                (over_memory(&shared, &caller, declared), None)
            }
            Err(error) => (on_transport_error(error, &peer, &caller, &shared), None),
        };
        let (response, close) = match next {
            Next::Answer(response) => (response, false),
            Next::AnswerAndClose(response) => (response, true),
            Next::Close => return,
        };
        if let Err(error) =
            transport::write_message_timeout(&mut stream, &response, shared.settings.write_timeout)
                .await
        {
            tracing::debug!(%peer, %error, "cannot write the response: closing the connection");
            return;
        }
        if close {
            return;
        }
    }
}

/// A message read from the stream, or one the server had no memory for.
enum Request {
    Admitted(Vec<u8>, Reservation),
    /// Its body was read and dropped: the stream is still framed, and the client gets an error.
    OverMemory {
        declared: usize,
    },
}

/// Reads one message, reserving its declared length from the server's request memory before reading its body.
async fn read_request<S>(stream: &mut S, shared: &Shared) -> Result<Request, TransportError>
where
    S: AsyncRead + Unpin,
{
    let (header, total) = transport::read_header(stream, &shared.settings.limits).await?;
    match shared.request_memory.try_reserve(total) {
        Some(reservation) => Ok(Request::Admitted(
            transport::read_body(stream, header, total).await?,
            reservation,
        )),
        None => {
            transport::skip_body(stream, total).await?;
            Ok(Request::OverMemory { declared: total })
        }
    }
}

/// Answers a message the listener refuses before dispatch (so the dispatcher never audits it): the refusal is
/// recorded in the audit log, then encoded; `close` when the stream's framing is lost.
fn refused(
    shared: &Shared,
    caller: &Result<Caller, AuthError>,
    request: Option<&RequestMessage>,
    response: ResponseMessage,
    close: bool,
) -> Next {
    shared
        .audit
        .record_refused_message(caller.as_ref().ok(), request, &response);
    encoded_failure(response, close)
}

/// The answer to a message the server had no memory for.
fn over_memory(shared: &Shared, caller: &Result<Caller, AuthError>, declared: usize) -> Next {
    let response = message_failure(
        FALLBACK_VERSION,
        ResultReason::GeneralFailure,
        format!(
            "the server is already holding its limit of {} bytes of requests ([limits] \
             max_pending_request_bytes); this {declared}-byte message was not processed: retry later",
            shared.request_memory.limit_bytes()
        ),
    );
    refused(shared, caller, None, response, false)
}

/// A framing failure: answer where the client can still read an answer, otherwise just close.
fn on_transport_error(
    error: TransportError,
    peer: &str,
    caller: &Result<Caller, AuthError>,
    shared: &Shared,
) -> Next {
    match error {
        TransportError::Closed => Next::Close,
        TransportError::InvalidHeader(cause) => {
            tracing::info!(%peer, %cause, "request does not start with a TTLV header: answering and closing");
            let response = message_failure(
                FALLBACK_VERSION,
                ResultReason::InvalidMessage,
                format!("the request does not start with a valid TTLV item header: {cause}; closing the connection"),
            );
            refused(shared, caller, None, response, true)
        }
        // A body we refuse to read leaves the stream mid-message: nothing more can be framed on it.
        TransportError::TooLarge { declared, max } => {
            tracing::warn!(%peer, declared, max, "request larger than the limit: closing the connection");
            Next::Close
        }
        other => {
            tracing::debug!(%peer, error = %other, "connection ended inside a message");
            Next::Close
        }
    }
}

/// Messages up to this size are decoded on the connection's async task; larger ones (and everything they ask)
/// go to the blocking pool, so that decoding a 16 MiB batch never holds up the other connections of the worker.
pub const INLINE_MESSAGE_BYTES: usize = 64 * 1024;

/// The most batch items a message answered on the async task may carry: many quick items add up to slow work.
pub const INLINE_ITEMS: usize = 16;

/// Decodes one framed message and produces its encoded response: on the connection's own task when the message
/// is small and every item quick (see [`runs_inline`]), else on the blocking pool, at most
/// `offload_slots` messages at once server-wide (which bounds the memory all answers in the making can hold).
async fn answer(bytes: Vec<u8>, caller: &Result<Caller, AuthError>, shared: &Arc<Shared>) -> Next {
    if bytes.len() <= INLINE_MESSAGE_BYTES {
        let request = match decode(&bytes, caller, shared) {
            Ok(decoded) => decoded,
            Err(next) => return next,
        };
        if runs_inline(&request.1) {
            // A handler's panic gets the same answer inline as on a blocking thread (a General Failure), and
            // the connection stays open.
            return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                respond(request, shared)
            }))
            .unwrap_or_else(|_| panicked(None));
        }
        return offload(shared, move |shared| respond(request, shared)).await;
    }
    let caller = caller.clone();
    offload(shared, move |shared| {
        match decode(&bytes, &caller, shared) {
            Ok(request) => respond(request, shared),
            Err(next) => next,
        }
    })
    .await
}

/// Runs `work` on the blocking pool once one of the server's offload slots is free.
async fn offload(
    shared: &Arc<Shared>,
    work: impl FnOnce(&Arc<Shared>) -> Next + Send + 'static,
) -> Next {
    let Ok(_slot) = Arc::clone(&shared.offload_slots).acquire_owned().await else {
        return panicked(None);
    };
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || work(&shared))
        .await
        .unwrap_or_else(|error| {
            tracing::error!(%error, "request handler failed");
            panicked(None)
        })
}

/// The answer to a message whose handler panicked (a bug): a General Failure, and the connection stays open.
fn panicked(version: Option<kmip::ProtocolVersion>) -> Next {
    encoded_failure(
        message_failure(
            version.unwrap_or(FALLBACK_VERSION),
            ResultReason::GeneralFailure,
            "internal error while handling the request",
        ),
        false,
    )
}

/// A decoded request with its caller.
type Decoded = (Caller, RequestMessage);

/// TTLV -> typed request, and the caller (a certificate naming no tenant is refused here). A request refused
/// here never reaches the dispatcher: its refusal is audited here.
fn decode(
    bytes: &[u8],
    caller: &Result<Caller, AuthError>,
    shared: &Shared,
) -> Result<Decoded, Next> {
    let refuse = |version, reason, message: String, request: Option<&RequestMessage>| {
        refused(
            shared,
            caller,
            request,
            message_failure(version, reason, message),
            false,
        )
    };
    let item = ttlv::binary::decode_with(bytes, &shared.settings.limits).map_err(|error| {
        refuse(
            FALLBACK_VERSION,
            ResultReason::InvalidMessage,
            format!("the request is not valid TTLV: {error}"),
            None,
        )
    })?;
    let version = RequestMessage::peek_protocol_version(&item).unwrap_or(FALLBACK_VERSION);
    let request = RequestMessage::from_ttlv(&item).map_err(|error| {
        refuse(
            version,
            error.reason,
            format!("the request message is invalid: {}", error.message),
            None,
        )
    })?;
    match caller {
        Ok(caller) => Ok((caller.clone(), request)),
        Err(error) => Err(refuse(
            version,
            ResultReason::PermissionDenied,
            error.to_string(),
            Some(&request),
        )),
    }
}

/// Dispatches a decoded request and encodes the answer within its Maximum Response Size.
fn respond((caller, request): Decoded, shared: &Shared) -> Next {
    let version = request.protocol_version();
    let maximum_response_size = request.header.maximum_response_size;
    let response = (shared.dispatcher)(&caller, request);
    match encode_within(response, maximum_response_size) {
        Ok(bytes) => Next::Answer(bytes),
        Err(error) => {
            tracing::error!(%error, "cannot encode a response");
            encoded_failure(
                message_failure(
                    version,
                    ResultReason::GeneralFailure,
                    format!("cannot encode the response: {error}"),
                ),
                false,
            )
        }
    }
}

/// Whether a decoded message is answered on the connection's own task rather than on a blocking thread: when it
/// has few items and every one is an operation the registry marks quick (no key generation, no private-key
/// operation, no scan of the store, no wait for the disk: the dispatcher moves a Get's Fresh flush off the
/// worker). Handing a message to a blocking thread and back costs two thread wake-ups, more than these
/// operations themselves.
fn runs_inline(request: &RequestMessage) -> bool {
    !request.items.is_empty()
        && request.items.len() <= INLINE_ITEMS
        && request
            .items
            .iter()
            .all(|item| crate::dispatch::registry::runs_inline(&item.payload))
}

fn encoded_failure(response: ResponseMessage, close: bool) -> Next {
    match ttlv::binary::encode(&response.to_ttlv()) {
        Ok(bytes) if close => Next::AnswerAndClose(bytes),
        Ok(bytes) => Next::Answer(bytes),
        Err(error) => {
            tracing::error!(%error, "cannot encode an error response: closing the connection");
            Next::Close
        }
    }
}

#[cfg(test)]
mod tests {
    use kmip::attributes::Attributes;
    use kmip::enums::ObjectType;
    use kmip::payloads::{
        CreateRequest, EncryptRequest, GetRequest, QueryRequest, RngRetrieveRequest,
    };
    use kmip::{ProtocolVersion, RequestBatchItem, RequestPayload};

    use super::*;

    fn message(payloads: Vec<RequestPayload>) -> RequestMessage {
        RequestMessage::new(
            ProtocolVersion::new(2, 1),
            payloads.into_iter().map(RequestBatchItem::new).collect(),
        )
    }

    fn rng(bytes: i32) -> RequestPayload {
        RngRetrieveRequest { data_length: bytes }.into()
    }

    use crate::operations::rng::INLINE_RNG_BYTES;

    #[test]
    fn only_messages_of_quick_operations_that_never_wait_for_the_disk_run_inline() {
        let encrypt: RequestPayload = EncryptRequest::default().into();
        let query: RequestPayload = QueryRequest::default().into();
        let get: RequestPayload = GetRequest::default().into();
        let create: RequestPayload = CreateRequest {
            object_type: ObjectType::SymmetricKey,
            attributes: Attributes::default(),
            protection_storage_masks: None,
        }
        .into();
        assert!(runs_inline(&message(vec![encrypt.clone(), query, rng(16)])));
        assert!(runs_inline(&message(vec![rng(INLINE_RNG_BYTES)])));
        assert!(!runs_inline(&message(vec![rng(INLINE_RNG_BYTES + 1)])));
        // A Get that clears Fresh waits for the disk, but the dispatcher moves that wait off the async worker.
        assert!(runs_inline(&message(vec![encrypt.clone(), get])));
        // A Create always writes: one such item sends the whole message to a blocking thread.
        assert!(!runs_inline(&message(vec![encrypt, create])));
        assert!(!runs_inline(&message(Vec::new())));
        // Many quick items add up to slow work.
        assert!(!runs_inline(&message(vec![rng(16); INLINE_ITEMS + 1])));
    }
}
