//! Object reads and lifecycle over KMIP: find (Locate), read (Get Attributes, Get), activate and destroy
//! (Revoke + Destroy). Key generation is in [`crate::keygen`], C_CreateObject in [`crate::import`], attribute
//! changes in [`crate::attribute_update`].

use std::sync::Arc;

use cryptoki_sys::*;
use kmip::attributes::{Attribute, Attributes, RevocationReason};
use kmip::enums::{
    KeyFormatType, LinkType, ObjectType, OpaqueDataType, RevocationReasonCode, State,
};
use kmip::objects::{KeyMaterial, ManagedObject};
use kmip::payloads::*;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::library::Library;
use crate::mapping;
use crate::objects::{Answer, Entry, ObjectView};
use crate::template::Template;

/// Opaque Data Type of CKO_DATA objects (the KMIP extension range).
pub const PKCS11_DATA: OpaqueDataType = OpaqueDataType(0x8000_0011);

/// The object behind `entry`, from the cache or the server.
pub fn view(library: &Library, entry: &Entry) -> Result<Arc<ObjectView>> {
    let view = cached_or_fetched(library, entry)?;
    if library.tokens[entry.token].private_locked()
        && mapping::private_of(&view.attributes, view.class)
    {
        // Cached while logged in: out of reach again after C_Logout, as on the server.
        return fail(
            CKR_USER_NOT_LOGGED_IN,
            "a private object needs C_Login first",
        );
    }
    Ok(view)
}

fn cached_or_fetched(library: &Library, entry: &Entry) -> Result<Arc<ObjectView>> {
    if let Some(view) = entry.cached() {
        return Ok(view);
    }
    let request = GetAttributesRequest {
        unique_identifier: Some(entry.uid.clone()),
        attribute_names: AttributeNames::default(),
    };
    let attributes = match library.tokens[entry.token].link()?.call(request)? {
        ResponsePayload::GetAttributes(response) => response.attributes.0,
        other => return Err(unexpected(other)),
    };
    let view = Arc::new(ObjectView::new(attributes).ok_or(Pkcs11Error::rv(
        CKR_OBJECT_HANDLE_INVALID,
        "the object is of a type PKCS#11 does not present",
    ))?);
    entry.cache(view.clone());
    Ok(view)
}

/// The object's value bytes (KMIP Get): certificate DER, data bytes, raw key bytes.
/// A private key's value here is its public half: the linked public key (CKA_MODULUS and CKA_PUBLIC_EXPONENT of
/// RSA private keys come from it); the private material never leaves the server.
pub fn fetch_value(library: &Library, entry: &Entry) -> Result<Zeroizing<Vec<u8>>> {
    let view = view(library, entry)?;
    let (uid, public) = match view.class {
        CKO_PRIVATE_KEY => match view.attributes.linked(LinkType::PublicKeyLink) {
            Some(public_uid) => (public_uid.to_owned(), true),
            None if mapping::public_half_of(&view.attributes).is_some() => {
                let spki = mapping::public_half_of(&view.attributes).unwrap_or_default();
                return Ok(Zeroizing::new(spki.to_vec()));
            }
            None => {
                return fail(
                    CKR_ATTRIBUTE_SENSITIVE,
                    "the private key has no public key link",
                )
            }
        },
        class => (entry.uid.clone(), class == CKO_PUBLIC_KEY),
    };
    let request = GetRequest {
        unique_identifier: Some(uid),
        // Public keys are read as a SubjectPublicKeyInfo, whatever format they are stored in.
        key_format_type: public.then_some(KeyFormatType::X509),
        ..Default::default()
    };
    let object = match library.tokens[entry.token].link()?.call(request)? {
        ResponsePayload::Get(response) => response.object.0,
        other => return Err(unexpected(other)),
    };
    let bytes = match object {
        Some(ManagedObject::Certificate(c)) => c.certificate_value,
        Some(ManagedObject::OpaqueObject(o)) => o.opaque_data_value.to_vec(),
        Some(ManagedObject::SymmetricKey(block))
        | Some(ManagedObject::PublicKey(block))
        | Some(ManagedObject::SecretData(kmip::objects::SecretData {
            key_block: block, ..
        })) => match block.key_value.map(|v| v.material) {
            Some(KeyMaterial::Bytes(bytes)) => bytes.to_vec(),
            Some(KeyMaterial::TransparentSymmetricKey { key }) => key.to_vec(),
            _ => {
                return fail(
                    CKR_ATTRIBUTE_SENSITIVE,
                    "the server returned no plain key value",
                )
            }
        },
        _ => {
            return Err(Pkcs11Error::Unexpected(
                "Get returned no usable object".into(),
            ))
        }
    };
    Ok(Zeroizing::new(bytes))
}

/// One attribute of one object.
pub fn attribute(library: &Library, entry: &Entry, kind: CK_ATTRIBUTE_TYPE) -> Result<Answer> {
    let view = view(library, entry)?;
    view.answer(kind, &|| fetch_value(library, entry))
}

