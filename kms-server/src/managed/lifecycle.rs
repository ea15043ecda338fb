//! The lifecycle state machine (KMIP 1.4 §3.22, 2.1 §4.57 "State") and the operations that drive it:
//! Activate, Revoke, Destroy, Check.
//!
//! ```text
//! Pre-Active --Activate / Activation Date passed--> Active --Revoke / Deactivation Date passed--> Deactivated
//! Pre-Active, Active, Deactivated --Revoke(compromise)--> Compromised
//! Pre-Active, Deactivated --Destroy--> Destroyed --Revoke(compromise)--> Destroyed Compromised
//! Compromised --Destroy--> Destroyed Compromised
//! ```
//! Pre-Active and Active also go to Deactivated on a non-compromise Revoke (the OASIS AX cases revoke a
//! Pre-Active key before destroying it).

use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask};
use kmip::enums::{RevocationReasonCode, State};
use kmip::payloads::{
    ActivateRequest, ActivateResponse, CheckRequest, CheckResponse, DestroyRequest,
    DestroyResponse, RevokeRequest, RevokeResponse,
};
use kmip::ResultReason;

use super::{load, save, target, versioned, wrong_state};
use crate::error::KmipError;
use crate::state::RequestContext;

/// Applies the transitions dates cause on their own: Pre-Active becomes Active once the Activation Date has
/// passed, Active becomes Deactivated once the Deactivation Date has. Returns whether the state changed.
pub fn apply_date_transitions(attributes: &mut Attributes, now: i64) -> bool {
    let deactivation = attributes.iter().find_map(|a| match a {
        Attribute::DeactivationDate(d) => Some(*d),
        _ => None,
    });
    let mut state = attributes.state();
    let before = state;
    if state == Some(State::PreActive) && attributes.activation_date().is_some_and(|d| d <= now) {
        state = Some(State::Active);
    }
    if state == Some(State::Active) && deactivation.is_some_and(|d| d <= now) {
        state = Some(State::Deactivated);
    }
    match state {
        Some(new) if state != before => {
            attributes.set(Attribute::State(new));
            true
        }
        _ => false,
    }
}

/// Sets an attribute and stamps the Last Change Date.
pub fn set_changed(attributes: &mut Attributes, attribute: Attribute, now: i64) {
    attributes.set(attribute);
    attributes.set(Attribute::LastChangeDate(now));
}

fn state_of(attributes: &Attributes) -> State {
    attributes.state().unwrap_or(State::PreActive)
}

pub fn activate(
    ctx: &RequestContext<'_>,
    request: ActivateRequest,
) -> Result<ActivateResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let mut object = load(ctx, uid)?;
    let state = state_of(&object.attributes);
    if state != State::PreActive {
        return Err(wrong_state(
            ctx.version,
            format!(
                "Activate needs a Pre-Active object; {uid} is {}",
                state.name()
            ),
        ));
    }
    if object.object.is_none() {
        return Err(wrong_state(
            ctx.version,
            format!("{uid} has no key material to activate"),
        ));
    }
    object.attributes.set(Attribute::ActivationDate(ctx.now));
    set_changed(
        &mut object.attributes,
        Attribute::State(State::Active),
        ctx.now,
    );
    save(ctx, &object)?;
    Ok(ActivateResponse {
        unique_identifier: object.uid,
    })
}

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
    // The key material goes; the metadata stays (KMIP), so Get Attributes still answers.
    object.object = None;
    object.attributes.set(Attribute::DestroyDate(ctx.now));
    set_changed(&mut object.attributes, Attribute::State(new_state), ctx.now);
    save(ctx, &object)?;
    Ok(DestroyResponse {
        unique_identifier: object.uid,
    })
}

/// Check: would the object serve the given usage (mask), count and lease? The object must still have its
/// value; a usage the mask does not allow fails with Incompatible Cryptographic Usage Mask (2.x) or Illegal
/// Operation (1.x).
pub fn check(ctx: &RequestContext<'_>, request: CheckRequest) -> Result<CheckResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let object = load(ctx, uid)?;
    if object.object.is_none() {
        return Err(versioned(
            ctx.version,
            ResultReason::ObjectDestroyed,
            ResultReason::PermissionDenied,
            format!("{uid} is destroyed"),
        ));
    }
    if let Some(wanted) = request.cryptographic_usage_mask {
        let wanted = CryptographicUsageMask::from_wire(wanted);
        let allowed = object
            .attributes
            .cryptographic_usage_mask()
            .unwrap_or(CryptographicUsageMask::empty());
        if !allowed.contains(wanted) {
            return Err(versioned(
                ctx.version,
                ResultReason::IncompatibleCryptographicUsageMask,
                ResultReason::IllegalOperation,
                format!(
                    "Check failed: {uid} allows {:?}, not {:?}",
                    allowed.names(),
                    wanted.names()
                ),
            ));
        }
    }
    if request.usage_limits_count.is_some_and(|c| c < 0) {
        return Err(KmipError::invalid_field(
            "Usage Limits Count must not be negative",
        ));
    }
    Ok(CheckResponse {
        unique_identifier: object.uid,
        usage_limits_count: None,
        cryptographic_usage_mask: None,
        lease_time: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_move_the_state_forward() {
        let mut a: Attributes = vec![
            Attribute::State(State::PreActive),
            Attribute::ActivationDate(10),
        ]
        .into();
        assert!(!apply_date_transitions(&mut a, 9));
        assert_eq!(a.state(), Some(State::PreActive));
        assert!(apply_date_transitions(&mut a, 10));
        assert_eq!(a.state(), Some(State::Active));
        a.push(Attribute::DeactivationDate(20));
        assert!(apply_date_transitions(&mut a, 25));
        assert_eq!(a.state(), Some(State::Deactivated));
    }

    #[test]
    fn dates_never_revive_a_compromised_object() {
        let mut a: Attributes = vec![
            Attribute::State(State::Compromised),
            Attribute::ActivationDate(1),
        ]
        .into();
        assert!(!apply_date_transitions(&mut a, 100));
        assert_eq!(a.state(), Some(State::Compromised));
    }
}
