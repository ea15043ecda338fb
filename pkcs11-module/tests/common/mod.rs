//! A real `qkms-server` for the module's end-to-end tests: `--init` into a temp dir, served on a free
//! loopback port, with `pkcs11.toml` pointed at that port.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `target/debug` (or the profile directory the tests were built in).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// Runs `cargo build` for `args` in this workspace and profile (a no-op when up to date): `cargo test` builds the
/// crate as an rlib for its tests, not the `.so`, and builds another package's binary only when asked.
fn cargo_build(args: &[&str]) {
    let target = target_dir();
    let mut build = Command::new(env!("CARGO"));
    build
        .arg("build")
        .arg("--quiet")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if target.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    if let Some(root) = target.parent() {
        build.arg("--target-dir").arg(root);
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "cargo build {args:?} failed");
}

#[allow(dead_code)] // each test binary uses its own part of the harness
pub fn module_path() -> PathBuf {
    cargo_build(&["-p", "pkcs11-module", "--lib"]);
    let path = target_dir().join("libqkms_pkcs11.so");
    assert!(path.exists(), "{} missing after the build", path.display());
    path
}

pub struct TestServer {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl TestServer {
    pub fn start() -> Self {
        cargo_build(&["-p", "kms-server", "--bin", "qkms-server"]);
        let binary = target_dir().join("qkms-server");
        assert!(
            binary.exists(),
            "{} missing after the build",
            binary.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let init = Command::new(&binary)
            .arg("--init")
            .arg(dir.path())
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "--init failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = free_port();
        let child = spawn_server(dir.path(), port);
        let server = Self { child, dir, port };
        server.wait_listening();
        server.point_config_at_port();
        server
    }

    /// Kills the server (SIGKILL), as a crash or a network loss looks to the module.
    #[allow(dead_code)] // each test binary uses its own part of the harness
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same store, configuration and port.
    #[allow(dead_code)] // each test binary uses its own part of the harness
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn_server(self.dir.path(), self.port);
        self.wait_listening();
    }

    fn wait_listening(&self) {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "server did not listen; log:\n{}",
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn point_config_at_port(&self) {
        let path = self.config_path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text: String = text
            .lines()
            .map(|line| {
                if line.starts_with("server = ") {
                    format!("server = \"127.0.0.1:{}\"\n", self.port)
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        std::fs::write(&path, text).unwrap();
    }

    /// The `pkcs11.toml` that `--init` wrote.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("pkcs11.toml")
    }

    #[allow(dead_code)] // each test binary uses its own part of the harness
    pub fn pin(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pkcs11.pin")).unwrap()
    }

    #[allow(dead_code)] // each test binary uses its own part of the harness
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(dir: &Path, port: u16) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    Command::new(target_dir().join("qkms-server"))
        .arg("--config")
        .arg(dir.join("qkms.toml"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[allow(dead_code)] // each test binary uses its own part of the harness
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs a Python snippet (with `cryptography`) and returns its stdout, hex-decoded.
#[allow(dead_code)]
pub fn python(code: &str) -> Vec<u8> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sys\nfrom cryptography.hazmat.primitives import hashes, hmac, keywrap, padding\n\
             from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n\
             from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n\
             from cryptography.hazmat.primitives.asymmetric import rsa, padding as apad\n\
             h = bytes.fromhex\n{code}"
        ))
        .output()
        .expect("python3 runs (pip install cryptography)");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    (0..text.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text.trim()[i..i + 2], 16).unwrap())
        .collect()
}
