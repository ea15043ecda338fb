//! Runs one real PKCS#11 client against a real server: the client's script `tests/clients/<name>.sh` gets the
//! module's path and a work directory, with `QKMS_PKCS11_CONFIG` and the PIN in its environment. A missing
//! program fails the test with the package to install; nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;

/// Longest a client script may run before it is stopped (it talks to a local server: seconds are normal).
#[allow(dead_code)] // each test binary uses its own part of the harness
const SCRIPT_TIME_LIMIT: &str = "600";

/// Fails unless every `(program, package)` is on PATH.
pub fn require_programs(programs: &[(&str, &str)]) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for (program, package) in programs {
        let found = std::env::split_paths(&path).any(|dir| dir.join(program).is_file());
        assert!(
            found,
            "{program} is missing: run .ci/run to install {package}"
        );
    }
}

/// Fails unless every `(file, package)` exists (plug-ins such as OpenSSL providers and engines).
#[allow(dead_code)] // each test binary uses its own part of the harness
pub fn require_files(files: &[(&str, &str)]) {
    for (file, package) in files {
        assert!(
            Path::new(file).is_file(),
            "{file} is missing: run .ci/run to install {package}"
        );
    }
}

/// Starts a server, runs `tests/clients/<name>.sh MODULE WORKDIR` and asserts that it reached its end.
#[allow(dead_code)] // each test binary uses its own part of the harness
pub fn run_client_script(name: &str) {
    let module = common::module_path();
    let server = common::TestServer::start();
    let work = server.path().join(format!("client-{name}"));
    std::fs::create_dir_all(&work).unwrap();
    let script: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(format!("{name}.sh"));
    let output = Command::new("timeout")
        .arg(SCRIPT_TIME_LIMIT)
        .arg("bash")
        .arg(&script)
        .arg(&module)
        .arg(&work)
        .env("QKMS_PKCS11_CONFIG", server.config_path())
        .env("QKMS_PIN", server.pin())
        .env("QKMS_PKCS11_DEBUG", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let server_log = std::fs::read_to_string(server.path().join("server.log")).unwrap_or_default();
    let server_tail: String = server_log
        .lines()
        .rev()
        .take(30)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        output.status.success() && stdout.contains("all steps passed"),
        "{name}.sh failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- server log (end)\n{server_tail}",
        output.status
    );
}
