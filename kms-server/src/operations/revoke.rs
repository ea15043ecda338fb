//! Revoke: Deactivated, or Compromised for a compromise reason (see `managed::lifecycle`).

use kmip::attributes::Attribute;
use kmip::enums::{RevocationReasonCode, State};
use kmip::payloads::{RevokeRequest, RevokeResponse};

use crate::error::KmipError;
use crate::managed::lifecycle::{set_changed, state_of};
use crate::managed::provenance::server_custom;
use crate::managed::{load, save, target, wrong_state};
use crate::state::RequestContext;

/// The custom attribute saying a compromise revocation's date was defaulted (to the object's Initial Date).
pub const COMPROMISE_DATE_DEFAULTED: &str = "x-qkms-compromise-date-defaulted";

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
        // KMIP requires a Compromise Occurrence Date with a compromise reason, but real clients (PyKMIP's
        // documented examples) omit it and their meaning is clear. The most conservative date is taken: the
        // object's Initial Date (all use since creation is suspect), and the object records that it was defaulted.
        let occurred = match request.compromise_occurrence_date {
            Some(date) => date.0,
            None => {
                let initial = object
                    .attributes
                    .iter()
                    .find_map(|a| match a {
                        Attribute::InitialDate(d) => Some(*d),
                        _ => None,
                    })
                    .unwrap_or(0);
                object.attributes.set(server_custom(
                    COMPROMISE_DATE_DEFAULTED,
                    format!(
                        "no Compromise Occurrence Date was given; the Initial Date ({initial}) was taken"
                    ),
                ));
                initial
            }
        };
        object
            .attributes
            .set(Attribute::CompromiseOccurrenceDate(occurred));
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
