//! Objects: create, generate, find, read, change, destroy.

use std::sync::Arc;

use cryptoki_sys::*;

use super::cryptoki_fn;
use super::ptr::{attributes, out, template};
use crate::error::{fail, Pkcs11Error, Result};
use crate::library::{library, lock, Library};
use crate::objects::{Answer, Entry};
use crate::ops;
use crate::session::FindOperation;
use crate::template::Template;

/// The session's token, after checking the session exists.
pub(super) fn session_token(
    library: &Library,
    session: CK_SESSION_HANDLE,
    write: bool,
) -> Result<usize> {
    let session = library.session(session)?;
    let session = lock(&session)?;
    if write {
        session.require_read_write()?;
    }
    Ok(session.token)
}

/// A creation's session check: token objects need a read/write session; session objects (CKA_TOKEN false or
/// absent) may be made in a read-only one, as the standard allows.
pub(super) fn check_creation(
    library: &Library,
    session: CK_SESSION_HANDLE,
    templates: &[&Template],
) -> Result<()> {
    let mut token_object = false;
    for template in templates {
        token_object |= !template.is_session_object()?;
    }
    if token_object {
        let session = library.session(session)?;
        lock(&session)?.require_read_write()?;
    }
    Ok(())
}

/// Records a new object made under `template` as the session's own when it is a session object, so that
/// closing the session destroys it.
pub(super) fn own(
    library: &Library,
    session: CK_SESSION_HANDLE,
    handle: CK_OBJECT_HANDLE,
    template: &Template,
) -> Result<()> {
    if template.is_session_object()? {
        let session = library.session(session)?;
        lock(&session)?.owned.push(handle);
    }
    Ok(())
}

/// The object behind `handle`, which must belong to the session's token.
pub(super) fn object(
    library: &Library,
    token: usize,
    handle: CK_OBJECT_HANDLE,
) -> Result<Arc<Entry>> {
    let entry = library.objects.get(handle)?;
    if entry.token != token {
        return fail(
            CKR_OBJECT_HANDLE_INVALID,
            "the object belongs to another token",
        );
    }
    Ok(entry)
}

/// The key behind `handle` for an operation's *Init (and C_DigestKey): as [`object`], but a handle that names no
/// object of the token, or one gone from the server, is CKR_KEY_HANDLE_INVALID, the code those calls return.
pub(super) fn key(library: &Library, token: usize, handle: CK_OBJECT_HANDLE) -> Result<Arc<Entry>> {
    object(library, token, handle).map_err(key_handle_error)
}

/// CKR_OBJECT_HANDLE_INVALID (no such object) becomes CKR_KEY_HANDLE_INVALID; other errors pass unchanged.
pub(super) fn key_handle_error(error: Pkcs11Error) -> Pkcs11Error {
    if error.to_rv() == CKR_OBJECT_HANDLE_INVALID {
        Pkcs11Error::rv(CKR_KEY_HANDLE_INVALID, "no key has this handle")
    } else {
        error
    }
}

cryptoki_fn! {
    fn C_CreateObject(hSession: CK_SESSION_HANDLE, pTemplate: CK_ATTRIBUTE_PTR, ulCount: CK_ULONG, phObject: CK_OBJECT_HANDLE_PTR) {
        let library = library()?;
        let token = session_token(&library, hSession, false)?;
        // SAFETY: pTemplate is NULL or holds ulCount attributes with readable values.
        let template = unsafe { template(pTemplate, ulCount)? };
        check_creation(&library, hSession, &[&template])?;
        // SAFETY: phObject is NULL or points to a writable handle.
        let handle = unsafe { out(phObject)? };
        *handle = crate::import::create_object(&library, token, &template)?;
        own(&library, hSession, *handle, &template)
    }
}

cryptoki_fn! {
    fn C_GenerateKey(hSession: CK_SESSION_HANDLE, pMechanism: CK_MECHANISM_PTR, pTemplate: CK_ATTRIBUTE_PTR, ulCount: CK_ULONG, phKey: CK_OBJECT_HANDLE_PTR) {
        let library = library()?;
        let token = session_token(&library, hSession, false)?;
        // SAFETY: pMechanism is NULL or points to a CK_MECHANISM.
        let mechanism = unsafe { pMechanism.as_ref() }
            .ok_or(Pkcs11Error::rv(CKR_ARGUMENTS_BAD, "pMechanism is NULL"))?;
        if mechanism.ulParameterLen != 0 {
            return fail(CKR_MECHANISM_PARAM_INVALID, "key generation takes no parameter");
        }
        // SAFETY: pTemplate is NULL or holds ulCount attributes with readable values.
        let template = unsafe { template(pTemplate, ulCount)? };
        check_creation(&library, hSession, &[&template])?;
        // SAFETY: phKey is NULL or points to a writable handle.
        let handle = unsafe { out(phKey)? };
        *handle = crate::keygen::generate_key(&library, token, mechanism.mechanism, &template)?;
        own(&library, hSession, *handle, &template)
    }
}

cryptoki_fn! {
    /// Only to make a session object a token object (see [`crate::copy_object`]).
    fn C_CopyObject(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pTemplate: CK_ATTRIBUTE_PTR, ulCount: CK_ULONG, phNewObject: CK_OBJECT_HANDLE_PTR) {
        let library = library()?;
        let token = session_token(&library, hSession, false)?;
        object(&library, token, hObject)?;
        // SAFETY: pTemplate is NULL or holds ulCount attributes with readable values.
        let template = unsafe { template(pTemplate, ulCount)? };
        check_creation(&library, hSession, &[&template])?;
        // SAFETY: phNewObject is NULL or points to a writable handle.
        let handle = unsafe { out(phNewObject)? };
        *handle = crate::copy_object::copy_object(&library, hObject, &template)?;
        Ok(())
    }
}

