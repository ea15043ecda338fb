//! `qkms feed`: a host daemon that puts verified qkms random bytes into this host's kernel random pool
//! (`RNDADDENTROPY` + `RNDRESEEDCRNG`, see [`crate::kernel_pool`]) or into a FIFO that rngd's `namedpipe`
//! source reads, every interval.
//!
//! Each round fetches an envelope with a fresh nonce and verifies it completely (CA chain, signature, nonce,
//! freshness, and the link to the previous round's envelope) before a byte is used. A link that does not hold
//! while the sequence moved forward is a server restart (documented in the README): the daemon logs it and
//! re-anchors. A failed round is logged and retried next interval; `--once` makes the first failure the exit
//! status. The systemd unit is `cli/systemd/qkms-feed.service`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use sha2::{Digest, Sha256};

use crate::eaas_cmd::{Connection, ConnectionArgs};

type Error = Box<dyn std::error::Error>;

#[derive(Debug, Args)]
pub struct FeedArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Bytes per round.
    #[arg(long, value_name = "N", default_value_t = 64)]
    bytes: u64,
    /// Seconds between rounds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    interval_secs: u64,
    /// One round, then exit (non-zero if it failed).
    #[arg(long)]
    once: bool,
    /// Write the bytes to this FIFO (rngd -x namedpipe -O namedpipe:path:PATH) instead of the kernel pool.
    #[arg(long, value_name = "PATH")]
    fifo: Option<PathBuf>,
    /// Bits credited per round in the kernel pool (no effect after boot on kernels 5.18 and later).
    #[arg(long, value_name = "BITS", default_value_t = 0)]
    credit_bits: u32,
}

pub fn run(args: FeedArgs) -> Result<(), Error> {
    if args.bytes == 0 || args.bytes > 1 << 20 {
        return Err("--bytes must be 1..=1048576".into());
    }
    let connection = Connection::open(&args.connection)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut previous: Option<eaas::Envelope> = None;
    loop {
        match runtime.block_on(round(&connection, &args, previous.as_ref())) {
            Ok(envelope) => previous = Some(envelope),
            Err(error) if args.once => return Err(error),
            Err(error) => eprintln!("qkms feed: round failed, retrying next interval: {error}"),
        }
        if args.once {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(args.interval_secs.max(1)));
    }
}

async fn round(
    connection: &Connection,
    args: &FeedArgs,
    previous: Option<&eaas::Envelope>,
) -> Result<eaas::Envelope, Error> {
    let linked = connection
        .fetch_verified(args.bytes, previous.cloned())
        .await;
    let (envelope, verified) = match (linked, previous) {
        (Ok(pair), _) => pair,
        // A chain gap: fetch again without the link, and accept it only if the sequence moved forward.
        (Err(error), Some(previous))
            if matches!(error.downcast_ref(), Some(eaas::EaasError::Chain(_))) =>
        {
            let (envelope, verified) = connection.fetch_verified(args.bytes, None).await?;
            if envelope.server == previous.server && envelope.sequence <= previous.sequence {
                return Err(format!(
                    "sequence {} after {}: refusing an envelope that goes back",
                    envelope.sequence, previous.sequence
                )
                .into());
            }
            eprintln!(
                "qkms feed: chain gap after sequence {} (server restarted or another node answered); re-anchored at {}",
                previous.sequence, envelope.sequence
            );
            (envelope, verified)
        }
        (Err(error), _) => return Err(error),
    };
    let digest = hex::encode(Sha256::digest(&verified.data));
    let destination = match &args.fifo {
        Some(path) => {
            let mut fifo = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            fifo.write_all(&verified.data)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            format!("FIFO {}", path.display())
        }
        None => {
            crate::kernel_pool::add_and_reseed(&verified.data, args.credit_bits)?;
            format!(
                "the kernel pool (credited {} bits) and reseeded the CRNG",
                args.credit_bits
            )
        }
    };
    println!(
        "fed {} bytes (sha256 {digest}) from {} sequence {} ({}) into {destination}",
        verified.data.len(),
        envelope.server,
        envelope.sequence,
        if envelope.provenance.quantum {
            "quantum"
        } else {
            "not quantum"
        },
    );
    Ok(envelope)
}
