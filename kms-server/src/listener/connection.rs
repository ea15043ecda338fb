//! One client connection: many request messages in sequence, each framed, decoded, dispatched and answered.

use std::sync::Arc;

use kmip::transport::{self, TransportError};
use kmip::{RequestMessage, ResponseMessage, ResultReason};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use tokio::sync::watch;

use super::responses::{encode_within, message_failure, FALLBACK_VERSION};
use super::Shared;
use crate::auth::AuthError;
use crate::tenant::Caller;

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
        let idle = tokio::select! {
            idle = tokio::time::timeout(shared.settings.idle_timeout, stream.fill_buf()) => idle,
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
        let read = transport::read_message_timeout(
            &mut stream,
            &shared.settings.limits,
            shared.settings.read_timeout,
        )
        .await;
        let next = match read {
            Ok(bytes) => answer(&bytes, &caller, &shared).await,
            Err(error) => on_transport_error(error, &peer, &caller, &shared),
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
            shared
                .audit
                .record_refused_message(caller.as_ref().ok(), None, &response);
            encoded_failure(response, true)
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

/// Decodes one framed message and produces its encoded response.
async fn answer(bytes: &[u8], caller: &Result<Caller, AuthError>, shared: &Arc<Shared>) -> Next {
    // A request refused here never reaches the dispatcher: its refusal is audited here.
    let refuse = |version, reason, message: String, request: Option<&RequestMessage>| {
        let response = message_failure(version, reason, message);
        shared
            .audit
            .record_refused_message(caller.as_ref().ok(), request, &response);
        encoded_failure(response, false)
    };
    let item = match ttlv::binary::decode_with(bytes, &shared.settings.limits) {
        Ok(item) => item,
        Err(error) => {
            return refuse(
                FALLBACK_VERSION,
                ResultReason::InvalidMessage,
                format!("the request is not valid TTLV: {error}"),
                None,
            )
        }
    };
    let version = RequestMessage::peek_protocol_version(&item).unwrap_or(FALLBACK_VERSION);
    let request = match RequestMessage::from_ttlv(&item) {
        Ok(request) => request,
        Err(error) => {
            return refuse(
                version,
                error.reason,
                format!("the request message is invalid: {}", error.message),
                None,
            )
        }
    };
    let audited_caller = caller.as_ref().ok();
    let caller = match caller {
        Ok(caller) => caller.clone(),
        Err(error) => {
            return refuse(
                version,
                ResultReason::PermissionDenied,
                error.to_string(),
                Some(&request),
            )
        }
    };
    let maximum_response_size = request.header.maximum_response_size;
    let dispatcher = Arc::clone(&shared.dispatcher);
    let response = if runs_inline(&request) {
        // A handler's panic gets the same answer inline as on a blocking thread (a General Failure), and the
        // connection stays open.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            dispatcher(&caller, request)
        }))
        .map_err(|_| "the handler panicked".to_owned())
    } else {
        tokio::task::spawn_blocking(move || dispatcher(&caller, request))
            .await
            .map_err(|error| error.to_string())
    };
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "request handler failed");
            let response = message_failure(
                version,
                ResultReason::GeneralFailure,
                "internal error while handling the request",
            );
            shared
                .audit
                .record_refused_message(audited_caller, None, &response);
            response
        }
    };
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

/// The largest RNG Retrieve answered on the connection's own task: bigger ones take long enough that the
/// hand-off to a blocking thread no longer matters, and they would hold up the other connections of the worker.
const INLINE_RNG_BYTES: i32 = 64 * 1024;

/// Whether a message is answered on the connection's own task rather than on a blocking thread: when every
/// item is an operation that neither waits for the disk (the dispatcher flushes only after operations that may
/// write) nor computes for long (no key generation, no private-key operation, no scan of the store). Handing a
/// message to a blocking thread and back costs two thread wake-ups, more than these operations themselves.
fn runs_inline(request: &RequestMessage) -> bool {
    use kmip::RequestPayload as P;
    !request.items.is_empty()
        && request.items.iter().all(|item| match &item.payload {
            P::RngRetrieve(r) => r.data_length <= INLINE_RNG_BYTES,
            P::DiscoverVersions(_)
            | P::Query(_)
            | P::GetAttributes(_)
            | P::GetAttributeList(_)
            | P::Check(_)
            | P::Get(_)
            | P::Encrypt(_)
            | P::Mac(_)
            | P::MacVerify(_)
            | P::Hash(_) => true,
            _ => false,
        })
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
    }
}
