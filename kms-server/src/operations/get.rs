//! Get: the object's value, in its stored format or converted (Raw <-> Transparent Symmetric Key; public and
//! private keys between PKCS#1, PKCS#8, SEC1, X.509 and the Transparent forms), wrapped when a Key Wrapping
//! Specification asks (`wrapping`). A first Get clears the Fresh attribute.

use kmip::attributes::{Attribute, KnownAttribute};
use kmip::payloads::{GetRequest, GetResponse, ObjectField};

use crate::error::KmipError;
use crate::managed::lifecycle::set_changed;
use crate::managed::rendering::render;
use crate::managed::{load, save, target};
use crate::state::RequestContext;

pub fn get(ctx: &RequestContext<'_>, request: GetRequest) -> Result<GetResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let mut stored = load(ctx, uid)?;
    let object = render(
        ctx,
        &stored,
        request.key_format_type,
        request.key_wrap_type,
        request.key_compression_type,
        request.key_wrapping_specification.as_ref(),
    )?;
    if matches!(
        stored.attributes.get(&KnownAttribute::Fresh.into()),
        Some(Attribute::Fresh(true))
    ) {
        // Bookkeeping: a Get must not fail because Fresh could not be cleared (a full disk). The key is served,
        // Fresh stays set, and the next Get tries again.
        set_changed(&mut stored.attributes, Attribute::Fresh(false), ctx.now);
        if let Err(error) = save(ctx, &stored) {
            tracing::warn!(uid = %stored.uid, error = %error.message,
                "Get served the key but could not clear its Fresh flag");
        }
    }
    Ok(GetResponse {
        object_type: object.object_type(),
        unique_identifier: stored.uid,
        object: ObjectField(Some(object)),
    })
}
