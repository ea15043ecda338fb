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

pub fn module_path() -> PathBuf {
    let path = target_dir().join("libqkms_pkcs11.so");
    assert!(
        path.exists(),
        "{} is missing: cargo test builds it with the crate",
        path.display()
    );
    path
}

pub struct TestServer {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl TestServer {
    pub fn start() -> Self {
        let binary = target_dir().join("qkms-server");
        assert!(
            binary.exists(),
            "{} is missing: build it first with `cargo build -p kms-server --bin qkms-server`",
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
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(&binary)
            .arg("--config")
            .arg(dir.path().join("qkms.toml"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Self { child, dir, port };
        server.wait_listening();
        server.point_config_at_port();
        server
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
