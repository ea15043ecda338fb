//! Library, slot, token and mechanism information.

use cryptoki_sys::*;

use super::cryptoki_fn;
use super::ptr::{out, padded, write_list};
use crate::error::{fail, Pkcs11Error};
use crate::library::{self, library};
use crate::mechanisms;

const MANUFACTURER: &str = "qkms";
pub const LIBRARY_VERSION: CK_VERSION = CK_VERSION { major: 0, minor: 1 };

cryptoki_fn! {
    /// Loads `QKMS_PKCS11_CONFIG` and initialises the library. The module never creates threads and uses the
    /// operating system's locks, so `CKF_LIBRARY_CANT_CREATE_OS_THREADS` is always honoured.
    fn C_Initialize(pInitArgs: CK_VOID_PTR) {
        let args = pInitArgs as *mut CK_C_INITIALIZE_ARGS;
        // SAFETY: per PKCS#11, a non-NULL pInitArgs points to a CK_C_INITIALIZE_ARGS.
        if let Some(args) = unsafe { args.as_ref() } {
            if !args.pReserved.is_null() {
                return fail(CKR_ARGUMENTS_BAD, "pReserved must be NULL");
            }
            let supplied = [
                args.CreateMutex.is_some(),
                args.DestroyMutex.is_some(),
                args.LockMutex.is_some(),
                args.UnlockMutex.is_some(),
            ];
            if supplied.iter().any(|s| *s) && !supplied.iter().all(|s| *s) {
                return fail(CKR_ARGUMENTS_BAD, "mutex functions must be all given or all NULL");
            }
            if supplied[0] && args.flags & CKF_OS_LOCKING_OK == 0 {
                return fail(CKR_CANT_LOCK, "only the operating system's locks are supported");
            }
        }
        library::initialize()
    }
}

cryptoki_fn! {
    fn C_Finalize(pReserved: CK_VOID_PTR) {
        if !pReserved.is_null() {
            return fail(CKR_ARGUMENTS_BAD, "pReserved must be NULL");
        }
        library::finalize()
    }
}

cryptoki_fn! {
    fn C_GetInfo(pInfo: CK_INFO_PTR) {
        library()?;
        // SAFETY: pInfo is NULL or points to a writable CK_INFO.
        let info = unsafe { out(pInfo)? };
        *info = CK_INFO {
            cryptokiVersion: CK_VERSION { major: 3, minor: 0 },
            manufacturerID: padded(MANUFACTURER),
            flags: 0,
            libraryDescription: padded("qkms KMIP PKCS#11 module"),
            libraryVersion: LIBRARY_VERSION,
        };
        Ok(())
    }
}

cryptoki_fn! {
    /// One slot per configured identity; every slot always has its token.
    fn C_GetSlotList(tokenPresent: CK_BBOOL, pSlotList: CK_SLOT_ID_PTR, pulCount: CK_ULONG_PTR) {
        let _ = tokenPresent;
        let library = library()?;
        let slots: Vec<CK_SLOT_ID> = (0..library.tokens.len() as CK_SLOT_ID).collect();
        // SAFETY: pulCount is NULL or valid; pSlotList is NULL or holds *pulCount slots.
        unsafe { write_list(&slots, pSlotList, pulCount) }
    }
}

cryptoki_fn! {
    fn C_GetSlotInfo(slotID: CK_SLOT_ID, pInfo: CK_SLOT_INFO_PTR) {
        let library = library()?;
        let token = library.token(slotID)?;
        // SAFETY: pInfo is NULL or points to a writable CK_SLOT_INFO.
        let info = unsafe { out(pInfo)? };
        *info = CK_SLOT_INFO {
            slotDescription: padded(&format!("qkms KMIP identity {}", token.label)),
            manufacturerID: padded(MANUFACTURER),
            flags: CKF_TOKEN_PRESENT,
            hardwareVersion: LIBRARY_VERSION,
            firmwareVersion: LIBRARY_VERSION,
        };
        Ok(())
    }
}

cryptoki_fn! {
    fn C_GetTokenInfo(slotID: CK_SLOT_ID, pInfo: CK_TOKEN_INFO_PTR) {
        let library = library()?;
        let token = library.token(slotID)?;
        let (sessions, rw_sessions) = library.session_count(slotID as usize);
        let mut flags = CKF_RNG | CKF_TOKEN_INITIALIZED;
        if token.has_pin() {
            flags |= CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | token.pin_flags();
        }
        // SAFETY: pInfo is NULL or points to a writable CK_TOKEN_INFO.
        let info = unsafe { out(pInfo)? };
        *info = CK_TOKEN_INFO {
            label: padded(&token.label),
            manufacturerID: padded(MANUFACTURER),
            model: padded("KMIP 2.1"),
            serialNumber: padded(&format!("{slotID:016}")),
            flags,
            ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
            ulSessionCount: sessions,
            ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
            ulRwSessionCount: rw_sessions,
            ulMaxPinLen: 1024,
            ulMinPinLen: 1,
            ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
            hardwareVersion: LIBRARY_VERSION,
            firmwareVersion: LIBRARY_VERSION,
            utcTime: [b' '; 16],
        };
        Ok(())
    }
}

cryptoki_fn! {
    fn C_GetMechanismList(slotID: CK_SLOT_ID, pMechanismList: CK_MECHANISM_TYPE_PTR, pulCount: CK_ULONG_PTR) {
        library()?.token(slotID)?;
        let list: Vec<CK_MECHANISM_TYPE> = mechanisms::MECHANISMS.iter().map(|m| m.0).collect();
        // SAFETY: pulCount is NULL or valid; pMechanismList is NULL or holds *pulCount entries.
        unsafe { write_list(&list, pMechanismList, pulCount) }
    }
}

cryptoki_fn! {
    fn C_GetMechanismInfo(slotID: CK_SLOT_ID, type_: CK_MECHANISM_TYPE, pInfo: CK_MECHANISM_INFO_PTR) {
        library()?.token(slotID)?;
        let found = mechanisms::info(type_)
            .ok_or(Pkcs11Error::rv(CKR_MECHANISM_INVALID, "mechanism not supported"))?;
        // SAFETY: pInfo is NULL or points to a writable CK_MECHANISM_INFO.
        *unsafe { out(pInfo)? } = found;
        Ok(())
    }
}