cryptoki_fn! {
    fn C_DestroyObject(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE) {
        let library = library()?;
        let token = session_token(&library, hSession, false)?;
        let entry = object(&library, token, hObject)?;
        // A session object may be destroyed in a read-only session; a token object needs a read/write one.
        if ops::view(&library, &entry)?.is_token_object() {
            let session = library.session(hSession)?;
            lock(&session)?.require_read_write()?;
        }
        ops::destroy_object(&library, hObject)
    }
}

cryptoki_fn! {
    /// Every attribute is answered; the return value is the last problem met (sensitive, unknown type, or
    /// buffer too small), as PKCS#11 5.7 describes.
    fn C_GetAttributeValue(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pTemplate: CK_ATTRIBUTE_PTR, ulCount: CK_ULONG) {
        let library = library()?;
        let token = session_token(&library, hSession, false)?;
        let entry = object(&library, token, hObject)?;
        // SAFETY: pTemplate is NULL or holds ulCount attributes whose pValue is NULL or ulValueLen writable bytes.
        let attributes = unsafe { attributes(pTemplate, ulCount)? };
        let mut result = CKR_OK;
        for attribute in attributes.iter_mut() {
            match ops::attribute(&library, &entry, attribute.type_)? {
                Answer::Value(value) => {
                    let needed = value.len() as CK_ULONG;
                    if attribute.pValue.is_null() {
                        attribute.ulValueLen = needed;
                    } else if attribute.ulValueLen < needed {
                        attribute.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                        result = CKR_BUFFER_TOO_SMALL;
                    } else {
                        // SAFETY: pValue is non-NULL with at least ulValueLen >= needed writable bytes.
                        unsafe {
                            std::ptr::copy_nonoverlapping(value.as_ptr(), attribute.pValue as *mut u8, value.len())
                        };
                        attribute.ulValueLen = needed;
                    }
                }
                Answer::Sensitive => {
                    attribute.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    result = CKR_ATTRIBUTE_SENSITIVE;
                }
                Answer::Invalid => {
                    attribute.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    result = CKR_ATTRIBUTE_TYPE_INVALID;
                }
            }
        }
        if result == CKR_OK {
            Ok(())
        } else {
            Err(Pkcs11Error::rv(result, "some attributes could not be returned"))
        }
    }
}

cryptoki_fn! {
    fn C_SetAttributeValue(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pTemplate: CK_ATTRIBUTE_PTR, ulCount: CK_ULONG) {
        let library = library()?;
        let token = session_token(&library, hSession, true)?;
        object(&library, token, hObject)?;
        // SAFETY: pTemplate is NULL or holds ulCount attributes with readable values.
        let template = unsafe { template(pTemplate, ulCount)? };
        crate::attribute_update::set_attributes(&library, hObject, &template)
    }
}

cryptoki_fn! {
    /// KMIP Locate with class, label and id; the rest of the template is matched locally.
    fn C_FindObjectsInit(hSession: CK_SESSION_HANDLE, pTemplate: CK_ATTRIBUTE_PTR, ulCount: CK_ULONG) {
        let library = library()?;
        let session = library.session(hSession)?;
        let token = {
            let s = lock(&session)?;
            s.require_idle()?;
            s.token
        };
        // SAFETY: pTemplate is NULL or holds ulCount attributes with readable values.
        let template = unsafe { template(pTemplate, ulCount)? };
        let handles = ops::find(&library, token, &template)?;
        let mut s = lock(&session)?;
        s.require_idle()?;
        s.find = Some(FindOperation { handles, next: 0 });
        Ok(())
    }
}

cryptoki_fn! {
    fn C_FindObjects(hSession: CK_SESSION_HANDLE, phObject: CK_OBJECT_HANDLE_PTR, ulMaxObjectCount: CK_ULONG, pulObjectCount: CK_ULONG_PTR) {
        let library = library()?;
        let session = library.session(hSession)?;
        let mut s = lock(&session)?;
        let find = s
            .find
            .as_mut()
            .ok_or(Pkcs11Error::rv(CKR_OPERATION_NOT_INITIALIZED, "C_FindObjectsInit was not called"))?;
        // SAFETY: pulObjectCount is NULL or points to a writable CK_ULONG.
        let count = unsafe { out(pulObjectCount)? };
        let max = usize::try_from(ulMaxObjectCount).unwrap_or(usize::MAX);
        let take = (find.handles.len() - find.next).min(max);
        if take > 0 && phObject.is_null() {
            return fail(CKR_ARGUMENTS_BAD, "phObject is NULL");
        }
        for (i, handle) in find.handles[find.next..find.next + take].iter().enumerate() {
            // SAFETY: phObject is non-NULL (checked) with room for ulMaxObjectCount >= take handles.
            unsafe { *phObject.add(i) = *handle };
        }
        find.next += take;
        *count = take as CK_ULONG;
        Ok(())
    }
}

cryptoki_fn! {
    fn C_FindObjectsFinal(hSession: CK_SESSION_HANDLE) {
        let library = library()?;
        let session = library.session(hSession)?;
        let mut s = lock(&session)?;
        if s.find.take().is_none() {
            return fail(CKR_OPERATION_NOT_INITIALIZED, "no search is active");
        }
        Ok(())
    }
}
