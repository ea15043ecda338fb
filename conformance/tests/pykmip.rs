//! PyKMIP (PyPI `pykmip` 0.11.0) as a client of a real `qkms-server`, at KMIP 1.1, 1.2 and 2.0 (1.1 opens with
//! Discover Versions, which qkms once refused as a 1.2 operation): the checks are in
//! `tests/pykmip/e2e.py` (`.ci/run` installs PyKMIP: `python3 -m pip install pykmip==0.11.0`).

#[path = "../../kms-server/tests/pg_support/mod.rs"]
mod pg_support;
mod pykmip_support;
mod support;

#[test]
fn pykmip_drives_the_key_lifecycle_at_kmip_1_1_1_2_and_2_0() {
    pykmip_support::require_pykmip();
    let server = support::Server::start();
    pykmip_support::run_script(&server, "e2e.py", "1.1", "end to end");
    pykmip_support::run_script(&server, "e2e.py", "1.2", "end to end");
    pykmip_support::run_script(&server, "e2e.py", "2.0", "end to end");
}

/// Every PyKMIP client operation e2e.py and crypto.py leave out (`tests/pykmip/operations.py`): Register of
/// every object type, Locate filters, Get Attribute List, Re-key, Check, Modify / Set / Delete Attribute,
/// Derive Key and Get with key wrapping, at KMIP 1.2 and 2.0.
#[test]
fn pykmip_drives_every_other_client_operation_at_kmip_1_2_and_2_0() {
    pykmip_support::require_pykmip();
    let server = support::Server::start();
    pykmip_support::run_script(&server, "operations.py", "1.2", "operations");
    pykmip_support::run_script(&server, "operations.py", "2.0", "operations");
}

/// The same PyKMIP flows with the server's store in PostgreSQL (a private server from Debian's `postgresql`,
/// over TLS): the `--init` set-up copied there with `qkms store migrate`, then served with `[store] kind =
/// "postgres"`.
#[test]
fn pykmip_flows_pass_with_the_store_in_postgresql() {
    pykmip_support::require_pykmip();
    let database = pg_support::PgServer::start();
    database.create_database("pykmip");
    let server = support::Server::start_with(|init_dir, table| {
        support::move_store_to_postgres(
            init_dir,
            table,
            &database.url("pykmip"),
            &database.password_file,
            &database.ca_file,
        )
    });
    pykmip_support::run_script(&server, "e2e.py", "1.2", "end to end");
    pykmip_support::run_script(&server, "e2e.py", "2.0", "end to end");
    pykmip_support::run_script(&server, "operations.py", "2.0", "operations");
}
