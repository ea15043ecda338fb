//! PyKMIP (PyPI `pykmip` 0.11.0) as a client of a real `qkms-server`, at KMIP 1.2 and 2.0: the checks are in
//! `tests/pykmip/e2e.py`. Skipped, saying why, only when python3 or the `kmip` package is missing
//! (`.ci/run` installs it: `python3 -m pip install pykmip==0.11.0`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/pykmip/e2e.py")
}

/// Why PyKMIP cannot run here, if it cannot.
fn pykmip_missing() -> Option<String> {
    match Command::new("python3")
        .args([
            "-c",
            "import kmip, sys; sys.exit(0 if kmip.__version__ == '0.11.0' else 3)",
        ])
        .output()
    {
        Err(e) => Some(format!("python3 not runnable: {e}")),
        Ok(out) if out.status.code() == Some(3) => None, // another PyKMIP version: run anyway
        Ok(out) if !out.status.success() => Some(format!(
            "the PyKMIP package is not installed (python3 -m pip install pykmip==0.11.0): {}",
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
        "PyKMIP {version} end to end failed:\n{stdout}\n{stderr}\n--- server log ---\n{}",
        server.log_text()
    );
    assert!(
        stdout.contains(&format!("PASS PyKMIP {version} end to end")),
        "{stdout}"
    );
}

#[test]
fn pykmip_drives_the_key_lifecycle_at_kmip_1_2_and_2_0() {
    if let Some(reason) = pykmip_missing() {
        eprintln!("SKIPPED pykmip_drives_the_key_lifecycle_at_kmip_1_2_and_2_0: {reason}");
        return;
    }
    let server = support::Server::start();
    run_version(&server, "1.2");
    run_version(&server, "2.0");
}
