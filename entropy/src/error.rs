//! The pool's one error type: every way a draw, a seed or a configuration can fail.

use std::fmt;

use crate::conditioning::ConditioningError;
use crate::drbg::DrbgError;
use crate::health::HealthState;
use crate::source::SourceKind;

/// Why the pool refused to produce bytes, or could not be built.
///
/// A draw that fails never yields weaker bytes: the caller gets this error instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntropyError {
    /// No healthy, credited source could deliver enough min-entropy for a seed. Names every credited source and
    /// where it stands.
    #[error("no healthy credited entropy source could seed the DRBG ({needed_bits} bits needed): {}", SourceReports(.sources))]
    NoHealthySource {
        needed_bits: u64,
        sources: Vec<SourceReport>,
    },
    /// The sources did not deliver a seed within the configured timeout (prediction resistance, reseed or
    /// instantiation).
    #[error("entropy sources did not deliver a seed within {timeout_ms} ms: {}", SourceReports(.sources))]
    SeedTimeout {
        timeout_ms: u64,
        sources: Vec<SourceReport>,
    },
    /// The DRBG refused an operation (a bug in the pool's bookkeeping if it ever shows up).
    #[error("DRBG error: {0}")]
    Drbg(#[from] DrbgError),
    /// The conditioner refused (a bug in the pool's accounting if it ever shows up).
    #[error("conditioning error: {0}")]
    Conditioning(#[from] ConditioningError),
    /// The configuration cannot work.
    #[error("invalid entropy configuration: {0}")]
    Config(String),
    /// A configured source could not be opened or set up.
    #[error("entropy source {id}: {reason}")]
    SourceSetup { id: String, reason: String },
    /// `--raw` asked for a source id that is not configured.
    #[error("no entropy source with id {0:?} is configured")]
    UnknownSource(String),
    /// Reading raw samples of one source failed.
    #[error("entropy source {id}: {reason}")]
    SourceRead { id: String, reason: String },
    /// A DRBG instance had no state where the pool had just seeded it (a bug in the pool if it ever shows up).
    #[error("the DRBG instance is not seeded")]
    NotSeeded,
    /// The seeding thread is gone (it panicked or could not be started).
    #[error("the entropy pool's seeding thread is not running: {0}")]
    SeederStopped(String),
}

/// One source's state, as named in an error.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceReport {
    pub id: String,
    pub kind: SourceKind,
    pub quantum: bool,
    /// Health-test state, when the source got as far as being tested.
    pub health: Option<HealthState>,
    /// The last error the source gave, if any.
    pub last_error: Option<String>,
}

impl fmt::Display for SourceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?}", self.id, self.kind)?;
        if let Some(health) = self.health {
            write!(f, ", health {health:?}")?;
        }
        write!(f, ")")?;
        if let Some(error) = &self.last_error {
            write!(f, ": {error}")?;
        }
        Ok(())
    }
}

/// Formats a list of source reports for an error message.
struct SourceReports<'a>(&'a [SourceReport]);

impl fmt::Display for SourceReports<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "no credited source is configured");
        }
        for (i, report) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{report}")?;
        }
        Ok(())
    }
}
