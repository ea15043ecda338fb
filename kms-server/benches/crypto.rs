//! Criterion benchmarks of the crypto primitives (filled in below).
fn main() {}
