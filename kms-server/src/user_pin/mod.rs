//! The PKCS#11 user PIN, checked by the server: a tenant listed in the user-PIN file (`[auth] user_pins`,
//! default `user-pins.json` beside the store) is *PIN-guarded*.
//!
//! Why: the module's TLS client certificate authenticates the *machine* and must be usable before C_Login, so
//! that public objects and random numbers are, as on a real token. The PIN then authenticates the *user*, and
//! the server (not the module) checks it, so a stolen machine key gives only public objects and a handful of
//! guesses: the retry counter lives on the server, written to disk before each "incorrect" answer.
//!
//! A guarded tenant's message either carries the PIN (KMIP Username and Password credential in the request
//! header; [`guard`]) and runs with the tenant's full rights, or runs as a public message (random numbers,
//! Locate, and reads of public objects only). Tenants not in the file are unaffected (certificate only).

pub mod guard;
pub mod registry;

pub use guard::guarded;
pub use registry::{PinCheck, PinRecord, PinStatus, UserPins, DEFAULT_FILE, DEFAULT_MAX_TRIES};

use std::path::PathBuf;

use crate::config::Config;

/// The user-PIN file of a configuration: `[auth] user_pins`, or `user-pins.json` beside the store.
pub fn file_of(config: &Config) -> PathBuf {
    config
        .auth
        .user_pins
        .clone()
        .unwrap_or_else(|| config.store.path.with_file_name(DEFAULT_FILE))
}
