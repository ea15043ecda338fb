//! KMIP over TCP + TLS: mutual TLS with client certificates required, strict TTLV framing, timeouts and a
//! connection limit.
//!
//! TLS offers what the KMIP 2.1 profiles ask for that rustls implements: TLS 1.3 with TLS_AES_256_GCM_SHA384 and
//! TLS_AES_128_GCM_SHA256, and TLS 1.2 with the ECDHE-ECDSA and ECDHE-RSA AES-GCM suites. rustls cannot offer the
//! TLS 1.2 RSA-key-exchange CBC suites those profiles also list (TLS_RSA_WITH_AES_256_CBC_SHA256 and friends):
//! rustls implements neither static-RSA key exchange nor CBC, on purpose. Clients limited to those suites cannot
//! connect. The provider is the entropy pool's: rustls' own randomness (hello randoms, ticket keys) and every
//! ephemeral key-exchange secret (X25519MLKEM768 first, then X25519, P-256, P-384) come from the pool, and the
//! server's ECDSA handshake signature is qkms' hedged signer (`crate::tls::signing`); see `entropy::tls`.

pub mod admission;
mod connection;
pub mod responses;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kmip::{RequestMessage, ResponseMessage};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::auth::{AuthError, Authenticator};
use crate::tenant::Caller;
use admission::{HandshakeGate, RequestMemory};

/// Runs one decoded request message for a caller (the server passes [`crate::dispatch::dispatch`] over its state).
/// Called on a blocking thread.
pub type Dispatcher = Arc<dyn Fn(&Caller, RequestMessage) -> ResponseMessage + Send + Sync>;

/// Setting up the listener failed.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("cannot listen on {address}: {error}")]
    Bind {
        address: String,
        error: std::io::Error,
    },
}

/// Framing limits and timeouts every connection runs under.
#[derive(Clone, Debug)]
pub struct ConnectionSettings {
    pub limits: ttlv::Limits,
    pub handshake_timeout: Duration,
    pub read_timeout: Duration,
    pub idle_timeout: Duration,
    pub write_timeout: Duration,
    pub max_connections: usize,
    pub max_handshakes: usize,
    pub max_handshakes_per_address: usize,
    pub max_pending_request_bytes: usize,
}

impl ConnectionSettings {
    pub fn from_config(limits: &crate::config::LimitsConfig) -> Self {
        Self {
            limits: limits.ttlv(),
            handshake_timeout: limits.handshake_timeout(),
            read_timeout: limits.read_timeout(),
            idle_timeout: limits.idle_timeout(),
            write_timeout: limits.write_timeout(),
            max_connections: limits.max_connections,
            max_handshakes: limits.max_handshakes,
            max_handshakes_per_address: limits.max_handshakes_per_address,
            max_pending_request_bytes: limits.max_pending_request_bytes,
        }
    }
}

/// What every connection task shares.
pub struct Shared {
    pub settings: ConnectionSettings,
    pub authenticator: Authenticator,
    pub dispatcher: Dispatcher,
    /// Where requests refused before dispatch (undecodable, no tenant) are recorded.
    pub audit: Arc<crate::audit::AuditLog>,
    /// Messages handled on the blocking pool at once, server-wide (both listeners). Each holds at most its
    /// request and its response budget, so this bounds the memory answers in the making take; messages beyond
    /// it wait their turn (first come, first served) while quick messages keep running on the async workers.
    pub offload_slots: Arc<Semaphore>,
    /// Connections still in their TLS handshake (both listeners): bounded server-wide and per address.
    pub handshakes: Arc<HandshakeGate>,
    /// Memory for requests being read or answered (both listeners).
    pub request_memory: RequestMemory,
    /// Completed handshakes by listener, group and version (both listeners; `/metrics`).
    pub tls_handshakes: Arc<crate::tls::HandshakeCounters>,
}

