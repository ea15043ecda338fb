//! Assembling a server from its configuration: entropy pool, store, audit log, TLS, authentication, listener.
//!
//! In-process use (tests, benchmarks):
//! ```no_run
//! # async fn demo() -> Result<(), kms_server::server::ServerError> {
//! let config = kms_server::config::Config::load("qkms-data/qkms.toml".as_ref())?;
//! let running = kms_server::server::Server::build(&config)?.start(Some("127.0.0.1:0")).await?;
//! println!("serving on {}", running.local_addr());
//! running.shutdown().await;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use entropy::EntropyPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::Authenticator;
use crate::config::{Config, ConfigError};
use crate::listener::{self, ConnectionSettings, Dispatcher, ListenerError, Shared};
use crate::state::{ServerSettings, ServerState};
use crate::store::StoreError;

mod open_store;
use open_store::{open_object_store, usage_meter};

/// The server could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("entropy: {0}")]
    Entropy(#[from] entropy::EntropyError),
    #[error("store {path}: {error}")]
    Store { path: String, error: StoreError },
    #[error("audit log: {0}")]
    Audit(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Listener(#[from] ListenerError),
}

/// A server ready to listen.
#[derive(Debug)]
pub struct Server {
    state: Arc<ServerState>,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    listen: String,
    /// `[https]`, when enabled.
    https: Option<crate::https::HttpsListener>,
    /// The HSM of `[root_key]` (custody and/or seeding) and its seeding thread, kept for the server's lifetime.
    hsm: Option<(Arc<hsm_bridge::Hsm>, Option<hsm_bridge::Seeder>)>,
    /// Entropy as a service, when served (its state is flushed periodically and at shutdown).
    eaas: Option<Arc<crate::eaas::EaasService>>,
    /// A node sharing a database: its node-local files, held for the server's lifetime.
    node_lock: Option<crate::node_lock::NodeLock>,
}

impl Server {
    /// Opens the entropy pool, the store (root key from the passphrase file or the HSM, see `root_custody`) and the
    /// audit log, starts seeding the HSM if one is named, and loads the
    /// TLS material. Nothing listens yet.
    pub fn build(config: &Config) -> Result<Self, ServerError> {
        config.validate()?;
        let mut entropy_config = config.entropy.clone();
        // The pool's persisted instantiation counter lives in the data directory, beside the store.
        entropy_config
            .state_file
            .get_or_insert_with(|| config.store.path.with_file_name(ENTROPY_STATE_FILE));
        // `[hsm.rng]`: the HSM joins the pool's sources, so it is connected first (and that connection serves
        // custody, seeding and held keys too).
        let rng_hsm = crate::root_custody::rng_source_hsm(config)?;
        let entropy = match &rng_hsm {
            Some(hsm) => crate::root_custody::pool_with_hsm_source(config, entropy_config, hsm)?,
            None => EntropyPool::new(entropy_config)?,
        };
        log_entropy(&entropy);

        crate::setup::warn_about_exposed_secrets(config);
        let node_lock = match config.store.kind {
            crate::config::StoreKind::Postgres => Some(crate::node_lock::acquire(config).map_err(
                |e| ServerError::Store {
                    path: crate::store::postgres::redacted_url(&config.store.url),
                    error: StoreError::Config(e.to_string()),
                },
            )?),
            crate::config::StoreKind::Sled => None,
        };
        let hsm_slot = Arc::new(std::sync::Mutex::new(rng_hsm));
        let (store, health, pg_store) = open_object_store(config, &entropy, &hsm_slot)?;
        // Nodes on PostgreSQL share their usage counters, PINs and EaaS metering through the database.
        let database = pg_store.as_ref().map(|store| store.database());
        let connected = hsm_slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let hsm = crate::root_custody::hsm_for_seeding(config, connected);
        let seeder = hsm
            .as_ref()
            .and_then(|hsm| crate::root_custody::start_seeding(config, hsm, &entropy));
        let key_hsm = crate::managed::hsm_held::key_holding_hsm(config, hsm.as_ref())?;
        let audit = open_audit(config, pg_store.as_deref())?;

        let provider = entropy.rustls_provider_with(config.tls.on_entropy_failure);
        let mut client_cas = Vec::new();
        for ca_file in &config.tls.ca_files {
            client_cas.extend(read_certificates(ca_file)?);
        }
        let chain = read_certificates(&config.tls.certificate)?;
        let key = kmip::client::private_key_from_file(&config.tls.key).map_err(|e| {
            ServerError::File {
                path: config.tls.key.display().to_string(),
                message: e.to_string(),
            }
        })?;
        let tls = listener::tls_server_config(provider, client_cas, chain, key)?;

        let state = Arc::new(ServerState {
            store,
            entropy,
            audit: Arc::new(audit),
            usage: Arc::new(usage_meter(database.as_ref())?),
            settings: ServerSettings {
                vendor_identification: config.server.vendor_identification.clone(),
                max_rng_retrieve: config.server.max_rng_retrieve,
                max_batch_items: config.limits.max_batch_items,
                max_response_bytes: config.limits.max_response_bytes,
                key_hsm,
                generate_held_keys: config.hsm.generate_held_keys,
            },
        });
        // PIN-guarded tenants (the PKCS#11 user PIN): the check runs in front of the dispatcher. Their records
        // are in user-pins.json, or in the database the nodes share.
        let pins =
            crate::user_pin::open(config, &state.entropy, database.as_ref()).map_err(|e| {
                ServerError::File {
                    path: match &database {
                        Some(database) => database.describe().to_owned(),
                        None => crate::user_pin::file_of(config).display().to_string(),
                    },
                    message: e.to_string(),
                }
            })?;
        let dispatcher: Dispatcher = crate::user_pin::guarded(Arc::new(pins), Arc::clone(&state));
        // PKCS#11 session objects: destroyed when the connection holding their lease ends (and, for those an
        // earlier run left, here, before anything is served).
        let janitor = crate::session_lease::Janitor::open(
            &crate::session_lease::journal_of(&config.store.path),
            Arc::clone(&state.store),
            Arc::clone(&state.audit),
        )
        .map_err(|message| ServerError::File {
            path: crate::session_lease::journal_of(&config.store.path)
                .display()
                .to_string(),
            message,
        })?;
        let dispatcher = crate::session_lease::leasing(janitor, dispatcher);
        let metrics = Arc::new(crate::https::Metrics::default());
        if let Some(hsm) = &hsm {
            metrics.watch_hsm(Arc::clone(hsm));
        }
        let dispatcher = crate::https::Metrics::counting(&metrics, dispatcher);
        let connection_settings = ConnectionSettings::from_config(&config.limits);
        let shared = Arc::new(Shared::new(
            connection_settings,
            Authenticator::new(&config.auth)?,
            dispatcher,
            Arc::clone(&state.audit),
        ));
        metrics.watch_tls(crate::https::TlsMetricsSource {
            handshakes: Arc::clone(&shared.tls_handshakes),
            randomness: state.entropy.tls_randomness(config.tls.on_entropy_failure),
        });
        let eaas = open_eaas(config, &state, database.as_ref());
        let eaas_service = eaas.as_ref().ok().cloned();
        let https = crate::https::HttpsListener::from_config(
            &config.https,
            &tls,
            Arc::clone(&shared),
            metrics,
            state.entropy.clone(),
            Arc::clone(&state.usage),
            Arc::clone(&state.audit),
            health,
            eaas,
        );
        Ok(Self {
            eaas: eaas_service,
            state,
            tls: Arc::new(tls),
            shared,
            listen: config.server.listen.clone(),
            https,
            hsm: hsm.map(|hsm| (hsm, seeder)),
            node_lock,
        })
    }

    /// The state handlers run against (store, pool, audit, settings).
    pub fn state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// Binds `listen` (or the configured address; port 0 picks a free port) and serves in a background task of
    /// the current tokio runtime.
    pub async fn start(self, listen: Option<&str>) -> Result<RunningServer, ServerError> {
        let address = listen.unwrap_or(&self.listen);
        let tcp = listener::bind(address).await?;
        let local_addr = tcp.local_addr().map_err(|error| ListenerError::Bind {
            address: address.to_owned(),
            error,
        })?;
        tracing::info!(%local_addr, "listening for KMIP over TLS (client certificates required)");
        let (shutdown, receiver) = watch::channel(false);
        let https = crate::https::start(self.https, receiver.clone()).await?;
        tokio::spawn(sync_audit_periodically(
            Arc::clone(&self.state.audit),
            receiver.clone(),
        ));
        let usage_flush = self.state.usage.is_shared().then(|| {
            tokio::spawn(Arc::clone(&self.state.usage).flush_periodically(receiver.clone()))
        });
        let eaas_flush = self.eaas.map(|eaas| {
            tokio::spawn(Arc::clone(&eaas).run_beacon(receiver.clone()));
            tokio::spawn(eaas.flush_periodically(receiver.clone()))
        });
        let task = tokio::spawn(listener::serve(tcp, self.tls, self.shared, receiver));
        Ok(RunningServer {
            eaas_flush,
            usage_flush,
            local_addr,
            shutdown,
            task,
            state: self.state,
            https,
            hsm: self.hsm,
            _node_lock: self.node_lock,
        })
    }
}

/// A server accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    state: Arc<ServerState>,
    https: Option<crate::https::RunningHttps>,
    hsm: Option<(Arc<hsm_bridge::Hsm>, Option<hsm_bridge::Seeder>)>,
    eaas_flush: Option<JoinHandle<()>>,
    /// Adds the usage counters to the shared database (nodes on PostgreSQL).
    usage_flush: Option<JoinHandle<()>>,
    /// Held, never read: released when the server is dropped or shut down.
    _node_lock: Option<crate::node_lock::NodeLock>,
}

impl RunningServer {
    /// The HSM of `[root_key]`, when one is connected (custody or seeding).
    pub fn hsm(&self) -> Option<&Arc<hsm_bridge::Hsm>> {
        self.hsm.as_ref().map(|(hsm, _)| hsm)
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// The bound HTTPS address, when `[https]` is enabled.
    pub fn https_local_addr(&self) -> Option<SocketAddr> {
        self.https
            .as_ref()
            .map(crate::https::RunningHttps::local_addr)
    }

    /// Stops accepting connections (open connections finish their current exchange in their own tasks).
    pub async fn shutdown(self) {
        // The receiver lives in the accept task; if it is already gone, the task has ended anyway.
        let _ = self.shutdown.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the accept loop ended abnormally");
        }
        if let Some(https) = self.https {
            https.join().await;
        }
        if let Some(flush) = self.eaas_flush {
            // The flush task writes the chain head and usage once more when it sees the shutdown signal.
            let _ = flush.await;
        }
        if let Some(flush) = self.usage_flush {
            // The last counts reach the database before shutdown ends.
            let _ = flush.await;
        }
        // Records still queued (refusals, reads since the last periodic sync) reach the log before the process
        // ends: synced for the file log, committed for a log in the database.
        let audit = Arc::clone(&self.state.audit);
        match tokio::task::spawn_blocking(move || audit.wait_durable()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(%error, "audit log: the last records could not be made durable")
            }
            Err(error) => tracing::error!(%error, "audit log: the final sync task failed"),
        }
    }
}

