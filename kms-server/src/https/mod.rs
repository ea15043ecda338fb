//! The HTTPS listener (`[https]`): KMIP over HTTPS in the TTLV, XML and JSON encodings (KMIP Profiles 2.1
//! §6.3-6.5) at `POST /kmip`, plus `GET /health`, `GET /metrics` and the operators' `POST
//! /v1/entropy/sources/{id}/reset`.
//!
//! It shares everything with the TTLV listener except the framing: the rustls configuration (the entropy pool's
//! provider, the KMIP suites, client certificates required and verified against `[tls] ca_files`), the tenant
//! mapping (`auth.rs`), the limits and timeouts of `[limits]`, and the dispatcher. HTTP/1.1 only (ALPN
//! `http/1.1`): KMIP clients send one request at a time, and HTTP/2 would add a second framing to harden for
//! nothing. A connection may carry many requests (keep-alive); one waiting longer than `[limits]
//! read_timeout_secs` for the next request's headers is closed.

mod eaas_endpoints;
mod encoding;
mod entropy_reset;
pub mod health;
mod hsm_metrics;
mod kmip_endpoint;
mod metrics;
mod routes;
mod tls_metrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use entropy::EntropyPool;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use encoding::{MessageEncoding, SUPPORTED_CONTENT_TYPES};
pub use metrics::Metrics;
pub use tls_metrics::TlsMetricsSource;

use crate::audit::AuditLog;
use crate::auth::AuthError;
use crate::config::HttpsConfig;
use crate::listener::{self, ListenerError, Shared};
use crate::store::StoreHealth;
use crate::tenant::Caller;
use crate::usage::UsageMeter;

/// What every HTTPS connection shares.
#[derive(Debug)]
pub struct HttpsShared {
    /// The TTLV listener's settings, authenticator and dispatcher.
    pub connection: Arc<Shared>,
    pub metrics: Arc<Metrics>,
    /// For `/health` and `/metrics`.
    pub entropy: EntropyPool,
    /// Per-tenant usage, for `/metrics`.
    pub usage: Arc<UsageMeter>,
    /// For the records of operator actions (entropy source resets).
    pub audit: Arc<AuditLog>,
    /// For `/health`: whether the store's disk is full or its database unreachable.
    pub store: Arc<dyn StoreHealth>,
    /// Entropy as a service (`/v1/random`, `/v1/usage`), or why it is not served (disabled, no signing key).
    pub eaas: Result<Arc<crate::eaas::EaasService>, String>,
}

/// One connection's view: the shared parts and who the client certificate names.
#[derive(Debug)]
pub struct ConnectionContext {
    pub shared: Arc<HttpsShared>,
    pub caller: Result<Caller, AuthError>,
}

/// A configured HTTPS listener, not yet bound.
#[derive(Debug)]
pub struct HttpsListener {
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<HttpsShared>,
    listen: String,
}

/// A bound HTTPS listener serving in a background task.
#[derive(Debug)]
pub struct RunningHttps {
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RunningHttps {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits for the accept loop (stopped by the shutdown signal given to [`HttpsListener::start`]).
    pub async fn join(self) {
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the HTTPS accept loop ended abnormally");
        }
    }
}

impl HttpsListener {
    /// The listener `[https]` describes, or `None` when it is disabled. `tls` is the TTLV listener's
    /// configuration; only its ALPN list differs here.
    // Each argument is a shared part some route needs; one call site (`Server::build`).
    #[allow(clippy::too_many_arguments)]
    pub fn from_config(
        config: &HttpsConfig,
        tls: &rustls::ServerConfig,
        connection: Arc<Shared>,
        metrics: Arc<Metrics>,
        entropy: EntropyPool,
        usage: Arc<UsageMeter>,
        audit: Arc<AuditLog>,
        store: Arc<dyn StoreHealth>,
        eaas: Result<Arc<crate::eaas::EaasService>, String>,
    ) -> Option<Self> {
        if !config.enabled {
            return None;
        }
        let mut tls = tls.clone();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Some(Self {
            tls: Arc::new(tls),
            shared: Arc::new(HttpsShared {
                connection,
                metrics,
                entropy,
                usage,
                audit,
                store,
                eaas,
            }),
            listen: config.listen.clone(),
        })
    }

