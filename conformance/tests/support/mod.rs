// Shared by several test binaries, each using a different part.
#![allow(dead_code)]

//! A real `qkms-server` for end-to-end tests: built by cargo if needed, initialised with `--init` into a temp
//! directory, listening on a free loopback port, killed when dropped.
//!
//! The binary is spawned rather than linked so that these tests exercise exactly what operators run.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    /// Holds the set-up; removed on drop.
    _dir: tempfile::TempDir,
    /// `DIR` of `qkms-server --init DIR`.
    pub init_dir: PathBuf,
    pub config: PathBuf,
    pub address: String,
    pub port: u16,
    /// The HTTPS listener (`[https]`, enabled on a free loopback port) the MSGENC cases run over.
    pub https_address: String,
    log: PathBuf,
}

/// The directory cargo puts this profile's binaries in (`target/debug`), from this test's own path
/// (`target/debug/deps/<test>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binaries live in <target>/<profile>/deps")
        .to_owned()
}

/// Builds (if stale) and returns the `qkms-server` binary of this workspace and profile.
pub fn server_binary() -> PathBuf {
    binary("kms-server", "qkms-server")
}

/// Builds (if stale) and returns the `qkms` command-line binary of this workspace and profile.
pub fn cli_binary() -> PathBuf {
    binary("qkms-cli", "qkms")
}

/// Builds (if stale) and returns binary `bin` of workspace package `package`, this profile.
fn binary(package: &str, bin: &str) -> PathBuf {
    let profile_dir = profile_dir();
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "--quiet", "-p", package, "--bin", bin])
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
        "cargo build -p {package} --bin {bin} failed"
    );
    let binary = profile_dir.join(bin);
    assert!(
        binary.exists(),
        "{} missing after the build",
        binary.display()
    );
    binary
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener
        .local_addr()
        .expect("bound listener has an address")
        .port()
}

impl Server {
    pub fn start() -> Self {
        Self::start_with(|_, _| {})
    }

    /// Like [`Server::start`]; `prepare` runs between `--init` and the start, given the set-up directory and its
    /// parsed `qkms.toml` to change (e.g. to move the store to PostgreSQL).
    pub fn start_with(prepare: impl FnOnce(&Path, &mut toml::Table)) -> Self {
        let binary = server_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let init_dir = dir.path().join("qkms");
        let init = Command::new(&binary)
            .arg("--init")
            .arg(&init_dir)
            .output()
            .expect("qkms-server --init runs");
        assert!(
            init.status.success(),
            "qkms-server --init failed: {}{}",
            String::from_utf8_lossy(&init.stdout),
            String::from_utf8_lossy(&init.stderr)
        );
        let config = init_dir.join("qkms.toml");
        let https_address = format!("127.0.0.1:{}", free_port());
        enable_https(&config, &https_address);
        edit_config(&config, |table| prepare(&init_dir, table));
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let log = dir.path().join("server.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(&binary)
            .arg("--config")
            .arg(&config)
            .arg("--listen")
            .arg(&address)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .expect("qkms-server starts");
        let mut server = Self {
            child,
            _dir: dir,
            init_dir,
            config,
            address,
            port,
            https_address,
            log,
        };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!(
                    "qkms-server exited with {status} before listening:\n{}",
                    self.log_text()
                );
            }
            if TcpStream::connect(&self.address).is_ok()
                && TcpStream::connect(&self.https_address).is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "qkms-server did not listen on {} within 60 s:\n{}",
                self.address,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the server wrote to stdout and stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pki(&self, file: &str) -> PathBuf {
        self.init_dir.join("pki").join(file)
    }
}

/// Rewrites the TOML file `config` after `edit`.
fn edit_config(config: &Path, edit: impl FnOnce(&mut toml::Table)) {
    let text = std::fs::read_to_string(config).expect("the configuration --init wrote");
    let mut table: toml::Table = text.parse().expect("--init writes valid TOML");
    edit(&mut table);
    std::fs::write(config, toml::to_string(&table).expect("TOML"))
        .expect("rewrite the configuration");
}

/// Turns on the HTTPS listener of the configuration `--init` wrote, on `address`.
fn enable_https(config: &Path, address: &str) {
    edit_config(config, |table| {
        let https = table
            .entry("https")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .expect("[https] is a table");
        https.insert("enabled".into(), toml::Value::Boolean(true));
        https.insert("listen".into(), toml::Value::String(address.to_owned()));
    });
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `qkms store migrate` of the set-up in `init_dir` into the PostgreSQL database at `url` (password in
/// `password_file`, TLS with `ca_file`), and its `[store]` (in `table`) pointed there.
pub fn move_store_to_postgres(
    init_dir: &Path,
    table: &mut toml::Table,
    url: &str,
    password_file: &Path,
    ca_file: &Path,
) {
    let output = Command::new(cli_binary())
        .args(["store", "migrate", "--from"])
        .arg(init_dir.join("qkms.toml"))
        .args(["--to-postgres", url, "--password-file"])
        .arg(password_file)
        .arg("--tls-ca-file")
        .arg(ca_file)
        .output()
        .expect("qkms store migrate runs");
    assert!(
        output.status.success(),
        "qkms store migrate: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let store = table
        .get_mut("store")
        .and_then(toml::Value::as_table_mut)
        .expect("[store]");
    store.insert("kind".into(), "postgres".into());
    store.insert("url".into(), url.into());
    store.insert(
        "password_file".into(),
        password_file.display().to_string().into(),
    );
    store.insert("tls_ca_file".into(), ca_file.display().to_string().into());
}
