//! Reaching the database: the connection settings, the pool (deadpool-postgres), TLS through rustls with the
//! server's entropy-backed crypto provider, and the bridge from the synchronous [`ObjectStore`] calls to the async
//! client.
//!
//! Why a runtime of its own: handlers call the store synchronously (from the server's blocking pool, or inline on
//! a listener worker for a quick message such as Get, whose wait for the database then first hands the worker's
//! other connections to another thread: `blocking_wait`), and tokio refuses to block on one of its futures inside
//! its own runtime. A small dedicated runtime owns the connections' tasks, timers and I/O; the calling thread
//! polls its statement's future itself in that runtime's context, parked while waiting (as it waits for a disk
//! flush with sled).
//!
//! [`ObjectStore`]: crate::store::ObjectStore

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;
use zeroize::Zeroizing;

use super::cache_options::CacheOptions;
use super::durability::Durability;
use super::retry::{Failure, Kind, RetryPolicy};
use crate::store::StoreError;

/// How to reach the database (from `[store]`, see the configuration template).
#[derive(Clone)]
pub struct PostgresOptions {
    /// A libpq-style URL or key=value string: host, port, user, database (`postgresql://qkms@db:5432/qkms`).
    pub url: String,
    /// The password, when not in the URL (read from `[store] password_file`).
    pub password: Option<Zeroizing<String>>,
    /// Connections kept open at most (one more while the object cache is on, for its watcher). Default 16.
    pub pool_size: usize,
    /// PEM file of the CA(s) that sign the database server's certificate: TLS is then required and the server's
    /// name checked. `None`: no TLS (only for a database on the same host or a private network).
    pub tls_ca_file: Option<PathBuf>,
    /// Connecting (TCP, TLS and authentication) and waiting for a pooled connection each give up after this.
    /// Default 5 s.
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// The node's object cache (size, poll interval, lease; see `cache_coherence`).
    pub object_cache: CacheOptions,
}

impl fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &redacted_url(&self.url))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("pool_size", &self.pool_size)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("object_cache", &self.object_cache)
            .finish_non_exhaustive()
    }
}

impl PostgresOptions {
    /// Options with the defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            password: None,
            pool_size: 16,
            tls_ca_file: None,
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            object_cache: CacheOptions::default(),
        }
    }

    /// Where the database is, for messages (never the password).
    pub fn describe(&self) -> String {
        redacted_url(&self.url)
    }
}

/// The URL with any password replaced (a URL may carry one; logs and errors never do).
pub fn redacted_url(url: &str) -> String {
    match tokio_postgres::Config::from_str(url) {
        Ok(config) => {
            let hosts: Vec<String> = config
                .get_hosts()
                .iter()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(name) => name.clone(),
                    tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                })
                .collect();
            let port = config.get_ports().first().copied().unwrap_or(5432);
            format!(
                "postgresql://{}@{}:{port}/{}",
                config.get_user().unwrap_or(""),
                hosts.join(","),
                config.get_dbname().unwrap_or("")
            )
        }
        Err(_) => "<unparsable database URL>".into(),
    }
}

/// The pool and the runtime its connections live on.
pub(super) struct Connection {
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    retry: RetryPolicy,
    describe: String,
    /// Since when and why the database could not be reached (cleared by the next success): `/health`.
    unreachable: Arc<Mutex<Option<(SystemTime, String)>>>,
    /// Which object writes committed without their WAL flush are durable by now (store and audit table).
    pub(super) durability: Durability,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("database", &self.describe)
            .field("status", &self.pool.status())
            .finish_non_exhaustive()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // A runtime dropped on an async thread would panic; this returns at once wherever it runs.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn config_error(options: &PostgresOptions, what: impl fmt::Display) -> StoreError {
    StoreError::Config(format!("[store] url {}: {what}", options.describe()))
}

