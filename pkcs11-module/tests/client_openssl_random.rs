//! OpenSSL applications (openssl rand, s_server, s_client, curl) draw their randomness from qkms through
//! pkcs11-provider's PKCS11-RAND and the `[random]` section of openssl.cnf, and fail closed without the server
//! (`tests/clients/openssl_random.sh`). The server's `/metrics` (HTTPS listener, operator certificate) shows the
//! token tenant's random-bytes counter growing with each program.

mod client_support;
mod common;

use std::process::Command;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run_phase(server: &common::TestServer, phase: &str, https_port: u16, tls_port: u16) {
    let work = server.path().join("client-openssl-random");
    std::fs::create_dir_all(&work).unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/openssl_random.sh");
    let ops = server.path().join("ops");
    let output = Command::new("timeout")
        .arg("300")
        .arg("bash")
        .arg(&script)
        .arg(phase)
        .arg(common::module_path())
        .arg(&work)
        .env("QKMS_PKCS11_CONFIG", server.config_path())
        .env(
            "QKMS_METRICS_URL",
            format!("https://localhost:{https_port}/metrics"),
        )
        .env("QKMS_OPS_CERT", ops.join("client.pem"))
        .env("QKMS_OPS_KEY", ops.join("client.key"))
        .env("QKMS_CA", server.path().join("pki/ca.pem"))
        .env("QKMS_TLS_PORT", tls_port.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("all steps passed"),
        "openssl_random.sh {phase} failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
}

#[test]
fn openssl_rand_s_server_s_client_and_python_draw_from_qkms_curl_refuses_and_all_fail_closed_without_it(
) {
    client_support::require_programs(&[("openssl", "openssl"), ("curl", "curl")]);
    client_support::require_files(&[(
        "/usr/lib/x86_64-linux-gnu/ossl-modules/pkcs11.so",
        "pkcs11-provider (bookworm-backports)",
    )]);
    let mut server = common::TestServer::start();
    // /metrics: the HTTPS listener on, and an operator certificate to read it with.
    let issued = Command::new(common::target_dir().join("qkms-server"))
        .args(["issue-client", "ops", "--out"])
        .arg(server.path().join("ops"))
        .arg("--config")
        .arg(server.path().join("qkms.toml"))
        .output()
        .unwrap();
    assert!(
        issued.status.success(),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let https_port = free_port();
    let config_file = server.path().join("qkms.toml");
    let config = std::fs::read_to_string(&config_file).unwrap();
    let (before_https, https) = config.split_once("[https]").unwrap();
    let https = https
        .replacen("\nenabled = false\n", "\nenabled = true\n", 1)
        .replacen(
            "listen = \"127.0.0.1:8443\"",
            &format!("listen = \"127.0.0.1:{https_port}\""),
            1,
        );
    let config = format!("{before_https}[https]{https}").replacen(
        "\noperators = []",
        "\noperators = [\"ops\"]",
        1,
    );
    std::fs::write(&config_file, config).unwrap();
    server.restart();
    let tls_port = free_port();
    run_phase(&server, "up", https_port, tls_port);
    server.stop();
    run_phase(&server, "down", https_port, tls_port);
}
