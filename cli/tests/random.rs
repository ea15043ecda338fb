//! `qkms random` through the built binary: exact byte counts, raw samples of a replay source, fail-closed exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn qkms(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qkms"))
        .arg("random")
        .args(args)
        .output()
        .unwrap()
}

fn samples_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../entropy/tests/data/entropy-samples/truerand_8bit.bin")
}

/// A configuration whose only source is a recording, credited under the test-only `allow_replay_credit`.
fn replay_config(dir: &Path, name: &str, samples: &Path, h: f64) -> PathBuf {
    let config = dir.join(name);
    std::fs::write(
        &config,
        format!(
            "allow_replay_credit = true\n\n[[sources]]\nkind = \"replay\"\nid = \"recorded\"\npath = {:?}\nmin_entropy_per_sample = {h}\n",
            samples.display().to_string()
        ),
    )
    .unwrap();
    config
}

#[test]
fn writes_exactly_the_requested_number_of_bytes_to_stdout() {
    for (arg, expected) in [("1", 1usize), ("1000", 1000), ("1K", 1024), ("3M", 3 << 20)] {
        let output = qkms(&["--bytes", arg]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout.len(), expected, "--bytes {arg}");
    }
}

#[test]
fn says_on_stderr_that_the_default_is_not_quantum() {
    let output = qkms(&["--bytes", "16"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("OS getrandom (not quantum)"), "{stderr}");
}

#[test]
fn writes_exactly_the_requested_number_of_bytes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("random.bin");
    let output = qkms(&["--bytes", "1048577", "--out", out.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(bytes.len(), 1_048_577);
    // Not a constant or zero buffer: every byte value shows up in a megabyte of random output.
    let mut seen = [false; 256];
    bytes.iter().for_each(|&b| seen[b as usize] = true);
    assert!(seen.iter().all(|&s| s));
}

#[test]
fn raw_mode_writes_health_tested_samples_of_the_replay_source() {
    let dir = tempfile::tempdir().unwrap();
    let samples = samples_file();
    let config = replay_config(dir.path(), "entropy.toml", &samples, 7.8);
    let output = qkms(&[
        "--raw",
        "--source",
        "recorded",
        "--bytes",
        "5000",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout.len(), 5000);
    // Raw means raw: the output is a contiguous run of the recorded samples (after the start-up test's samples).
    let recorded = std::fs::read(&samples).unwrap();
    let offset = recorded
        .windows(output.stdout.len())
        .position(|w| w == output.stdout.as_slice())
        .expect("raw output is a contiguous part of the recording");
    assert!(
        offset >= 1024,
        "start-up test samples must not be released (offset {offset})"
    );
}

#[test]
fn pool_mode_works_with_a_replay_source_config_and_fails_closed_on_a_stuck_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = replay_config(dir.path(), "good.toml", &samples_file(), 7.8);
    let output = qkms(&["--bytes", "4096", "--config", good.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout.len(), 4096);
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("not quantum"),
        "a configured source is not the fallback"
    );

    let stuck_samples = dir.path().join("stuck.bin");
    std::fs::write(&stuck_samples, vec![0x42u8; 100_000]).unwrap();
    let stuck = replay_config(dir.path(), "stuck.toml", &stuck_samples, 7.8);
    let output = qkms(&["--bytes", "4096", "--config", stuck.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        output.stdout.is_empty(),
        "a refused pool must not write any bytes"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("recorded") && stderr.contains("PersistentFailure"),
        "{stderr}"
    );
}

#[test]
fn refuses_bad_arguments_with_clear_errors() {
    let unknown = {
        let dir = tempfile::tempdir().unwrap();
        let config = replay_config(dir.path(), "e.toml", &samples_file(), 7.8);
        qkms(&[
            "--raw",
            "--source",
            "nope",
            "--bytes",
            "10",
            "--config",
            config.to_str().unwrap(),
        ])
    };
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no entropy source with id \"nope\""));

    for args in [
        &["--bytes", "12X"][..],
        &["--raw", "--bytes", "10"],
        &[],
        &["--bytes", "1", "--stream"],
    ] {
        let output = qkms(args);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(output.stdout.is_empty());
    }
}