/// Entropy as a service, or why it is not served: `[eaas] enabled = false`, the HTTPS listener off, or the
/// signing key missing (a set-up made before `--init` wrote one: the server still starts, and `/v1/random`
/// answers 503 with this reason).
fn open_eaas(
    config: &Config,
    state: &Arc<ServerState>,
    database: Option<&crate::store::postgres::Database>,
) -> Result<Arc<crate::eaas::EaasService>, String> {
    if !config.eaas.enabled || !config.https.enabled {
        return Err(
            "entropy as a service is disabled on this server ([eaas] enabled = false)".into(),
        );
    }
    // Nodes sharing a database meter through it, so quotas hold across them.
    let ledger = database.map(|database| {
        Box::new(database.quota_ledger()) as Box<dyn crate::eaas::usage::QuotaLedger>
    });
    match crate::eaas::EaasService::open(&config.eaas, Arc::clone(state), ledger) {
        Ok(service) => {
            tracing::info!(
                node = service.node(),
                "serving entropy as a service: GET /v1/random, GET /v1/usage"
            );
            Ok(Arc::new(service))
        }
        Err(error) => {
            tracing::warn!(%error, "entropy as a service is not served");
            Err(format!(
                "entropy as a service is not available on this server: {error}"
            ))
        }
    }
}

