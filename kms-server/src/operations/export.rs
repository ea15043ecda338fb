//! Export (KMIP 1.4+): an object with all its attributes, for another server to Import.

use kmip::attributes::Attributes;
use kmip::payloads::{ExportRequest, ExportResponse, ObjectField};

use crate::error::KmipError;
use crate::managed::rendering::render;
use crate::managed::{load, target};
use crate::state::RequestContext;

pub fn export(
    ctx: &RequestContext<'_>,
    request: ExportRequest,
) -> Result<ExportResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let stored = load(ctx, uid)?;
    let object = render(
        ctx,
        &stored,
        request.key_format_type,
        request.key_wrap_type,
        request.key_compression_type,
        request.key_wrapping_specification.as_ref(),
    )?;
    let attributes: Attributes = stored.attributes.iter().cloned().collect();
    Ok(ExportResponse {
        object_type: object.object_type(),
        unique_identifier: stored.uid,
        attributes,
        object: ObjectField(Some(object)),
    })
}
