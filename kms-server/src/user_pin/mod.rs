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
//!
//! With `[store] kind = "postgres"` the records live in the database instead ([`pin_store`]), so every node
//! counts the same tries and an operator's reset on one node unlocks the tenant on all of them.

pub mod guard;
pub mod pin_store;
pub mod registry;

pub use guard::guarded;
pub use pin_store::{PinFile, PinStore};
pub use registry::{
    PinCheck, PinError, PinRecord, PinStatus, UserPins, DEFAULT_FILE, DEFAULT_MAX_TRIES,
};

use std::path::PathBuf;

use entropy::EntropyPool;

use crate::config::{Config, StoreKind};
use crate::store::postgres::Database;

/// The user-PIN file of a configuration: `[auth] user_pins`, or `user-pins.json` beside the store.
pub fn file_of(config: &Config) -> PathBuf {
    config
        .auth
        .user_pins
        .clone()
        .unwrap_or_else(|| config.store.path.with_file_name(DEFAULT_FILE))
}

/// The registry of a configuration: `user-pins.json` ([`file_of`]) with the embedded store, the database with
/// `[store] kind = "postgres"` (`database`, or a new connection when none is given: the command-line tools),
/// after copying in the file's records the database lacks.
pub fn open(
    config: &Config,
    pool: &EntropyPool,
    database: Option<&Database>,
) -> Result<UserPins, PinError> {
    match config.store.kind {
        StoreKind::Sled => UserPins::open(&file_of(config), pool),
        StoreKind::Postgres => {
            let database = match database {
                Some(database) => database.clone(),
                None => {
                    let options = config
                        .store
                        .postgres_options()
                        .map_err(|e| PinError::Database(e.to_string()))?;
                    Database::connect(&options, pool)
                        .map_err(|e| PinError::Database(e.to_string()))?
                }
            };
            // A tenant the file guards is never unguarded by the move to a database: records the database
            // lacks are copied in (those it has keep their record and the tries counted there).
            let file = file_of(config);
            if file.exists() {
                let report = database.copy_user_pins(&PinFile::open(&file)?)?;
                if report.copied > 0 {
                    tracing::info!(
                        copied = report.copied,
                        file = %file.display(),
                        "user PIN records copied into the database"
                    );
                }
            }
            let location = format!("the database {}", database.describe());
            Ok(UserPins::with_store(
                Box::new(database.user_pins()?),
                location,
                pool,
            ))
        }
    }
}
