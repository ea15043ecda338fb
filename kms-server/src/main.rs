//! `qkms-server`: initialise a set-up, issue client bundles, serve KMIP over mutual TLS.
//!
//! ```text
//! qkms-server --init DIR [--host-name NAME]...     create DIR/qkms.toml, DIR/pki/*, DIR/root.pass, DIR/store/
//!     [--root-key pkcs11 --hsm-module PATH --hsm-token-label LABEL --hsm-pin-file FILE [--hsm-key-label LABEL]]
//!                                                  ...or keep the root key in an HSM instead of root.pass
//! qkms-server --config DIR/qkms.toml [--listen HOST:PORT]
//! qkms-server --dev DIR [--listen HOST:PORT]       --init DIR if DIR/qkms.toml is missing, then serve it
//! qkms-server issue-client NAME --out DIR2 [--config DIR/qkms.toml]
//! qkms-server user-pin set|reset|status TENANT [--pin-file FILE] [--max-tries N] [--config DIR/qkms.toml]
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use kms_server::config::{Config, RootKeyConfig, RootKeyKind, TenantMapping};
use kms_server::server::Server;
use kms_server::setup::{self, InitOptions};

/// mimalloc rather than glibc malloc: a KMIP message allocates many small short-lived buffers on several
/// threads, where glibc's arenas spent ~15 % of the server's CPU (`_int_malloc`, `malloc_consolidate`).
/// The `system-allocator` feature leaves it out, so that a heap profiler that hooks `malloc` (heaptrack) sees
/// every allocation; that build is for measuring only.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "qkms-server",
    version,
    about = "qkms key management server (KMIP over mutual TLS); keys come from its entropy pool, quantum-seeded \
             only while a configured quantum source passes its health tests (see /health and Query)"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Args)]
#[group(required = false, multiple = false, id = "mode")]
struct Mode {
    /// Create a new set-up in DIR (configuration, development PKI, root passphrase, store) and exit.
    #[arg(long, value_name = "DIR")]
    init: Option<PathBuf>,
    /// Serve with this configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Development start: initialise DIR if it has no qkms.toml yet, then serve it.
    #[arg(long, value_name = "DIR")]
    dev: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    mode: Mode,
    /// Listen on HOST:PORT instead of the configured address.
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// With --init/--dev: extra DNS name or IP address for the server certificate (repeatable).
    #[arg(long = "host-name", value_name = "NAME")]
    host_names: Vec<String>,
    #[command(flatten)]
    root_key: RootKeyArgs,
}

/// With --init/--dev: where the store's root key lives (written to `[root_key]`).
#[derive(Debug, Args)]
struct RootKeyArgs {
    /// `passphrase` (argon2id over DIR/root.pass, the default) or `pkcs11` (a non-extractable AES-256 key in an
    /// HSM wraps the store's data key).
    #[arg(long = "root-key", value_name = "KIND", default_value = "passphrase")]
    kind: RootKeyChoice,
    /// The HSM's PKCS#11 library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so).
    #[arg(
        long = "hsm-module",
        value_name = "PATH",
        required_if_eq("kind", "pkcs11")
    )]
    module: Option<PathBuf>,
    /// The label of the HSM token.
    #[arg(
        long = "hsm-token-label",
        value_name = "LABEL",
        required_if_eq("kind", "pkcs11")
    )]
    token_label: Option<String>,
    /// A file whose first line is the token's user PIN.
    #[arg(
        long = "hsm-pin-file",
        value_name = "FILE",
        required_if_eq("kind", "pkcs11")
    )]
    pin_file: Option<PathBuf>,
    /// The label of the root key object (created in the HSM if absent). Default qkms-root-key.
    #[arg(long = "hsm-key-label", value_name = "LABEL")]
    key_label: Option<String>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum RootKeyChoice {
    Passphrase,
    Pkcs11,
}

