//! `qkms store rewrap`: moves a stopped server's store between passphrase and HSM root key custody (see
//! `kms_server::store_rewrap` for why a kill -9 at any point leaves a store that opens).
//! `qkms store migrate`: copies a stopped server's sled store into PostgreSQL, unchanged and verified (see
//! `kms_server::store::postgres::copy`).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use kms_server::config::RootKeyKind;
use kms_server::store_rewrap::{rewrap, RewrapRequest};

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Re-wrap the store's data key under another root key custody (the server must be stopped: the store is
    /// locked while it runs). The objects are not rewritten.
    Rewrap(RewrapArgs),
    /// Copy the sled store of a stopped server into a PostgreSQL database (sealed blobs and the wrapped data key
    /// unchanged; counts and digests verified; safe to re-run). Then set `[store] kind = "postgres"`.
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The server configuration whose `[store] path` is the sled store to copy.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// The database: postgresql://USER@HOST:PORT/DATABASE (keep the password in --password-file).
    #[arg(long = "to-postgres", value_name = "URL")]
    to_postgres: String,
    /// File with the database password (first line). Default: the configuration's `[store] password_file`.
    #[arg(long = "password-file", value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// PEM CA(s) of the database's certificate (TLS required). Default: `[store] tls_ca_file`.
    #[arg(long = "tls-ca-file", value_name = "FILE")]
    tls_ca_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Kind {
    /// argon2id over `[store] passphrase_file` (created with a random passphrase if missing).
    Passphrase,
    /// A non-extractable AES-256 key in the HSM of `[root_key]` (or of the --hsm-* flags).
    Pkcs11,
}

#[derive(Debug, Args)]
pub struct RewrapArgs {
    /// The server configuration (its `[root_key]` is updated to the new kind).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The custody to move to.
    #[arg(long, value_name = "KIND")]
    to: Kind,
    /// The HSM's PKCS#11 library (replaces `[root_key] module`).
    #[arg(long = "hsm-module", value_name = "PATH")]
    module: Option<PathBuf>,
    /// The HSM token's label (replaces `[root_key] token_label`).
    #[arg(long = "hsm-token-label", value_name = "LABEL")]
    token_label: Option<String>,
    /// File with the token's user PIN (replaces `[root_key] pin_file`).
    #[arg(long = "hsm-pin-file", value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// The root key's label in the token (replaces `[root_key] key_label`).
    #[arg(long = "hsm-key-label", value_name = "LABEL")]
    key_label: Option<String>,
}

pub fn run(command: StoreCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        StoreCommand::Rewrap(args) => run_rewrap(args),
        StoreCommand::Migrate(args) => run_migrate(args),
    }
}

fn run_migrate(args: MigrateArgs) -> Result<(), Box<dyn std::error::Error>> {
    let config = kms_server::config::Config::load(&args.from)?;
    let mut store = config.store.clone();
    store.url = args.to_postgres;
    if let Some(file) = args.password_file {
        store.password_file = Some(std::path::absolute(file)?);
    }
    if let Some(file) = args.tls_ca_file {
        store.tls_ca_file = Some(std::path::absolute(file)?);
    }
    let options = store.postgres_options()?;
    let pool = entropy::EntropyPool::new(config.entropy.clone())?;
    let report = kms_server::store::postgres::copy::copy_sled_to_postgres(
        &config.store.path,
        &options,
        pool.rustls_provider(),
    )
    .map_err(|e| format!("store {}: {e}", config.store.path.display()))?;
    println!(
        "{} objects in {} and in {} ({} copied now, {} there already); SHA-256 over every record and sealed \
         blob, both sides: {}",
        report.objects,
        config.store.path.display(),
        options.describe(),
        report.copied,
        report.objects - report.copied,
        report.digest
    );
    // The PIN-guarded tenants' records and retry counters: shared through the database from now on.
    let pin_path = kms_server::user_pin::file_of(&config);
    let pin_file = kms_server::user_pin::PinFile::open(&pin_path)
        .map_err(|e| format!("{}: {e}", pin_path.display()))?;
    let database = kms_server::store::postgres::Database::connect(&options, &pool)?;
    let pins = database
        .copy_user_pins(&pin_file)
        .map_err(|e| format!("{}: {e}", pin_path.display()))?;
    println!(
        "{} user PIN records in {} and in the database ({} copied now; a tenant already there keeps its record \
         and retry counter)",
        pins.records,
        pin_path.display(),
        pins.copied
    );
    // The entropy-as-a-service usage history (quotas and totals): shared through the database from now on.
    let eaas_path = &config.eaas.state_file;
    let eaas_state = kms_server::eaas::state_file::StateFile::new(eaas_path)
        .load()
        .map_err(|e| e.to_string())?;
    let eaas = database
        .copy_eaas_usage(&eaas_state.server, &eaas_state.usage)
        .map_err(|e| format!("{}: {e}", eaas_path.display()))?;
    println!(
        "entropy-as-a-service usage in {}: {} tenants, {} days ({})",
        eaas_path.display(),
        eaas.tenants,
        eaas.days,
        match (eaas.tenants, eaas.copied) {
            (0, _) => "nothing to copy",
            (_, true) => "added to the database's counters now",
            (_, false) => "already added by an earlier run: nothing added",
        }
    );
    println!(
        "next: in {} set [store] kind = \"postgres\" and url = \"{}\" (with password_file and tls_ca_file), \
         and give each node its own directory for [store] path (its audit chain goes to the database)",
        args.from.display(),
        options.describe()
    );
    Ok(())
}

fn run_rewrap(args: RewrapArgs) -> Result<(), Box<dyn std::error::Error>> {
    let absolute = |p: Option<PathBuf>| p.map(std::path::absolute).transpose();
    let request = RewrapRequest {
        to: match args.to {
            Kind::Passphrase => RootKeyKind::Passphrase,
            Kind::Pkcs11 => RootKeyKind::Pkcs11,
        },
        module: absolute(args.module)?,
        token_label: args.token_label,
        pin_file: absolute(args.pin_file)?,
        key_label: args.key_label,
    };
    let report = rewrap(&args.config, &request)?;
    if let Some(path) = &report.new_passphrase_file {
        println!(
            "wrote a new root-key passphrase to {} (0600)",
            path.display()
        );
    }
    println!(
        "store moved from {} to {} custody{}; {} now says kind = \"{}\"",
        report.from,
        report.to,
        report
            .mechanism
            .map(|m| format!(" (data key wrapped with {m})"))
            .unwrap_or_default(),
        args.config.display(),
        request.to.name()
    );
    Ok(())
}
