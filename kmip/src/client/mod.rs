//! The async KMIP client: one mutual-TLS connection reused for every request, typed operations, batches.

mod config;
mod operations;

pub use config::{
    certificates_from_file, certificates_from_pem, private_key_from_file, private_key_from_pem,
    ClientConfig,
};

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use ttlv::Limits;

use crate::error::DecodeError;
use crate::message::{RequestBatchItem, RequestMessage, ResponseMessage};
use crate::operation::OperationCode;
use crate::payloads::{RequestPayload, ResponsePayload};
use crate::result::{ResultReason, ResultStatus};
use crate::transport::{self, TransportError};
use crate::version::ProtocolVersion;

/// Why a request did not produce the typed result asked for.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("TLS: {0}")]
    Tls(rustls::Error),
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    #[error("cannot encode request: {0}")]
    Encode(#[from] ttlv::EncodeError),
    #[error("response is not valid TTLV: {0}")]
    Decode(#[from] ttlv::DecodeError),
    #[error("response is not a valid KMIP message: {0}")]
    Message(#[from] DecodeError),
    /// The server answered the item with a failure.
    #[error("operation failed: {reason}: {message}")]
    Operation {
        status: ResultStatus,
        reason: ResultReason,
        message: String,
    },
    /// The server's answer does not fit the request (wrong operation, missing payload, count mismatch).
    #[error("unexpected response: {0}")]
    UnexpectedResponse(String),
    /// An earlier exchange failed midway (framing, TLS, timeout), so the stream's position is unknown:
    /// connect again.
    #[error("the connection is unusable after an earlier transport failure")]
    ConnectionBroken,
}

/// A connected client. Requests are sent one at a time on one connection (`&mut self`); share it behind a
/// mutex, or open one client per task.
pub struct Client {
    stream: TlsStream<TcpStream>,
    version: ProtocolVersion,
    limits: Limits,
    timeout: Duration,
    broken: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects and completes the mutual-TLS handshake.
    pub async fn connect(config: &ClientConfig) -> Result<Self, ClientError> {
        let connector = TlsConnector::from(Arc::new(config.rustls_config()?));
        let timeout = config.timeout;
        let handshake = async {
            let tcp = TcpStream::connect(&config.address)
                .await
                .map_err(ClientError::Connect)?;
            tcp.set_nodelay(true).map_err(ClientError::Connect)?;
            connector
                .connect(config.server_name.clone(), tcp)
                .await
                .map_err(|e| {
                    match e
                        .get_ref()
                        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                    {
                        Some(tls) => ClientError::Tls(tls.clone()),
                        None => ClientError::Connect(e),
                    }
                })
        };
        let stream = tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| ClientError::Timeout(timeout))??;
        // With TLS 1.3 the server verifies the client certificate after the client's side of the handshake is
        // done, so a refused certificate shows up as an error on the first exchange.
        Ok(Self {
            stream,
            version: config.protocol_version,
            limits: config.limits,
            timeout,
            broken: false,
        })
    }

    /// The protocol version requests are sent in.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// Switches the version later requests are sent in (e.g. after Discover Versions).
    pub fn set_protocol_version(&mut self, version: ProtocolVersion) {
        self.version = version;
    }

    /// Sends one request message and returns the response message as the server sent it.
    pub async fn send(&mut self, request: &RequestMessage) -> Result<ResponseMessage, ClientError> {
        if self.broken {
            return Err(ClientError::ConnectionBroken);
        }
        let bytes = ttlv::binary::encode(&request.to_ttlv())?;
        self.send_encoded(&bytes).await
    }

    /// Sends one request message already encoded as TTLV (a load generator encodes it once and sends it many
    /// times) and returns the response message.
    pub async fn send_encoded(&mut self, bytes: &[u8]) -> Result<ResponseMessage, ClientError> {
        if self.broken {
            return Err(ClientError::ConnectionBroken);
        }
        // Until a whole response has been read, a failure leaves the stream mid-message.
        self.broken = true;
        transport::write_message_timeout(&mut self.stream, bytes, self.timeout).await?;
        let answer =
            transport::read_message_timeout(&mut self.stream, &self.limits, self.timeout).await?;
        self.broken = false;
        let item = ttlv::binary::decode_with(&answer, &self.limits)?;
        Ok(ResponseMessage::from_ttlv(&item)?)
    }

    /// Sends several operations in one message; each result is matched to its request by Unique Batch Item
    /// ID and comes back in request order.
    pub async fn batch(
        &mut self,
        payloads: Vec<RequestPayload>,
    ) -> Result<Vec<Result<ResponsePayload, ClientError>>, ClientError> {
        let items: Vec<_> = payloads
            .into_iter()
            .enumerate()
            .map(|(i, p)| RequestBatchItem::new(p).with_id((i as u32).to_be_bytes().to_vec()))
            .collect();
        let expected: Vec<_> = items.iter().map(|i| i.operation()).collect();
        let response = self.send(&RequestMessage::new(self.version, items)).await?;
        if response.items.len() != expected.len() {
            return Err(ClientError::UnexpectedResponse(format!(
                "sent {} batch items, received {}",
                expected.len(),
                response.items.len()
            )));
        }
        let mut results: Vec<Option<Result<ResponsePayload, ClientError>>> =
            (0..expected.len()).map(|_| None).collect();
        for (position, item) in response.items.into_iter().enumerate() {
            let index = match item.unique_batch_item_id.as_deref() {
                Some(id) => <[u8; 4]>::try_from(id)
                    .map(|b| u32::from_be_bytes(b) as usize)
                    .unwrap_or(usize::MAX),
                None => position,
            };
            let slot = results
                .get_mut(index)
                .filter(|s| s.is_none())
                .ok_or_else(|| {
                    ClientError::UnexpectedResponse(format!(
                        "response item {position} has an unknown batch item id"
                    ))
                })?;
            *slot = Some(outcome(expected[index], item));
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(missing_item())))
            .collect())
    }

    /// Sends one operation and returns its response payload, or the failure the server reported.
    pub async fn call(
        &mut self,
        payload: impl Into<RequestPayload>,
    ) -> Result<ResponsePayload, ClientError> {
        let item = RequestBatchItem::new(payload);
        let expected = item.operation();
        let response = self
            .send(&RequestMessage::new(self.version, vec![item]))
            .await?;
        let mut items = response.items.into_iter();
        match (items.next(), items.next()) {
            (Some(item), None) => outcome(expected, item),
            _ => Err(ClientError::UnexpectedResponse(
                "expected exactly one batch item".into(),
            )),
        }
    }
}

fn missing_item() -> ClientError {
    ClientError::UnexpectedResponse("a batch item got no response".into())
}

/// The payload of a successful item for `expected`, or the failure it reports.
fn outcome(
    expected: Option<OperationCode>,
    item: crate::message::ResponseBatchItem,
) -> Result<ResponsePayload, ClientError> {
    if item.result_status != ResultStatus::Success {
        return Err(ClientError::Operation {
            status: item.result_status,
            reason: item.result_reason.unwrap_or(ResultReason::GeneralFailure),
            message: item.result_message.unwrap_or_default(),
        });
    }
    if item.operation.is_some() && item.operation != expected {
        return Err(ClientError::UnexpectedResponse(format!(
            "asked for {:?}, answered {:?}",
            expected, item.operation
        )));
    }
    match item.payload {
        Some(ResponsePayload::Undecoded(u)) => Err(ClientError::Message(u.error)),
        Some(payload) => Ok(payload),
        None => Err(ClientError::UnexpectedResponse(
            "successful item without a payload".into(),
        )),
    }
}
