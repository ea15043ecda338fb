//! Several `qkms-server` processes on one PostgreSQL database: a set-up made by `--init`, copied into a fresh
//! database as `qkms store migrate` does (the sled store and `user-pins.json`), and one configuration file per
//! node that differs only in its node-local files (and its HTTPS address, when `[https]` is on). Each node's
//! audit chain is in the database (node id from its listen address unless the test names one).
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::e2e_support::*;
use crate::pg_options::PgOptions;
use crate::pg_support::PgServer;
use kmip::client::{Client, ClientError};
use kms_server::audit::AuditRecord;
use kms_server::config::{Config, StoreKind};
use kms_server::pki::files::ClientBundle;
use kms_server::store::postgres::audit_rows::from_row;
use kms_server::store::postgres::copy::copy_sled_to_postgres;
use kms_server::store::postgres::Database;

/// The set-up and its database.
pub struct Cluster {
    pub setup: SetUp,
    pub database: PgServer,
}

/// One node's configuration.
pub struct NodeConfig {
    pub file: PathBuf,
    pub config: Config,
}

impl Cluster {
    /// `--init` (with `edit` applied to the configuration it writes), then the copy into a new database.
    pub fn new(edit: impl FnOnce(&mut Config)) -> Self {
        let mut setup = SetUp::init_with(edit);
        let database = PgServer::start();
        database.create_database("cluster");
        let options = database.options("cluster");
        let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        copy_sled_to_postgres(&setup.config.store.path, &options, pool.rustls_provider())
            .expect("copy to PostgreSQL");
        let pin_file =
            kms_server::user_pin::PinFile::open(&kms_server::user_pin::file_of(&setup.config))
                .unwrap();
        let copied = Database::connect(&options, &pool)
            .unwrap()
            .copy_user_pins(&pin_file)
            .expect("copy the user PINs");
        assert_eq!(copied.records, 1, "--init guards tenant pkcs11");
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

    /// The configuration of node `n`: the shared one with node-local files of its own (and its own HTTPS
    /// address). Written once; later calls return the same.
    pub fn node_config(&self, n: usize) -> NodeConfig {
        self.node_config_with(n, |_| {})
    }

    /// [`Self::node_config`], with `edit` applied when the file is first written.
    pub fn node_config_with(&self, n: usize, edit: impl FnOnce(&mut Config)) -> NodeConfig {
        let file = self.setup.path().join(format!("node-{n}.toml"));
        if file.exists() {
            let config = Config::load(&file).unwrap();
            return NodeConfig { file, config };
        }
        let local = self.setup.path().join(format!("node-{n}"));
        std::fs::create_dir_all(&local).unwrap();
        let mut config = self.setup.config.clone();
        config.store.path = local.join("store");
        config.audit.path = local.join("audit.log");
        config.eaas.state_file = local.join("eaas-state.json");
        config.eaas.beacon_dir = local.join("beacon");
        if config.https.enabled {
            config.https.listen = free_loopback_address();
        }
        edit(&mut config);
        std::fs::write(&file, config.documented_toml().unwrap()).unwrap();
        let config = Config::load(&file).unwrap();
        NodeConfig { file, config }
    }

    pub fn start_node(&self, n: usize) -> ServerProcess {
        self.start_from(n, &self.node_config(n).file)
    }

    /// Starts node `n` from the configuration file `config` (made by [`Cluster::node_config_with`]).
    pub fn start_from(&self, n: usize, config: &std::path::Path) -> ServerProcess {
        ServerProcess::start_from(config, self.setup.path().join(format!("node-{n}.log")))
            .unwrap_or_else(|log| panic!("node {n} did not start:\n{log}"))
    }

    /// The PKCS#11 token's machine identity made by `--init` (tenant "pkcs11", PIN-guarded).
    pub fn pkcs11_client(&self) -> ClientBundle {
        let pki = self.setup.path().join("pki");
        ClientBundle {
            ca: self.setup.client.ca.clone(),
            certificate: pki.join(kms_server::setup::PKCS11_CERT),
            key: pki.join(kms_server::setup::PKCS11_KEY),
            pkcs12: pki.join("unused.p12"),
            pkcs12_password: pki.join("unused.pass"),
        }
    }

    /// The user PIN `--init` set for tenant "pkcs11".
    pub fn pkcs11_pin(&self) -> String {
        std::fs::read_to_string(self.setup.path().join(kms_server::setup::PKCS11_PIN_FILE)).unwrap()
    }

    /// Node `node_id`'s audit chain as stored, in sequence order (each row's text rebuilt with its hashes).
    pub fn chain(&self, node_id: &str) -> Vec<AuditRecord> {
        let mut previous = kms_server::audit::GENESIS_HASH.to_owned();
        self.database
            .psql(
                "cluster",
                &format!(
                    "SELECT COALESCE(encode(hash, 'hex'), '-') || ' ' || record FROM qkms_audit
                     WHERE node_id = '{node_id}' ORDER BY sequence"
                ),
            )
            .lines()
            .map(|line| {
                let (hash, record) = line.split_once(' ').expect("hash and record");
                let hash = (hash != "-").then(|| hex::decode(hash).expect("hex"));
                let (text, own) = from_row(record.to_owned(), hash.as_deref(), &previous);
                previous = own;
                serde_json::from_str(&text).expect("a record")
            })
            .collect()
    }

    /// One value of a SQL query on the cluster's database.
    pub fn sql(&self, query: &str) -> String {
        self.database.psql("cluster", query).trim().to_owned()
    }
}

/// Creates AES keys on `client` until `limit`, waiting `pause` after each, or until the connection itself goes (a
/// killed server): (acknowledged uids, messages of the Creates refused, e.g. while the database was away).
pub async fn create_for(
    mut client: Client,
    tag: String,
    limit: Duration,
    pause: Duration,
) -> (Vec<String>, Vec<String>) {
    let started = Instant::now();
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    let mut n = 0;
    while started.elapsed() < limit {
        n += 1;
        match client
            .create(create_aes(256, &format!("{tag}-{n}"), vec![]))
            .await
        {
            Ok(response) => acked.push(response.unique_identifier),
            Err(ClientError::Operation { message, .. }) => refused.push(message),
            Err(_) => break,
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    (acked, refused)
}

/// Runs `qkms audit verify --config CONFIG`: (success, stdout and stderr).
pub fn verify(config: &Path) -> (bool, String) {
    let output = Command::new(qkms_binary())
        .args(["audit", "verify", "--config"])
        .arg(config)
        .output()
        .expect("qkms runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}
