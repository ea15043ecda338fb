//! C_Encrypt* and C_Decrypt*: single and multi-part, with the PKCS#11 size-query protocol.

use cryptoki_sys::*;
use zeroize::Zeroizing;

use super::cryptoki_fn;
use super::mechanism::mechanism;
use super::ptr::{bytes, bytes_mut, out};
use crate::encrypt::CipherOperation;
use crate::error::{fail, Pkcs11Error, Result};
use crate::library::{library, lock};
use crate::session::Session;

fn slot(session: &mut Session, encrypt: bool) -> &mut Option<CipherOperation> {
    if encrypt {
        &mut session.encrypt
    } else {
        &mut session.decrypt
    }
}

/// Starts (or, with a NULL mechanism, cancels) the session's encryption or decryption.
///
/// # Safety
/// `p` is NULL or points to a CK_MECHANISM with a valid parameter.
unsafe fn init(
    session: CK_SESSION_HANDLE,
    p: CK_MECHANISM_PTR,
    key: CK_OBJECT_HANDLE,
    encrypt: bool,
) -> Result<()> {
    let library = library()?;
    let session = library.session(session)?;
    let mut session = lock(&session)?;
    // SAFETY: passed on from the caller's promise.
    let Some(mechanism) = (unsafe { mechanism(p)? }) else {
        *slot(&mut session, encrypt) = None;
        return Ok(());
    };
    if slot(&mut session, encrypt).is_some() {
        return fail(CKR_OPERATION_ACTIVE, "a cipher operation is active");
    }
    let entry = super::objects::key(&library, session.token, key)?;
    let operation = CipherOperation::new(&library, entry, &mechanism, encrypt)
        .map_err(super::objects::key_handle_error)?;
    *slot(&mut session, encrypt) = Some(operation);
    Ok(())
}

/// Which call runs the operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    /// C_Encrypt / C_Decrypt: all the data at once; refused once parts were given.
    OneShot,
    /// C_EncryptUpdate / C_DecryptUpdate.
    Update,
    /// C_EncryptFinal / C_DecryptFinal.
    Final,
}

/// Runs the caller's input (`input`, `input_len`) through the active operation into the caller's buffer. A NULL
/// buffer gets a sufficient length (no round trip) and a short one CKR_BUFFER_TOO_SMALL with the exact length;
/// both keep the operation. C_Encrypt and C_EncryptFinal end it; any other error ends it too, bad input pointers
/// included (PKCS#11 v3.0 §5.8: a call ends the operation unless it succeeds or only asks for the length).
///
/// # Safety
/// `input` is NULL or points to `input_len` readable bytes; `output` is NULL or points to `*length` writable
/// bytes; `length` is NULL or writable.
unsafe fn process(
    session: CK_SESSION_HANDLE,
    encrypt: bool,
    call: Call,
    (input, input_len): (*const u8, CK_ULONG),
    output: *mut u8,
    length: *mut CK_ULONG,
) -> Result<()> {
    let last = call != Call::Update;
    let library = library()?;
    let session = library.session(session)?;
    let mut session = lock(&session)?;
    let slot = slot(&mut session, encrypt);
    let operation = slot.as_mut().ok_or(Pkcs11Error::rv(
        CKR_OPERATION_NOT_INITIALIZED,
        "no cipher operation is active",
    ))?;
    let mut run = || -> Result<bool> {
        if call == Call::OneShot {
            operation.require_single_part()?;
        }
        // SAFETY: the caller guarantees `input_len` readable bytes at `input` (or NULL with 0).
        let input = unsafe { bytes(input, input_len)? };
        // SAFETY: the caller guarantees `length` is NULL or writable.
        let length = unsafe { out(length)? };
        if output.is_null() {
            *length = operation.output_bound(input.len(), last) as CK_ULONG;
            return Ok(true);
        }
        let produced: Zeroizing<Vec<u8>> = operation.process(&library, input, last)?;
        let needed = produced.len() as CK_ULONG;
        if *length < needed {
            *length = needed;
            operation.keep(input, last, produced);
            return fail(CKR_BUFFER_TOO_SMALL, "the output buffer is too small");
        }
        // SAFETY: non-NULL, and the caller guarantees `*length` (>= needed) writable bytes.
        let target = unsafe { bytes_mut(output, needed)? };
        target.copy_from_slice(&produced);
        *length = needed;
        Ok(!last)
    };
    let (result, keep) = match run() {
        Ok(keep) => (Ok(()), keep),
        Err(e) => {
            let keep = e.to_rv() == CKR_BUFFER_TOO_SMALL;
            (Err(e), keep)
        }
    };
    if !keep {
        *slot = None;
    }
    result
}

