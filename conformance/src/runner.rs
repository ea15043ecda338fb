//! Running a case: send each request (placeholders substituted), compare each response, stop at the first
//! divergence.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;

use crate::case::{profile_of, TestCase};
use crate::compare::{compare_response, Context, Divergence};
use crate::connection::{Exchange, ExchangeError, Target, TlsConnection};
use crate::https::{transport_for, HttpsConnection, Transport};
use crate::overlay::Overlay;
use crate::placeholders::Bindings;

/// Default slack for `$NOW` times: generous against slow machines, tight against a wrong clock or time zone.
pub const DEFAULT_TIME_SLACK_SECONDS: i64 = 120;

/// How one case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every response matched.
    Pass { steps: usize },
    /// A response differed.
    Fail(Divergence),
    /// The case could not run to a comparison: unreadable file, unbound placeholder, connection failure.
    Error {
        step: Option<usize>,
        message: String,
    },
    /// The overlay skips it; the reason.
    Skipped(String),
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Self::Pass { .. })
    }
}

/// One file's result.
#[derive(Clone, Debug)]
pub struct FileResult {
    pub name: String,
    /// `1.4`, `2.1`; empty when the file could not be read.
    pub version: String,
    pub profile: String,
    pub outcome: Outcome,
}

/// Runs `case` over `connection`.
pub async fn run_case<E: Exchange>(
    connection: &mut E,
    case: &TestCase,
    overlay: &Overlay,
    time_slack: i64,
) -> Outcome {
    if let Some(reason) = overlay.skip_reason(&case.name) {
        return Outcome::Skipped(reason.to_owned());
    }
    let rules = overlay.for_file(&case.name);
    let mut bindings = Bindings::new();
    for (step, pair) in case.steps.iter().enumerate() {
        let sent_at = time::OffsetDateTime::now_utc().unix_timestamp();
        let request = match bindings.substitute(&pair.request, sent_at) {
            Ok(request) => request,
            Err(unbound) => {
                return Outcome::Error {
                    step: Some(step),
                    message: unbound.to_string(),
                }
            }
        };
        let response = match connection.exchange(&request).await {
            Ok(response) => response,
            Err(error) => {
                return Outcome::Error {
                    step: Some(step),
                    message: error.to_string(),
                }
            }
        };
        let context = Context {
            rules: &rules,
            step,
            sent_at,
            slack: time_slack,
        };
        if let Err(divergence) =
            compare_response(&context, &mut bindings, &pair.expected, &response)
        {
            return Outcome::Fail(divergence);
        }
        bindings.remember_response(&response);
    }
    Outcome::Pass {
        steps: case.steps.len(),
    }
}

/// Runs `case` on a fresh connection of the transport its file is meant for (see [`transport_for`]).
async fn run_over_its_transport(
    target: &Target,
    provider: Arc<CryptoProvider>,
    case: &TestCase,
    overlay: &Overlay,
    time_slack: i64,
) -> Outcome {
    let connect_error = |error: ExchangeError| Outcome::Error {
        step: Some(0),
        message: error.to_string(),
    };
    match transport_for(&case.name) {
        Transport::Ttlv => match TlsConnection::connect(target, provider).await {
            Ok(mut connection) => run_case(&mut connection, case, overlay, time_slack).await,
            Err(error) => connect_error(error),
        },
        Transport::Https(encoding) => {
            let Some(address) = target.https_address.as_deref() else {
                return connect_error(ExchangeError::NoHttpsListener);
            };
            match HttpsConnection::connect(target, address, provider, encoding).await {
                Ok(mut connection) => run_case(&mut connection, case, overlay, time_slack).await,
                Err(error) => connect_error(error),
            }
        }
    }
}

/// Runs each file on a fresh connection to `target` (a case that breaks its connection cannot spoil the next):
/// binary TTLV for every case except the MSGENC ones, which go over HTTPS in their encoding.
pub async fn run_files(
    target: &Target,
    provider: Arc<CryptoProvider>,
    files: &[PathBuf],
    overlay: &Overlay,
    time_slack: i64,
) -> Vec<FileResult> {
    let mut results = Vec::with_capacity(files.len());
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let profile = profile_of(&name).to_owned();
        let case = match TestCase::load(path) {
            Ok(case) => case,
            Err(error) => {
                results.push(FileResult {
                    name,
                    version: String::new(),
                    profile,
                    outcome: Outcome::Error {
                        step: None,
                        message: error.to_string(),
                    },
                });
                continue;
            }
        };
        let version = format!("{}.{}", case.version.0, case.version.1);
        let outcome = if let Some(reason) = overlay.skip_reason(&name) {
            Outcome::Skipped(reason.to_owned())
        } else {
            run_over_its_transport(target, provider.clone(), &case, overlay, time_slack).await
        };
        results.push(FileResult {
            name,
            version,
            profile,
            outcome,
        });
    }
    results
}
