//! Revoke: Deactivated, or Compromised for a compromise reason (see `managed::lifecycle`).

use kmip::attributes::Attribute;
use kmip::enums::{RevocationReasonCode, State};
use kmip::payloads::{RevokeRequest, RevokeResponse};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::managed::lifecycle::{set_changed, state_of};
use crate::managed::{load, save, target, wrong_state};
use crate::state::RequestContext;

pub fn revoke(
    ctx: &RequestContext<'_>,
    request: RevokeRequest,
) -> Result<RevokeResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let mut object = load(ctx, uid)?;
    let state = state_of(&object.attributes);
    let compromise = matches!(
        request.revocation_reason.code,
        RevocationReasonCode::KeyCompromise | RevocationReasonCode::CaCompromise
    );
    let new_state = if compromise {
        match state {
            State::Destroyed | State::DestroyedCompromised => State::DestroyedCompromised,
            _ => State::Compromised,
        }
    } else {
        match state {
            State::PreActive | State::Active | State::Deactivated => State::Deactivated,
            other => {
                return Err(wrong_state(
                    ctx.version,
                    format!(
                        "{uid} is {}; only a compromise can still be reported for it",
                        other.name()
                    ),
                ))
            }
        }
    };
    if compromise {
        let occurred = request.compromise_occurrence_date.ok_or_else(|| {
            KmipError::new(
                ResultReason::InvalidField,
                "a compromise revocation needs a Compromise Occurrence Date",
            )
        })?;
        object
            .attributes
            .set(Attribute::CompromiseOccurrenceDate(occurred.0));
        object.attributes.set(Attribute::CompromiseDate(ctx.now));
    } else if state != State::Deactivated {
        object.attributes.set(Attribute::DeactivationDate(ctx.now));
    }
    object.attributes.set(Attribute::RevocationReason(
        request.revocation_reason.clone(),
    ));
    set_changed(&mut object.attributes, Attribute::State(new_state), ctx.now);
    save(ctx, &object)?;
    Ok(RevokeResponse {
        unique_identifier: object.uid,
    })
}