cryptoki_fn! {
    fn C_EncryptInit(hSession: CK_SESSION_HANDLE, pMechanism: CK_MECHANISM_PTR, hKey: CK_OBJECT_HANDLE) {
        // SAFETY: pMechanism is NULL or points to a CK_MECHANISM.
        unsafe { init(hSession, pMechanism, hKey, true) }
    }
}

cryptoki_fn! {
    fn C_Encrypt(hSession: CK_SESSION_HANDLE, pData: CK_BYTE_PTR, ulDataLen: CK_ULONG, pEncryptedData: CK_BYTE_PTR, pulEncryptedDataLen: CK_ULONG_PTR) {
        // SAFETY: pData holds ulDataLen readable bytes (or is NULL with 0); the output buffer follows the PKCS#11
        // output-buffer contract.
        unsafe { process(hSession, true, Call::OneShot, (pData, ulDataLen), pEncryptedData, pulEncryptedDataLen) }
    }
}

cryptoki_fn! {
    fn C_EncryptUpdate(hSession: CK_SESSION_HANDLE, pPart: CK_BYTE_PTR, ulPartLen: CK_ULONG, pEncryptedPart: CK_BYTE_PTR, pulEncryptedPartLen: CK_ULONG_PTR) {
        // SAFETY: pPart holds ulPartLen readable bytes (or is NULL with 0); the output buffer follows the PKCS#11
        // output-buffer contract.
        unsafe { process(hSession, true, Call::Update, (pPart, ulPartLen), pEncryptedPart, pulEncryptedPartLen) }
    }
}

cryptoki_fn! {
    fn C_EncryptFinal(hSession: CK_SESSION_HANDLE, pLastEncryptedPart: CK_BYTE_PTR, pulLastEncryptedPartLen: CK_ULONG_PTR) {
        // SAFETY: the output buffer follows the PKCS#11 output-buffer contract.
        unsafe { process(hSession, true, Call::Final, (std::ptr::null(), 0), pLastEncryptedPart, pulLastEncryptedPartLen) }
    }
}

cryptoki_fn! {
    fn C_DecryptInit(hSession: CK_SESSION_HANDLE, pMechanism: CK_MECHANISM_PTR, hKey: CK_OBJECT_HANDLE) {
        // SAFETY: pMechanism is NULL or points to a CK_MECHANISM.
        unsafe { init(hSession, pMechanism, hKey, false) }
    }
}

cryptoki_fn! {
    fn C_Decrypt(hSession: CK_SESSION_HANDLE, pEncryptedData: CK_BYTE_PTR, ulEncryptedDataLen: CK_ULONG, pData: CK_BYTE_PTR, pulDataLen: CK_ULONG_PTR) {
        // SAFETY: pEncryptedData holds ulEncryptedDataLen readable bytes (or is NULL with 0); the output buffer
        // follows the PKCS#11 output-buffer contract.
        unsafe { process(hSession, false, Call::OneShot, (pEncryptedData, ulEncryptedDataLen), pData, pulDataLen) }
    }
}

cryptoki_fn! {
    fn C_DecryptUpdate(hSession: CK_SESSION_HANDLE, pEncryptedPart: CK_BYTE_PTR, ulEncryptedPartLen: CK_ULONG, pPart: CK_BYTE_PTR, pulPartLen: CK_ULONG_PTR) {
        // SAFETY: pEncryptedPart holds ulEncryptedPartLen readable bytes (or is NULL with 0); the output buffer
        // follows the PKCS#11 output-buffer contract.
        unsafe { process(hSession, false, Call::Update, (pEncryptedPart, ulEncryptedPartLen), pPart, pulPartLen) }
    }
}

cryptoki_fn! {
    fn C_DecryptFinal(hSession: CK_SESSION_HANDLE, pLastPart: CK_BYTE_PTR, pulLastPartLen: CK_ULONG_PTR) {
        // SAFETY: the output buffer follows the PKCS#11 output-buffer contract.
        unsafe { process(hSession, false, Call::Final, (std::ptr::null(), 0), pLastPart, pulLastPartLen) }
    }
}
