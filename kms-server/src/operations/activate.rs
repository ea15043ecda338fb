//! Activate: Pre-Active -> Active (see `managed::lifecycle` for the state machine).

use kmip::attributes::Attribute;
use kmip::enums::State;
use kmip::payloads::{ActivateRequest, ActivateResponse};

use crate::error::KmipError;
use crate::managed::lifecycle::{set_changed, state_of};
use crate::managed::{load, save, target, wrong_state};
use crate::state::RequestContext;

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
    if !crate::managed::hsm_held::has_key_value(&object) {
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
