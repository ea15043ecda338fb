//! Functions this module does not offer: each answers CKR_FUNCTION_NOT_SUPPORTED (CKR_FUNCTION_NOT_PARALLEL for
//! the legacy parallel-function calls; CKR_CRYPTOKI_NOT_INITIALIZED before C_Initialize), as the standard says.

use cryptoki_sys::*;

use super::cryptoki_fn;
use crate::error::fail;
use crate::library::library;

macro_rules! not_supported {
    ($( $name:ident($($arg:ident: $ty:ty),*); )+) => {
        $(
            cryptoki_fn! {
                #[allow(unused_variables)]
                fn $name($($arg: $ty),*) {
                    library()?;
                    fail(CKR_FUNCTION_NOT_SUPPORTED, stringify!($name))
                }
            }
        )+
    };
}

not_supported! {
    C_InitToken(arg1: CK_SLOT_ID, arg2: *mut CK_UTF8CHAR, arg3: CK_ULONG, arg4: *mut CK_UTF8CHAR);
    C_InitPIN(arg1: CK_SESSION_HANDLE, arg2: *mut CK_UTF8CHAR, arg3: CK_ULONG);
    C_SetPIN(arg1: CK_SESSION_HANDLE, arg2: *mut CK_UTF8CHAR, arg3: CK_ULONG, arg4: *mut CK_UTF8CHAR, arg5: CK_ULONG);
    C_GetOperationState(arg1: CK_SESSION_HANDLE, arg2: *mut CK_BYTE, arg3: *mut CK_ULONG);
    C_SetOperationState(arg1: CK_SESSION_HANDLE, arg2: *mut CK_BYTE, arg3: CK_ULONG, arg4: CK_OBJECT_HANDLE, arg5: CK_OBJECT_HANDLE);
    C_GetObjectSize(arg1: CK_SESSION_HANDLE, arg2: CK_OBJECT_HANDLE, arg3: *mut CK_ULONG);
    C_SignRecoverInit(arg1: CK_SESSION_HANDLE, arg2: *mut CK_MECHANISM, arg3: CK_OBJECT_HANDLE);
    C_SignRecover(arg1: CK_SESSION_HANDLE, arg2: *mut CK_BYTE, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: *mut CK_ULONG);
    C_VerifyRecoverInit(arg1: CK_SESSION_HANDLE, arg2: *mut CK_MECHANISM, arg3: CK_OBJECT_HANDLE);
    C_VerifyRecover(arg1: CK_SESSION_HANDLE, arg2: *mut CK_BYTE, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: *mut CK_ULONG);
    C_DigestEncryptUpdate(arg1: CK_SESSION_HANDLE, arg2: *mut CK_BYTE, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: *mut CK_ULONG);
    C_DecryptDigestUpdate(arg1: CK_SESSION_HANDLE, arg2: *mut CK_BYTE, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: *mut CK_ULONG);
    C_SignEncryptUpdate(arg1: CK_SESSION_HANDLE, arg2: *mut CK_BYTE, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: *mut CK_ULONG);
    C_DecryptVerifyUpdate(arg1: CK_SESSION_HANDLE, arg2: *mut CK_BYTE, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: *mut CK_ULONG);
    C_DeriveKey(arg1: CK_SESSION_HANDLE, arg2: *mut CK_MECHANISM, arg3: CK_OBJECT_HANDLE, arg4: *mut CK_ATTRIBUTE, arg5: CK_ULONG, arg6: *mut CK_OBJECT_HANDLE);
    C_WaitForSlotEvent(arg1: CK_FLAGS, arg2: *mut CK_SLOT_ID, arg3: *mut ::std::os::raw::c_void);
    C_LoginUser(arg1: CK_SESSION_HANDLE, arg2: CK_USER_TYPE, arg3: *mut CK_UTF8CHAR, arg4: CK_ULONG, arg5: *mut CK_UTF8CHAR, arg6: CK_ULONG);
    C_MessageEncryptInit(arg1: CK_SESSION_HANDLE, arg2: *mut CK_MECHANISM, arg3: CK_OBJECT_HANDLE);
    C_EncryptMessage(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG, arg6: *mut CK_BYTE, arg7: CK_ULONG, arg8: *mut CK_BYTE, arg9: *mut CK_ULONG);
    C_EncryptMessageBegin(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG);
    C_EncryptMessageNext(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG, arg6: *mut CK_BYTE, arg7: *mut CK_ULONG, arg8: CK_FLAGS);
    C_MessageDecryptInit(arg1: CK_SESSION_HANDLE, arg2: *mut CK_MECHANISM, arg3: CK_OBJECT_HANDLE);
    C_DecryptMessage(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG, arg6: *mut CK_BYTE, arg7: CK_ULONG, arg8: *mut CK_BYTE, arg9: *mut CK_ULONG);
    C_DecryptMessageBegin(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG);
    C_DecryptMessageNext(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG, arg6: *mut CK_BYTE, arg7: *mut CK_ULONG, arg8: CK_FLAGS);
    C_MessageSignInit(arg1: CK_SESSION_HANDLE, arg2: *mut CK_MECHANISM, arg3: CK_OBJECT_HANDLE);
    C_SignMessage(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG, arg6: *mut CK_BYTE, arg7: *mut CK_ULONG);
    C_SignMessageBegin(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG);
    C_SignMessageNext(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG, arg6: *mut CK_BYTE, arg7: *mut CK_ULONG);
    C_MessageVerifyInit(arg1: CK_SESSION_HANDLE, arg2: *mut CK_MECHANISM, arg3: CK_OBJECT_HANDLE);
    C_VerifyMessage(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG, arg6: *mut CK_BYTE, arg7: CK_ULONG);
    C_VerifyMessageBegin(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG);
    C_VerifyMessageNext(arg1: CK_SESSION_HANDLE, arg2: *mut ::std::os::raw::c_void, arg3: CK_ULONG, arg4: *mut CK_BYTE, arg5: CK_ULONG, arg6: *mut CK_BYTE, arg7: CK_ULONG);
    C_MessageEncryptFinal(arg1: CK_SESSION_HANDLE);
    C_MessageDecryptFinal(arg1: CK_SESSION_HANDLE);
    C_MessageSignFinal(arg1: CK_SESSION_HANDLE);
    C_MessageVerifyFinal(arg1: CK_SESSION_HANDLE);
    C_SessionCancel(arg1: CK_SESSION_HANDLE, arg2: CK_FLAGS);
}

// Legacy parallel-function management (v2.40 §5.20): a library without parallel functions answers
// CKR_FUNCTION_NOT_PARALLEL, not CKR_FUNCTION_NOT_SUPPORTED.
cryptoki_fn! {
    #[allow(unused_variables)]
    fn C_GetFunctionStatus(hSession: CK_SESSION_HANDLE) {
        library()?;
        fail(CKR_FUNCTION_NOT_PARALLEL, "C_GetFunctionStatus: no function runs in parallel")
    }
}

cryptoki_fn! {
    #[allow(unused_variables)]
    fn C_CancelFunction(hSession: CK_SESSION_HANDLE) {
        library()?;
        fail(CKR_FUNCTION_NOT_PARALLEL, "C_CancelFunction: no function runs in parallel")
    }
}
