//! C_SetAttributeValue: CKA_LABEL and CKA_ID by KMIP Modify Attribute / Add Attribute.

use cryptoki_sys::*;
use kmip::attributes::Attribute;
use kmip::payloads::*;

use crate::error::{fail, Result};
use crate::library::Library;
use crate::mapping;
use crate::ops::{unexpected, view};
use crate::template::Template;

/// C_SetAttributeValue: CKA_LABEL and CKA_ID (Modify Attribute, or Add Attribute when absent).
pub fn set_attributes(
    library: &Library,
    handle: CK_OBJECT_HANDLE,
    template: &Template,
) -> Result<()> {
    let entry = library.objects.get(handle)?;
    let view = view(library, &entry)?;
    for (kind, _) in &template.0 {
        if !matches!(*kind, CKA_LABEL | CKA_ID) {
            return fail(
                CKR_ATTRIBUTE_READ_ONLY,
                "only CKA_LABEL and CKA_ID can be changed",
            );
        }
        if *kind == CKA_ID && view.class == CKO_DATA {
            return fail(CKR_ATTRIBUTE_TYPE_INVALID, "data objects have no CKA_ID");
        }
    }
    let link = library.tokens[entry.token].link()?;
    let result = (|| {
        if let Some(label) = template.text(CKA_LABEL)? {
            let current = view
                .attributes
                .iter()
                .find(|a| matches!(a, Attribute::Name(_)))
                .cloned();
            change(&link, &entry.uid, current, mapping::name_attribute(&label))?;
        }
        if let Some(id) = template.get(CKA_ID) {
            let current = mapping::id_of(&view.attributes).map(mapping::id_attribute);
            change(&link, &entry.uid, current, mapping::id_attribute(id))?;
        }
        Ok(())
    })();
    entry.invalidate();
    result
}

fn change(
    link: &crate::client::ServerLink,
    uid: &str,
    current: Option<Attribute>,
    new: Attribute,
) -> Result<()> {
    let answer = match current {
        Some(current) => link.call(ModifyAttributeRequest {
            unique_identifier: Some(uid.to_owned()),
            current_attribute: Some(current.into()),
            new_attribute: new.into(),
        })?,
        None => link.call(AddAttributeRequest {
            unique_identifier: Some(uid.to_owned()),
            new_attribute: new.into(),
        })?,
    };
    match answer {
        ResponsePayload::ModifyAttribute(_) | ResponsePayload::AddAttribute(_) => Ok(()),
        other => Err(unexpected(other)),
    }
}
