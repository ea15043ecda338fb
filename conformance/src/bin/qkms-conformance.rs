//! `qkms-conformance`: replay the OASIS KMIP test cases against a running server and write a pass/fail table.
//!
//! ```text
//! qkms-conformance --config DIR/qkms.toml --profile SKLC-M --profile BL-M --out RESULTS.md
//! qkms-conformance --addr 127.0.0.1:5696 --ca ca.pem --cert client.pem --key client.key --glob '*-21.xml'
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use qkms_conformance::case::{discover, profile_of};
use qkms_conformance::overlay::{glob_match, Overlay};
use qkms_conformance::runner::{run_files, DEFAULT_TIME_SLACK_SECONDS};
use qkms_conformance::{report, ClientBundle, Target};

#[derive(Debug, Parser)]
#[command(
    name = "qkms-conformance",
    about = "Replay the OASIS KMIP profile test cases against a server"
)]
struct Args {
    /// The server's configuration (`qkms-server --init DIR` makes DIR/qkms.toml); the client bundle is taken
    /// from DIR/pki/.
    #[arg(long, conflicts_with_all = ["ca", "cert", "key"])]
    config: Option<PathBuf>,
    /// Server address host:port (overrides the configuration's).
    #[arg(long)]
    addr: Option<String>,
    /// The server's HTTPS listener host:port, for the MSGENC cases (overrides the configuration's `[https]`).
    #[arg(long)]
    https_addr: Option<String>,
    /// The name the server certificate must carry (default: the host of --addr).
    #[arg(long)]
    server_name: Option<String>,
    /// CA certificate (PEM) for the server certificate.
    #[arg(long, requires_all = ["cert", "key"])]
    ca: Option<PathBuf>,
    /// Client certificate (PEM).
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Directory holding the test-case XML files (searched recursively).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/kmip-test-cases"))]
    cases: PathBuf,
    /// Run only files of these profiles (file-name prefix, e.g. SKLC-M, CS-RNG-M). Repeatable.
    #[arg(long)]
    profile: Vec<String>,
    /// Run only files whose name matches these globs (e.g. '*-21.xml'). Repeatable.
    #[arg(long)]
    glob: Vec<String>,
    /// Per-case expectations.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/overlay.toml"))]
    overlay: PathBuf,
    /// Write the markdown table here (default: stdout only).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds a `$NOW` time may differ from the request's send time.
    #[arg(long, default_value_t = DEFAULT_TIME_SLACK_SECONDS)]
    time_slack: i64,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("qkms-conformance: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<bool, String> {
    let mut target = match (&args.config, &args.ca, &args.cert, &args.key) {
        (Some(config), _, _, _) => {
            Target::from_config(config, args.addr.as_deref()).map_err(|e| e.to_string())?
        }
        (None, Some(ca), Some(cert), Some(key)) => Target::new(
            args.addr
                .clone()
                .ok_or("--addr is required with --ca/--cert/--key")?,
            ClientBundle {
                ca: ca.clone(),
                cert: cert.clone(),
                key: key.clone(),
            },
        ),
        _ => {
            return Err("give --config DIR/qkms.toml, or --addr with --ca, --cert and --key".into())
        }
    };
    if let Some(address) = &args.https_addr {
        target.https_address = Some(address.clone());
    }
    if let Some(name) = &args.server_name {
        target.server_name = name.clone();
    }
    let overlay = Overlay::load(&args.overlay).map_err(|e| e.to_string())?;
    let files: Vec<PathBuf> = discover(&args.cases)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            let by_profile = args.profile.iter().any(|p| profile_of(&name) == p);
            let by_glob = args.glob.iter().any(|g| glob_match(g, &name));
            (args.profile.is_empty() && args.glob.is_empty()) || by_profile || by_glob
        })
        .collect();
    if files.is_empty() {
        return Err(format!(
            "no test case selected under {}",
            args.cases.display()
        ));
    }
    let pool = entropy::EntropyPool::new(entropy::EntropyConfig::default())
        .map_err(|e| format!("entropy pool: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let results = runtime.block_on(run_files(
        &target,
        pool.rustls_provider(),
        &files,
        &overlay,
        args.time_slack,
    ));
    let table = report::markdown(
        "KMIP conformance",
        &format!(
            "Server {} (binary TTLV over mutual TLS); MSGENC cases over HTTPS at {}.",
            target.address,
            target
                .https_address
                .as_deref()
                .unwrap_or("(none configured)")
        ),
        &results,
    );
    print!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(results
        .iter()
        .all(|r| r.outcome.passed() || matches!(r.outcome, qkms_conformance::Outcome::Skipped(_))))
}
