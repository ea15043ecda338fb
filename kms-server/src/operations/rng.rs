//! RNG Retrieve (random bytes from the entropy pool, failing closed) and RNG Seed (client bytes mixed into the
//! pool as uncredited additional input).

use kmip::payloads::{
    RngRetrieveRequest, RngRetrieveResponse, RngSeedRequest, RngSeedResponse, SecretBytes,
};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::managed::entropy_error;
use crate::state::RequestContext;

/// The most RNG Seed bytes taken from one request (more is pointless: they are mixed in, not credited).
pub const MAX_RNG_SEED: usize = 1024 * 1024;

/// The largest RNG Retrieve answered on the connection's own task: bigger ones take long enough that the
/// hand-off to a blocking thread no longer matters, and they would hold up the other connections of the worker.
pub const INLINE_RNG_BYTES: i32 = 64 * 1024;

/// Whether an RNG Retrieve is small enough to run inline (the registry's `runs` column).
pub fn is_quick(request: &RngRetrieveRequest) -> bool {
    request.data_length <= INLINE_RNG_BYTES
}

/// The bytes an RNG Retrieve asks for (the registry's `asks` column): reserved against the message's response
/// budget before anything runs, so a small request cannot make the server build a huge answer.
pub fn requested_bytes(request: &RngRetrieveRequest) -> u64 {
    u64::try_from(request.data_length).unwrap_or(0)
}

pub fn rng_retrieve(
    ctx: &RequestContext<'_>,
    request: RngRetrieveRequest,
) -> Result<RngRetrieveResponse, KmipError> {
    let max = ctx.state.settings.max_rng_retrieve;
    let length = usize::try_from(request.data_length)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            KmipError::invalid_field(format!(
                "Data Length must be positive, not {}",
                request.data_length
            ))
        })?;
    if length > max {
        return Err(KmipError::new(
            ResultReason::InvalidField,
            format!("Data Length {length} exceeds this server's RNG Retrieve limit of {max} bytes"),
        ));
    }
    let mut bytes = vec![0u8; length];
    if let Err(error) = ctx.state.entropy.try_fill(&mut bytes) {
        // The pool leaves the buffer unspecified on failure: wipe it rather than let it linger.
        zeroize::Zeroize::zeroize(&mut bytes);
        return Err(entropy_error(&error));
    }
    // Moved, not copied, into the zeroize-on-drop wrapper.
    let data = SecretBytes::new(bytes);
    Ok(RngRetrieveResponse { data })
}

pub fn rng_seed(
    ctx: &RequestContext<'_>,
    request: RngSeedRequest,
) -> Result<RngSeedResponse, KmipError> {
    if request.data.is_empty() {
        return Err(KmipError::invalid_field("RNG Seed carries no data"));
    }
    let accepted = request.data.len().min(MAX_RNG_SEED);
    ctx.state
        .entropy
        .add_input(&request.data.expose()[..accepted]);
    Ok(RngSeedResponse {
        data_length: Some(i32::try_from(accepted).unwrap_or(i32::MAX)),
    })
}
