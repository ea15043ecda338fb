//! `qkms audit verify`: checks the server's hash-chained audit log and names the first broken record.
//!
//! Reads the file only (no lock, no passphrase), so it can run while the server is writing; records appended
//! during the check are simply not covered by it.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};
use kms_server::audit::{verify, AUDIT_LOG_FILE};

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the whole chain: sequence numbers, previous-hash links and each record's hash.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("where").required(true).args(["dir", "log"])))]
struct VerifyArgs {
    /// The server's data directory (its `audit.log` is checked).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The audit log file itself.
    #[arg(long)]
    log: Option<PathBuf>,
}

/// Prints the number of records checked and the head hash, or fails naming the first break.
pub fn run(args: AuditArgs) -> Result<(), Box<dyn std::error::Error>> {
    match args.command {
        AuditCommand::Verify(VerifyArgs { dir, log }) => {
            let path = match (log, dir) {
                (Some(log), _) => log,
                (None, Some(dir)) => dir.join(AUDIT_LOG_FILE),
                (None, None) => return Err("give --dir DIR or --log FILE".into()),
            };
            let report = verify(&path)?;
            println!(
                "{}: {} records checked, chain OK; head hash {} (keep a copy elsewhere to detect truncation)",
                path.display(),
                report.records,
                report.head_hash
            );
            Ok(())
        }
    }
}
