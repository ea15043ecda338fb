//! Key pairs and signatures: C_GenerateKeyPair, C_Sign* and C_Verify*.

use cryptoki_sys::*;

use super::cryptoki_fn;
use super::objects::{check_creation, key_handle_error, own, session_token};
use super::ptr::{bytes, bytes_mut, out, template};
use crate::error::{fail, Pkcs11Error, Result};
use crate::keypair;
use crate::library::{library, lock, Library};
use crate::session::Session;
use crate::signing::SignatureOperation;

/// The mechanism behind `pMechanism`, which must take no parameter.
///
/// # Safety
/// `p` is NULL or points to a CK_MECHANISM.
unsafe fn mechanism_type(p: CK_MECHANISM_PTR) -> Result<Option<CK_MECHANISM_TYPE>> {
    // SAFETY: the caller guarantees `p` is NULL or valid.
    match unsafe { p.as_ref() } {
        None => Ok(None),
        Some(m) if m.ulParameterLen != 0 => fail(
            CKR_MECHANISM_PARAM_INVALID,
            "this mechanism takes no parameter",
        ),
        Some(m) => Ok(Some(m.mechanism)),
    }
}

cryptoki_fn! {
    fn C_GenerateKeyPair(hSession: CK_SESSION_HANDLE, pMechanism: CK_MECHANISM_PTR, pPublicKeyTemplate: CK_ATTRIBUTE_PTR, ulPublicKeyAttributeCount: CK_ULONG, pPrivateKeyTemplate: CK_ATTRIBUTE_PTR, ulPrivateKeyAttributeCount: CK_ULONG, phPublicKey: CK_OBJECT_HANDLE_PTR, phPrivateKey: CK_OBJECT_HANDLE_PTR) {
        let library = library()?;
        let token = session_token(&library, hSession, false)?;
        // SAFETY: pMechanism is NULL or points to a CK_MECHANISM.
        let mechanism = unsafe { mechanism_type(pMechanism)? }
            .ok_or(Pkcs11Error::rv(CKR_ARGUMENTS_BAD, "pMechanism is NULL"))?;
        // SAFETY: each template is NULL or holds its count of attributes with readable values.
        let public = unsafe { template(pPublicKeyTemplate, ulPublicKeyAttributeCount)? };
        // SAFETY: as above.
        let private = unsafe { template(pPrivateKeyTemplate, ulPrivateKeyAttributeCount)? };
        check_creation(&library, hSession, &[&public, &private])?;
        // SAFETY: the handle pointers are NULL or writable.
        let public_out = unsafe { out(phPublicKey)? };
        // SAFETY: as above.
        let private_out = unsafe { out(phPrivateKey)? };
        let (public_handle, private_handle) =
            keypair::generate_key_pair(&library, token, mechanism, &public, &private)?;
        *public_out = public_handle;
        *private_out = private_handle;
        own(&library, hSession, public_handle, &public)?;
        own(&library, hSession, private_handle, &private)
    }
}

/// Starts (or, with a NULL mechanism, cancels) the session's sign (`sign`) or verify operation.
///
/// # Safety
/// `mechanism` is NULL or points to a CK_MECHANISM.
unsafe fn init(
    session: CK_SESSION_HANDLE,
    mechanism: CK_MECHANISM_PTR,
    key: CK_OBJECT_HANDLE,
    sign: bool,
) -> Result<()> {
    let library = library()?;
    let session = library.session(session)?;
    let mut session = lock(&session)?;
    // SAFETY: passed on from the caller's promise.
    let Some(mechanism) = (unsafe { super::mechanism::mechanism(mechanism)? }) else {
        *slot(&mut session, sign) = None;
        return Ok(());
    };
    if slot(&mut session, sign).is_some() {
        return fail(CKR_OPERATION_ACTIVE, "a signature operation is active");
    }
    let entry = super::objects::key(&library, session.token, key)?;
    let operation =
        SignatureOperation::new(&library, entry, &mechanism, sign).map_err(key_handle_error)?;
    *slot(&mut session, sign) = Some(operation);
    Ok(())
}

fn slot(session: &mut Session, sign: bool) -> &mut Option<SignatureOperation> {
    if sign {
        &mut session.sign
    } else {
        &mut session.verify
    }
}

/// Runs `body` on the active operation; ends it unless `body` asks to keep it (length probes).
fn with_operation(
    session: CK_SESSION_HANDLE,
    sign: bool,
    body: impl FnOnce(&Library, &mut SignatureOperation) -> (Result<()>, bool),
) -> Result<()> {
    let library = library()?;
    let session = library.session(session)?;
    let mut session = lock(&session)?;
    let slot = slot(&mut session, sign);
    let operation = slot.as_mut().ok_or(Pkcs11Error::rv(
        CKR_OPERATION_NOT_INITIALIZED,
        "no signature operation is active",
    ))?;
    let (result, keep) = body(&library, operation);
    if !keep {
        *slot = None;
    }
    result
}