/// How often the audit records of read-only messages (which do not wait for a sync, see `dispatch`) are synced
/// (and, for a log in the database, how often its claim's heartbeat is considered).
const AUDIT_SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);

/// Syncs the audit log every [`AUDIT_SYNC_INTERVAL`] until shutdown, so read-only messages' records reach the disk
/// soon without each read paying an `fdatasync` (their records are already in the kernel's page cache, which a
/// crash of the server process does not lose).
async fn sync_audit_periodically(
    audit: Arc<crate::audit::AuditLog>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(AUDIT_SYNC_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.changed() => break,
        }
        let audit = Arc::clone(&audit);
        match tokio::task::spawn_blocking(move || audit.tick()).await {
            Ok(Ok(())) => {}
            // The audit log's health state logs when a failure starts and ends (and /health shows it).
            Ok(Err(error)) => tracing::debug!(%error, "audit log sync failed"),
            Err(error) => tracing::error!(%error, "audit log sync task failed"),
        }
    }
}

/// The entropy pool's state file (its persisted instantiation counter), in the data directory.
pub const ENTROPY_STATE_FILE: &str = "entropy.state";

/// Says at start-up where randomness comes from, from what actually seeded (the OS fallback named as such).
fn log_entropy(pool: &EntropyPool) {
    let status = pool.status();
    if status.os_fallback {
        tracing::warn!("entropy: OS getrandom fallback (NOT quantum); configure [[entropy.sources]] for a QRNG");
    } else {
        for source in &status.sources {
            tracing::info!(
                id = %source.id,
                kind = ?source.kind,
                quantum_device = source.quantum,
                credited = source.credited,
                min_entropy_per_sample = source.min_entropy_per_sample,
                "entropy source configured"
            );
        }
    }
    // Seed now so a broken source shows at start-up; the server still starts (Get keeps working, Create and
    // RNG Retrieve fail closed until the pool recovers).
    let mut probe = [0u8; 32];
    if let Err(error) = pool.fill(&mut probe) {
        tracing::error!(%error, "entropy pool cannot seed: key generation and RNG Retrieve will fail until it can");
    }
    let status = pool.status();
    if status.quantum_now {
        tracing::info!(summary = %status.summary, "entropy: quantum-seeded now");
    } else {
        tracing::warn!(summary = %status.summary, "entropy: NOT quantum-seeded now");
    }
}

/// The audit log of this set-up (`[audit]`), its chain continued: in files, or with a PostgreSQL store this
/// node's chain in the database (`[audit] node_id`, default from the listen address).
fn open_audit(
    config: &Config,
    database: Option<&crate::store::postgres::PgStore>,
) -> Result<crate::audit::AuditLog, ServerError> {
    match database {
        Some(store) => {
            let node_id = config.audit.node_id(&config.server.listen);
            let spool = crate::audit::spool_dir_of(&config.store.path);
            let spool = (config.audit.answer_reads_after
                == crate::config::ReadsAnsweredAfter::Spooled)
                .then_some(spool.as_path());
            crate::audit::AuditLog::open_in_database(store, &node_id, spool)
        }
        None => crate::audit::AuditLog::open_with(&config.audit.path, config.audit.options()),
    }
    .map_err(|error| ServerError::Audit(error.to_string()))
}

fn read_certificates(
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, ServerError> {
    kmip::client::certificates_from_file(path).map_err(|e| ServerError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}
