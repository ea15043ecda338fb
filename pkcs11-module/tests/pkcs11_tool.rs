//! OpenSC `pkcs11-tool` drives the module against a real server (`tests/pkcs11/pkcs11_tool.sh`).

mod common;

use std::process::Command;

#[test]
fn pkcs11_tool_lists_generates_writes_reads_deletes_and_survives_threads_and_fork() {
    let found = Command::new("pkcs11-tool").arg("--help").output();
    assert!(
        found.is_ok(),
        "pkcs11-tool is missing: apt-get install -y opensc"
    );
    let server = common::TestServer::start();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/pkcs11/pkcs11_tool.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg(common::module_path())
        .arg(server.path())
        .env("QKMS_PKCS11_CONFIG", server.config_path())
        .env("QKMS_PIN", server.pin())
        .env("QKMS_PKCS11_DEBUG", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "script failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(stdout.contains("all steps passed"), "{stdout}");
}
