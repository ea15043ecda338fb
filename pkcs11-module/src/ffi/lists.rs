//! The function lists (v2.40 and v3.0) and the "PKCS 11" interfaces.

use cryptoki_sys::*;

use super::cipher::*;
use super::crypto::*;
use super::cryptoki_fn;
use super::digest::*;
use super::general::*;
use super::objects::*;
use super::ptr::{out, write_list};
use super::sessions::*;
use super::unsupported::*;
use super::wrap::*;
use crate::error::{fail, Pkcs11Error};

/// The v2.40 function list (what C_GetFunctionList returns).
static FUNCTION_LIST: CK_FUNCTION_LIST = CK_FUNCTION_LIST {
    version: CK_VERSION {
        major: 2,
        minor: 40,
    },
    C_Initialize: Some(C_Initialize),
    C_Finalize: Some(C_Finalize),
    C_GetInfo: Some(C_GetInfo),
    C_GetFunctionList: Some(C_GetFunctionList),
    C_GetSlotList: Some(C_GetSlotList),
    C_GetSlotInfo: Some(C_GetSlotInfo),
    C_GetTokenInfo: Some(C_GetTokenInfo),
    C_GetMechanismList: Some(C_GetMechanismList),
    C_GetMechanismInfo: Some(C_GetMechanismInfo),
    C_InitToken: Some(C_InitToken),
    C_InitPIN: Some(C_InitPIN),
    C_SetPIN: Some(C_SetPIN),
    C_OpenSession: Some(C_OpenSession),
    C_CloseSession: Some(C_CloseSession),
    C_CloseAllSessions: Some(C_CloseAllSessions),
    C_GetSessionInfo: Some(C_GetSessionInfo),
    C_GetOperationState: Some(C_GetOperationState),
    C_SetOperationState: Some(C_SetOperationState),
    C_Login: Some(C_Login),
    C_Logout: Some(C_Logout),
    C_CreateObject: Some(C_CreateObject),
    C_CopyObject: Some(C_CopyObject),
    C_DestroyObject: Some(C_DestroyObject),
    C_GetObjectSize: Some(C_GetObjectSize),
    C_GetAttributeValue: Some(C_GetAttributeValue),
    C_SetAttributeValue: Some(C_SetAttributeValue),
    C_FindObjectsInit: Some(C_FindObjectsInit),
    C_FindObjects: Some(C_FindObjects),
    C_FindObjectsFinal: Some(C_FindObjectsFinal),
    C_EncryptInit: Some(C_EncryptInit),
    C_Encrypt: Some(C_Encrypt),
    C_EncryptUpdate: Some(C_EncryptUpdate),
    C_EncryptFinal: Some(C_EncryptFinal),
    C_DecryptInit: Some(C_DecryptInit),
    C_Decrypt: Some(C_Decrypt),
    C_DecryptUpdate: Some(C_DecryptUpdate),
    C_DecryptFinal: Some(C_DecryptFinal),
    C_DigestInit: Some(C_DigestInit),
    C_Digest: Some(C_Digest),
    C_DigestUpdate: Some(C_DigestUpdate),
    C_DigestKey: Some(C_DigestKey),
    C_DigestFinal: Some(C_DigestFinal),
    C_SignInit: Some(C_SignInit),
    C_Sign: Some(C_Sign),
    C_SignUpdate: Some(C_SignUpdate),
    C_SignFinal: Some(C_SignFinal),
    C_SignRecoverInit: Some(C_SignRecoverInit),
    C_SignRecover: Some(C_SignRecover),
    C_VerifyInit: Some(C_VerifyInit),
    C_Verify: Some(C_Verify),
    C_VerifyUpdate: Some(C_VerifyUpdate),
    C_VerifyFinal: Some(C_VerifyFinal),
    C_VerifyRecoverInit: Some(C_VerifyRecoverInit),
    C_VerifyRecover: Some(C_VerifyRecover),
    C_DigestEncryptUpdate: Some(C_DigestEncryptUpdate),
    C_DecryptDigestUpdate: Some(C_DecryptDigestUpdate),
    C_SignEncryptUpdate: Some(C_SignEncryptUpdate),
    C_DecryptVerifyUpdate: Some(C_DecryptVerifyUpdate),
    C_GenerateKey: Some(C_GenerateKey),
    C_GenerateKeyPair: Some(C_GenerateKeyPair),
    C_WrapKey: Some(C_WrapKey),
    C_UnwrapKey: Some(C_UnwrapKey),
    C_DeriveKey: Some(C_DeriveKey),
    C_SeedRandom: Some(C_SeedRandom),
    C_GenerateRandom: Some(C_GenerateRandom),
    C_GetFunctionStatus: Some(C_GetFunctionStatus),
    C_CancelFunction: Some(C_CancelFunction),
    C_WaitForSlotEvent: Some(C_WaitForSlotEvent),
};