    /// Binds the configured address (port 0 picks a free port) and serves until `shutdown` turns true.
    pub async fn start(
        self,
        shutdown: watch::Receiver<bool>,
    ) -> Result<RunningHttps, ListenerError> {
        let tcp = listener::bind(&self.listen).await?;
        let local_addr = tcp.local_addr().map_err(|error| ListenerError::Bind {
            address: self.listen.clone(),
            error,
        })?;
        tracing::info!(%local_addr, "listening for KMIP over HTTPS, /health and /metrics (client certificates required)");
        let task = tokio::spawn(serve(tcp, self.tls, self.shared, shutdown));
        Ok(RunningHttps { local_addr, task })
    }
}

/// Starts `listener` if there is one.
pub async fn start(
    listener: Option<HttpsListener>,
    shutdown: watch::Receiver<bool>,
) -> Result<Option<RunningHttps>, ListenerError> {
    match listener {
        Some(listener) => Ok(Some(listener.start(shutdown).await?)),
        None => Ok(None),
    }
}

/// An HTTP error with a plain-text reason, counted in the metrics.
pub(crate) fn refuse(metrics: &Metrics, status: StatusCode, reason: String) -> Response {
    metrics.refused(status.as_u16());
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        format!("{reason}\n"),
    )
        .into_response()
}

async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<HttpsShared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let settings = &shared.connection.settings;
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let router = routes::router();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "HTTPS accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        // The same admission as the TTLV listener (listener::admission): a handshake ticket first, shared
        // between both listeners; a connection slot only once authenticated.
        let Some(ticket) = shared.connection.handshakes.admit(peer.ip()) else {
            tracing::debug!(%peer, "HTTPS: no handshake ticket (server-wide or per-address limit): closing");
            continue;
        };
        let acceptor = acceptor.clone();
        let shared = Arc::clone(&shared);
        let router = router.clone();
        let shutdown = shutdown.clone();
        let slots = Arc::clone(&slots);
        tokio::spawn(async move {
            handle(tcp, peer, ticket, acceptor, slots, shared, router, shutdown).await;
        });
    }
    drop(listener);
    let all = u32::try_from(settings.max_connections).unwrap_or(u32::MAX);
    let drain = settings.read_timeout + settings.write_timeout;
    if tokio::time::timeout(drain, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("HTTPS connections still open after the shutdown grace period");
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    ticket: crate::listener::admission::HandshakeTicket,
    acceptor: TlsAcceptor,
    slots: Arc<Semaphore>,
    shared: Arc<HttpsShared>,
    router: Router<Arc<ConnectionContext>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let settings = &shared.connection.settings;
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
    }
    let stream = match tokio::time::timeout(settings.handshake_timeout, acceptor.accept(tcp)).await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::info!(%peer, %error, "HTTPS TLS handshake refused");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "HTTPS TLS handshake timed out");
            return;
        }
    };
    drop(ticket);
    shared
        .connection
        .tls_handshakes
        .record(crate::tls::TlsListener::Https, stream.get_ref().1);
    let Ok(_slot) = slots.try_acquire_owned() else {
        tracing::warn!(%peer, "HTTPS connection limit reached: closing");
        return;
    };
    let caller = match stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(<[_]>::first)
    {
        Some(leaf) => shared.connection.authenticator.identify(leaf),
        None => Err(AuthError::NoCertificate),
    };
    if let Err(error) = &caller {
        tracing::warn!(%peer, %error, "HTTPS client certificate names no tenant: requests will be refused");
    }
    let _open = shared.metrics.open_connection();
    let context = Arc::new(ConnectionContext {
        shared: Arc::clone(&shared),
        caller,
    });
    let service = TowerToHyperService::new(router.with_state(context));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.read_timeout);
    let connection = http.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "HTTPS connection ended with an error");
            }
        }
        // The watch guard must not live across the drain below (it is not Send).
        () = async { let _ = shutdown.wait_for(|stopping| *stopping).await; } => {
            connection.as_mut().graceful_shutdown();
            let drain = settings.read_timeout + settings.write_timeout;
            if let Ok(Err(error)) = tokio::time::timeout(drain, connection).await {
                tracing::debug!(%peer, %error, "HTTPS connection ended with an error during shutdown");
            }
        }
    }
}