fn tls_connector(
    options: &PostgresOptions,
    ca_file: &std::path::Path,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    let certificates = kmip::client::certificates_from_file(ca_file).map_err(|e| {
        StoreError::Config(format!("[store] tls_ca_file {}: {e}", ca_file.display()))
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates {
        roots.add(certificate).map_err(|e| {
            StoreError::Config(format!("[store] tls_ca_file {}: {e}", ca_file.display()))
        })?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(options, e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl Connection {
    /// Builds the pool (no connection is made yet: [`Self::run`] makes them on demand).
    pub(super) fn new(
        options: &PostgresOptions,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, StoreError> {
        let mut config =
            tokio_postgres::Config::from_str(&options.url).map_err(|e| config_error(options, e))?;
        if let Some(password) = &options.password {
            config.password(password.as_bytes());
        }
        config.connect_timeout(options.connect_timeout);
        config.application_name("qkms-server");
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &options.tls_ca_file {
            Some(ca_file) => {
                config.ssl_mode(SslMode::Require);
                Manager::from_config(
                    config,
                    tls_connector(options, ca_file, provider)?,
                    manager_config,
                )
            }
            None => {
                config.ssl_mode(SslMode::Disable);
                Manager::from_config(config, tokio_postgres::NoTls, manager_config)
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("qkms-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io(format!("cannot start the database runtime: {e}")))?;
        let pool = Pool::builder(manager)
            // One more for the object cache's watcher, which keeps a connection of its own.
            .max_size(options.pool_size.max(1) + usize::from(options.object_cache.bytes > 0))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| config_error(options, e))?;
        Ok(Self {
            runtime: Some(runtime),
            pool,
            retry: options.retry,
            describe: options.describe(),
            unreachable: Arc::default(),
            durability: Durability::default(),
        })
    }

    /// Since when and why the database is unreachable; `None` while the last operation reached it.
    pub(super) fn unreachable(&self) -> Option<(SystemTime, String)> {
        self.unreachable
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Where the database is (no password).
    pub(super) fn describe(&self) -> &str {
        &self.describe
    }

    /// Runs `attempt` on a pooled connection, again (on a new connection, after a backoff) while it fails with a
    /// retryable failure, at most the policy's number of attempts. `attempt` is given the attempt number (0 for
    /// the first): a retry after a lost connection may find its own earlier write already applied.
    pub(super) fn run<T, F, Fut>(&self, attempt: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(Object, u32) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Failure>> + Send,
    {
        let pool = self.pool.clone();
        let retry = self.retry;
        let unreachable = Arc::clone(&self.unreachable);
        let note = move |state: Option<String>| {
            let mut slot = unreachable.lock().unwrap_or_else(PoisonError::into_inner);
            match state {
                None => *slot = None,
                Some(cause) => {
                    let since = slot
                        .as_ref()
                        .map_or_else(SystemTime::now, |(since, _)| *since);
                    *slot = Some((since, cause));
                }
            }
        };
        self.block_on(async move {
            let started = tokio::time::Instant::now();
            let mut made = 0u32;
            loop {
                let result = match pool.get().await {
                    Ok(client) => attempt(client, made).await,
                    Err(e) => Err(Failure::from(e)),
                };
                made += 1;
                match result {
                    Ok(value) => {
                        note(None);
                        return Ok(value);
                    }
                    Err(failure) => {
                        let kind = failure.kind();
                        let out_of_time =
                            started.elapsed() + retry.delay_after(made) >= retry.budget;
                        if kind == Kind::Final || made >= retry.attempts.max(1) || out_of_time {
                            let error = failure.into_store_error(made);
                            if kind == Kind::Connection {
                                note(Some(error.to_string()));
                            }
                            return Err(error);
                        }
                        tracing::debug!(?kind, attempt = made, "database operation retried");
                        tokio::time::sleep(retry.delay_after(made)).await;
                    }
                }
            }
        })
    }

    /// The pool, for a task that keeps one connection of its own (the object cache's watcher).
    pub(super) fn pool(&self) -> Pool {
        self.pool.clone()
    }

    /// The database runtime, to spawn a task on (the object cache's watcher).
    pub(super) fn handle(&self) -> Option<tokio::runtime::Handle> {
        self.runtime.as_ref().map(|r| r.handle().clone())
    }

    /// Runs `attempt` once on a pooled connection, giving up after `limit`: for best-effort steps that must not
    /// hold anything up (a node leaving).
    pub(super) fn run_once<T, F, Fut>(&self, limit: Duration, attempt: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Failure>> + Send,
    {
        let pool = self.pool.clone();
        self.block_on(async move {
            let work = async move { attempt(pool.get().await?).await };
            match tokio::time::timeout(limit, work).await {
                Ok(result) => result.map_err(|failure| failure.into_store_error(1)),
                Err(_) => Err(StoreError::Database(format!(
                    "no answer from the database within {} ms",
                    limit.as_millis()
                ))),
            }
        })
    }

    /// Runs `future` on this thread, in the database runtime's context (its timers, its I/O driver and its
    /// tasks: the connections' tasks run there), parking the thread between polls. The calling thread does the
    /// work itself rather than handing it to the runtime and waiting for an answer: that saves two thread
    /// wake-ups per statement, a third of a Get's server time on two cores.
    fn block_on<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| StoreError::Io("the database runtime is shut down".into()))?;
        // Called on a listener worker (a quick message answered inline, when its row was not cached), the wait
        // first hands the worker's other connections to another thread.
        crate::blocking_wait::off_the_async_workers(|| {
            let _context = runtime.enter();
            park_on(future)
        })
    }
}

/// Wakes the thread that waits in [`park_on`].
struct ThreadWaker(std::thread::Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` to completion on the current thread, parked while it is pending.
fn park_on<F: Future>(future: F) -> F::Output {
    let waker = std::task::Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}
