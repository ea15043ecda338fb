//! Character-device source: a FIFO stands in for a QRNG device; a pseudo-terminal for a serial QRNG;
//! `/dev/hwrng` when this machine lets us read it.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;

use entropy::health::{HealthState, HealthTestedSource};
use entropy::source::{CharDeviceConfig, CharDeviceSource, EntropySource, SourceError, SourceKind};
use nix::sys::stat::Mode;

fn fifo(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("qrandom0");
    nix::unistd::mkfifo(&path, Mode::S_IRUSR | Mode::S_IWUSR).unwrap();
    path
}

/// Reads until the source fails; returns what it delivered and the failure.
fn drain(source: &mut impl EntropySource, buf_len: usize) -> (Vec<u8>, SourceError, usize) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; buf_len];
    let mut reads = 0;
    loop {
        match source.read_samples(&mut buf) {
            Ok(n) => {
                assert!(n >= 1 && n <= buf_len);
                reads += 1;
                out.extend_from_slice(&buf[..n]);
            }
            Err(e) => return (out, e, reads),
        }
    }
}

fn test_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}

#[test]
fn a_fifo_delivers_every_byte_across_short_reads_then_eof_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let path = fifo(dir.path());
    let data = test_bytes(100_000);
    let writer = {
        let (path, data) = (path.clone(), data.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
            // Small, paced writes: the reader sees short reads.
            for chunk in data.chunks(777) {
                f.write_all(chunk).unwrap();
            }
        })
    };
    let mut config = CharDeviceConfig::new(&path, true, 7.0);
    config.block_size = 4096;
    let mut source = CharDeviceSource::open(&config).unwrap();
    assert_eq!(source.info().kind, SourceKind::CharDevice);
    assert!(source.info().quantum && source.info().credited);
    let (out, err, reads) = drain(&mut source, 8192);
    writer.join().unwrap();
    assert_eq!(out, data);
    assert!(
        reads >= data.len() / 4096,
        "block size bounds each read ({reads} reads)"
    );
    assert!(matches!(err, SourceError::EndOfStream { .. }), "{err:?}");
}

#[test]
fn a_fifo_feeds_the_health_tests() {
    let dir = tempfile::tempdir().unwrap();
    let path = fifo(dir.path());
    let data = test_bytes(20 * 512);
    let writer = {
        let (path, data) = (path.clone(), data.clone());
        std::thread::spawn(move || std::fs::write(path, data).unwrap())
    };
    let source = CharDeviceSource::open(&CharDeviceConfig::new(&path, true, 7.0)).unwrap();
    let mut tested = HealthTestedSource::new(source).unwrap();
    let (out, err, _) = drain(&mut tested, 1000);
    writer.join().unwrap();
    assert!(matches!(err, SourceError::EndOfStream { .. }), "{err:?}");
    assert_eq!(out, data[1024..]);
    assert_eq!(tested.status().counters.startup_passes, 1);
}

#[test]
fn a_stuck_device_is_latched_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = fifo(dir.path());
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || std::fs::write(path, vec![0u8; 64 * 1024]).unwrap())
    };
    let source = CharDeviceSource::open(&CharDeviceConfig::new(&path, true, 7.0)).unwrap();
    let mut tested = HealthTestedSource::new(source).unwrap();
    let (out, err, _) = drain(&mut tested, 1000);
    writer.join().unwrap();
    assert!(out.is_empty());
    assert!(
        matches!(
            err,
            SourceError::HealthTest {
                state: HealthState::PersistentFailure,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn missing_devices_regular_files_and_bad_assessments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = CharDeviceSource::open(&CharDeviceConfig::new(
        dir.path().join("qrandom9"),
        true,
        7.0,
    ));
    assert!(
        matches!(missing, Err(SourceError::Unavailable { .. })),
        "{missing:?}"
    );

    let file = dir.path().join("samples.bin");
    std::fs::write(&file, [1, 2, 3]).unwrap();
    let regular = CharDeviceSource::open(&CharDeviceConfig::new(&file, true, 7.0));
    assert!(
        matches!(regular, Err(SourceError::InvalidConfig { .. })),
        "{regular:?}"
    );

    let over = CharDeviceSource::open(&CharDeviceConfig::new("/dev/zero", false, 9.0));
    assert!(
        matches!(over, Err(SourceError::InvalidConfig { .. })),
        "{over:?}"
    );
    let mut narrow = CharDeviceConfig::new("/dev/urandom", false, 0.5);
    narrow.sample_bits = 1;
    let mut source = CharDeviceSource::open(&narrow).unwrap();
    let mut buf = [0u8; 4096];
    let err = source.read_samples(&mut buf).unwrap_err();
    assert!(
        matches!(err, SourceError::Failed { .. }),
        "bytes above the sample width are refused: {err:?}"
    );
}

#[test]
fn a_tty_is_put_in_raw_mode_and_passes_every_byte_value() {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave_path = std::fs::read_link(format!("/proc/self/fd/{}", {
        use std::os::fd::AsRawFd;
        pty.slave.as_raw_fd()
    }))
    .unwrap();
    let mut source =
        CharDeviceSource::open(&CharDeviceConfig::new(&slave_path, false, 4.0)).unwrap();
    let attrs = nix::sys::termios::tcgetattr(pty.slave.as_fd()).unwrap();
    assert!(
        !attrs
            .local_flags
            .contains(nix::sys::termios::LocalFlags::ICANON),
        "raw mode set"
    );

    // In cooked mode CR would become LF, ^C would raise a signal, and lines would wait for a newline.
    let data: Vec<u8> = (0..=255u8).collect();
    let mut master = std::fs::File::from(pty.master);
    master.write_all(&data).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    while out.len() < data.len() {
        let n = source.read_samples(&mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(out, data);
}

#[test]
fn hwrng_is_read_when_this_machine_allows_it() {
    let path = Path::new("/dev/hwrng");
    let mut config = CharDeviceConfig::new(path, false, 4.0);
    config.block_size = 64;
    let mut source = match CharDeviceSource::open(&config) {
        Ok(source) => source,
        Err(err) => {
            println!("note: skipping /dev/hwrng: {err}");
            return;
        }
    };
    let current =
        std::fs::read_to_string("/sys/class/misc/hw_random/rng_current").unwrap_or_default();
    println!("reading /dev/hwrng (rng_current: {})", current.trim());
    let mut buf = [0u8; 64];
    let mut total = 0;
    while total < 256 {
        let n = match source.read_samples(&mut buf) {
            Ok(n) => n,
            Err(err) => {
                println!("note: /dev/hwrng opened but cannot be read here: {err}");
                return;
            }
        };
        assert!(n >= 1);
        total += n;
    }
    assert!(
        buf.iter().any(|&b| b != buf[0]),
        "hwrng gave 64 identical bytes"
    );
}
