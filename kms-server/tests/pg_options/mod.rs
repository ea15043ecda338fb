//! The PostgreSQL store's options for a test database of `pg_support` (TLS with its CA, its password).
#![allow(dead_code)]

use kms_server::store::postgres::RetryPolicy;
use kms_server::store::PostgresOptions;

use crate::pg_support::{PgServer, PASSWORD};

/// Store options for a database of a [`PgServer`].
pub trait PgOptions {
    /// Options for `database` over TLS, with the password and the default retry policy.
    fn options(&self, database: &str) -> PostgresOptions;
}

impl PgOptions for PgServer {
    fn options(&self, database: &str) -> PostgresOptions {
        let mut options = PostgresOptions::new(self.url(database));
        options.password = Some(zeroize::Zeroizing::new(PASSWORD.to_owned()));
        options.tls_ca_file = Some(self.ca_file.clone());
        options.pool_size = 8;
        options.retry = RetryPolicy::default();
        options
    }
}
