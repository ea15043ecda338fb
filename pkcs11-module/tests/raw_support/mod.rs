//! Raw C calls into the module (linked as an rlib), for the tests that must reach what the `cryptoki` crate
//! never sends: NULL pointers with lengths, short buffers, one-shot calls after Update, SHA-3 mechanisms. Each
//! test starts its own server and library; a lock runs them one at a time, since the library's state is one
//! per process.
#![allow(unsafe_code, dead_code)]

use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::{Mutex, MutexGuard};

use cryptoki_sys::*;
use qkms_pkcs11::C_GetFunctionList;

use crate::common::TestServer;

pub const TRUE: CK_BBOOL = CK_TRUE as CK_BBOOL;
pub const FALSE: CK_BBOOL = CK_FALSE as CK_BBOOL;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The module's v2.40 function list.
pub fn functions() -> &'static CK_FUNCTION_LIST {
    let mut list: *mut CK_FUNCTION_LIST = null_mut();
    // SAFETY: a valid out pointer; the list is static.
    assert_eq!(unsafe { C_GetFunctionList(&mut list) }, CKR_OK);
    // SAFETY: C_GetFunctionList returned a pointer to a static list.
    unsafe { &*list }
}

/// One attribute pointing at `value` (which must outlive the call it is passed to).
pub fn attribute<T>(kind: CK_ATTRIBUTE_TYPE, value: &T) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: kind,
        pValue: value as *const T as *mut c_void,
        ulValueLen: std::mem::size_of::<T>() as CK_ULONG,
    }
}

pub fn bytes_attribute(kind: CK_ATTRIBUTE_TYPE, value: &[u8]) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: kind,
        pValue: value.as_ptr() as *mut c_void,
        ulValueLen: value.len() as CK_ULONG,
    }
}

pub fn plain(kind: CK_MECHANISM_TYPE) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: kind,
        pParameter: null_mut(),
        ulParameterLen: 0,
    }
}

/// A running server, the initialised library and one logged-in read/write session on the default token.
pub struct Token {
    pub f: &'static CK_FUNCTION_LIST,
    pub session: CK_SESSION_HANDLE,
    pub server: TestServer,
    _turn: MutexGuard<'static, ()>,
}

impl Token {
    pub fn open() -> Self {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let server = TestServer::start();
        std::env::set_var("QKMS_PKCS11_CONFIG", server.config_path());
        let f = functions();
        // SAFETY: NULL init args are allowed.
        assert_eq!(unsafe { f.C_Initialize.unwrap()(null_mut()) }, CKR_OK);
        let mut session: CK_SESSION_HANDLE = 0;
        let flags = CKF_SERIAL_SESSION | CKF_RW_SESSION;
        // SAFETY: a valid out pointer.
        let rv = unsafe { f.C_OpenSession.unwrap()(0, flags, null_mut(), None, &mut session) };
        assert_eq!(rv, CKR_OK);
        let mut pin = server.pin().into_bytes();
        // SAFETY: pin holds its length in bytes.
        let rv = unsafe {
            f.C_Login.unwrap()(session, CKU_USER, pin.as_mut_ptr(), pin.len() as CK_ULONG)
        };
        assert_eq!(rv, CKR_OK);
        Self {
            f,
            session,
            server,
            _turn: turn,
        }
    }

    /// C_CreateObject with `template`.
    pub fn create(&self, template: &mut [CK_ATTRIBUTE]) -> Result<CK_OBJECT_HANDLE, CK_RV> {
        let mut handle: CK_OBJECT_HANDLE = 0;
        // SAFETY: the template's values outlive the call; a valid out pointer.
        let rv = unsafe {
            self.f.C_CreateObject.unwrap()(
                self.session,
                template.as_mut_ptr(),
                template.len() as CK_ULONG,
                &mut handle,
            )
        };
        if rv == CKR_OK {
            Ok(handle)
        } else {
            Err(rv)
        }
    }

    /// An AES key with this value: extractable, and sensitive as `sensitive` says.
    pub fn aes_key(&self, value: &[u8], sensitive: bool) -> CK_OBJECT_HANDLE {
        let class = CKO_SECRET_KEY;
        let key_type = CKK_AES;
        let sensitive = if sensitive { TRUE } else { FALSE };
        let mut template = [
            attribute(CKA_CLASS, &class),
            attribute(CKA_KEY_TYPE, &key_type),
            bytes_attribute(CKA_VALUE, value),
            attribute(CKA_SENSITIVE, &sensitive),
            attribute(CKA_EXTRACTABLE, &TRUE),
            attribute(CKA_ENCRYPT, &TRUE),
            attribute(CKA_DECRYPT, &TRUE),
        ];
        self.create(&mut template).expect("C_CreateObject (AES)")
    }

