//! Multi-part cryptographic operations (KMIP Init Indicator / Correlation Value / Final Indicator): the state
//! between the parts, keyed by a random Correlation Value and bound to the tenant, operation and key that
//! opened it.
//!
//! The state lives in this process (a stream is not durable: a restart ends it, and the client starts over),
//! in one table shared by every connection because KMIP lets the parts arrive on different connections. Why a
//! process-wide table rather than a `ServerState` field: the streams are transient, never audited or sealed,
//! and keeping them out of `ServerState` leaves every constructor of it unchanged. The table is bounded (count,
//! bytes per stream, age), so clients cannot grow it without limit.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use kmip::attributes::CryptographicParameters;
use kmip::{Operation, ResultReason};
use zeroize::Zeroizing;

use super::entropy_error;
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::tenant::TenantId;

/// Streams open at once, over all tenants.
const MAX_STREAMS: usize = 4096;
/// Data one stream may accumulate.
pub const MAX_STREAM_BYTES: usize = 16 * 1024 * 1024;
/// Seconds a stream may stay open.
const MAX_AGE_SECONDS: i64 = 600;

/// What a stream has gathered so far.
pub struct Stream {
    owner: TenantId,
    operation: Operation,
    uid: String,
    opened: i64,
    /// The parameters of the first part (later parts may not change them).
    pub parameters: CryptographicParameters,
    /// The IV / counter / nonce in use (given by the client or drawn at the first part).
    pub iv: Option<Vec<u8>>,
    pub aad: Vec<u8>,
    /// The data of every part so far.
    pub data: Zeroizing<Vec<u8>>,
    /// How many output bytes earlier parts already returned.
    pub emitted: usize,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("operation", &self.operation)
            .field("uid", &self.uid)
            .field("bytes", &self.data.len())
            .finish_non_exhaustive()
    }
}

impl Stream {
    pub fn new(
        ctx: &RequestContext<'_>,
        operation: Operation,
        uid: &str,
        parameters: CryptographicParameters,
    ) -> Self {
        Self {
            owner: ctx.caller.tenant.clone(),
            operation,
            uid: uid.to_owned(),
            opened: ctx.now,
            parameters,
            iv: None,
            aad: Vec::new(),
            data: Zeroizing::new(Vec::new()),
            emitted: 0,
        }
    }

    /// Adds a part's data, within [`MAX_STREAM_BYTES`].
    pub fn push(&mut self, part: &[u8]) -> Result<(), KmipError> {
        if self.data.len() + part.len() > MAX_STREAM_BYTES {
            return Err(KmipError::new(
                ResultReason::InvalidField,
                format!("a multi-part operation may carry at most {MAX_STREAM_BYTES} bytes"),
            ));
        }
        self.data.extend_from_slice(part);
        Ok(())
    }
}

type Table = HashMap<Vec<u8>, Stream>;

static STREAMS: LazyLock<Mutex<Table>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn table() -> std::sync::MutexGuard<'static, Table> {
    STREAMS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keeps `stream` for its next part; returns the Correlation Value naming it (16 pool bytes).
pub fn keep(ctx: &RequestContext<'_>, stream: Stream) -> Result<Vec<u8>, KmipError> {
    let mut correlation = vec![0u8; 16];
    ctx.state
        .entropy
        .try_fill(&mut correlation)
        .map_err(|e| entropy_error(&e))?;
    let mut streams = table();
    streams.retain(|_, s| ctx.now - s.opened <= MAX_AGE_SECONDS);
    if streams.len() >= MAX_STREAMS {
        return Err(KmipError::new(
            ResultReason::GeneralFailure,
            "too many multi-part operations are open; finish or abandon some first",
        ));
    }
    streams.insert(correlation.clone(), stream);
    Ok(correlation)
}

/// Puts a stream back under the Correlation Value it came from.
pub fn keep_as(correlation: Vec<u8>, stream: Stream) {
    table().insert(correlation, stream);
}

/// Takes the stream `correlation` names, if the caller opened it for this operation on this key.
pub fn take(
    ctx: &RequestContext<'_>,
    correlation: &[u8],
    operation: Operation,
    uid: &str,
) -> Result<Stream, KmipError> {
    let invalid = || {
        super::versioned(
            ctx.version,
            ResultReason::InvalidCorrelationValue,
            ResultReason::InvalidField,
            "the Correlation Value names no open multi-part operation of this kind on this key",
        )
    };
    let mut streams = table();
    let matches = streams.get(correlation).is_some_and(|s| {
        s.owner == ctx.caller.tenant
            && s.operation == operation
            && s.uid == uid
            && ctx.now - s.opened <= MAX_AGE_SECONDS
    });
    if !matches {
        return Err(invalid());
    }
    streams.remove(correlation).ok_or_else(invalid)
}

