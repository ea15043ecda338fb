//! A criterion measurement in the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so figures are per core
//! whatever else runs on the machine. Shared by benches of several crates through `#[path]` (a bench target
//! cannot depend on another crate's bench code).

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use nix::time::{clock_gettime, ClockId};

/// CPU time consumed by the calling thread, in nanoseconds.
pub struct ThreadCpuTime;

fn thread_cpu_nanos() -> u64 {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .expect("Linux always has a thread CPU-time clock");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_nanos() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds, exactly what the wall-clock formatter (times and byte throughputs) expects.
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}
