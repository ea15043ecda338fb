//! What a run measured: operations, elapsed time, latency percentiles, and who spent the CPU.
//!
//! Client and server share this machine's cores, so the report also gives the CPU time each side spent per
//! operation (from `/proc/PID/stat`) and the load average around the run: a client that spends more CPU per
//! operation than the server caps the figure, and other work on the machine lowers it.

use std::time::Duration;

use super::{BenchArgs, BenchOp};

/// CPU seconds (user + system) a process has used so far, from `/proc/PID/stat`. Its times are in clock ticks of
/// `USER_HZ`, which the Linux ABI fixes at 100 on every architecture this runs on.
pub fn process_cpu_seconds(pid: &str) -> Result<f64, String> {
    const USER_HZ: f64 = 100.0;
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
    let after_name = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("{path}: unexpected format"))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) overall are 12th and 13th after the name.
    let tick = |i: usize| -> Result<f64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .map(|t| t as f64 / USER_HZ)
            .ok_or_else(|| format!("{path}: no CPU time field"))
    };
    Ok(tick(11)? + tick(12)?)
}

/// The 1-minute load average, from `/proc/loadavg`.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU seconds used during the run, by the client and (with `--server-pid`) by the server.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuUse {
    pub client: Option<f64>,
    pub server: Option<f64>,
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
}

#[derive(Debug)]
pub struct Report {
    pub elapsed: Duration,
    /// Per-request latencies, microseconds, sorted.
    pub latencies: Vec<u32>,
    pub bytes_per_op: Option<usize>,
    pub cpu: CpuUse,
}

impl Report {
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies.len()) - 1;
        Duration::from_micros(u64::from(self.latencies[index]))
    }

    pub fn print(&self, args: &BenchArgs) {
        let ops = self.latencies.len();
        let seconds = self.elapsed.as_secs_f64();
        let rate = ops as f64 / seconds;
        let what = match args.op {
            BenchOp::Sign | BenchOp::CreateKeyPair => format!("{:?} {:?}", args.op, args.key_type),
            BenchOp::Encrypt => format!("{:?} AES-256-GCM {} B", args.op, args.data_bytes),
            op => format!("{op:?}"),
        };
        println!(
            "{what} x {} connection(s), {:.1} s, KMIP {}: {ops} operations, {rate:.0} ops/s",
            args.connections, seconds, args.protocol
        );
        if let Some(bytes) = self.bytes_per_op {
            let total = (bytes * ops) as f64;
            println!(
                "throughput: {:.1} MB/s ({:.2} GiB/s) with {bytes}-byte requests",
                total / seconds / 1e6,
                total / seconds / (1u64 << 30) as f64
            );
        }
        println!(
            "latency: p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
            self.percentile(50.0),
            self.percentile(90.0),
            self.percentile(99.0),
            self.percentile(100.0)
        );
        let per_op = |cpu: f64| {
            format!(
                "{:.1} µs/op ({:.0}% of a core)",
                cpu * 1e6 / ops.max(1) as f64,
                cpu / seconds * 100.0
            )
        };
        let mut cpu = Vec::new();
        if let Some(client) = self.cpu.client {
            cpu.push(format!("client {}", per_op(client)));
        }
        if let Some(server) = self.cpu.server {
            cpu.push(format!("server {}", per_op(server)));
        }
        if !cpu.is_empty() {
            println!("cpu: {}", cpu.join(", "));
        }
        if let (Some(before), Some(after)) = (self.cpu.load_before, self.cpu.load_after) {
            println!("load average (1 min): {before:.2} before, {after:.2} after");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let report = Report {
            elapsed: Duration::from_secs(1),
            latencies: (1..=100).collect(),
            bytes_per_op: None,
            cpu: CpuUse::default(),
        };
        assert_eq!(report.percentile(50.0), Duration::from_micros(50));
        assert_eq!(report.percentile(99.0), Duration::from_micros(99));
        assert_eq!(report.percentile(100.0), Duration::from_micros(100));
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        let seconds = process_cpu_seconds("self").unwrap();
        assert!(seconds >= 0.0);
        assert!(process_cpu_seconds("no-such-pid").is_err());
    }
}
