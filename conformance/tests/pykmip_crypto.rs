//! PyKMIP (PyPI `pykmip` 0.11.0) driving qkms's cryptographic services over mutual TLS, at KMIP 1.2 and 2.0:
//! Create Key Pair (RSA-2048, EC P-256), Register of an X.509 certificate, Sign / Signature Verify (PKCS#1 v1.5,
//! PSS, ECDSA), Encrypt / Decrypt (AES-CBC, AES-GCM, RSA-OAEP) and MAC (HMAC-SHA256), each result also checked
//! with Python `cryptography`. The checks are in `tests/pykmip/crypto.py`. Skipped, saying why, only when
//! python3, the `kmip` package or the `cryptography` package is missing (`.ci/run` installs PyKMIP, which
//! depends on `cryptography`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/pykmip/crypto.py")
}

/// Why the script cannot run here, if it cannot.
fn python_packages_missing() -> Option<String> {
    match Command::new("python3")
        .args(["-c", "import kmip, cryptography"])
        .output()
    {
        Err(e) => Some(format!("python3 not runnable: {e}")),
        Ok(out) if !out.status.success() => Some(format!(
            "PyKMIP or cryptography is not installed (python3 -m pip install pykmip==0.11.0): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Ok(_) => None,
    }
}

fn run_version(server: &support::Server, version: &str) {
    let out = Command::new("python3")
        .arg(script())
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
        "PyKMIP {version} cryptographic services failed:\n{stdout}\n{stderr}\n--- server log ---\n{}",
        server.log_text()
    );
    assert!(
        stdout.contains(&format!("PASS PyKMIP {version} cryptographic services")),
        "{stdout}"
    );
}

#[test]
fn pykmip_signs_encrypts_and_macs_at_kmip_1_2_and_2_0() {
    if let Some(reason) = python_packages_missing() {
        eprintln!("SKIPPED pykmip_signs_encrypts_and_macs_at_kmip_1_2_and_2_0: {reason}");
        return;
    }
    let server = support::Server::start();
    run_version(&server, "1.2");
    run_version(&server, "2.0");
}
