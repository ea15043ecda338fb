//! A real qkms server for integration tests: `--init` into a temp dir, then serve on 127.0.0.1:0 with real TLS.
//!
//! ```ignore
//! mod common;
//! let server = common::TestServer::start().await;
//! let mut client = server.connect().await;                 // tenant "default", KMIP 2.1
//! let other = server.issue_client("tenant-b");              // a second tenant's bundle
//! let mut b = server.connect_as(&other, ProtocolVersion::V1_4).await;
//! ```
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use kmip::client::{certificates_from_file, private_key_from_file, Client, ClientConfig};
use kmip::{ProtocolVersion, ResponseMessage};
use kms_server::config::Config;
use kms_server::pki::files::ClientBundle;
use kms_server::server::{RunningServer, Server};
use kms_server::setup::{self, InitOptions};
use kms_server::store::Argon2Params;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A running server and the set-up it runs from.
pub struct TestServer {
    /// Where the server listens (a free loopback port).
    pub addr: SocketAddr,
    /// The configuration as loaded (paths absolute under `dir`).
    pub config: Config,
    /// The client bundle `--init` made (tenant "default").
    pub client: ClientBundle,
    running: Option<RunningServer>,
    /// The set-up directory (`qkms.toml`, `pki/`, `store/`, `root.pass`); removed on drop.
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// `--init` with test-cheap argon2 parameters, then serve.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestServer::start`], letting `edit` change the configuration `--init` writes (limits, auth...).
    pub async fn start_with(edit: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut base = Config::default();
        base.server.listen = "127.0.0.1:0".into();
        base.store.argon2 = Argon2Params::insecure_for_tests();
        edit(&mut base);
        let options = InitOptions {
            host_names: base.tls.host_names.clone(),
            base,
        };
        let report = setup::init(dir.path(), &options).expect("--init");
        let config = Config::load(&report.config_file).expect("load the written configuration");
        let running = Server::build(&config)
            .expect("build the server")
            .start(None)
            .await
            .expect("start the server");
        Self {
            addr: running.local_addr(),
            config,
            client: report.client,
            running: Some(running),
            dir,
        }
    }

    pub fn running(&self) -> &RunningServer {
        self.running.as_ref().expect("the server is running")
    }

    /// The set-up's `qkms.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join(setup::CONFIG_FILE)
    }

    /// Stops the server and starts it again from the same directory (same store), on a new port.
    pub async fn restart(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
        let running = Server::build(&self.config)
            .expect("rebuild the server")
            .start(None)
            .await
            .expect("restart the server");
        self.addr = running.local_addr();
        self.running = Some(running);
    }

    /// Stops accepting connections.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// `qkms-server issue-client NAME`: a bundle for tenant `name` under `dir/clients/NAME`.
    pub fn issue_client(&self, name: &str) -> ClientBundle {
        let out = self.dir.path().join("clients").join(name);
        setup::issue_client(&self.config, name, &out)
            .expect("issue-client")
            .bundle
    }

    /// A client configuration for `bundle` against this server (server name "localhost").
    pub fn client_config_for(
        &self,
        bundle: &ClientBundle,
        version: ProtocolVersion,
    ) -> ClientConfig {
        ClientConfig::new(
            self.addr.to_string(),
            "localhost",
            certificates_from_file(&bundle.ca).expect("CA certificate"),
            certificates_from_file(&bundle.certificate).expect("client certificate"),
            private_key_from_file(&bundle.key).expect("client key"),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .expect("client configuration")
        .with_protocol_version(version)
    }

    /// The default client's configuration, KMIP 2.1.
    pub fn client_config(&self) -> ClientConfig {
        self.client_config_for(&self.client, ProtocolVersion::V2_1)
    }

    /// A connected client as tenant "default", KMIP 2.1.
    pub async fn connect(&self) -> Client {
        Client::connect(&self.client_config())
            .await
            .expect("connect")
    }

    /// A connected client for `bundle` speaking `version`.
    pub async fn connect_as(&self, bundle: &ClientBundle, version: ProtocolVersion) -> Client {
        Client::connect(&self.client_config_for(bundle, version))
            .await
            .expect("connect")
    }

    /// A raw mutual-TLS stream as tenant "default", for sending hand-made bytes.
    pub async fn connect_raw(&self) -> TlsStream<TcpStream> {
        let config = self
            .client_config()
            .rustls_config()
            .expect("rustls configuration");
        connect_tls(self.addr, Arc::new(config))
            .await
            .expect("TLS handshake")
    }
}

/// A TLS connection to `addr` (server name "localhost") with `config`.
pub async fn connect_tls(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("valid name");
    let mut stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?;
    // TLS 1.3 reports a refused client certificate only after the handshake: make it surface here.
    use tokio::io::AsyncWriteExt;
    stream.flush().await?;
    Ok(stream)
}

/// Reads one response message; `None` when the server closed the connection instead.
pub async fn read_response(stream: &mut TlsStream<TcpStream>) -> Option<ResponseMessage> {
    let limits = ttlv::Limits::default();
    let timeout = std::time::Duration::from_secs(10);
    let bytes = kmip::transport::read_message_timeout(stream, &limits, timeout)
        .await
        .ok()?;
    let item = ttlv::binary::decode(&bytes).expect("the server sends valid TTLV");
    Some(ResponseMessage::from_ttlv(&item).expect("the server sends valid response messages"))
}

/// Whether the server closed the connection (EOF or reset) within a few seconds.
pub async fn is_closed(stream: &mut TlsStream<TcpStream>) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1];
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}
