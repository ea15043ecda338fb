//! C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey, C_DigestFinal (the hashing is in [`crate::digest`]).
//!
//! As for every operation: a NULL output buffer asks the length and a short one gets CKR_BUFFER_TOO_SMALL with
//! the length, both keeping the operation; any other error ends it (arguments included, so the input pointers
//! are read inside the operation).

use cryptoki_sys::*;

use super::cryptoki_fn;
use super::objects::{key, key_handle_error};
use super::ptr::{bytes, bytes_mut, out};
use crate::digest::DigestOperation;
use crate::error::{fail, Pkcs11Error, Result};
use crate::library::{library, lock, Library};

/// What a call does with the operation once its body ran.
enum After {
    Keep,
    End,
}

/// Runs `body` on the session's active digest; ends the digest when the body says so or fails (except with
/// CKR_BUFFER_TOO_SMALL, which keeps it for the retry).
fn with_digest(
    session: CK_SESSION_HANDLE,
    body: impl FnOnce(&Library, usize, &mut DigestOperation) -> Result<After>,
) -> Result<()> {
    let library = library()?;
    let session = library.session(session)?;
    let mut session = lock(&session)?;
    let token = session.token;
    let operation = session.digest.as_mut().ok_or(Pkcs11Error::rv(
        CKR_OPERATION_NOT_INITIALIZED,
        "C_DigestInit was not called",
    ))?;
    match body(&library, token, operation) {
        Ok(After::Keep) => Ok(()),
        Ok(After::End) => {
            session.digest = None;
            Ok(())
        }
        Err(error) => {
            if error.to_rv() != CKR_BUFFER_TOO_SMALL {
                session.digest = None;
            }
            Err(error)
        }
    }
}

/// Writes the digest into the caller's buffer when it fits: `Keep` after a length probe, `End` once written.
///
/// # Safety
/// `digest` is NULL or points to `*length` writable bytes; `length` is NULL or writable.
unsafe fn deliver(
    operation: &mut DigestOperation,
    data: &[u8],
    digest: *mut u8,
    length: *mut CK_ULONG,
) -> Result<After> {
    // SAFETY: the caller guarantees `length` is NULL or writable.
    let length = unsafe { out(length)? };
    let needed = operation.len() as CK_ULONG;
    if digest.is_null() {
        *length = needed;
        return Ok(After::Keep);
    }
    if *length < needed {
        *length = needed;
        return fail(CKR_BUFFER_TOO_SMALL, "the digest buffer is too small");
    }
    // SAFETY: non-NULL, and the caller guarantees `*length` (>= needed) writable bytes.
    let target = unsafe { bytes_mut(digest, needed)? };
    target.copy_from_slice(&operation.finish(data));
    *length = needed;
    Ok(After::End)
}

cryptoki_fn! {
    /// A NULL mechanism cancels the active digest (PKCS#11 v3.0).
    fn C_DigestInit(hSession: CK_SESSION_HANDLE, pMechanism: CK_MECHANISM_PTR) {
        let library = library()?;
        let session = library.session(hSession)?;
        let mut session = lock(&session)?;
        // SAFETY: pMechanism is NULL or points to a CK_MECHANISM.
        let Some(mechanism) = (unsafe { pMechanism.as_ref() }) else {
            session.digest = None;
            return Ok(());
        };
        if session.digest.is_some() {
            return fail(CKR_OPERATION_ACTIVE, "a digest is active in this session");
        }
        let operation = DigestOperation::new(mechanism.mechanism)?;
        if mechanism.ulParameterLen != 0 {
            return fail(CKR_MECHANISM_PARAM_INVALID, "digest mechanisms take no parameter");
        }
        session.digest = Some(operation);
        Ok(())
    }
}

cryptoki_fn! {
    fn C_Digest(hSession: CK_SESSION_HANDLE, pData: CK_BYTE_PTR, ulDataLen: CK_ULONG, pDigest: CK_BYTE_PTR, pulDigestLen: CK_ULONG_PTR) {
        with_digest(hSession, |_, _, operation| {
            operation.require_single_part()?;
            // SAFETY: pData holds ulDataLen readable bytes (or is NULL with 0).
            let data = unsafe { bytes(pData, ulDataLen)? };
            // SAFETY: pDigest / pulDigestLen follow the PKCS#11 output-buffer contract.
            unsafe { deliver(operation, data, pDigest, pulDigestLen) }
        })
    }
}

cryptoki_fn! {
    fn C_DigestUpdate(hSession: CK_SESSION_HANDLE, pPart: CK_BYTE_PTR, ulPartLen: CK_ULONG) {
        with_digest(hSession, |_, _, operation| {
            // SAFETY: pPart holds ulPartLen readable bytes (or is NULL with 0).
            let part = unsafe { bytes(pPart, ulPartLen)? };
            operation.update(part);
            Ok(After::Keep)
        })
    }
}

cryptoki_fn! {
    fn C_DigestKey(hSession: CK_SESSION_HANDLE, hKey: CK_OBJECT_HANDLE) {
        with_digest(hSession, |library, token, operation| {
            let entry = key(library, token, hKey)?;
            operation.update_with_key(library, &entry).map_err(key_handle_error)?;
            Ok(After::Keep)
        })
    }
}

cryptoki_fn! {
    fn C_DigestFinal(hSession: CK_SESSION_HANDLE, pDigest: CK_BYTE_PTR, pulDigestLen: CK_ULONG_PTR) {
        with_digest(hSession, |_, _, operation| {
            // SAFETY: pDigest / pulDigestLen follow the PKCS#11 output-buffer contract.
            unsafe { deliver(operation, &[], pDigest, pulDigestLen) }
        })
    }
}
