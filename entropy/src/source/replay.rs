//! A recorded raw-sample file (one sample per byte), replayed: for tests and for re-running an assessment.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;

use super::{check_assessment, EntropySource, SourceError, SourceInfo, SourceKind};

/// Replays a file of raw samples. At end of file it fails with `EndOfStream`, or starts over if `looping`.
#[derive(Debug)]
pub struct ReplaySource {
    info: SourceInfo,
    file: File,
    looping: bool,
    /// Whether anything was read since the last rewind (an empty looping file must not spin).
    read_since_rewind: bool,
    offset: u64,
}

impl ReplaySource {
    /// Opens `path`, whose samples are `sample_bits` wide with the given assessed min-entropy. Not quantum and
    /// not credited: a recording is a test fixture, not a live source.
    pub fn open(
        path: &Path,
        sample_bits: u8,
        min_entropy_per_sample: f64,
    ) -> Result<Self, SourceError> {
        let id = format!("replay:{}", path.display());
        check_assessment(&id, sample_bits, min_entropy_per_sample)?;
        let file = File::open(path).map_err(|source| SourceError::Io {
            id: id.clone(),
            source,
        })?;
        Ok(Self {
            info: SourceInfo {
                id,
                kind: SourceKind::Replay,
                quantum: false,
                sample_bits,
                min_entropy_per_sample,
                credited: false,
            },
            file,
            looping: false,
            read_since_rewind: false,
            offset: 0,
        })
    }

    /// Starts over at end of file instead of failing.
    pub fn looping(mut self, looping: bool) -> Self {
        self.looping = looping;
        self
    }

    fn read_once(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        loop {
            match self.file.read(out) {
                Ok(n) => return Ok(n),
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

impl EntropySource for ReplaySource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        if out.is_empty() {
            return Ok(0);
        }
        let mut n = self.read_once(out)?;
        if n == 0 && self.looping && self.read_since_rewind {
            self.file
                .seek(SeekFrom::Start(0))
                .map_err(|source| SourceError::Io {
                    id: self.info.id.clone(),
                    source,
                })?;
            self.offset = 0;
            self.read_since_rewind = false;
            n = self.read_once(out)?;
        }
        if n == 0 {
            return Err(SourceError::EndOfStream {
                id: self.info.id.clone(),
            });
        }
        let limit = 1u16 << self.info.sample_bits;
        if let Some(pos) = out[..n].iter().position(|&b| u16::from(b) >= limit) {
            return Err(SourceError::Failed {
                id: self.info.id.clone(),
                reason: format!(
                    "byte {} holds {:#04x}, not a {}-bit sample",
                    self.offset + pos as u64,
                    out[pos],
                    self.info.sample_bits
                ),
            });
        }
        self.offset += n as u64;
        self.read_since_rewind = true;
        Ok(n)
    }
}
