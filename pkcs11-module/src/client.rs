//! A blocking KMIP client: rustls over std sockets, 8-byte TTLV header framing, a small pool of idle
//! connections, reconnect on failure. No runtime and no thread: every exchange runs on the caller's thread.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use kmip::client::ClientError;
use kmip::message::{
    Authentication, Credential, RequestBatchItem, RequestMessage, ResponseMessage, UsernamePassword,
};
use kmip::payloads::{RequestPayload, ResponsePayload, SecretText};
use kmip::{ProtocolVersion, ResultReason, ResultStatus};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use ttlv::Limits;
use zeroize::Zeroizing;

use crate::config::{Identity, ModuleConfig};
use crate::error::{Pkcs11Error, Result};
use crate::tls_random::InlineTlsRandom;

/// The KMIP version requests are sent in (Sensitive/Extractable exist from 2.1).
pub const PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion::V2_1;

type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// The process's TLS generator (see [`crate::tls_random`]); it re-seeds itself after fork(). rustls' protocol
/// randomness and the ephemeral secrets of every key-exchange group (X25519MLKEM768 first; `entropy::tls`) come
/// from it.
fn tls_provider() -> Result<Arc<CryptoProvider>> {
    static RANDOM: OnceLock<std::result::Result<InlineTlsRandom, String>> = OnceLock::new();
    let random = RANDOM
        .get_or_init(|| {
            InlineTlsRandom::new(entropy::EntropyConfig::default()).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Pkcs11Error::Config(format!("entropy: {e}")))?;
    Ok(Arc::new(entropy::tls::provider_with_random(random)))
}

/// One token's way to the server.
pub struct ServerLink {
    tls: Arc<rustls::ClientConfig>,
    address: String,
    server_name: ServerName<'static>,
    timeout: Duration,
    limits: Limits,
    pool_size: usize,
    idle: Mutex<Vec<TlsStream>>,
    /// The user PIN every request carries after C_Login (`user_pin = "server"`).
    pin: RwLock<Option<Zeroizing<String>>>,
    /// The connection holding this process's session-object lease, never pooled (see [`Self::call_on_lease`]).
    lease: Mutex<Option<TlsStream>>,
}

/// The Username of the user-PIN credential (PKCS#11's CKU_USER).
const PIN_USERNAME: &str = "user";

/// What a request's header presents to the server.
#[derive(Clone, Copy)]
pub enum Presenting<'a> {
    /// The logged-in user's PIN, if any (every ordinary call).
    Session,
    /// This PIN (C_Login's check).
    Pin(&'a str),
    /// A Username without a Password: asks for the PIN's status without trying one.
    StatusProbe,
}

impl std::fmt::Debug for Presenting<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Session => "Session",
            Self::Pin(_) => "Pin([REDACTED])",
            Self::StatusProbe => "StatusProbe",
        })
    }
}

