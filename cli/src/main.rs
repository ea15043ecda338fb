//! `qkms`: the command line for operators and users.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod audit;
mod bench;
mod eaas_cmd;
mod entropy_cmd;
mod feed_cmd;
mod kernel_pool;
mod random;
mod store_cmd;
mod ttlv_cmd;

#[derive(Debug, Parser)]
#[command(
    name = "qkms",
    version,
    about = "qkms: the command line of the qkms key management server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode or encode KMIP messages (binary TTLV, KMIP-XML, KMIP-JSON): read captured client traffic.
    #[command(subcommand)]
    Ttlv(ttlv_cmd::TtlvCommand),
    /// Write random bytes from the entropy pool (or raw samples of one source) to stdout or a file.
    Random(random::RandomArgs),
    /// Load-test a KMIP server: Get, Create, RNG Retrieve, Sign, Encrypt or Create Key Pair over N connections;
    /// ops/s, latency percentiles and CPU per operation.
    Bench(bench::BenchArgs),
    /// Check the server's audit log and its rotated files: `qkms audit verify --config qkms.toml` (or --dir, --log).
    Audit(audit::AuditArgs),
    /// Operate a running server's entropy sources: `qkms entropy reset --config DIR/qkms.toml --source ID`.
    Entropy(entropy_cmd::EntropyArgs),
    /// Entropy as a service: fetch random bytes in a signed, chained envelope, or verify a saved one.
    Eaas(eaas_cmd::EaasArgs),
    /// Feed verified qkms random bytes into this host's kernel pool (or an rngd FIFO), every interval.
    Feed(feed_cmd::FeedArgs),
    /// Maintain a stopped server's store: `qkms store rewrap --config DIR/qkms.toml --to pkcs11|passphrase`,
    /// `qkms store migrate --from DIR/qkms.toml --to-postgres URL`.
    #[command(subcommand)]
    Store(store_cmd::StoreCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Ttlv(command) => ttlv_cmd::run(command),
        Command::Random(args) => random::run(args),
        Command::Bench(args) => bench::run(args).map_err(Into::into),
        Command::Audit(args) => audit::run(args),
        Command::Entropy(args) => entropy_cmd::run(args),
        Command::Eaas(args) => eaas_cmd::run(args),
        Command::Feed(args) => feed_cmd::run(args),
        Command::Store(command) => store_cmd::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("qkms: {error}");
            ExitCode::FAILURE
        }
    }
}
