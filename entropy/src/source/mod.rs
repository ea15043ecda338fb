//! Entropy sources: one module per kind, one trait.
//!
//! A source yields raw noise samples, one sample per byte (the low `sample_bits` bits), before any health test
//! or conditioning, and describes itself so every draw can say where its entropy came from.

use std::fmt;

/// What kind of physical or logical source a [`SourceInfo`] describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A character device, FIFO or tty: Quantis `/dev/qrandom0`, `/dev/hwrng`, serial/USB QRNGs.
    CharDevice,
    /// An upstream HTTPS entropy service speaking a JSON API.
    Https,
    /// The x86 RDSEED instruction.
    Rdseed,
    /// CPU timing jitter.
    Jitter,
    /// The operating system's `getrandom`: the non-quantum fallback.
    Os,
    /// A recorded raw-sample file, replayed.
    Replay,
}

/// What a source is, as configured by the operator.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceInfo {
    /// Operator-facing identifier: device path, serial number, URL, file name.
    pub id: String,
    pub kind: SourceKind,
    /// Whether the noise is of quantum origin. Only the operator's configuration of a QRNG sets this.
    pub quantum: bool,
    /// Bits per sample, 1..=8; each byte a source yields carries one sample in its low bits.
    pub sample_bits: u8,
    /// Min-entropy per sample (H) the operator assessed for this source.
    pub min_entropy_per_sample: f64,
    /// Whether the source's entropy counts towards seeds; an uncredited source is mixed in as additional input.
    pub credited: bool,
}

/// A source could not deliver samples.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("source {id}: I/O error: {source}")]
    Io {
        id: String,
        #[source]
        source: std::io::Error,
    },
    #[error("source {id}: end of stream")]
    EndOfStream { id: String },
    #[error("source {id}: {reason}")]
    Failed { id: String, reason: String },
}

/// A raw noise source.
pub trait EntropySource: Send + fmt::Debug {
    /// What this source is.
    fn info(&self) -> &SourceInfo;

    /// Fills `out` with raw samples (one per byte), returning how many were written (at least one unless `out` is
    /// empty). A source that cannot deliver returns an error rather than fewer or weaker samples.
    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError>;
}