impl Shared {
    pub fn new(
        settings: ConnectionSettings,
        authenticator: Authenticator,
        dispatcher: Dispatcher,
        audit: Arc<crate::audit::AuditLog>,
    ) -> Self {
        // Most offloaded messages wait for the disk (a Create's flush), not the CPU, and concurrent writers share
        // flushes (group commit): too few slots would shrink those groups (4 slots cost a quarter of the durable
        // Create rate at 16 connections). 16, or four per core, bounds the memory answers in the making can hold
        // to that many messages' request plus response budget.
        let slots = std::thread::available_parallelism().map_or(16, |n| (4 * n.get()).max(16));
        Self {
            handshakes: HandshakeGate::new(
                settings.max_handshakes,
                settings.max_handshakes_per_address,
            ),
            request_memory: RequestMemory::new(settings.max_pending_request_bytes),
            tls_handshakes: Arc::default(),
            settings,
            authenticator,
            dispatcher,
            audit,
            offload_slots: Arc::new(Semaphore::new(slots)),
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("settings", &self.settings)
            .field("authenticator", &self.authenticator)
            .finish_non_exhaustive()
    }
}

/// The TLS 1.3 and TLS 1.2 suites offered (see the module documentation), in preference order.
fn kmip_cipher_suites() -> Vec<rustls::SupportedCipherSuite> {
    use rustls::crypto::ring::cipher_suite as suite;
    vec![
        suite::TLS13_AES_256_GCM_SHA384,
        suite::TLS13_AES_128_GCM_SHA256,
        suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ]
}

/// The rustls server configuration: `provider` (the pool's) restricted to the KMIP suites, TLS 1.3 and 1.2,
/// client certificates required and verified against `client_cas`.
pub fn tls_server_config(
    provider: Arc<CryptoProvider>,
    client_cas: Vec<CertificateDer<'static>>,
    certificate_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<rustls::ServerConfig, ListenerError> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in client_cas {
        roots
            .add(ca)
            .map_err(|e| ListenerError::Tls(format!("invalid client CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(ListenerError::Tls(
            "no client CA certificate configured".into(),
        ));
    }
    let provider = Arc::new(CryptoProvider {
        cipher_suites: kmip_cipher_suites(),
        ..(*provider).clone()
    });
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .map_err(|e| ListenerError::Tls(format!("client certificate verifier: {e}")))?;
    // The handshake signature: qkms' hedged ECDSA over the provider's (the pool's) randomness for EC keys.
    let signing_key = crate::tls::server_signing_key(provider.secure_random, &key)
        .map_err(|e| ListenerError::Tls(format!("server private key: {e}")))?;
    let certified = rustls::sign::CertifiedKey::new(certificate_chain, signing_key);
    certified
        .keys_match()
        .map_err(|e| ListenerError::Tls(format!("server certificate or key: {e}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ListenerError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    // KMIP clients send small messages over long-lived connections; session resumption is not worth the
    // ticket-key state.
    config.send_tls13_tickets = 0;
    Ok(config)
}

/// Accepts connections on `listener` until `shutdown` turns true, then waits (bounded) for open connections to end.
/// A new connection first needs a handshake ticket (see [`admission`]); without one it is closed at once. Only
/// after its handshake does it take one of the `max_connections` slots (none free: closed).
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let slots = Arc::new(Semaphore::new(shared.settings.max_connections));
    accept_loop(&listener, &acceptor, &slots, &shared, &mut shutdown).await;
    drop(listener);
    // Open connections see the shutdown at their next idle wait; wait (bounded) until they have all ended, so
    // that the state they hold (the store) is released when this returns.
    let all = u32::try_from(shared.settings.max_connections).unwrap_or(u32::MAX);
    let drain = shared.settings.read_timeout + shared.settings.write_timeout;
    if tokio::time::timeout(drain, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
}

async fn accept_loop(
    listener: &TcpListener,
    acceptor: &TlsAcceptor,
    slots: &Arc<Semaphore>,
    shared: &Arc<Shared>,
    shutdown: &mut watch::Receiver<bool>,
) {
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let Some(ticket) = shared.handshakes.admit(peer.ip()) else {
            tracing::debug!(%peer, "no handshake ticket (server-wide or per-address limit): closing");
            continue;
        };
        let acceptor = acceptor.clone();
        let shared = Arc::clone(shared);
        let slots = Arc::clone(slots);
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            handle(tcp, peer, ticket, acceptor, slots, shared, shutdown).await;
        });
    }
}

async fn handle(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    ticket: admission::HandshakeTicket,
    acceptor: TlsAcceptor,
    slots: Arc<Semaphore>,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    // Responses are written whole: Nagle would only delay them.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
    }
    let stream =
        match tokio::time::timeout(shared.settings.handshake_timeout, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::info!(%peer, %error, "TLS handshake refused");
                return;
            }
            Err(_) => {
                tracing::info!(%peer, "TLS handshake timed out");
                return;
            }
        };
    drop(ticket);
    shared
        .tls_handshakes
        .record(crate::tls::TlsListener::Ttlv, stream.get_ref().1);
    let Ok(_slot) = slots.try_acquire_owned() else {
        tracing::warn!(%peer, max = shared.settings.max_connections, "connection limit reached: closing");
        return;
    };
    let caller = match stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(<[_]>::first)
    {
        Some(leaf) => shared.authenticator.identify(leaf),
        None => Err(AuthError::NoCertificate),
    };
    match &caller {
        Ok(caller) => {
            tracing::debug!(%peer, tenant = %caller.tenant, role = ?caller.role, "client connected")
        }
        Err(error) => {
            tracing::warn!(%peer, %error, "client certificate names no tenant: requests will be refused")
        }
    }
    connection::serve_connection(stream, caller, shared, peer.to_string(), shutdown).await;
}

/// Binds `address` (use port 0 for any free port).
pub async fn bind(address: &str) -> Result<TcpListener, ListenerError> {
    TcpListener::bind(address)
        .await
        .map_err(|error| ListenerError::Bind {
            address: address.to_owned(),
            error,
        })
}