impl std::fmt::Debug for ServerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerLink")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl ServerLink {
    pub fn new(config: &ModuleConfig, identity: &Identity) -> Result<Self> {
        let client_config = kmip::client::ClientConfig::new(
            config.server.clone(),
            &config.server_name,
            config.ca_certificates.clone(),
            identity.certificates.clone(),
            identity.private_key(),
            tls_provider()?,
        )?;
        Ok(Self {
            tls: Arc::new(client_config.rustls_config()?),
            address: config.server.clone(),
            server_name: client_config.server_name.clone(),
            timeout: config.timeout,
            limits: Limits::default(),
            pool_size: config.pool_size,
            idle: Mutex::new(Vec::new()),
            pin: RwLock::new(None),
            lease: Mutex::new(None),
        })
    }

    /// Sends one operation and returns its payload or the server's failure. A pooled connection that turns out
    /// dead is dropped and, for an operation that changes nothing on the server, the request is sent once more
    /// on a fresh one. A changing operation (Create, Destroy...) is not re-sent: the server may have carried it
    /// out before the connection broke, and a second Create would leave a key behind that nobody knows of.
    pub fn call(&self, payload: impl Into<RequestPayload>) -> Result<ResponsePayload> {
        self.call_presenting(payload, Presenting::Session)
    }

    /// Sets (C_Login) or clears (C_Logout) the PIN every request carries.
    pub fn set_pin(&self, pin: Option<Zeroizing<String>>) {
        if let Ok(mut slot) = self.pin.write() {
            *slot = pin;
        }
    }

    /// As [`Self::call`], with the request header presenting `presenting`.
    pub fn call_presenting(
        &self,
        payload: impl Into<RequestPayload>,
        presenting: Presenting<'_>,
    ) -> Result<ResponsePayload> {
        let item = RequestBatchItem::new(payload);
        let expected = item.operation();
        let mut message = RequestMessage::new(PROTOCOL_VERSION, vec![item]);
        let credential = |password: Option<&str>| {
            Some(Authentication {
                credentials: vec![Credential::UsernamePassword(UsernamePassword {
                    username: PIN_USERNAME.to_owned(),
                    password: password.map(SecretText::new),
                })],
            })
        };
        message.header.authentication = match presenting {
            Presenting::Session => match self.pin.read() {
                Ok(pin) => pin.as_deref().and_then(|pin| credential(Some(pin))),
                Err(_) => None,
            },
            Presenting::Pin(pin) => credential(Some(pin)),
            Presenting::StatusProbe => credential(None),
        };
        // The encoded request holds the PIN: erased once sent.
        let bytes =
            Zeroizing::new(ttlv::binary::encode(&message.to_ttlv()).map_err(ClientError::from)?);
        drop(message);
        let answer = self.send_pooled(&bytes, expected)?;
        self.payload_of(&answer, expected)
    }

    /// Sends a request carrying the session PIN over the lease connection: the one connection this process keeps
    /// open to hold its session objects' lease (kms-server `session_lease`). Never re-sent: if that connection
    /// broke, the server has destroyed the lease's objects.
    pub fn call_on_lease(&self, payload: impl Into<RequestPayload>) -> Result<ResponsePayload> {
        let item = RequestBatchItem::new(payload);
        let expected = item.operation();
        let mut message = RequestMessage::new(PROTOCOL_VERSION, vec![item]);
        if let Ok(pin) = self.pin.read() {
            if let Some(pin) = pin.as_deref() {
                message.header.authentication = Some(Authentication {
                    credentials: vec![Credential::UsernamePassword(UsernamePassword {
                        username: PIN_USERNAME.to_owned(),
                        password: Some(SecretText::new(pin)),
                    })],
                });
            }
        }
        let bytes =
            Zeroizing::new(ttlv::binary::encode(&message.to_ttlv()).map_err(ClientError::from)?);
        drop(message);
        let mut lease = self
            .lease
            .lock()
            .map_err(|_| Pkcs11Error::Unexpected("lease connection lock poisoned".into()))?;
        if lease.is_none() {
            *lease = Some(self.connect()?);
        }
        let stream = lease
            .as_mut()
            .ok_or_else(|| Pkcs11Error::Unexpected("no lease connection".into()))?;
        let answer = match self.exchange(stream, &bytes) {
            Ok(answer) => answer,
            Err(error) => {
                *lease = None;
                return Err(error.into());
            }
        };
        drop(lease);
        self.payload_of(&answer, expected)
    }

    /// Closes the lease connection (C_Finalize): the server then destroys this process's session objects.
    pub fn close_lease(&self) {
        if let Ok(mut lease) = self.lease.lock() {
            *lease = None;
        }
    }

    /// Sends on a pooled connection (see [`Self::call`] for when a request is re-sent).
    fn send_pooled(&self, bytes: &[u8], expected: Option<kmip::OperationCode>) -> Result<Vec<u8>> {
        let pooled = self.take_idle();
        let reused = pooled.is_some();
        let mut stream = match pooled {
            Some(stream) => stream,
            None => self.connect()?,
        };
        let answer = match self.exchange(&mut stream, bytes) {
            Ok(answer) => answer,
            Err(_) if reused && safe_to_resend(expected) => {
                stream = self.connect()?;
                self.exchange(&mut stream, bytes)?
            }
            Err(error) => return Err(error.into()),
        };
        self.put_idle(stream);
        Ok(answer)
    }

    /// The payload of a one-item answer, or the server's failure.
    fn payload_of(
        &self,
        answer: &[u8],
        expected: Option<kmip::OperationCode>,
    ) -> Result<ResponsePayload> {
        let item = ttlv::binary::decode_with(answer, &self.limits).map_err(ClientError::from)?;
        let response = ResponseMessage::from_ttlv(&item).map_err(ClientError::from)?;
        let mut items = response.items.into_iter();
        let item = match (items.next(), items.next()) {
            (Some(item), None) => item,
            _ => {
                return Err(Pkcs11Error::Unexpected(
                    "expected exactly one batch item".into(),
                ))
            }
        };
        if item.result_status != ResultStatus::Success {
            return Err(Pkcs11Error::Server {
                reason: item.result_reason.unwrap_or(ResultReason::GeneralFailure),
                message: item.result_message.unwrap_or_default(),
            });
        }
        if item.operation.is_some() && item.operation != expected {
            return Err(Pkcs11Error::Unexpected(format!(
                "asked for {expected:?}, answered {:?}",
                item.operation
            )));
        }
        match item.payload {
            Some(ResponsePayload::Undecoded(u)) => {
                Err(Pkcs11Error::Unexpected(u.error.to_string()))
            }
            Some(payload) => Ok(payload),
            None => Err(Pkcs11Error::Unexpected(
                "successful item without a payload".into(),
            )),
        }
    }

    /// Drops every idle connection and the lease connection (after fork: their descriptors only, so the
    /// parent's connections stay open).
    pub fn close_idle(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
        self.close_lease();
    }

    /// A pooled connection the server has not closed meanwhile (dead ones are dropped here, before any request
    /// is sent on them).
    fn take_idle(&self) -> Option<TlsStream> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(stream) = idle.pop() {
            if still_open(&stream) {
                return Some(stream);
            }
        }
        None
    }

    fn put_idle(&self, stream: TlsStream) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.pool_size {
                idle.push(stream);
            }
        }
    }

    fn connect(&self) -> Result<TlsStream> {
        let addresses: Vec<_> = self
            .address
            .to_socket_addrs()
            .map_err(|e| Pkcs11Error::Device(format!("{}: {e}", self.address)))?
            .collect();
        let mut last = None;
        for address in addresses {
            match TcpStream::connect_timeout(&address, self.timeout) {
                Ok(tcp) => {
                    let io = |e: std::io::Error| Pkcs11Error::Device(e.to_string());
                    tcp.set_nodelay(true).map_err(io)?;
                    tcp.set_read_timeout(Some(self.timeout)).map_err(io)?;
                    tcp.set_write_timeout(Some(self.timeout)).map_err(io)?;
                    let connection =
                        ClientConnection::new(self.tls.clone(), self.server_name.clone())
                            .map_err(ClientError::Tls)?;
                    let mut stream = StreamOwned::new(connection, tcp);
                    while stream.conn.is_handshaking() {
                        stream
                            .conn
                            .complete_io(&mut stream.sock)
                            .map_err(|e| Pkcs11Error::Device(format!("TLS handshake: {e}")))?;
                    }
                    return Ok(stream);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(Pkcs11Error::Device(format!(
            "cannot connect to {}: {}",
            self.address,
            last.map(|e| e.to_string())
                .unwrap_or_else(|| "no address".into())
        )))
    }

    fn exchange(
        &self,
        stream: &mut TlsStream,
        request: &[u8],
    ) -> std::result::Result<Vec<u8>, ClientError> {
        let io = |e: std::io::Error| ClientError::Transport(e.into());
        stream.write_all(request).map_err(io)?;
        stream.flush().map_err(io)?;
        let mut header = [0u8; 8];
        stream.read_exact(&mut header).map_err(io)?;
        let total = ttlv::binary::message_length_with(&header, &self.limits)?;
        let mut message = vec![0u8; total];
        message[..8].copy_from_slice(&header);
        stream.read_exact(&mut message[8..]).map_err(io)?;
        Ok(message)
    }
}

/// Whether a pooled connection is still open. Between messages the server sends nothing, so anything readable
/// (a TLS close_notify, or EOF) means the server closed it, typically after its idle timeout.
fn still_open(stream: &TlsStream) -> bool {
    let socket = &stream.sock;
    if socket.set_nonblocking(true).is_err() {
        return false;
    }
    let mut probe = [0u8; 1];
    let idle =
        matches!(socket.peek(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    socket.set_nonblocking(false).is_ok() && idle
}

/// Operations whose repetition changes nothing on the server beyond usage counters.
fn safe_to_resend(operation: Option<kmip::OperationCode>) -> bool {
    use kmip::{Operation, OperationCode};
    matches!(
        operation,
        Some(OperationCode::Known(
            Operation::Get
                | Operation::GetAttributes
                | Operation::GetAttributeList
                | Operation::Locate
                | Operation::Query
                | Operation::DiscoverVersions
                | Operation::Check
                | Operation::RngRetrieve
                | Operation::Sign
                | Operation::SignatureVerify
                | Operation::Encrypt
                | Operation::Decrypt
                | Operation::Mac
                | Operation::MacVerify
                | Operation::Hash
        ))
    )
}
