//! May this key be used for this cryptographic operation now? The rules every operation with a managed key
//! shares: the object must hold a value; its state must allow it (Active: anything; Deactivated and
//! Compromised: only processing — decrypt, verify, unwrap; Pre-Active and destroyed: nothing); the Protect
//! Stop Date and Process Start Date windows; the Cryptographic Usage Mask; and Usage Limits, which are counted
//! down and written back.

use kmip::attributes::{Attribute, CryptographicParameters, CryptographicUsageMask, UsageLimits};
use kmip::enums::{State, UsageLimitsUnit};
use kmip::ResultReason;

use super::{load, save, versioned, wrong_state};
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::StoredObject;

/// Which side of a key an operation uses: protecting (encrypt, sign, MAC, wrap) or processing (decrypt,
/// verify, MAC verify, unwrap), and the usage mask bit it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    Protect(CryptographicUsageMask),
    Process(CryptographicUsageMask),
}

impl KeyUse {
    fn mask(self) -> CryptographicUsageMask {
        match self {
            Self::Protect(m) | Self::Process(m) => m,
        }
    }
}

/// Loads `uid` and checks it may serve `usage` now. Usage Limits are not consumed here (see [`consume`]).
pub fn load_for(
    ctx: &RequestContext<'_>,
    uid: &str,
    usage: KeyUse,
) -> Result<StoredObject, KmipError> {
    let object = load(ctx, uid)?;
    check(ctx, &object, usage)?;
    Ok(object)
}

/// The checks of [`load_for`] on an object already loaded.
pub fn check(
    ctx: &RequestContext<'_>,
    object: &StoredObject,
    usage: KeyUse,
) -> Result<(), KmipError> {
    let uid = &object.uid;
    let state = object.attributes.state().unwrap_or(State::PreActive);
    let allowed = matches!(
        (state, usage),
        (State::Active, _) | (State::Deactivated | State::Compromised, KeyUse::Process(_))
    );
    if !allowed || !super::hsm_held::has_key_value(object) {
        let what = match usage {
            KeyUse::Protect(_) => "protect (encrypt, sign, MAC, wrap)",
            KeyUse::Process(_) => "process (decrypt, verify, unwrap)",
        };
        return Err(wrong_state(
            ctx.version,
            format!("{uid} is {} and cannot be used to {what}", state.name()),
        ));
    }
    for attribute in object.attributes.iter() {
        match (attribute, usage) {
            (Attribute::ProtectStopDate(d), KeyUse::Protect(_)) if *d <= ctx.now => {
                return Err(wrong_state(
                    ctx.version,
                    format!("{uid}'s Protect Stop Date has passed: it can no longer protect data"),
                ));
            }
            (Attribute::ProcessStartDate(d), KeyUse::Process(_)) if *d > ctx.now => {
                return Err(wrong_state(
                    ctx.version,
                    format!("{uid}'s Process Start Date has not come: it cannot process data yet"),
                ));
            }
            _ => {}
        }
    }
    let mask = object
        .attributes
        .cryptographic_usage_mask()
        .unwrap_or(CryptographicUsageMask::empty());
    if !mask.contains(usage.mask()) {
        return Err(versioned(
            ctx.version,
            ResultReason::IncompatibleCryptographicUsageMask,
            ResultReason::PermissionDenied,
            format!(
                "{uid}'s Cryptographic Usage Mask {:?} does not allow {:?}",
                mask.names(),
                usage.mask().names()
            ),
        ));
    }
    if let Some(limits) = usage_limits(object) {
        let remaining = limits.count.unwrap_or(limits.total);
        if remaining <= 0 {
            return Err(KmipError::permission_denied(format!(
                "{uid} has used up its Usage Limits"
            )));
        }
    }
    Ok(())
}

fn usage_limits(object: &StoredObject) -> Option<&UsageLimits> {
    object.attributes.iter().find_map(|a| match a {
        Attribute::UsageLimits(l) => Some(l),
        _ => None,
    })
}

/// Counts one use of `bytes` bytes against the object's Usage Limits, if it has any, and writes the new count
/// back. A use that would exceed them is refused (Permission Denied) and not counted.
pub fn consume(
    ctx: &RequestContext<'_>,
    object: &mut StoredObject,
    bytes: usize,
) -> Result<(), KmipError> {
    let Some(limits) = usage_limits(object).cloned() else {
        return Ok(());
    };
    let remaining = limits.count.unwrap_or(limits.total);
    let cost = match limits.unit {
        UsageLimitsUnit::Byte => i64::try_from(bytes).unwrap_or(i64::MAX),
        UsageLimitsUnit::Object => 1,
    };
    if cost > remaining {
        return Err(KmipError::permission_denied(format!(
            "{} has {remaining} {} of its Usage Limits left; this use needs {cost}",
            object.uid,
            limits.unit.name()
        )));
    }
    object.attributes.set(Attribute::UsageLimits(UsageLimits {
        count: Some(remaining - cost),
        ..limits
    }));
    save(ctx, object)
}

/// The Cryptographic Parameters of an operation: each field the request gives, else the key's own
/// Cryptographic Parameters attribute's.
pub fn effective_parameters(
    object: &StoredObject,
    request: Option<&CryptographicParameters>,
) -> CryptographicParameters {
    let stored = object
        .attributes
        .cryptographic_parameters()
        .next()
        .cloned()
        .unwrap_or_default();
    let Some(given) = request else {
        return stored;
    };
    macro_rules! pick {
        ($($field:ident),*) => {
            CryptographicParameters { $($field: given.$field.clone().or(stored.$field.clone()),)* }
        };
    }
    pick!(
        block_cipher_mode,
        padding_method,
        hashing_algorithm,
        key_role_type,
        digital_signature_algorithm,
        cryptographic_algorithm,
        random_iv,
        iv_length,
        tag_length,
        fixed_field_length,
        invocation_field_length,
        counter_length,
        initial_counter_value,
        salt_length,
        mask_generator,
        mask_generator_hashing_algorithm,
        p_source,
        trailer_field
    )
}

/// The `crypto` hash for a KMIP Hashing Algorithm.
pub fn hash_algorithm(
    version: kmip::ProtocolVersion,
    algorithm: kmip::enums::HashingAlgorithm,
) -> Result<crate::crypto::HashAlgorithm, KmipError> {
    use crate::crypto::HashAlgorithm as H;
    use kmip::enums::HashingAlgorithm as K;
    Ok(match algorithm {
        K::Sha1 => H::Sha1,
        K::Sha224 => H::Sha224,
        K::Sha256 => H::Sha256,
        K::Sha384 => H::Sha384,
        K::Sha512 => H::Sha512,
        other => {
            return Err(versioned(
                version,
                ResultReason::UnsupportedCryptographicParameters,
                ResultReason::InvalidField,
                format!("hashing algorithm {} is not supported", other.name()),
            ))
        }
    })
}
