//! Sessions, login and random numbers.

use cryptoki_sys::*;

use super::cryptoki_fn;
use super::ptr::{bytes, bytes_mut, out};
use crate::error::fail;
use crate::library::{library, lock};

cryptoki_fn! {
    fn C_OpenSession(slotID: CK_SLOT_ID, flags: CK_FLAGS, pApplication: CK_VOID_PTR, Notify: CK_NOTIFY, phSession: CK_SESSION_HANDLE_PTR) {
        let _ = (pApplication, Notify);
        let library = library()?;
        if flags & CKF_SERIAL_SESSION == 0 {
            return fail(CKR_SESSION_PARALLEL_NOT_SUPPORTED, "CKF_SERIAL_SESSION must be set");
        }
        // SAFETY: phSession is NULL or points to a writable handle.
        let handle = unsafe { out(phSession)? };
        *handle = library.open_session(slotID, flags & CKF_RW_SESSION != 0)?;
        Ok(())
    }
}

cryptoki_fn! {
    fn C_CloseSession(hSession: CK_SESSION_HANDLE) {
        library()?.close_session(hSession)
    }
}

cryptoki_fn! {
    fn C_CloseAllSessions(slotID: CK_SLOT_ID) {
        library()?.close_all_sessions(slotID)
    }
}

cryptoki_fn! {
    fn C_GetSessionInfo(hSession: CK_SESSION_HANDLE, pInfo: CK_SESSION_INFO_PTR) {
        let library = library()?;
        let session = library.session(hSession)?;
        let (token, read_write) = {
            let s = lock(&session)?;
            (s.token, s.read_write)
        };
        let user = library.tokens[token].logged_in();
        let state = match (read_write, user) {
            (false, false) => CKS_RO_PUBLIC_SESSION,
            (false, true) => CKS_RO_USER_FUNCTIONS,
            (true, false) => CKS_RW_PUBLIC_SESSION,
            (true, true) => CKS_RW_USER_FUNCTIONS,
        };
        // SAFETY: pInfo is NULL or points to a writable CK_SESSION_INFO.
        let info = unsafe { out(pInfo)? };
        *info = CK_SESSION_INFO {
            slotID: token as CK_SLOT_ID,
            state,
            flags: CKF_SERIAL_SESSION | if read_write { CKF_RW_SESSION } else { 0 },
            ulDeviceError: 0,
        };
        Ok(())
    }
}

cryptoki_fn! {
    /// The PIN decrypts the token's PKCS#12 bundle (see [`crate::config`]); it never leaves the process.
    fn C_Login(hSession: CK_SESSION_HANDLE, userType: CK_USER_TYPE, pPin: CK_UTF8CHAR_PTR, ulPinLen: CK_ULONG) {
        let library = library()?;
        let session = library.session(hSession)?;
        let token = lock(&session)?.token;
        match userType {
            CKU_USER => {}
            CKU_SO => return fail(CKR_USER_TYPE_INVALID, "this token has no security officer"),
            CKU_CONTEXT_SPECIFIC => {
                return fail(CKR_OPERATION_NOT_INITIALIZED, "no key here needs context-specific login")
            }
            _ => return fail(CKR_USER_TYPE_INVALID, "unknown user type"),
        }
        // SAFETY: pPin is NULL or points to ulPinLen bytes.
        let pin = unsafe { bytes(pPin, ulPinLen)? };
        library.tokens[token].login(pin)
    }
}

cryptoki_fn! {
    fn C_Logout(hSession: CK_SESSION_HANDLE) {
        let library = library()?;
        let session = library.session(hSession)?;
        let token = lock(&session)?.token;
        library.tokens[token].logout()
    }
}

cryptoki_fn! {
    /// Served from a buffer refilled by 64 KiB KMIP RNG Retrieve calls (large requests go straight through).
    fn C_GenerateRandom(hSession: CK_SESSION_HANDLE, RandomData: CK_BYTE_PTR, ulRandomLen: CK_ULONG) {
        let library = library()?;
        let session = library.session(hSession)?;
        let token = lock(&session)?.token;
        // SAFETY: RandomData is NULL or points to ulRandomLen writable bytes.
        let out = unsafe { bytes_mut(RandomData, ulRandomLen)? };
        library.tokens[token].generate_random(out)
    }
}

cryptoki_fn! {
    /// KMIP RNG Seed: mixed into the server's generator without entropy credit.
    fn C_SeedRandom(hSession: CK_SESSION_HANDLE, pSeed: CK_BYTE_PTR, ulSeedLen: CK_ULONG) {
        let library = library()?;
        let session = library.session(hSession)?;
        let token = lock(&session)?.token;
        // SAFETY: pSeed is NULL or points to ulSeedLen bytes.
        let seed = unsafe { bytes(pSeed, ulSeedLen)? };
        if seed.is_empty() {
            return fail(CKR_ARGUMENTS_BAD, "an empty seed");
        }
        library.tokens[token].seed_random(seed)
    }
}