    /// A P-256 or RSA key pair: (public, private).
    pub fn key_pair(&self, rsa: bool) -> (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) {
        const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let bits: CK_ULONG = 2048;
        let mut public = vec![attribute(CKA_VERIFY, &TRUE), attribute(CKA_ENCRYPT, &TRUE)];
        if rsa {
            public.push(attribute(CKA_MODULUS_BITS, &bits));
        } else {
            public.push(bytes_attribute(CKA_EC_PARAMS, &P256));
        }
        let mut private = [attribute(CKA_SIGN, &TRUE), attribute(CKA_DECRYPT, &TRUE)];
        let mut mechanism = plain(if rsa {
            CKM_RSA_PKCS_KEY_PAIR_GEN
        } else {
            CKM_EC_KEY_PAIR_GEN
        });
        let (mut public_key, mut private_key) = (0, 0);
        // SAFETY: the templates' values outlive the call; valid out pointers.
        let rv = unsafe {
            self.f.C_GenerateKeyPair.unwrap()(
                self.session,
                &mut mechanism,
                public.as_mut_ptr(),
                public.len() as CK_ULONG,
                private.as_mut_ptr(),
                private.len() as CK_ULONG,
                &mut public_key,
                &mut private_key,
            )
        };
        assert_eq!(rv, CKR_OK, "C_GenerateKeyPair");
        (public_key, private_key)
    }

    /// One attribute's value (C_GetAttributeValue twice: length, then value), or the CK_RV.
    pub fn get(&self, object: CK_OBJECT_HANDLE, kind: CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>, CK_RV> {
        let mut probe = [CK_ATTRIBUTE {
            type_: kind,
            pValue: null_mut(),
            ulValueLen: 0,
        }];
        // SAFETY: one attribute with a NULL value: only the length is written.
        let rv = unsafe {
            self.f.C_GetAttributeValue.unwrap()(self.session, object, probe.as_mut_ptr(), 1)
        };
        if rv != CKR_OK {
            return Err(rv);
        }
        let mut value = vec![0u8; probe[0].ulValueLen as usize];
        let mut read = [bytes_attribute(kind, &value)];
        read[0].pValue = value.as_mut_ptr() as *mut c_void;
        // SAFETY: the value buffer has ulValueLen writable bytes.
        let rv = unsafe {
            self.f.C_GetAttributeValue.unwrap()(self.session, object, read.as_mut_ptr(), 1)
        };
        if rv != CKR_OK {
            return Err(rv);
        }
        value.truncate(read[0].ulValueLen as usize);
        Ok(value)
    }

    /// The handles C_FindObjects gives for `template`.
    pub fn find(&self, template: &mut [CK_ATTRIBUTE]) -> Vec<CK_OBJECT_HANDLE> {
        // SAFETY: the template's values outlive the call.
        let rv = unsafe {
            self.f.C_FindObjectsInit.unwrap()(
                self.session,
                template.as_mut_ptr(),
                template.len() as CK_ULONG,
            )
        };
        assert_eq!(rv, CKR_OK);
        let mut found = [0 as CK_OBJECT_HANDLE; 64];
        let mut count: CK_ULONG = 0;
        // SAFETY: room for 64 handles.
        let rv = unsafe {
            self.f.C_FindObjects.unwrap()(self.session, found.as_mut_ptr(), 64, &mut count)
        };
        assert_eq!(rv, CKR_OK);
        // SAFETY: a search is active.
        assert_eq!(
            unsafe { self.f.C_FindObjectsFinal.unwrap()(self.session) },
            CKR_OK
        );
        found[..count as usize].to_vec()
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        // SAFETY: the library was initialised by `open`; NULL is the required argument.
        unsafe { self.f.C_Finalize.unwrap()(null_mut()) };
    }
}

/// Python's hashlib `name` digest of `data`.
pub fn hashlib(name: &str, data: &[u8]) -> Vec<u8> {
    crate::common::python(&format!(
        "import hashlib\nprint(hashlib.new('{name}', h('{}')).hexdigest())",
        crate::common::hex(data)
    ))
}