/// The v3.0 function list.
static FUNCTION_LIST_3_0: CK_FUNCTION_LIST_3_0 = CK_FUNCTION_LIST_3_0 {
    version: CK_VERSION { major: 3, minor: 0 },
    C_Initialize: Some(C_Initialize),
    C_Finalize: Some(C_Finalize),
    C_GetInfo: Some(C_GetInfo),
    C_GetFunctionList: Some(C_GetFunctionList),
    C_GetSlotList: Some(C_GetSlotList),
    C_GetSlotInfo: Some(C_GetSlotInfo),
    C_GetTokenInfo: Some(C_GetTokenInfo),
    C_GetMechanismList: Some(C_GetMechanismList),
    C_GetMechanismInfo: Some(C_GetMechanismInfo),
    C_InitToken: Some(C_InitToken),
    C_InitPIN: Some(C_InitPIN),
    C_SetPIN: Some(C_SetPIN),
    C_OpenSession: Some(C_OpenSession),
    C_CloseSession: Some(C_CloseSession),
    C_CloseAllSessions: Some(C_CloseAllSessions),
    C_GetSessionInfo: Some(C_GetSessionInfo),
    C_GetOperationState: Some(C_GetOperationState),
    C_SetOperationState: Some(C_SetOperationState),
    C_Login: Some(C_Login),
    C_Logout: Some(C_Logout),
    C_CreateObject: Some(C_CreateObject),
    C_CopyObject: Some(C_CopyObject),
    C_DestroyObject: Some(C_DestroyObject),
    C_GetObjectSize: Some(C_GetObjectSize),
    C_GetAttributeValue: Some(C_GetAttributeValue),
    C_SetAttributeValue: Some(C_SetAttributeValue),
    C_FindObjectsInit: Some(C_FindObjectsInit),
    C_FindObjects: Some(C_FindObjects),
    C_FindObjectsFinal: Some(C_FindObjectsFinal),
    C_EncryptInit: Some(C_EncryptInit),
    C_Encrypt: Some(C_Encrypt),
    C_EncryptUpdate: Some(C_EncryptUpdate),
    C_EncryptFinal: Some(C_EncryptFinal),
    C_DecryptInit: Some(C_DecryptInit),
    C_Decrypt: Some(C_Decrypt),
    C_DecryptUpdate: Some(C_DecryptUpdate),
    C_DecryptFinal: Some(C_DecryptFinal),
    C_DigestInit: Some(C_DigestInit),
    C_Digest: Some(C_Digest),
    C_DigestUpdate: Some(C_DigestUpdate),
    C_DigestKey: Some(C_DigestKey),
    C_DigestFinal: Some(C_DigestFinal),
    C_SignInit: Some(C_SignInit),
    C_Sign: Some(C_Sign),
    C_SignUpdate: Some(C_SignUpdate),
    C_SignFinal: Some(C_SignFinal),
    C_SignRecoverInit: Some(C_SignRecoverInit),
    C_SignRecover: Some(C_SignRecover),
    C_VerifyInit: Some(C_VerifyInit),
    C_Verify: Some(C_Verify),
    C_VerifyUpdate: Some(C_VerifyUpdate),
    C_VerifyFinal: Some(C_VerifyFinal),
    C_VerifyRecoverInit: Some(C_VerifyRecoverInit),
    C_VerifyRecover: Some(C_VerifyRecover),
    C_DigestEncryptUpdate: Some(C_DigestEncryptUpdate),
    C_DecryptDigestUpdate: Some(C_DecryptDigestUpdate),
    C_SignEncryptUpdate: Some(C_SignEncryptUpdate),
    C_DecryptVerifyUpdate: Some(C_DecryptVerifyUpdate),
    C_GenerateKey: Some(C_GenerateKey),
    C_GenerateKeyPair: Some(C_GenerateKeyPair),
    C_WrapKey: Some(C_WrapKey),
    C_UnwrapKey: Some(C_UnwrapKey),
    C_DeriveKey: Some(C_DeriveKey),
    C_SeedRandom: Some(C_SeedRandom),
    C_GenerateRandom: Some(C_GenerateRandom),
    C_GetFunctionStatus: Some(C_GetFunctionStatus),
    C_CancelFunction: Some(C_CancelFunction),
    C_WaitForSlotEvent: Some(C_WaitForSlotEvent),
    C_GetInterfaceList: Some(C_GetInterfaceList),
    C_GetInterface: Some(C_GetInterface),
    C_LoginUser: Some(C_LoginUser),
    C_SessionCancel: Some(C_SessionCancel),
    C_MessageEncryptInit: Some(C_MessageEncryptInit),
    C_EncryptMessage: Some(C_EncryptMessage),
    C_EncryptMessageBegin: Some(C_EncryptMessageBegin),
    C_EncryptMessageNext: Some(C_EncryptMessageNext),
    C_MessageEncryptFinal: Some(C_MessageEncryptFinal),
    C_MessageDecryptInit: Some(C_MessageDecryptInit),
    C_DecryptMessage: Some(C_DecryptMessage),
    C_DecryptMessageBegin: Some(C_DecryptMessageBegin),
    C_DecryptMessageNext: Some(C_DecryptMessageNext),
    C_MessageDecryptFinal: Some(C_MessageDecryptFinal),
    C_MessageSignInit: Some(C_MessageSignInit),
    C_SignMessage: Some(C_SignMessage),
    C_SignMessageBegin: Some(C_SignMessageBegin),
    C_SignMessageNext: Some(C_SignMessageNext),
    C_MessageSignFinal: Some(C_MessageSignFinal),
    C_MessageVerifyInit: Some(C_MessageVerifyInit),
    C_VerifyMessage: Some(C_VerifyMessage),
    C_VerifyMessageBegin: Some(C_VerifyMessageBegin),
    C_VerifyMessageNext: Some(C_VerifyMessageNext),
    C_MessageVerifyFinal: Some(C_MessageVerifyFinal),
};

