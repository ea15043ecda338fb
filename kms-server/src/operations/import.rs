//! Import (KMIP 1.4+): an object with all its attributes, as another server exported it.

use kmip::attributes::Attribute;
use kmip::enums::ObjectType;
use kmip::payloads::{ImportRequest, ImportResponse};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::managed::attribute_policy::is_read_only;
use crate::managed::client_objects::prepare_object;
use crate::managed::provenance::{check_object_type, initial_attributes};
use crate::managed::{load, store_error};
use crate::state::RequestContext;
use crate::store::{StoreError, StoredObject};

pub fn import(
    ctx: &RequestContext<'_>,
    request: ImportRequest,
) -> Result<ImportResponse, KmipError> {
    let uid = request.unique_identifier.clone();
    if uid.is_empty() {
        return Err(KmipError::invalid_field(
            "Import needs a non-empty Unique Identifier",
        ));
    }
    let mut object = request.object.0.ok_or_else(|| {
        KmipError::new(ResultReason::MissingData, "Import needs the managed object")
    })?;
    if object.object_type() != request.object_type {
        return Err(KmipError::invalid_field(format!(
            "the request says {} but carries a {}",
            request.object_type.name(),
            object.object_type().name()
        )));
    }
    if request.object_type == ObjectType::Template {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "Template objects are not supported",
        ));
    }
    let given = request.attributes.unwrap_or_default();
    check_object_type(request.object_type, &given)?;
    let derived = prepare_object(ctx, &mut object)?;
    // The client's own attributes as for Register; the server-set ones the exporting server recorded (state,
    // dates, provenance) are kept as they were, so the object's history travels with it.
    let (server_set, client): (Vec<Attribute>, Vec<Attribute>) =
        given.into_iter().partition(|a| is_read_only(&a.name()));
    let mut attributes = initial_attributes(&uid, &object, client.into(), ctx.now);
    for attribute in derived {
        attributes.set(attribute);
    }
    for attribute in server_set {
        if !matches!(
            attribute,
            Attribute::UniqueIdentifier(_)
                | Attribute::ObjectType(_)
                | Attribute::CryptographicAlgorithm(_)
                | Attribute::CryptographicLength(_)
                | Attribute::Digest(_)
                | Attribute::KeyFormatType(_)
        ) {
            attributes.set(attribute);
        }
    }
    let stored = StoredObject {
        uid: uid.clone(),
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes,
        internal: false,
    };
    match ctx.state.store.insert(&stored) {
        Ok(()) => {}
        Err(StoreError::AlreadyExists(_)) if request.replace_existing == Some(true) => {
            // Replacing is allowed only for the caller's own object (load checks the owner).
            load(ctx, &uid)?;
            ctx.state.store.update(&stored).map_err(store_error)?;
        }
        Err(StoreError::AlreadyExists(_)) => {
            return Err(KmipError::new(
                ResultReason::ObjectAlreadyExists,
                format!(
                    "an object {uid:?} already exists (set Replace Existing to replace your own)"
                ),
            ))
        }
        Err(other) => return Err(store_error(other)),
    }
    Ok(ImportResponse {
        unique_identifier: uid,
    })
}
