//! Conformance runner for qkms: replays the OASIS KMIP profile test cases (`kmip-test-cases/`) against a live
//! server over binary TTLV and mutual TLS (the MSGENC cases over HTTPS in their encoding), and compares every
//! response with the expected one by the rules of the KMIP 2.1 Profiles §4.1 (identifiers, times, server
//! correlation values, attribute order and Result Message text may differ; Result Status and Result Reason must
//! match).
//!
//! The pieces, each usable alone:
//! - [`case`]: reads a test-case file into request / expected-response pairs;
//! - [`placeholders`]: the `$NAME` values of a case, captured from responses and substituted into requests;
//! - [`compare`]: the comparison rules, yielding the first [`compare::Divergence`];
//! - [`overlay`]: per-case expectations kept beside the unmodified XML (`overlay.toml`);
//! - [`connection`]: a raw TTLV-over-mTLS connection and the [`connection::Exchange`] trait the runner drives;
//! - [`https`]: KMIP over HTTPS (TTLV, XML or JSON bodies) for the MSGENC cases, which are meant for it;
//! - [`runner`]: one file, end to end, to an [`runner::Outcome`];
//! - [`report`]: the markdown pass/fail table.

pub mod case;
pub mod compare;
pub mod connection;
pub mod https;
pub mod overlay;
pub mod placeholders;
pub mod report;
pub mod runner;
mod tag_path;

pub use case::{CaseError, TestCase};
pub use compare::Divergence;
pub use connection::{ClientBundle, Exchange, ExchangeError, Target, TlsConnection};
pub use overlay::Overlay;
pub use runner::{run_case, Outcome};

/// The profiles whose mandatory cases qkms must pass, as file-name profiles: issue 4's (baseline, symmetric key
/// lifecycle and foundry, tape library, RNG) and issue 5's (asymmetric key lifecycle, basic and advanced
/// cryptographic services, quantum safe).
pub const REQUIRED_PROFILES: &[&str] = &[
    "BL-M",
    "SKLC-M",
    "SKFF-M",
    "TL-M",
    "CS-RNG-M",
    "AKLC-M",
    "CS-BC-M",
    "CS-BC-M-GCM",
    "CS-BC-M-CHACHA20",
    "CS-BC-M-CHACHA20POLY1305",
    "CS-AC-M",
    "CS-AC-M-OAEP",
    "QS-M",
];
