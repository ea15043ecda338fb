//! Destroy: the value is erased, the object stays (Destroyed / Destroyed Compromised) for its attributes.

use kmip::attributes::Attribute;
use kmip::enums::State;
use kmip::payloads::{DestroyRequest, DestroyResponse};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::managed::lifecycle::{set_changed, state_of};
use crate::managed::{load, save, target, versioned, wrong_state};
use crate::state::RequestContext;

pub fn destroy(
    ctx: &RequestContext<'_>,
    request: DestroyRequest,
) -> Result<DestroyResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let mut object = load(ctx, uid)?;
    let new_state = match state_of(&object.attributes) {
        State::PreActive | State::Deactivated => State::Destroyed,
        State::Compromised => State::DestroyedCompromised,
        State::Active => {
            return Err(wrong_state(
                ctx.version,
                format!("{uid} is Active: revoke it before destroying it"),
            ))
        }
        State::Destroyed | State::DestroyedCompromised => {
            return Err(versioned(
                ctx.version,
                ResultReason::ObjectDestroyed,
                ResultReason::PermissionDenied,
                format!("{uid} is already destroyed"),
            ))
        }
    };
    crate::managed::hsm_held::destroy_in_hsm(ctx, &object)?;
    // The key material goes; the metadata stays (KMIP), so Get Attributes still answers.
    object.object = None;
    object.attributes.set(Attribute::DestroyDate(ctx.now));
    set_changed(&mut object.attributes, Attribute::State(new_state), ctx.now);
    save(ctx, &object)?;
    Ok(DestroyResponse {
        unique_identifier: object.uid,
    })
}
