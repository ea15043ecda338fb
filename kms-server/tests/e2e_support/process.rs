//! The `qkms-server` binary as operators run it: a set-up directory made by `--init`'s library half, a child
//! process serving it on a free loopback port, killed (SIGKILL) on demand or when dropped.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kmip::client::{certificates_from_file, private_key_from_file, Client, ClientConfig};
use kmip::ProtocolVersion;
use kms_server::config::Config;
use kms_server::pki::files::ClientBundle;
use kms_server::setup::{self, InitOptions};
use kms_server::store::Argon2Params;

/// The server binary cargo built for this test run.
pub const SERVER_BIN: &str = env!("CARGO_BIN_EXE_qkms-server");

/// How long a server may take to start listening (argon2 is cheap in tests; the machine may be loaded).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// An initialised set-up directory: `qkms.toml`, `pki/`, `root.pass`, `store/`, `audit.log`.
pub struct SetUp {
    /// Removed on drop.
    pub dir: tempfile::TempDir,
    pub config_file: PathBuf,
    /// The configuration as loaded from `config_file` (absolute paths).
    pub config: Config,
    /// Tenant "default"'s bundle.
    pub client: ClientBundle,
}

impl SetUp {
    /// `--init` with test-cheap argon2 parameters.
    pub fn init() -> Self {
        Self::init_with(|_| {})
    }

    /// Like [`SetUp::init`], letting `edit` change the configuration that `--init` writes.
    pub fn init_with(edit: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut base = Config::default();
        base.store.argon2 = Argon2Params::insecure_for_tests();
        edit(&mut base);
        let options = InitOptions {
            host_names: base.tls.host_names.clone(),
            base,
        };
        let report = setup::init(dir.path(), &options).expect("--init");
        let config = Config::load(&report.config_file).expect("load the written configuration");
        Self {
            dir,
            config_file: report.config_file,
            config,
            client: report.client,
        }
    }

    /// Rewrites `qkms.toml` after `edit` (the next server started reads it).
    pub fn rewrite_config(&mut self, edit: impl FnOnce(&mut Config)) {
        edit(&mut self.config);
        let text = self
            .config
            .documented_toml()
            .expect("the configuration renders");
        std::fs::write(&self.config_file, text).expect("write qkms.toml");
        self.config = Config::load(&self.config_file).expect("the rewritten configuration loads");
    }

    /// `qkms-server issue-client NAME --out DIR/clients/NAME --config DIR/qkms.toml`, run as the binary.
    pub fn issue_client(&self, name: &str) -> ClientBundle {
        let out = self.dir.path().join("clients").join(name);
        let output = Command::new(SERVER_BIN)
            .args(["issue-client", name, "--out"])
            .arg(&out)
            .arg("--config")
            .arg(&self.config_file)
            .output()
            .expect("qkms-server issue-client runs");
        assert!(
            output.status.success(),
            "issue-client failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        ClientBundle::in_dir(&out)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A `qkms-server --config ... --listen 127.0.0.1:PORT` child process.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

/// A loopback address (`127.0.0.1:PORT`) nobody listens on right now, e.g. for `[https] listen`.
pub fn free_loopback_address() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("bound").port()
}

impl ServerProcess {
    /// Starts the binary on `setup` and waits until it listens; `Err` holds its log when it exits first.
    pub fn start(setup: &SetUp) -> Result<Self, String> {
        Self::start_with_log(setup, "server")
    }

    /// Like [`ServerProcess::start`]; the log goes to `DIR/NAME.log`.
    pub fn start_with_log(setup: &SetUp, name: &str) -> Result<Self, String> {
        Self::start_from(&setup.config_file, setup.path().join(format!("{name}.log")))
    }

    /// Starts the binary on the configuration file `config_file` (one node of several sharing a database has
    /// its own), logging to `log`.
    pub fn start_from(config_file: &Path, log: PathBuf) -> Result<Self, String> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("a socket address");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(SERVER_BIN)
            .arg("--config")
            .arg(config_file)
            .arg("--listen")
            .arg(addr.to_string())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .expect("qkms-server starts");
        let mut server = Self { child, addr, log };
        server.wait_until_listening()?;
        Ok(server)
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.log().contains("listening for KMIP over TLS") {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait().expect("child status") {
                return Err(format!("qkms-server exited ({status}):\n{}", self.log()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "qkms-server did not listen within {START_TIMEOUT:?}:\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait for a clean exit (SIGKILL after 20 s); returns whether the exit was clean.
    pub fn stop(mut self) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(sent.success(), "SIGTERM the server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// SIGKILL: no shutdown code runs, nothing is flushed.
    pub fn sigkill(mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }

    /// The server's resident set size in KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status of a running server");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in kB")
    }

    /// A client configuration for `bundle` against this server.
    pub fn client_config(&self, bundle: &ClientBundle, version: ProtocolVersion) -> ClientConfig {
        client_config(self.addr, bundle, version)
    }

    /// A connected client for `bundle` speaking KMIP 2.1.
    pub async fn connect(&self, bundle: &ClientBundle) -> Client {
        Client::connect(&self.client_config(bundle, ProtocolVersion::V2_1))
            .await
            .expect("connect")
    }

    /// A client for `bundle` speaking `version`, or why it could not connect.
    pub async fn connect_as_version(
        &self,
        bundle: &ClientBundle,
        version: ProtocolVersion,
    ) -> Result<Client, kmip::client::ClientError> {
        Client::connect(&self.client_config(bundle, version)).await
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Already reaped after `sigkill`; otherwise make sure no server outlives its test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client configuration for `bundle` against `addr` (server name "localhost").
pub fn client_config(
    addr: SocketAddr,
    bundle: &ClientBundle,
    version: ProtocolVersion,
) -> ClientConfig {
    ClientConfig::new(
        addr.to_string(),
        "localhost",
        certificates_from_file(&bundle.ca).expect("CA certificate"),
        certificates_from_file(&bundle.certificate).expect("client certificate"),
        private_key_from_file(&bundle.key).expect("client key"),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .expect("client configuration")
    .with_protocol_version(version)
}

/// The directory cargo puts this profile's binaries in, from the server binary's path.
fn profile_dir() -> PathBuf {
    Path::new(SERVER_BIN)
        .parent()
        .expect("binaries live in <target>/<profile>")
        .to_owned()
}

/// Builds (if stale) and returns the `qkms` command-line binary of this workspace and profile.
pub fn qkms_binary() -> PathBuf {
    let profile_dir = profile_dir();
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "--quiet", "-p", "qkms-cli", "--bin", "qkms"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    if let Some(target) = profile_dir.parent() {
        build.arg("--target-dir").arg(target);
    }
    let status = build.status().expect("cargo runs");
    assert!(
        status.success(),
        "cargo build -p qkms-cli --bin qkms failed"
    );
    let binary = profile_dir.join("qkms");
    assert!(
        binary.exists(),
        "{} missing after the build",
        binary.display()
    );
    binary
}
