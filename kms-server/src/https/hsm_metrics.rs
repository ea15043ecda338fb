//! The HSM lines of `/metrics`: seeding of the HSM named in `[root_key]` with pool output (C_SeedRandom), per
//! token label (`hsm-bridge`'s counters).

use std::fmt::Write as _;

use super::metrics::{escape, header};

/// One HSM metric: name, type, help, and its value from a seeding status.
type HsmMetric = (
    &'static str,
    &'static str,
    &'static str,
    fn(&hsm_bridge::SeedStatus) -> i64,
);

/// Seeding of the HSM(s) with pool output (C_SeedRandom), per token label.
pub(super) fn render(out: &mut String, hsms: &[hsm_bridge::SeedStatus]) {
    if hsms.is_empty() {
        return;
    }
    let rows: [HsmMetric; 4] = [
        (
            "qkms_hsm_seeded_bytes_total",
            "counter",
            "Entropy-pool bytes pushed into the HSM's RNG with C_SeedRandom.",
            |s| s.bytes_seeded as i64,
        ),
        (
            "qkms_hsm_seed_failures_total",
            "counter",
            "Failed seeding attempts (token unavailable, pool unavailable, or seeding refused).",
            |s| s.failures as i64,
        ),
        (
            "qkms_hsm_seed_not_supported_total",
            "counter",
            "Seeding attempts the token refused with CKR_RANDOM_SEED_NOT_SUPPORTED.",
            |s| s.not_supported as i64,
        ),
        (
            "qkms_hsm_seed_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the last successful seeding (0: never).",
            |s| s.last_success_unix.unwrap_or(0),
        ),
    ];
    for (name, kind, help, value) in rows {
        header(out, name, kind, help);
        for status in hsms {
            let _ = writeln!(
                out,
                "{name}{{hsm=\"{}\"}} {}",
                escape(&status.hsm),
                value(status)
            );
        }
    }
}
