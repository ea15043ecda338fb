//! Check: would the object serve a usage, count and lease?

use kmip::attributes::CryptographicUsageMask;
use kmip::payloads::{CheckRequest, CheckResponse};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::managed::{load, target, versioned};
use crate::state::RequestContext;

/// Check: would the object serve the given usage (mask), count and lease? The object must still have its
/// value; a usage the mask does not allow fails with Incompatible Cryptographic Usage Mask (2.x) or Illegal
/// Operation (1.x).
pub fn check(ctx: &RequestContext<'_>, request: CheckRequest) -> Result<CheckResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let object = load(ctx, uid)?;
    if !crate::managed::hsm_held::has_key_value(&object) {
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
