//! Several `qkms-server` nodes on one test PostgreSQL: a set-up made by `--init`, copied into a fresh database,
//! and one configuration file per node that differs only in its node-local files (`[store] path`'s directory:
//! session-lease journal and entropy counter), the set-up's `user-pins.json` named explicitly. Each node's audit
//! chain is in the database (node id from its listen address unless the test names one).
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::path::PathBuf;

use crate::e2e_support::*;
use crate::pg_options::PgOptions;
use crate::pg_support::PgServer;
use kms_server::config::{Config, StoreKind};
use kms_server::store::postgres::copy::copy_sled_to_postgres;

/// A set-up in a database, and node configurations pointing at it.
pub struct Cluster {
    pub setup: SetUp,
    pub database: PgServer,
}

impl Cluster {
    pub fn new() -> Self {
        let mut setup = SetUp::init();
        let database = PgServer::start();
        database.create_database("cluster");
        let options = database.options("cluster");
        let provider = entropy::EntropyPool::new(entropy::EntropyConfig::default())
            .unwrap()
            .rustls_provider();
        copy_sled_to_postgres(&setup.config.store.path, &options, provider)
            .expect("copy to PostgreSQL");
        let (url, password, ca) = (
            database.url("cluster"),
            database.password_file.clone(),
            database.ca_file.clone(),
        );
        setup.rewrite_config(|c| {
            c.store.kind = StoreKind::Postgres;
            c.store.url = url;
            c.store.password_file = Some(password);
            c.store.tls_ca_file = Some(ca);
        });
        Self { setup, database }
    }

    /// The configuration file of node `n`: the shared one with node-local files of its own.
    pub fn node_config(&self, n: usize) -> PathBuf {
        self.node_config_with(n, |_| {})
    }

    /// Like [`Cluster::node_config`], `edit` changing the node's configuration further.
    pub fn node_config_with(&self, n: usize, edit: impl FnOnce(&mut Config)) -> PathBuf {
        let local = self.setup.path().join(format!("node-{n}"));
        std::fs::create_dir_all(&local).unwrap();
        let mut config = self.setup.config.clone();
        config.store.path = local.join("store");
        config.audit.path = local.join("audit.log");
        config.eaas.state_file = local.join("eaas-state.json");
        config.auth.user_pins = Some(
            self.setup
                .config
                .store
                .path
                .with_file_name(kms_server::user_pin::DEFAULT_FILE),
        );
        edit(&mut config);
        let file = self.setup.path().join(format!("node-{n}.toml"));
        std::fs::write(&file, config.documented_toml().unwrap()).unwrap();
        file
    }

    pub fn start_node(&self, n: usize) -> ServerProcess {
        self.start_from(n, &self.node_config(n))
    }

    /// Starts node `n` from `config` (made by [`Cluster::node_config_with`]).
    pub fn start_from(&self, n: usize, config: &std::path::Path) -> ServerProcess {
        ServerProcess::start_from(config, self.setup.path().join(format!("node-{n}.log")))
            .unwrap_or_else(|log| panic!("node {n} did not start:\n{log}"))
    }
}
