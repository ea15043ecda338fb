//! What start-up refuses and what it protects (issue #12, part 1): a missing store directory is never silently
//! replaced by a new empty store (which would serve without the issuing CA and every key); the set-up's
//! directories are owner-only (0700) and the audit log 0600 whatever the umask; secrets that other local users
//! can read are named in a start-up warning.

mod e2e_support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use e2e_support::*;

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_qkms-server");

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_missing_store_is_refused_not_recreated() {
    let setup = SetUp::init();
    let store = setup.config.store.path.clone();
    let moved = store.with_file_name("store.unmounted");
    std::fs::rename(&store, &moved).unwrap();
    let output = Command::new(SERVER_BIN)
        .arg("--config")
        .arg(&setup.config_file)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the server must not start: {stderr}"
    );
    assert!(stderr.contains("no store here"), "{stderr}");
    assert!(stderr.contains("--init"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!store.exists(), "nothing was created in the store's place");
    // Put back, it serves again.
    std::fs::rename(&moved, &store).unwrap();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));
    drop(server);
}

#[test]
fn the_set_up_is_owner_only_whatever_the_umask_and_loose_secrets_are_named() {
    // A permissive umask in the child that runs --init.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("setup");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000 && exec {SERVER_BIN} --init {}",
            target.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(mode(&target), 0o700, "the set-up directory");
    assert_eq!(mode(&target.join("store")), 0o700, "the store directory");
    assert_eq!(mode(&target.join("pki")), 0o700, "the pki directory");
    let audit = target.join("audit.log");
    if audit.exists() {
        assert_eq!(mode(&audit), 0o600, "the audit log");
    }
    // A secret an operator made world-readable is named at start-up.
    std::fs::set_permissions(
        target.join("root.pass"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let mut child = Command::new(SERVER_BIN)
        .arg("--config")
        .arg(target.join("qkms.toml"))
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        log.contains("root.pass") && log.contains("other local users"),
        "{log}"
    );
}
