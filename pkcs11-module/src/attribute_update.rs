//! C_SetAttributeValue by KMIP Modify Attribute / Add Attribute: CKA_LABEL; CKA_ID of keys and certificates;
//! CKA_APPLICATION and CKA_OBJECT_ID of data objects; and, for secret and private keys, the one-way changes the
//! standard allows: CKA_SENSITIVE from false to true, CKA_EXTRACTABLE from true to false (PKCS#11 v3.0 §4.10,
//! footnotes 8 and 11). Any other change is CKR_ATTRIBUTE_READ_ONLY.

use cryptoki_sys::*;
use kmip::attributes::Attribute;
use kmip::payloads::*;

use crate::error::{fail, Result};
use crate::library::Library;
use crate::mapping;
use crate::ops::{unexpected, view};
use crate::template::Template;

/// C_SetAttributeValue: every attribute is checked before anything changes.
pub fn set_attributes(
    library: &Library,
    handle: CK_OBJECT_HANDLE,
    template: &Template,
) -> Result<()> {
    let entry = library.objects.get(handle)?;
    let view = view(library, &entry)?;
    let class = view.class;
    let data = class == CKO_DATA;
    let secret = mapping::is_secret_class(class);
    for (kind, _) in &template.0 {
        match *kind {
            CKA_LABEL => {}
            CKA_ID if !data => {}
            CKA_APPLICATION | CKA_OBJECT_ID if data => {}
            CKA_SENSITIVE if secret => {
                let now = mapping::sensitive(&view.attributes, class);
                if now && template.bool(CKA_SENSITIVE)? == Some(false) {
                    return fail(
                        CKR_ATTRIBUTE_READ_ONLY,
                        "CKA_SENSITIVE cannot go back from true to false",
                    );
                }
            }
            CKA_EXTRACTABLE if secret => {
                let now = mapping::extractable(&view.attributes, class);
                if !now && template.bool(CKA_EXTRACTABLE)? == Some(true) {
                    return fail(
                        CKR_ATTRIBUTE_READ_ONLY,
                        "CKA_EXTRACTABLE cannot go back from false to true",
                    );
                }
            }
            CKA_ID | CKA_APPLICATION | CKA_OBJECT_ID | CKA_SENSITIVE | CKA_EXTRACTABLE => {
                return fail(
                    CKR_ATTRIBUTE_TYPE_INVALID,
                    "this object has no such attribute",
                )
            }
            _ => {
                return fail(
                    CKR_ATTRIBUTE_READ_ONLY,
                    "only CKA_LABEL, CKA_ID, CKA_APPLICATION, CKA_OBJECT_ID, CKA_SENSITIVE (to true) and CKA_EXTRACTABLE (to false) can be changed",
                )
            }
        }
    }
    let link = library.tokens[entry.token].link()?;
    let a = &view.attributes;
    let result = (|| {
        if let Some(label) = template.text(CKA_LABEL)? {
            let current = a.iter().find(|a| matches!(a, Attribute::Name(_))).cloned();
            change(&link, &entry.uid, current, mapping::name_attribute(&label))?;
        }
        if let Some(id) = template.get(CKA_ID) {
            let current = mapping::id_of(a).map(mapping::id_attribute);
            change(&link, &entry.uid, current, mapping::id_attribute(id))?;
        }
        if let Some(application) = template.get(CKA_APPLICATION) {
            let current = mapping::application_of(a).map(mapping::application_attribute);
            let new = mapping::application_attribute(application);
            change(&link, &entry.uid, current, new)?;
        }
        if let Some(oid) = template.get(CKA_OBJECT_ID) {
            let current = mapping::object_id_of(a).map(mapping::object_id_attribute);
            change(
                &link,
                &entry.uid,
                current,
                mapping::object_id_attribute(oid),
            )?;
        }
        if template.bool(CKA_SENSITIVE)? == Some(true) && !mapping::sensitive(a, class) {
            let current = a
                .iter()
                .find(|a| matches!(a, Attribute::Sensitive(_)))
                .cloned();
            change(&link, &entry.uid, current, Attribute::Sensitive(true))?;
        }
        if template.bool(CKA_EXTRACTABLE)? == Some(false) && mapping::extractable(a, class) {
            let current = a
                .iter()
                .find(|a| matches!(a, Attribute::Extractable(_)))
                .cloned();
            change(&link, &entry.uid, current, Attribute::Extractable(false))?;
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
