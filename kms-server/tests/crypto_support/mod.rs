//! Shared helpers of the `crypto_*` integration tests: a pool, a scratch directory, and the independent
//! implementations we cross-check against (the `openssl` CLI and Python's `cryptography`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use entropy::{EntropyConfig, EntropyPool};

pub fn pool() -> EntropyPool {
    EntropyPool::new(EntropyConfig::default())
        .expect("the default pool (OS fallback source) starts")
}

pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write scratch file");
        path
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read scratch file")
    }
}

fn checked(output: Output, what: &str) -> Output {
    assert!(
        output.status.success(),
        "{what} failed: {}\nstdout: {}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    output
}

/// Runs `openssl` with `args`; panics (with its stderr) unless it succeeds. Returns stdout.
pub fn openssl(args: &[&str]) -> Vec<u8> {
    openssl_status(args)
        .map_err(|stderr| panic!("openssl {args:?} failed: {stderr}"))
        .unwrap()
}

/// Runs `openssl` with `args`: stdout on success, stderr on failure.
pub fn openssl_status(args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl CLI is installed");
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Runs a Python 3 script (which imports `cryptography`) with hex arguments; returns its trimmed stdout.
pub fn python(script: &str, args: &[&str]) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is installed");
    let output = checked(output, "python3 script");
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}
