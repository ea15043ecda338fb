//! C_CopyObject for what clients use it for: making a session object permanent. Java's SunPKCS11 generates key
//! pairs as session objects and stores them in its keystore with C_CopyObject {CKA_TOKEN true, CKA_LABEL,
//! CKA_ID}. KMIP cannot duplicate a key that never leaves the server, so the copy *is* the object: it loses its
//! session lease (KMIP Delete Attribute, so no connection's end destroys it), takes the template's label and id,
//! and gets a new handle. The old handle then names a moved object: destroying it only forgets the handle (the
//! application that copied a session object destroys the original next, and must not destroy the copy), and
//! closing its session no longer destroys it. Any other copy is CKR_FUNCTION_NOT_SUPPORTED (pkcs11-provider
//! only tries it to cache keys, and turns caching off on that answer).

use cryptoki_sys::*;
use kmip::payloads::{DeleteAttributeRequest, ResponsePayload};

use crate::error::{fail, Result};
use crate::library::Library;
use crate::mapping;
use crate::ops::{unexpected, view};
use crate::template::Template;

/// What the copy's template may hold besides CKA_TOKEN true.
const COPY_TEMPLATE: &[CK_ATTRIBUTE_TYPE] = &[CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_ID];

pub fn copy_object(
    library: &Library,
    handle: CK_OBJECT_HANDLE,
    template: &Template,
) -> Result<CK_OBJECT_HANDLE> {
    let entry = library.objects.get(handle)?;
    let view = view(library, &entry)?;
    let Some(lease) = mapping::session_lease_of(&view.attributes) else {
        return fail(
            CKR_FUNCTION_NOT_SUPPORTED,
            "only a session object can be copied, into a token object (keys never leave the server)",
        );
    };
    if template.bool(CKA_TOKEN)? != Some(true) {
        return fail(
            CKR_FUNCTION_NOT_SUPPORTED,
            "a copy is made only to turn a session object into a token object (CKA_TOKEN true)",
        );
    }
    if template.0.iter().any(|(k, _)| !COPY_TEMPLATE.contains(k)) {
        return fail(
            CKR_ATTRIBUTE_READ_ONLY,
            "a copy may set only CKA_TOKEN, CKA_PRIVATE (unchanged), CKA_LABEL and CKA_ID",
        );
    }
    if template
        .bool(CKA_PRIVATE)?
        .is_some_and(|p| p != mapping::private_of(&view.attributes, view.class))
    {
        return fail(
            CKR_ATTRIBUTE_READ_ONLY,
            "CKA_PRIVATE cannot change in a copy",
        );
    }
    let request = DeleteAttributeRequest {
        unique_identifier: Some(entry.uid.clone()),
        current_attribute: Some(mapping::session_lease_attribute(lease).into()),
        attribute_name: None,
        attribute_index: None,
    };
    match library.tokens[entry.token].link()?.call(request)? {
        ResponsePayload::DeleteAttribute(_) => {}
        other => return Err(unexpected(other)),
    }
    entry.invalidate();
    library.disown(handle);
    let copy = library.objects.move_to_new_handle(handle)?;
    let mut names = template.clone();
    names.0.retain(|(k, _)| matches!(*k, CKA_LABEL | CKA_ID));
    if !names.0.is_empty() {
        crate::attribute_update::set_attributes(library, copy, &names)?;
    }
    Ok(copy)
}