impl RootKeyArgs {
    /// `[root_key]` from these flags, paths made absolute (they are given relative to the working directory).
    fn config(&self) -> Result<RootKeyConfig, String> {
        let absolute =
            |path: &Path| std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()));
        let mut config = RootKeyConfig {
            kind: match self.kind {
                RootKeyChoice::Passphrase => RootKeyKind::Passphrase,
                RootKeyChoice::Pkcs11 => RootKeyKind::Pkcs11,
            },
            ..RootKeyConfig::default()
        };
        if let Some(module) = &self.module {
            config.module = absolute(module)?;
        }
        if let Some(label) = &self.token_label {
            config.token_label = label.clone();
        }
        if let Some(pin_file) = &self.pin_file {
            config.pin_file = absolute(pin_file)?;
        }
        if let Some(label) = &self.key_label {
            config.key_label = label.clone();
        }
        Ok(config)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Issue a further client bundle (ca.pem, client.pem, client.key, client.p12, client.p12.pass) whose
    /// certificate's subject CN is NAME: the tenant, under subject-CN mapping.
    IssueClient {
        /// The tenant name (certificate subject CN).
        name: String,
        /// Directory to write the bundle into (created if missing; existing files are never overwritten).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The server configuration (its CA signs the certificate).
        #[arg(long, value_name = "FILE", default_value = "qkms.toml")]
        config: PathBuf,
    },
    /// Manage a tenant's PKCS#11 user PIN, which the server checks (user-pins.json, or the database with
    /// [store] kind = "postgres"): `set` guards the tenant with the PIN in --pin-file, `reset` unlocks it after
    /// too many wrong PINs, `status` prints the tries left. Restart the server afterwards (not needed with
    /// PostgreSQL: every node reads the records from the database).
    UserPin {
        action: PinAction,
        /// The tenant (certificate subject CN under subject-CN mapping).
        tenant: String,
        /// `set`: a file whose first line is the new PIN.
        #[arg(long, value_name = "FILE", required_if_eq("action", "set"))]
        pin_file: Option<PathBuf>,
        /// `set`: wrong PINs allowed before the PIN locks.
        #[arg(long, value_name = "N", default_value_t = kms_server::user_pin::DEFAULT_MAX_TRIES)]
        max_tries: u32,
        #[arg(long, value_name = "FILE", default_value = "qkms.toml")]
        config: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum PinAction {
    Set,
    Reset,
    Status,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::IssueClient { name, out, config }) => issue_client(&name, &out, &config),
        Some(Command::UserPin {
            action,
            tenant,
            pin_file,
            max_tries,
            config,
        }) => user_pin(action, &tenant, pin_file.as_deref(), max_tries, &config),
        None => run(cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("qkms-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    let Mode { init, config, dev } = args.mode;
    let root_key = args.root_key.config()?;
    if let Some(dir) = init {
        return init_dir(&dir, &args.host_names, &root_key);
    }
    let config_file = match (config, dev) {
        (Some(file), None) => file,
        (None, Some(dir)) => {
            let file = dir.join(setup::CONFIG_FILE);
            if !file.exists() {
                init_dir(&dir, &args.host_names, &root_key)?;
            }
            file
        }
        _ => {
            return Err(
                "nothing to do: give --init DIR, --config FILE or --dev DIR (see --help)".into(),
            )
        }
    };
    let config = Config::load(&config_file).map_err(|e| e.to_string())?;
    kms_server::allocator::set_purge_delay_ms(config.server.allocator_purge_delay_ms);
    if !config.server.allocator_transparent_huge_pages {
        if let Err(error) = kms_server::allocator::disable_transparent_huge_pages() {
            tracing::warn!(%error, "transparent huge pages stay allowed");
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(serve(config, args.listen))
}

async fn serve(mut config: Config, listen: Option<String>) -> Result<(), String> {
    if let Some(listen) = &listen {
        // What the server listens on, for everything derived from it (the default audit node id).
        config.server.listen = listen.clone();
    }
    let server = Server::build(&config).map_err(|e| e.to_string())?;
    let running = server
        .start(listen.as_deref())
        .await
        .map_err(|e| e.to_string())?;
    // Start-up's transient memory (argon2id, sled's snapshot) was freed on this thread, which from now on only
    // waits for a signal: purge it now, or it stays resident (see kms_server::allocator).
    kms_server::allocator::release_freed_memory();
    wait_for_termination().await?;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}

async fn wait_for_termination() -> Result<(), String> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.map_err(|e| format!("cannot watch SIGINT: {e}")),
        _ = terminate.recv() => Ok(()),
    }
}

fn init_dir(dir: &Path, host_names: &[String], root_key: &RootKeyConfig) -> Result<(), String> {
    let mut options = InitOptions {
        host_names: host_names.to_vec(),
        ..InitOptions::default()
    };
    options.base.root_key = root_key.clone();
    let report = setup::init(dir, &options).map_err(|e| e.to_string())?;
    let bundle = &report.client;
    println!("initialised {}", dir.display());
    if root_key.kind == RootKeyKind::Pkcs11 {
        println!(
            "  root key:        HSM token {:?}, key {:?} (module {})",
            root_key.token_label,
            root_key.key_label,
            root_key.module.display()
        );
    }
    println!("  configuration:   {}", report.config_file.display());
    println!("  client (tenant \"{}\"):", setup::DEFAULT_CLIENT);
    println!(
        "    CA:            {}",
        dir.join("pki").join("ca.pem").display()
    );
    println!("    certificate:   {}", bundle.certificate.display());
    println!("    key:           {}", bundle.key.display());
    println!(
        "    PKCS#12:       {} (password in {})",
        bundle.pkcs12.display(),
        bundle.pkcs12_password.display()
    );
    println!(
        "serve it with: qkms-server --config {}",
        report.config_file.display()
    );
    Ok(())
}

fn issue_client(name: &str, out: &Path, config_file: &Path) -> Result<(), String> {
    let config = Config::load(config_file).map_err(|e| e.to_string())?;
    let issued = setup::issue_client(&config, name, out).map_err(|e| e.to_string())?;
    let bundle = &issued.bundle;
    println!(
        "issued a client bundle for \"{}\" in {}",
        issued.common_name,
        out.display()
    );
    println!("  certificate:   {}", bundle.certificate.display());
    println!("  key:           {}", bundle.key.display());
    println!(
        "  PKCS#12:       {} (password in {})",
        bundle.pkcs12.display(),
        bundle.pkcs12_password.display()
    );
    println!("  SHA-256:       {}", issued.fingerprint);
    match issued.mapping {
        TenantMapping::SubjectCn => println!("  tenant:        {} (subject CN)", issued.common_name),
        TenantMapping::Fingerprint => println!(
            "  this server maps tenants by fingerprint: add\n    \"{}\" = \"{}\"\n  under [auth.fingerprints] in {} and restart",
            issued.fingerprint,
            issued.common_name,
            config_file.display()
        ),
    }
    Ok(())
}

fn user_pin(
    action: PinAction,
    tenant: &str,
    pin_file: Option<&Path>,
    max_tries: u32,
    config_file: &Path,
) -> Result<(), String> {
    use kms_server::tenant::TenantId;
    use kms_server::user_pin::PinRecord;
    let config = Config::load(config_file).map_err(|e| e.to_string())?;
    let pool = entropy::EntropyPool::new(config.entropy.clone()).map_err(|e| e.to_string())?;
    // user-pins.json, or the database every node shares ([store] kind = "postgres").
    let pins = kms_server::user_pin::open(&config, &pool, None).map_err(|e| e.to_string())?;
    // Nodes on a database read the records at every check: no restart needed.
    let restart = match config.store.kind {
        kms_server::config::StoreKind::Sled => "; restart the server",
        kms_server::config::StoreKind::Postgres => "",
    };
    let tenant_id = TenantId(tenant.to_owned());
    match action {
        PinAction::Set => {
            let path = pin_file.ok_or("set needs --pin-file")?;
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
            );
            let pin = text.lines().next().unwrap_or_default();
            if pin.is_empty() {
                return Err(format!(
                    "{}: the first line (the PIN) is empty",
                    path.display()
                ));
            }
            let record =
                PinRecord::new(&pool, pin.as_bytes(), max_tries).map_err(|e| e.to_string())?;
            pins.set(&tenant_id, record).map_err(|e| e.to_string())?;
            println!(
                "tenant {tenant:?} is PIN-guarded ({max_tries} tries) in {}{restart}",
                pins.location()
            );
        }
        PinAction::Reset => {
            pins.reset(&tenant_id).map_err(|e| e.to_string())?;
            println!(
                "tenant {tenant:?}: PIN unlocked in {}{restart}",
                pins.location()
            );
        }
        PinAction::Status => match pins.try_status(&tenant_id).map_err(|e| e.to_string())? {
            Some(status) => println!(
                "tenant {tenant:?}: {} of {} tries left",
                status.tries_left, status.max_tries
            ),
            None => println!("tenant {tenant:?} is not PIN-guarded"),
        },
    }
    Ok(())
}
