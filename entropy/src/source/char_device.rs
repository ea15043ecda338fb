//! Character devices, FIFOs and ttys: Quantis `/dev/qrandom0..N`, Linux `/dev/hwrng`, serial/USB QRNGs.
//!
//! The device is opened read-only (and, for a tty, without becoming the controlling terminal); each
//! `read_samples` is one `read(2)` of up to `block_size` bytes, so a short read returns what the device had.
//! End of file is a source failure: a device that reports EOF has gone away (or a FIFO's writer closed).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::PathBuf;

use nix::fcntl::OFlag;
use nix::sys::termios;

use super::SourceKind;
use super::{check_assessment, EntropySource, SourceError, SourceInfo};

/// How the operator configured a device source.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CharDeviceConfig {
    pub path: PathBuf,
    /// Whether the device's noise is of quantum origin (a Quantis card: yes; `/dev/hwrng` on virtio: no).
    pub quantum: bool,
    /// Bits per sample; each byte read carries one sample. Default 8.
    pub sample_bits: u8,
    /// Assessed min-entropy per sample.
    pub min_entropy_per_sample: f64,
    pub credited: bool,
    /// Largest single read, bytes. Default 64 KiB.
    pub block_size: usize,
    /// For a tty: switch it to raw mode (no line editing, no CR/LF translation, no signals, 8-bit clean).
    pub raw_tty: bool,
}

impl CharDeviceConfig {
    /// A credited 8-bit device with the given quantum flag and assessed min-entropy per byte.
    pub fn new(path: impl Into<PathBuf>, quantum: bool, min_entropy_per_sample: f64) -> Self {
        Self {
            path: path.into(),
            quantum,
            sample_bits: 8,
            min_entropy_per_sample,
            credited: true,
            block_size: 64 * 1024,
            raw_tty: true,
        }
    }
}

/// A readable character device, FIFO or tty.
#[derive(Debug)]
pub struct CharDeviceSource {
    info: SourceInfo,
    file: File,
    block_size: usize,
}

impl CharDeviceSource {
    /// Opens the device. Regular files and directories are refused (use `ReplaySource` for recordings).
    pub fn open(config: &CharDeviceConfig) -> Result<Self, SourceError> {
        let id = config.path.display().to_string();
        check_assessment(&id, config.sample_bits, config.min_entropy_per_sample)?;
        if config.block_size == 0 {
            return Err(SourceError::InvalidConfig {
                id,
                reason: "block size is zero".to_owned(),
            });
        }
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(OFlag::O_NOCTTY.bits())
            .open(&config.path)
            .map_err(|source| match source.kind() {
                ErrorKind::NotFound => SourceError::Unavailable {
                    id: id.clone(),
                    reason: source.to_string(),
                },
                _ => SourceError::Io {
                    id: id.clone(),
                    source,
                },
            })?;
        let file_type = file
            .metadata()
            .map_err(|source| SourceError::Io {
                id: id.clone(),
                source,
            })?
            .file_type();
        if !(file_type.is_char_device() || file_type.is_fifo()) {
            return Err(SourceError::InvalidConfig {
                id,
                reason: "not a character device or FIFO".to_owned(),
            });
        }
        if config.raw_tty && termios::tcgetattr(&file).is_ok() {
            make_raw(&file).map_err(|e| SourceError::Io {
                id: id.clone(),
                source: e.into(),
            })?;
        }
        Ok(Self {
            info: SourceInfo {
                id,
                kind: SourceKind::CharDevice,
                quantum: config.quantum,
                sample_bits: config.sample_bits,
                min_entropy_per_sample: config.min_entropy_per_sample,
                credited: config.credited,
            },
            file,
            block_size: config.block_size,
        })
    }
}

/// Raw mode, blocking reads of at least one byte.
fn make_raw(file: &File) -> nix::Result<()> {
    let mut attrs = termios::tcgetattr(file)?;
    termios::cfmakeraw(&mut attrs);
    attrs.control_chars[termios::SpecialCharacterIndices::VMIN as usize] = 1;
    attrs.control_chars[termios::SpecialCharacterIndices::VTIME as usize] = 0;
    termios::tcsetattr(file, termios::SetArg::TCSANOW, &attrs)
}

impl EntropySource for CharDeviceSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        if out.is_empty() {
            return Ok(0);
        }
        let len = out.len().min(self.block_size);
        loop {
            match self.file.read(&mut out[..len]) {
                Ok(0) => {
                    return Err(SourceError::EndOfStream {
                        id: self.info.id.clone(),
                    })
                }
                Ok(n) => {
                    if self.info.sample_bits < 8 {
                        let mask = ((1u16 << self.info.sample_bits) - 1) as u8;
                        if let Some(pos) = out[..n].iter().position(|&b| b & !mask != 0) {
                            return Err(SourceError::Failed {
                                id: self.info.id.clone(),
                                reason: format!(
                                    "read {:#04x} at block offset {pos}, not a {}-bit sample",
                                    out[pos], self.info.sample_bits
                                ),
                            });
                        }
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(SourceError::Io {
                        id: self.info.id.clone(),
                        source,
                    })
                }
            }
        }
    }
}