/// C_FindObjectsInit: the handles of the token's objects matching `template`. Class, label, id and a data
/// object's application and OID are sent to Locate; every other attribute is matched here against the cached
/// objects.
pub fn find(library: &Library, token: usize, template: &Template) -> Result<Vec<CK_OBJECT_HANDLE>> {
    let t = &library.tokens[token];
    if t.private_locked() && t.link().is_err() {
        // A PKCS#12 identity before C_Login: nothing on the server is reachable, so nothing is visible.
        return Ok(Vec::new());
    }
    let mut filters = Attributes::new();
    let object_types: Vec<ObjectType> = match template.ulong(CKA_CLASS)? {
        Some(class) => mapping::object_types_of(class).to_vec(),
        None => Vec::new(),
    };
    if template.ulong(CKA_CLASS)?.is_some() && object_types.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(label) = template.text(CKA_LABEL)? {
        filters.push(mapping::name_attribute(&label));
    }
    if let Some(id) = template.get(CKA_ID) {
        filters.push(mapping::id_attribute(id));
    }
    if let Some(application) = template.get(CKA_APPLICATION).filter(|a| !a.is_empty()) {
        filters.push(mapping::application_attribute(application));
    }
    if let Some(oid) = template.get(CKA_OBJECT_ID).filter(|o| !o.is_empty()) {
        filters.push(mapping::object_id_attribute(oid));
    }
    let mut uids = Vec::new();
    let passes: Vec<Option<ObjectType>> = if object_types.is_empty() {
        vec![None]
    } else {
        object_types.into_iter().map(Some).collect()
    };
    for object_type in passes {
        let mut attributes = filters.clone();
        if let Some(object_type) = object_type {
            attributes.push(Attribute::ObjectType(object_type));
        }
        let request = LocateRequest {
            attributes: PayloadAttributes(attributes),
            ..Default::default()
        };
        match t.link()?.call(request)? {
            ResponsePayload::Locate(response) => uids.extend(response.unique_identifiers),
            other => return Err(unexpected(other)),
        }
    }
    let mut handles = Vec::new();
    for uid in uids {
        let handle = library.objects.handle_for(token, &uid)?;
        let entry = library.objects.get(handle)?;
        let Ok(view) = view(library, &entry) else {
            // An object type PKCS#11 does not present, one destroyed meanwhile, or a private object before
            // C_Login (the server lists public objects only then, and the module hides what it cached).
            continue;
        };
        // Another application's session objects are not visible (their lease is not this process's).
        if let Some(lease) = mapping::session_lease_of(&view.attributes) {
            if t.session_lease().ok().as_deref() != Some(lease) {
                continue;
            }
        }
        if matches_template(library, &entry, &view, template)? {
            handles.push(handle);
        }
    }
    Ok(handles)
}

fn matches_template(
    library: &Library,
    entry: &Entry,
    view: &ObjectView,
    template: &Template,
) -> Result<bool> {
    for (kind, wanted) in &template.0 {
        let answer = view.answer(*kind, &|| fetch_value(library, entry))?;
        if answer != Answer::Value(wanted.clone()) {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(crate) fn activate(library: &Library, token: usize, uid: &str) -> Result<()> {
    let request = ActivateRequest {
        unique_identifier: Some(uid.to_owned()),
    };
    match library.tokens[token].link()?.call(request)? {
        ResponsePayload::Activate(_) => Ok(()),
        other => Err(unexpected(other)),
    }
}

/// C_DestroyObject: Revoke first when the object is Active (KMIP destroys only inactive objects), then Destroy.
pub fn destroy_object(library: &Library, handle: CK_OBJECT_HANDLE) -> Result<()> {
    let entry = library.objects.get(handle)?;
    if entry.moved() {
        // The object lives on under the handle C_CopyObject gave it.
        return library.objects.forget(handle);
    }
    let view = view(library, &entry)?;
    let link = library.tokens[entry.token].link()?;
    if view.attributes.state() == Some(State::Active) {
        let request = RevokeRequest {
            unique_identifier: Some(entry.uid.clone()),
            revocation_reason: RevocationReason {
                code: RevocationReasonCode::CessationOfOperation,
                message: Some("PKCS#11 C_DestroyObject".into()),
            },
            compromise_occurrence_date: None,
        };
        match link.call(request)? {
            ResponsePayload::Revoke(_) => {}
            other => return Err(unexpected(other)),
        }
    }
    let request = DestroyRequest {
        unique_identifier: Some(entry.uid.clone()),
    };
    match link.call(request)? {
        ResponsePayload::Destroy(_) => library.objects.forget(handle),
        other => Err(unexpected(other)),
    }
}

/// Removes an object this module just made but could not finish (a failed activation): Revoke in case it got
/// activated, then Destroy. Best effort: the caller reports the first failure, not these.
pub(crate) fn discard(library: &Library, token: usize, uid: &str) {
    let Ok(link) = library.tokens[token].link() else {
        return;
    };
    let _ = link.call(RevokeRequest {
        unique_identifier: Some(uid.to_owned()),
        revocation_reason: RevocationReason {
            code: RevocationReasonCode::CessationOfOperation,
            message: Some("PKCS#11: creation failed".into()),
        },
        compromise_occurrence_date: None,
    });
    let _ = link.call(DestroyRequest {
        unique_identifier: Some(uid.to_owned()),
    });
}

pub(crate) fn unexpected(payload: ResponsePayload) -> Pkcs11Error {
    Pkcs11Error::Unexpected(format!("answer for {:?}", payload.operation()))
}