static INTERFACE_NAME: &[u8] = b"PKCS 11\0";

/// What each interface is: its function list, version and flags. Lookups read this table only.
struct InterfaceSpec {
    function_list: *const std::ffi::c_void,
    version: CK_VERSION,
    flags: CK_FLAGS,
}

// SAFETY: the pointers refer to immutable statics (the function lists); nothing writes through them.
unsafe impl Sync for InterfaceSpec {}

/// Both interfaces are fork tolerant: a forked child carries on with its parent's sessions and handles (see
/// [`crate::library`]).
static SPECS: [InterfaceSpec; 2] = [
    InterfaceSpec {
        function_list: &FUNCTION_LIST_3_0 as *const CK_FUNCTION_LIST_3_0 as *const std::ffi::c_void,
        version: FUNCTION_LIST_3_0.version,
        flags: CKF_INTERFACE_FORK_SAFE,
    },
    InterfaceSpec {
        function_list: &FUNCTION_LIST as *const CK_FUNCTION_LIST as *const std::ffi::c_void,
        version: FUNCTION_LIST.version,
        flags: CKF_INTERFACE_FORK_SAFE,
    },
];

const fn interface(spec: &InterfaceSpec) -> CK_INTERFACE {
    CK_INTERFACE {
        pInterfaceName: INTERFACE_NAME.as_ptr() as *mut CK_UTF8CHAR,
        pFunctionList: spec.function_list as *mut std::ffi::c_void,
        flags: spec.flags,
    }
}

/// The CK_INTERFACE structures C_GetInterface hands out, in writable memory: callers may write to them.
/// OpenSC's pkcs11-spy, for one, replaces `pFunctionList` with its own list in the structure it receives
/// (as the reference modules keep theirs in writable statics); in read-only memory that write crashed the caller.
/// The module itself never reads or writes these after start-up: lookups use [`SPECS`].
struct HandedOut(std::cell::UnsafeCell<[CK_INTERFACE; 2]>);

