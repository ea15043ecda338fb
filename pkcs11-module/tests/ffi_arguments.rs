//! The C ABI's argument checks, called in-process through the exported functions (no server needed):
//! NULL and reserved pointers, the size-query protocol, interfaces, and the missing-configuration error.
#![allow(unsafe_code)]

use std::ptr::null_mut;

use cryptoki_sys::*;
use qkms_pkcs11::{C_GetFunctionList, C_GetInterface, C_GetInterfaceList};

#[test]
fn arguments_are_checked_before_anything_happens() {
    let mut list: *mut CK_FUNCTION_LIST = null_mut();
    // SAFETY: a valid pointer to a local.
    assert_eq!(unsafe { C_GetFunctionList(&mut list) }, CKR_OK);
    // SAFETY: C_GetFunctionList returned a pointer to a static list.
    let f = unsafe { &*list };
    assert_eq!((f.version.major, f.version.minor), (2, 40));
    // SAFETY: NULL is checked by the callee.
    assert_eq!(unsafe { C_GetFunctionList(null_mut()) }, CKR_ARGUMENTS_BAD);

    let initialize = f.C_Initialize.unwrap();
    let get_info = f.C_GetInfo.unwrap();
    let mut info = std::mem::MaybeUninit::<CK_INFO>::uninit();
    // SAFETY: a valid out pointer.
    assert_eq!(
        unsafe { get_info(info.as_mut_ptr()) },
        CKR_CRYPTOKI_NOT_INITIALIZED
    );

    let mut reserved = 0u8;
    let mut args = CK_C_INITIALIZE_ARGS {
        CreateMutex: None,
        DestroyMutex: None,
        LockMutex: None,
        UnlockMutex: None,
        flags: CKF_OS_LOCKING_OK,
        pReserved: &mut reserved as *mut u8 as *mut _,
    };
    // SAFETY: a valid CK_C_INITIALIZE_ARGS.
    assert_eq!(
        unsafe { initialize(&mut args as *mut _ as *mut _) },
        CKR_ARGUMENTS_BAD
    );

    // No configuration: C_Initialize fails with a reason on stderr, and the library stays uninitialised.
    std::env::remove_var("QKMS_PKCS11_CONFIG");
    // SAFETY: NULL init args are allowed.
    assert_eq!(unsafe { initialize(null_mut()) }, CKR_GENERAL_ERROR);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pkcs11.toml");
    std::fs::write(&config, "server = \"127.0.0.1:1\"\nca = \"missing.pem\"\n").unwrap();
    std::env::set_var("QKMS_PKCS11_CONFIG", &config);
    // SAFETY: NULL init args are allowed.
    assert_eq!(unsafe { initialize(null_mut()) }, CKR_GENERAL_ERROR);
    // SAFETY: a valid out pointer.
    assert_eq!(
        unsafe { get_info(info.as_mut_ptr()) },
        CKR_CRYPTOKI_NOT_INITIALIZED
    );
    // SAFETY: NULL reserved pointer.
    assert_eq!(
        unsafe { f.C_Finalize.unwrap()(null_mut()) },
        CKR_CRYPTOKI_NOT_INITIALIZED
    );
}

#[test]
fn interfaces_are_pkcs11_3_0_and_2_40_and_fork_safe() {
    let mut count: CK_ULONG = 0;
    // SAFETY: NULL list asks the count.
    assert_eq!(
        unsafe { C_GetInterfaceList(null_mut(), &mut count) },
        CKR_OK
    );
    assert_eq!(count, 2);
    let mut short: CK_ULONG = 1;
    let mut one = std::mem::MaybeUninit::<CK_INTERFACE>::uninit();
    // SAFETY: room for `short` entries.
    assert_eq!(
        unsafe { C_GetInterfaceList(one.as_mut_ptr(), &mut short) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(short, 2);

    let mut interface: *mut CK_INTERFACE = null_mut();
    let name = c"PKCS 11";
    // SAFETY: valid name and out pointer.
    let rv = unsafe {
        C_GetInterface(
            name.as_ptr() as *mut _,
            null_mut(),
            &mut interface,
            CKF_INTERFACE_FORK_SAFE,
        )
    };
    assert_eq!(rv, CKR_OK);
    // SAFETY: the callee returned a pointer to its static interface.
    let found = unsafe { &*interface };
    assert_eq!(found.flags, CKF_INTERFACE_FORK_SAFE);
    // SAFETY: the interface's function list starts with its version.
    let version = unsafe { *(found.pFunctionList as *const CK_VERSION) };
    assert_eq!((version.major, version.minor), (3, 0));

    let mut v240 = CK_VERSION {
        major: 2,
        minor: 40,
    };
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { C_GetInterface(null_mut(), &mut v240, &mut interface, 0) },
        CKR_OK
    );
    // SAFETY: as above.
    let version = unsafe { *((*interface).pFunctionList as *const CK_VERSION) };
    assert_eq!((version.major, version.minor), (2, 40));

    let other = c"Vendor X";
    // SAFETY: valid pointers.
    let rv = unsafe { C_GetInterface(other.as_ptr() as *mut _, null_mut(), &mut interface, 0) };
    assert_eq!(rv, CKR_ARGUMENTS_BAD);
}
