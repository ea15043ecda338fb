//! `qkms audit verify`: checks the server's hash-chained audit log, rotated files included, and names the first
//! broken record (file, line, expected and found sequence).
//!
//! Reads the files only (no lock, no passphrase), so it can run while the server is writing; records appended
//! during the check are simply not covered by it (and a rotation during the check can show as a gap: run it
//! again). With `[store] kind = "postgres"` in the configuration the log is in the database: every node's chain
//! there is checked (the database's URL, password file and CA from `[store]`; no root key needed).

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};
use kms_server::audit::{verify, verify_database, AUDIT_LOG_FILE};
use kms_server::config::{Config, StoreKind};

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the whole chain across the rotated files (`audit.log.000001`, ...) and the current file: sequence
    /// numbers, previous-hash links and each record's hash.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("where").required(true).args(["config", "dir", "log"])))]
struct VerifyArgs {
    /// The server's configuration file: its `[audit] path` is checked, or with `[store] kind = "postgres"` every
    /// node's chain in the database.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The server's data directory (its `audit.log` is checked).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The audit log's current file itself (its rotated files beside it are checked too).
    #[arg(long)]
    log: Option<PathBuf>,
}

/// Prints the number of records and files checked and the head hash, or fails naming the first break.
pub fn run(args: AuditArgs) -> Result<(), Box<dyn std::error::Error>> {
    match args.command {
        AuditCommand::Verify(VerifyArgs { config, dir, log }) => {
            let path = match (config, log, dir) {
                (Some(file), _, _) => {
                    let config = Config::load(&file)?;
                    if config.store.kind == StoreKind::Postgres {
                        return verify_in_database(&config);
                    }
                    config.audit.path
                }
                (None, Some(log), _) => log,
                (None, None, Some(dir)) => dir.join(AUDIT_LOG_FILE),
                (None, None, None) => {
                    return Err("give --config FILE, --dir DIR or --log FILE".into())
                }
            };
            let report = verify(&path)?;
            println!(
                "{}: {} records checked, chain OK, in {} file(s) ({}); head hash {} (keep a copy elsewhere to \
                 detect truncation)",
                path.display(),
                report.records,
                report.files.len(),
                report
                    .files
                    .iter()
                    .map(|f| f.file_name().unwrap_or_default().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(", "),
                report.head_hash
            );
            Ok(())
        }
    }
}

/// Checks every node's chain in the database and prints one line per node.
fn verify_in_database(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let options = config.store.postgres_options()?;
    let pool = entropy::EntropyPool::new(config.entropy.clone())?;
    let report = verify_database(&options, pool.rustls_provider())?;
    let total: u64 = report.nodes.iter().map(|n| n.records).sum();
    println!(
        "{}: {} node chain(s), {total} records checked, every chain OK",
        report.database,
        report.nodes.len()
    );
    for node in &report.nodes {
        println!(
            "node {:?}: {} records, chain OK; head hash {} (keep a copy elsewhere to detect truncation)",
            node.node_id, node.records, node.head_hash
        );
    }
    Ok(())
}
