//! `--init` is reliable under load (several inits at once while both cores are busy), and `qkms-server` reports
//! errors as one line without a panic message or a backtrace, also when the entropy pool fails closed. (The
//! seeding race behind "the seeding thread dropped the request" is reproduced in `entropy/tests/pool_under_load.rs`,
//! and the quiet `with_rng` refusal in `entropy/tests/rng_refusal_is_quiet.rs`.)

use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use entropy::config::SourceConfig;
use entropy::source::SourceKind;
use kms_server::config::Config;

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_qkms-server");

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a failed run said why in exactly one `qkms-server: ...` line, with no panic or backtrace.
fn assert_one_line_error(output: &Output, expected: &str) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "{text}");
    assert!(text.starts_with("qkms-server: "), "{text}");
    assert!(text.contains(expected), "{text}");
    assert!(
        !text.contains("panicked") && !text.contains("backtrace"),
        "{text}"
    );
}

#[test]
fn init_succeeds_while_both_cores_are_busy_and_other_inits_run() {
    let stop = Arc::new(AtomicBool::new(false));
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let burners: Vec<_> = (0..cores)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut x = 1u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    std::hint::black_box(x);
                }
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for round in 0..2 {
        let children: Vec<_> = (0..4)
            .map(|i| {
                Command::new(SERVER_BIN)
                    .arg("--init")
                    .arg(dir.path().join(format!("setup-{round}-{i}")))
                    .env("RUST_BACKTRACE", "1")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            let text = stderr(&output);
            assert!(output.status.success(), "{text}");
            assert!(!text.contains("panicked"), "{text}");
        }
    }
    stop.store(true, Ordering::Relaxed);
    for burner in burners {
        burner.join().unwrap();
    }
}

#[test]
fn errors_print_as_one_line_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let setup = dir.path().join("setup");
    let init = |extra: &[&str]| {
        Command::new(SERVER_BIN)
            .arg("--init")
            .arg(&setup)
            .args(extra)
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap()
    };
    assert!(init(&[]).status.success());
    assert_one_line_error(&init(&[]), "already exists");

    let missing = Command::new(SERVER_BIN)
        .arg("--config")
        .arg(dir.path().join("missing.toml"))
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_one_line_error(&missing, "missing.toml");

    // A stuck (test-only credited) recording: the pool fails closed while issue-client makes the certificate.
    let config_file = setup.join("qkms.toml");
    let mut config = Config::load(&config_file).unwrap();
    let recording = dir.path().join("stuck.bin");
    std::fs::write(&recording, vec![0x42u8; 1 << 16]).unwrap();
    let mut stuck = SourceConfig::new(SourceKind::Replay, "stuck-qrng");
    stuck.path = Some(recording);
    stuck.min_entropy_per_sample = Some(8.0);
    stuck.quantum = true;
    config.entropy.sources = vec![stuck];
    config.entropy.allow_replay_credit = true;
    config.entropy.drbg.seed_timeout_ms = 300;
    std::fs::write(&config_file, config.documented_toml().unwrap()).unwrap();
    let refused = Command::new(SERVER_BIN)
        .args(["issue-client", "tenant-x", "--out"])
        .arg(dir.path().join("bundle"))
        .arg("--config")
        .arg(&config_file)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_one_line_error(&refused, "stuck-qrng");
}
