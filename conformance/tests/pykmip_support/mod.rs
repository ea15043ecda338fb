//! Runs one of the PyKMIP client scripts in `tests/pykmip/` against a real server at one KMIP version. PyKMIP
//! (PyPI `pykmip` 0.11.0, which brings `cryptography`) must be installed: `.ci/run` installs it, and a missing
//! package fails the test with the command that installs it; nothing is skipped.

use std::path::Path;
use std::process::Command;

use crate::support::Server;

/// Fails unless python3 can import the `kmip` (PyKMIP) and `cryptography` packages.
pub fn require_pykmip() {
    let out = Command::new("python3")
        .args(["-c", "import kmip, cryptography"])
        .output()
        .unwrap_or_else(|e| panic!("python3 is not runnable: {e}"));
    assert!(
        out.status.success(),
        "PyKMIP is not installed: run .ci/run, or python3 -m pip install pykmip==0.11.0 cryptography ({})",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
    );
}

/// Runs `tests/pykmip/SCRIPT` against `server` at KMIP `version` and asserts that it printed
/// `PASS PyKMIP {version} {what}`.
pub fn run_script(server: &Server, script: &str, version: &str, what: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/pykmip")
        .join(script);
    let out = Command::new("python3")
        .arg(path)
        .args(["--host", "127.0.0.1", "--port", &server.port.to_string()])
        .arg("--ca")
        .arg(server.pki("ca.pem"))
        .arg("--cert")
        .arg(server.pki("client.pem"))
        .arg("--key")
        .arg(server.pki("client.key"))
        .args(["--version", version])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "PyKMIP {version} {what} failed:\n{stdout}\n{stderr}\n--- server log ---\n{}",
        server.log_text()
    );
    assert!(
        stdout.contains(&format!("PASS PyKMIP {version} {what}")),
        "{stdout}"
    );
}
