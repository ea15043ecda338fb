//! Helpers for the end-to-end tests (`tests/e2e_*.rs`): the `qkms-server` binary as a child process on a real
//! set-up directory, and typed request builders.
#![allow(dead_code)] // each test binary uses a different part of this helper

pub mod post_quantum;
pub mod process;
pub mod requests;

#[allow(unused_imports)]
pub use process::{free_loopback_address, qkms_binary, ServerProcess, SetUp};
#[allow(unused_imports)]
pub use requests::*;
