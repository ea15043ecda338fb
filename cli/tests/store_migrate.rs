//! `qkms store migrate --from DIR/qkms.toml --to-postgres URL`, the binary against a private PostgreSQL
//! (kms-server's `pg_support`): every object of an `--init` set-up copied and verified, a second run copies
//! nothing and agrees, and the copy opens with the set-up's own root key; the node's entropy-as-a-service usage
//! history is added to the shared counters once.

#[path = "../../kms-server/tests/pg_options/mod.rs"]
mod pg_options;
#[path = "../../kms-server/tests/pg_support/mod.rs"]
mod pg_support;

use pg_options::PgOptions;
use std::process::Command;

use kms_server::config::Config;
use kms_server::setup::{self, InitOptions};
use kms_server::store::{Argon2Params, Custody, Namespace, ObjectStore, PgStore};

const QKMS: &str = env!("CARGO_BIN_EXE_qkms");

fn migrate(config_file: &std::path::Path, db: &pg_support::PgServer) -> String {
    let output = Command::new(QKMS)
        .args(["store", "migrate", "--from"])
        .arg(config_file)
        .args(["--to-postgres", &db.url("migrated"), "--password-file"])
        .arg(&db.password_file)
        .arg("--tls-ca-file")
        .arg(&db.ca_file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "qkms store migrate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn an_init_set_up_is_copied_verified_and_reopened_with_its_own_root_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut base = Config::default();
    base.store.argon2 = Argon2Params::insecure_for_tests();
    let report = setup::init(
        dir.path(),
        &InitOptions {
            host_names: base.tls.host_names.clone(),
            base,
        },
    )
    .unwrap();
    let db = pg_support::PgServer::start();
    db.create_database("migrated");

    let first = migrate(&report.config_file, &db);
    assert!(first.contains("copied now, 0 there already"), "{first}");
    let second = migrate(&report.config_file, &db);
    assert!(second.contains("(0 copied now"), "{second}");
    // The user PINs --init set (tenant pkcs11) too, once: a re-run keeps the database's record.
    assert!(
        first.contains("1 user PIN records") && first.contains("(1 copied now"),
        "{first}"
    );
    assert!(second.contains("in the database (0 copied now"), "{second}");
    assert_eq!(
        db.psql(
            "migrated",
            "SELECT tenant || ' ' || failures FROM qkms_user_pins"
        ),
        "pkcs11 0"
    );
    let digest = |out: &str| out.split("both sides: ").nth(1).map(|d| d[..64].to_owned());
    assert_eq!(digest(&first), digest(&second));

    // The issuing CA --init made is in the database, and the passphrase of the set-up opens it.
    let config = Config::load(&report.config_file).unwrap();
    let passphrase = std::fs::read_to_string(&config.store.passphrase_file).unwrap();
    let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
    let store = PgStore::open_with_custody(
        &db.options("migrated"),
        |_| {
            Ok(Custody::Passphrase(zeroize::Zeroizing::new(
                passphrase.lines().next().unwrap().as_bytes().to_vec(),
            )))
        },
        pool,
        &config.store.argon2,
    )
    .unwrap();
    let internal: Vec<String> = db
        .psql("migrated", "SELECT uid FROM qkms_objects WHERE internal")
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(!internal.is_empty(), "the server's own objects were copied");
    for uid in internal {
        let object = store.get(Namespace::Server, &uid).unwrap().unwrap();
        assert!(object.internal);
        assert!(object.object.is_some(), "sealed material opens: {uid}");
    }
}

#[test]
fn the_entropy_service_usage_history_is_added_to_the_shared_counters_once() {
    use kms_server::eaas::state_file::{PersistedState, StateFile};
    use kms_server::eaas::usage::{DayUsage, TenantRecord};

    let dir = tempfile::tempdir().unwrap();
    let mut base = Config::default();
    base.store.argon2 = Argon2Params::insecure_for_tests();
    let report = setup::init(
        dir.path(),
        &InitOptions {
            host_names: base.tls.host_names.clone(),
            base,
        },
    )
    .unwrap();
    let config = Config::load(&report.config_file).unwrap();
    // A node's state file: two tenants, days over two months, and totals older than the days kept.
    let mut state = PersistedState {
        server: "node-7f3a".into(),
        ..PersistedState::default()
    };
    let mut alice = TenantRecord {
        total_requests: 9,
        total_bytes: 9_000,
        ..TenantRecord::default()
    };
    alice.days.insert(
        "2026-11-29".into(),
        DayUsage {
            requests: 2,
            bytes: 2_000,
        },
    );
    alice.days.insert(
        "2026-12-01".into(),
        DayUsage {
            requests: 3,
            bytes: 3_000,
        },
    );
    let mut bob = TenantRecord {
        total_requests: 1,
        total_bytes: 64,
        ..TenantRecord::default()
    };
    bob.days.insert(
        "2026-12-06".into(),
        DayUsage {
            requests: 1,
            bytes: 64,
        },
    );
    state.usage.insert("alice".into(), alice);
    state.usage.insert("bob".into(), bob);
    StateFile::new(&config.eaas.state_file)
        .store(&state)
        .unwrap();

    let db = pg_support::PgServer::start();
    db.create_database("migrated");
    let first = migrate(&report.config_file, &db);
    assert!(
        first.contains("2 tenants, 3 days (added to the database's counters now)"),
        "{first}"
    );
    let second = migrate(&report.config_file, &db);
    assert!(
        second.contains("already added by an earlier run"),
        "{second}"
    );
    let table = |sql: &str| db.psql("migrated", sql).replace('|', " ");
    assert_eq!(
        table("SELECT tenant, day, requests, bytes FROM qkms_eaas_days ORDER BY tenant, day"),
        "alice 2026-11-29 2 2000\nalice 2026-12-01 3 3000\nbob 2026-12-06 1 64"
    );
    assert_eq!(
        table("SELECT tenant, month, requests, bytes FROM qkms_eaas_months ORDER BY tenant, month"),
        "alice 0000-00 4 4000\nalice 2026-11 2 2000\nalice 2026-12 3 3000\nbob 2026-12 1 64"
    );
}
