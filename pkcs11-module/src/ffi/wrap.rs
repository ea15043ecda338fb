//! C_WrapKey and C_UnwrapKey.

use cryptoki_sys::*;

use super::cryptoki_fn;
use super::mechanism::mechanism;
use super::objects::{check_creation, object, own, session_token};
use super::ptr::{bytes, bytes_mut, out, template};
use crate::error::{fail, Pkcs11Error, Result};
use crate::library::library;
use crate::mechanism_params::Mechanism;
use crate::wrap;

/// # Safety
/// `p` is NULL or points to a CK_MECHANISM with a valid parameter.
unsafe fn required(p: CK_MECHANISM_PTR) -> Result<Mechanism> {
    // SAFETY: passed on from the caller's promise.
    unsafe { mechanism(p)? }.ok_or(Pkcs11Error::rv(CKR_ARGUMENTS_BAD, "pMechanism is NULL"))
}

cryptoki_fn! {
    fn C_WrapKey(hSession: CK_SESSION_HANDLE, pMechanism: CK_MECHANISM_PTR, hWrappingKey: CK_OBJECT_HANDLE, hKey: CK_OBJECT_HANDLE, pWrappedKey: CK_BYTE_PTR, pulWrappedKeyLen: CK_ULONG_PTR) {
        let library = library()?;
        let token = session_token(&library, hSession, false)?;
        // SAFETY: pMechanism is NULL or points to a CK_MECHANISM.
        let mechanism = unsafe { required(pMechanism)? };
        let kek = object(&library, token, hWrappingKey)
            .map_err(|_| Pkcs11Error::rv(CKR_WRAPPING_KEY_HANDLE_INVALID, "hWrappingKey is not an object"))?;
        let key = super::objects::key(&library, token, hKey)?;
        // SAFETY: pulWrappedKeyLen is NULL or writable.
        let length = unsafe { out(pulWrappedKeyLen)? };
        let needed = wrap::wrap_len(&library, &mechanism, &kek, &key)? as CK_ULONG;
        if pWrappedKey.is_null() {
            *length = needed;
            return Ok(());
        }
        if *length < needed {
            *length = needed;
            return fail(CKR_BUFFER_TOO_SMALL, "the wrapped-key buffer is too small");
        }
        let wrapped = wrap::wrap(&library, &mechanism, &kek, &key)?;
        // SAFETY: non-NULL, and the caller guarantees `*length` (>= needed) writable bytes.
        let target = unsafe { bytes_mut(pWrappedKey, wrapped.len() as CK_ULONG)? };
        target.copy_from_slice(&wrapped);
        *length = wrapped.len() as CK_ULONG;
        Ok(())
    }
}

cryptoki_fn! {
    fn C_UnwrapKey(hSession: CK_SESSION_HANDLE, pMechanism: CK_MECHANISM_PTR, hUnwrappingKey: CK_OBJECT_HANDLE, pWrappedKey: CK_BYTE_PTR, ulWrappedKeyLen: CK_ULONG, pTemplate: CK_ATTRIBUTE_PTR, ulAttributeCount: CK_ULONG, phKey: CK_OBJECT_HANDLE_PTR) {
        let library = library()?;
        let token = session_token(&library, hSession, false)?;
        // SAFETY: pMechanism is NULL or points to a CK_MECHANISM.
        let mechanism = unsafe { required(pMechanism)? };
        let kek = object(&library, token, hUnwrappingKey)
            .map_err(|_| Pkcs11Error::rv(CKR_UNWRAPPING_KEY_HANDLE_INVALID, "hUnwrappingKey is not an object"))?;
        // SAFETY: pWrappedKey holds ulWrappedKeyLen readable bytes.
        let wrapped = unsafe { bytes(pWrappedKey, ulWrappedKeyLen)? };
        // SAFETY: pTemplate is NULL or holds ulAttributeCount attributes with readable values.
        let template = unsafe { template(pTemplate, ulAttributeCount)? };
        check_creation(&library, hSession, &[&template])?;
        // SAFETY: phKey is NULL or writable.
        let handle = unsafe { out(phKey)? };
        *handle = wrap::unwrap(&library, &mechanism, &kek, wrapped, &template)?;
        own(&library, hSession, *handle, &template)
    }
}