/// Which part of a multi-part operation a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// A one-shot request (no Init Indicator, no Correlation Value).
    Whole,
    /// The first part (Init Indicator true).
    First,
    /// A later part; `last` when Final Indicator is true.
    Next { last: bool },
}

impl Part {
    pub fn of(
        init: Option<bool>,
        correlation: Option<&Vec<u8>>,
        final_indicator: Option<bool>,
    ) -> Result<Self, KmipError> {
        match (init == Some(true), correlation.is_some()) {
            (true, true) => Err(KmipError::invalid_field(
                "a first part (Init Indicator) cannot carry a Correlation Value",
            )),
            (true, false) if final_indicator == Some(true) => Ok(Self::Whole),
            (true, false) => Ok(Self::First),
            (false, true) => Ok(Self::Next {
                last: final_indicator == Some(true),
            }),
            (false, false) => Ok(Self::Whole),
        }
    }
}

/// A request that may arrive in parts: it carries an Init Indicator, a Correlation Value and a Final Indicator.
pub trait PartedRequest {
    fn correlation_value(&self) -> Option<&Vec<u8>>;
    /// Which part this request is.
    fn part(&self) -> Result<Part, KmipError>;
}

macro_rules! parted_requests {
    ($($request:ty),* $(,)?) => {$(
        impl PartedRequest for $request {
            fn correlation_value(&self) -> Option<&Vec<u8>> {
                self.correlation_value.as_ref()
            }

            fn part(&self) -> Result<Part, KmipError> {
                Part::of(
                    self.init_indicator,
                    self.correlation_value.as_ref(),
                    self.final_indicator,
                )
            }
        }
    )*};
}

parted_requests!(
    kmip::payloads::EncryptRequest,
    kmip::payloads::DecryptRequest,
    kmip::payloads::SignRequest,
    kmip::payloads::SignatureVerifyRequest,
    kmip::payloads::MacRequest,
    kmip::payloads::MacVerifyRequest,
    kmip::payloads::HashRequest,
);

/// Gathers the parts of a Sign / Verify / MAC / MAC Verify; `None` until the final part's data is complete.
pub fn gather(
    ctx: &RequestContext<'_>,
    operation: Operation,
    uid: &str,
    p: CryptographicParameters,
    request: &impl PartedRequest,
    data: &[u8],
) -> Result<Gathered, KmipError> {
    match request.part()? {
        Part::Whole => Ok(Gathered::Complete(p, Zeroizing::new(data.to_vec()))),
        Part::First => {
            let mut stream = Stream::new(ctx, operation, uid, p);
            stream.push(data)?;
            Ok(Gathered::Open(keep(ctx, stream)?))
        }
        Part::Next { last } => {
            let correlation = request.correlation_value().cloned().unwrap_or_default();
            let mut stream = take(ctx, &correlation, operation, uid)?;
            stream.push(data)?;
            if last {
                let parameters = stream.parameters.clone();
                Ok(Gathered::Complete(
                    parameters,
                    std::mem::take(&mut stream.data),
                ))
            } else {
                keep_as(correlation.clone(), stream);
                Ok(Gathered::Open(correlation))
            }
        }
    }
}

/// A multi-part operation's input: complete (parameters and data), or still open under a Correlation Value.
pub enum Gathered {
    Complete(CryptographicParameters, Zeroizing<Vec<u8>>),
    Open(Vec<u8>),
}

impl std::fmt::Debug for Gathered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The data may be a secret (a MAC's message, a digest to sign): only its length is shown.
        match self {
            Self::Complete(_, data) => write!(f, "Complete({} bytes)", data.len()),
            Self::Open(_) => f.write_str("Open"),
        }
    }
}

impl Gathered {
    /// The parameters and data once the final part is in; `None` after putting the Correlation Value the
    /// client sends the next part with into `correlation_value` (the response's field).
    pub fn complete(
        self,
        correlation_value: &mut Option<Vec<u8>>,
    ) -> Option<(CryptographicParameters, Zeroizing<Vec<u8>>)> {
        match self {
            Gathered::Complete(p, data) => Some((p, data)),
            Gathered::Open(correlation) => {
                *correlation_value = Some(correlation);
                None
            }
        }
    }
}