// SAFETY: Rust code only takes raw pointers into the cell (never references) and never reads or writes through
// them; what a caller does with the structure it was given is that caller's business, as with any C module.
unsafe impl Sync for HandedOut {}

static HANDED_OUT: HandedOut = HandedOut(std::cell::UnsafeCell::new([
    interface(&SPECS[0]),
    interface(&SPECS[1]),
]));

cryptoki_fn! {
    fn C_GetFunctionList(ppFunctionList: CK_FUNCTION_LIST_PTR_PTR) {
        // SAFETY: ppFunctionList is NULL or points to a writable pointer.
        let slot = unsafe { out(ppFunctionList)? };
        *slot = &FUNCTION_LIST as *const CK_FUNCTION_LIST as *mut CK_FUNCTION_LIST;
        Ok(())
    }
}

cryptoki_fn! {
    fn C_GetInterfaceList(pInterfacesList: CK_INTERFACE_PTR, pulCount: CK_ULONG_PTR) {
        let interfaces = [interface(&SPECS[0]), interface(&SPECS[1])];
        // SAFETY: pulCount is NULL or valid; pInterfacesList is NULL or holds *pulCount entries.
        unsafe { write_list(&interfaces, pInterfacesList, pulCount) }
    }
}

cryptoki_fn! {
    /// "PKCS 11" (or NULL) in version 3.0 or 2.40 (NULL: 3.0), with at most the fork-safe flag asked for.
    fn C_GetInterface(pInterfaceName: CK_UTF8CHAR_PTR, pVersion: CK_VERSION_PTR, ppInterface: CK_INTERFACE_PTR_PTR, flags: CK_FLAGS) {
        // SAFETY: ppInterface is NULL or points to a writable pointer.
        let slot = unsafe { out(ppInterface)? };
        if !pInterfaceName.is_null() {
            // SAFETY: a non-NULL pInterfaceName is a NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(pInterfaceName as *const std::ffi::c_char) };
            if name.to_bytes() != b"PKCS 11" {
                return fail(CKR_ARGUMENTS_BAD, "unknown interface name");
            }
        }
        // SAFETY: pVersion is NULL or points to a CK_VERSION.
        let version = unsafe { pVersion.as_ref() }.copied();
        let index = SPECS
            .iter()
            .position(|spec| {
                version.is_none_or(|want| want.major == spec.version.major && want.minor == spec.version.minor)
                    && flags & !spec.flags == 0
            })
            .ok_or(Pkcs11Error::rv(CKR_ARGUMENTS_BAD, "no interface with this version and flags"))?;
        // `index` < 2 (a position in SPECS, which has HANDED_OUT's length); `add` stays inside the array.
        // SAFETY: in bounds of the two-element array behind the cell.
        *slot = unsafe { (HANDED_OUT.0.get() as *mut CK_INTERFACE).add(index) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_may_write_to_the_interface_it_was_given() {
        let mut interface: CK_INTERFACE_PTR = std::ptr::null_mut();
        // SAFETY: a valid out-pointer; NULL name and version ask for the default interface.
        let rv = unsafe {
            C_GetInterface(
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut interface,
                0,
            )
        };
        assert_eq!(rv, CKR_OK);
        // pkcs11-spy writes its own function list into the structure; in read-only memory that write faulted.
        // The same value is written back, so that other tests of this process see nothing change.
        // SAFETY: the module hands out a pointer into writable memory it never reads.
        unsafe {
            let field = std::ptr::addr_of_mut!((*interface).pFunctionList);
            std::ptr::write_volatile(field, std::ptr::read_volatile(field));
        }
        // SAFETY: as above; reading the structure the module handed out.
        let version = unsafe { *((*interface).pFunctionList as *const CK_VERSION) };
        assert_eq!((version.major, version.minor), (3, 0));
        let mut v2: CK_INTERFACE_PTR = std::ptr::null_mut();
        let mut wanted = CK_VERSION {
            major: 2,
            minor: 40,
        };
        // SAFETY: valid pointers to locals.
        let rv = unsafe { C_GetInterface(std::ptr::null_mut(), &mut wanted, &mut v2, 0) };
        assert_eq!(rv, CKR_OK);
        // SAFETY: as above.
        let list = unsafe { (*v2).pFunctionList };
        assert!(std::ptr::eq(
            list as *const CK_FUNCTION_LIST,
            &FUNCTION_LIST
        ));
    }
}
