//! `qkms random`: random bytes from the entropy pool, or raw health-tested samples of one source.
//!
//! Pool output is for statistical test suites (`rngtest`, `dieharder`, PractRand) and for anyone who wants
//! QRNG-seeded bytes; `--raw --source ID` writes one configured source's samples (one per byte, after its
//! SP 800-90B health tests, before conditioning) for NIST's `ea_non_iid` assessment.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::{ArgGroup, Args};
use entropy::provenance::OS_FALLBACK_LABEL;
use entropy::source::EntropySource;
use entropy::{EntropyConfig, EntropyPool};
use indicatif::{ProgressBar, ProgressStyle};

/// Bytes written per pool draw or source read.
const CHUNK: usize = 1 << 20;
/// Below this size no progress bar is shown.
const PROGRESS_THRESHOLD: u64 = 8 << 20;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("amount").required(true).args(["bytes", "stream"])))]
pub struct RandomArgs {
    /// How many bytes to write; suffixes K, M, G are binary multiples (100M = 100 MiB).
    #[arg(long, value_parser = parse_size)]
    bytes: Option<u64>,
    /// Write until the reader stops reading (e.g. `| dieharder -g 200 -a`).
    #[arg(long)]
    stream: bool,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Entropy configuration (TOML). Default: the OS getrandom fallback, which is not quantum.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write raw health-tested samples of one source (one sample per byte) instead of pool output.
    #[arg(long, requires = "source")]
    raw: bool,
    /// The configured source whose raw samples `--raw` writes.
    #[arg(long, requires = "raw")]
    source: Option<String>,
}

/// Parses `1234`, `64K`, `100M`, `2G` (binary multiples).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&text[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    let count: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a byte count (e.g. 4096, 64K, 100M, 2G)"))?;
    count
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large"))
}

pub fn run(args: RandomArgs) -> Result<(), Box<dyn std::error::Error>> {
    let config = match &args.config {
        Some(path) => EntropyConfig::from_file(path)?,
        None => EntropyConfig::default(),
    };
    if config.is_os_fallback() && !args.raw {
        eprintln!(
            "qkms random: no entropy source configured: seeding from the {OS_FALLBACK_LABEL}"
        );
    }
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let progress = progress_bar(args.bytes);
    let mut producer: Box<Producer> = match (args.raw, &args.source) {
        (true, Some(id)) => {
            let mut source = entropy::pool::open_configured_source(&config, id)?;
            Box::new(move |buf: &mut [u8]| Ok(source.read_samples(buf)?))
        }
        _ => {
            let pool = EntropyPool::new(config)?;
            Box::new(move |buf: &mut [u8]| {
                pool.try_fill(buf)?;
                Ok(buf.len())
            })
        }
    };
    let result = copy_out(&mut producer, &mut out, args.bytes, &progress);
    progress.finish_and_clear();
    match result {
        Err(CopyError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(CopyError::Write(e)) => Err(format!("write failed: {e}").into()),
        Err(CopyError::Produce(e)) => Err(e),
        Ok(()) => Ok(()),
    }
}

/// Fills a buffer with output (pool bytes or raw samples), returning how many bytes it wrote.
type Producer = dyn FnMut(&mut [u8]) -> Result<usize, Box<dyn std::error::Error>>;

enum CopyError {
    Write(io::Error),
    Produce(Box<dyn std::error::Error>),
}

/// Copies `limit` bytes (or forever, when `None`) from `produce` to `out`. A reader that stops reading ends a
/// stream with a broken pipe, which the caller treats as the normal end.
fn copy_out(
    produce: &mut Producer,
    out: &mut dyn Write,
    limit: Option<u64>,
    progress: &ProgressBar,
) -> Result<(), CopyError> {
    let mut buf = vec![0u8; CHUNK];
    let mut written = 0u64;
    loop {
        let want = match limit {
            Some(limit) if written >= limit => break,
            Some(limit) => usize::try_from(limit - written).map_or(CHUNK, |left| left.min(CHUNK)),
            None => CHUNK,
        };
        let n = produce(&mut buf[..want]).map_err(CopyError::Produce)?;
        out.write_all(&buf[..n]).map_err(CopyError::Write)?;
        written += n as u64;
        progress.inc(n as u64);
    }
    buf.fill(0);
    out.flush().map_err(CopyError::Write)
}

/// A byte progress bar on stderr for large fixed-size runs when stderr is a terminal; hidden otherwise.
fn progress_bar(bytes: Option<u64>) -> ProgressBar {
    match bytes {
        Some(total) if total >= PROGRESS_THRESHOLD && io::stderr().is_terminal() => {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        }
        _ => ProgressBar::hidden(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn parses_sizes_with_binary_suffixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(64 * 1024));
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}