/// Signs into the caller's buffer: `data` (C_Sign; `None` for C_SignFinal, which signs the gathered parts). A
/// NULL or short buffer gets the length and keeps the operation, with the signature cached for the call that
/// follows; any other error ends the operation, a bad data pointer included.
///
/// # Safety
/// In `data`, the pointer is NULL or points to as many readable bytes as the length says; `signature` is NULL or
/// points to `*length` writable bytes; `length` is NULL or writable.
unsafe fn sign_into(
    session: CK_SESSION_HANDLE,
    data: Option<(*const u8, CK_ULONG)>,
    signature: *mut u8,
    length: *mut CK_ULONG,
) -> Result<()> {
    let gathered = data.is_none();
    with_operation(session, true, |library, operation| {
        let mut run = || -> Result<bool> {
            let data: &[u8] = match data {
                Some((pointer, len)) => {
                    operation.require_single_part()?;
                    // SAFETY: the caller guarantees `len` readable bytes at `pointer` (or NULL with 0).
                    unsafe { bytes(pointer, len)? }
                }
                None => &[],
            };
            // SAFETY: the caller guarantees `length` is NULL or writable.
            let length = unsafe { out(length)? };
            let data = if gathered {
                operation.take_data(data)
            } else {
                zeroize::Zeroizing::new(data.to_vec())
            };
            let produced = operation.sign(library, &data)?;
            let needed = produced.len() as CK_ULONG;
            if signature.is_null() || *length < needed {
                let short = !signature.is_null();
                *length = needed;
                operation.keep(&data, produced);
                if gathered {
                    operation.restore_data(data);
                }
                return if short {
                    fail(CKR_BUFFER_TOO_SMALL, "the signature buffer is too small")
                } else {
                    Ok(true)
                };
            }
            // SAFETY: non-NULL, and the caller guarantees `*length` (>= needed) writable bytes.
            let target = unsafe { bytes_mut(signature, needed)? };
            target.copy_from_slice(&produced);
            *length = needed;
            Ok(false)
        };
        match run() {
            Ok(keep) => (Ok(()), keep),
            Err(e) => {
                let keep = e.to_rv() == CKR_BUFFER_TOO_SMALL;
                (Err(e), keep)
            }
        }
    })
}

cryptoki_fn! {
    fn C_SignInit(hSession: CK_SESSION_HANDLE, pMechanism: CK_MECHANISM_PTR, hKey: CK_OBJECT_HANDLE) {
        // SAFETY: pMechanism is NULL or points to a CK_MECHANISM.
        unsafe { init(hSession, pMechanism, hKey, true) }
    }
}

cryptoki_fn! {
    fn C_Sign(hSession: CK_SESSION_HANDLE, pData: CK_BYTE_PTR, ulDataLen: CK_ULONG, pSignature: CK_BYTE_PTR, pulSignatureLen: CK_ULONG_PTR) {
        // SAFETY: pData holds ulDataLen readable bytes (or is NULL with 0); pSignature / pulSignatureLen follow
        // the PKCS#11 output-buffer contract.
        unsafe { sign_into(hSession, Some((pData, ulDataLen)), pSignature, pulSignatureLen) }
    }
}

cryptoki_fn! {
    fn C_SignUpdate(hSession: CK_SESSION_HANDLE, pPart: CK_BYTE_PTR, ulPartLen: CK_ULONG) {
        with_operation(hSession, true, |_, operation| {
            // SAFETY: pPart holds ulPartLen readable bytes (or is NULL with 0).
            let result = unsafe { bytes(pPart, ulPartLen) }.and_then(|part| operation.update(part));
            let keep = result.is_ok();
            (result, keep)
        })
    }
}

cryptoki_fn! {
    fn C_SignFinal(hSession: CK_SESSION_HANDLE, pSignature: CK_BYTE_PTR, pulSignatureLen: CK_ULONG_PTR) {
        // SAFETY: pSignature / pulSignatureLen follow the PKCS#11 output-buffer contract.
        unsafe { sign_into(hSession, None, pSignature, pulSignatureLen) }
    }
}

cryptoki_fn! {
    fn C_VerifyInit(hSession: CK_SESSION_HANDLE, pMechanism: CK_MECHANISM_PTR, hKey: CK_OBJECT_HANDLE) {
        // SAFETY: pMechanism is NULL or points to a CK_MECHANISM.
        unsafe { init(hSession, pMechanism, hKey, false) }
    }
}

cryptoki_fn! {
    fn C_Verify(hSession: CK_SESSION_HANDLE, pData: CK_BYTE_PTR, ulDataLen: CK_ULONG, pSignature: CK_BYTE_PTR, ulSignatureLen: CK_ULONG) {
        with_operation(hSession, false, |library, operation| {
            let run = || -> Result<()> {
                operation.require_single_part()?;
                // SAFETY: pData holds ulDataLen readable bytes (or is NULL with 0).
                let data = unsafe { bytes(pData, ulDataLen)? };
                // SAFETY: pSignature holds ulSignatureLen readable bytes.
                let signature = unsafe { bytes(pSignature, ulSignatureLen)? };
                operation.verify(library, data, signature)
            };
            (run(), false)
        })
    }
}

cryptoki_fn! {
    fn C_VerifyUpdate(hSession: CK_SESSION_HANDLE, pPart: CK_BYTE_PTR, ulPartLen: CK_ULONG) {
        with_operation(hSession, false, |_, operation| {
            // SAFETY: pPart holds ulPartLen readable bytes (or is NULL with 0).
            let result = unsafe { bytes(pPart, ulPartLen) }.and_then(|part| operation.update(part));
            let keep = result.is_ok();
            (result, keep)
        })
    }
}

cryptoki_fn! {
    fn C_VerifyFinal(hSession: CK_SESSION_HANDLE, pSignature: CK_BYTE_PTR, ulSignatureLen: CK_ULONG) {
        with_operation(hSession, false, |library, operation| {
            // SAFETY: pSignature holds ulSignatureLen readable bytes.
            let result = unsafe { bytes(pSignature, ulSignatureLen) }.and_then(|signature| {
                let data = operation.take_data(&[]);
                operation.verify(library, &data, signature)
            });
            (result, false)
        })
    }
}
