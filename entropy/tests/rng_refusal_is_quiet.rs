//! A fail-closed refusal inside `EntropyPool::with_rng` comes back as an error and prints nothing: no "thread
//! panicked" line, no backtrace hint (the standard panic hook used to print both before `with_rng` caught the
//! refusal, which is how `qkms-server --init` showed a backtrace for an ordinary error). Checked in a child
//! process, since the panic hook writes to the real stderr.

use std::process::Command;

use entropy::config::DrbgConfig;
use entropy::source::{EntropySource, SourceError, SourceInfo, SourceKind};
use entropy::{EntropyConfig, EntropyPool};
use rand_core::Rng;

const CHILD: &str = "QKMS_RNG_REFUSAL_CHILD";
const TEST: &str = "a_refusal_inside_with_rng_is_an_error_and_prints_nothing";

/// Always one repeated byte: latched off by the Repetition Count Test.
#[derive(Debug)]
struct Stuck(SourceInfo);

impl EntropySource for Stuck {
    fn info(&self) -> &SourceInfo {
        &self.0
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        out.fill(0x42);
        Ok(out.len())
    }
}

fn stuck_pool() -> EntropyPool {
    let config = EntropyConfig {
        drbg: DrbgConfig {
            instances: 1,
            seed_timeout_ms: 200,
            ..DrbgConfig::default()
        },
        ..EntropyConfig::default()
    };
    let source = Stuck(SourceInfo {
        id: "stuck-qrng".into(),
        kind: SourceKind::CharDevice,
        quantum: true,
        sample_bits: 8,
        min_entropy_per_sample: 8.0,
        credited: true,
    });
    EntropyPool::with_sources(config, vec![Box::new(source)]).unwrap()
}

#[test]
fn a_refusal_inside_with_rng_is_an_error_and_prints_nothing() {
    if std::env::var_os(CHILD).is_some() {
        let result = stuck_pool().with_rng(|rng| {
            let mut key = [0u8; 32];
            rng.fill_bytes(&mut key);
            key
        });
        let error = result.expect_err("a stuck pool refuses");
        assert!(error.to_string().contains("stuck-qrng"), "{error}");
        eprintln!("child: refused quietly");
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("child: refused quietly"), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}
