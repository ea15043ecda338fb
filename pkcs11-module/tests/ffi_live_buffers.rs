//! The output-buffer contract through raw C calls against a real server, as C callers make them (`cryptoki`
//! always sizes buffers right, so it cannot reach these paths): a NULL buffer asks the length, a short one gets
//! CKR_BUFFER_TOO_SMALL with the exact length and keeps the operation, the retry returns the same result with no
//! second server operation; NULL length and handle pointers are CKR_ARGUMENTS_BAD and end the operation.
#![allow(unsafe_code)]

mod common;

use std::ffi::c_void;
use std::ptr::null_mut;

use cryptoki_sys::*;
use qkms_pkcs11::C_GetFunctionList;

const TRUE: CK_BBOOL = CK_TRUE as CK_BBOOL;
/// DER OID of P-256 (CKA_EC_PARAMS).
const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn functions() -> &'static CK_FUNCTION_LIST {
    let mut list: *mut CK_FUNCTION_LIST = null_mut();
    // SAFETY: a valid out pointer; the list is static.
    assert_eq!(unsafe { C_GetFunctionList(&mut list) }, CKR_OK);
    // SAFETY: C_GetFunctionList returned a pointer to a static list.
    unsafe { &*list }
}

/// One attribute pointing at `value` (which must outlive the call it is passed to).
fn attribute<T>(kind: CK_ATTRIBUTE_TYPE, value: &T) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: kind,
        pValue: value as *const T as *mut c_void,
        ulValueLen: std::mem::size_of::<T>() as CK_ULONG,
    }
}

fn bytes_attribute(kind: CK_ATTRIBUTE_TYPE, value: &[u8]) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: kind,
        pValue: value.as_ptr() as *mut c_void,
        ulValueLen: value.len() as CK_ULONG,
    }
}

fn plain(kind: CK_MECHANISM_TYPE) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: kind,
        pParameter: null_mut(),
        ulParameterLen: 0,
    }
}

struct Token {
    f: &'static CK_FUNCTION_LIST,
    session: CK_SESSION_HANDLE,
}

impl Token {
    fn open(pin: &str) -> Self {
        let f = functions();
        // SAFETY: NULL init args are allowed.
        assert_eq!(unsafe { f.C_Initialize.unwrap()(null_mut()) }, CKR_OK);
        let mut slot: CK_SLOT_ID = 0;
        let mut count: CK_ULONG = 1;
        // SAFETY: room for one slot id.
        assert_eq!(
            unsafe { f.C_GetSlotList.unwrap()(TRUE, &mut slot, &mut count) },
            CKR_OK
        );
        let flags = CKF_SERIAL_SESSION | CKF_RW_SESSION;
        // SAFETY: NULL phSession is checked by the callee.
        assert_eq!(
            unsafe { f.C_OpenSession.unwrap()(slot, flags, null_mut(), None, null_mut()) },
            CKR_ARGUMENTS_BAD
        );
        let mut session: CK_SESSION_HANDLE = 0;
        // SAFETY: a valid out pointer.
        assert_eq!(
            unsafe { f.C_OpenSession.unwrap()(slot, flags, null_mut(), None, &mut session) },
            CKR_OK
        );
        let mut pin = pin.as_bytes().to_vec();
        // SAFETY: pin holds its length in bytes.
        assert_eq!(
            unsafe {
                f.C_Login.unwrap()(session, CKU_USER, pin.as_mut_ptr(), pin.len() as CK_ULONG)
            },
            CKR_OK
        );
        Self { f, session }
    }

    fn aes_key(&self, label: &str, wrap: bool) -> CK_OBJECT_HANDLE {
        let length: CK_ULONG = 32;
        let mut template = vec![
            attribute(CKA_VALUE_LEN, &length),
            attribute(CKA_TOKEN, &TRUE),
            attribute(CKA_ENCRYPT, &TRUE),
            attribute(CKA_DECRYPT, &TRUE),
            attribute(CKA_EXTRACTABLE, &TRUE),
            bytes_attribute(CKA_LABEL, label.as_bytes()),
        ];
        if wrap {
            template.push(attribute(CKA_WRAP, &TRUE));
        }
        let mut mechanism = plain(CKM_AES_KEY_GEN);
        // SAFETY: NULL phKey is checked before anything is created.
        assert_eq!(
            unsafe {
                self.f.C_GenerateKey.unwrap()(
                    self.session,
                    &mut mechanism,
                    template.as_mut_ptr(),
                    template.len() as CK_ULONG,
                    null_mut(),
                )
            },
            CKR_ARGUMENTS_BAD
        );
        let mut key: CK_OBJECT_HANDLE = 0;
        // SAFETY: the template's values outlive the call; a valid out pointer.
        let rv = unsafe {
            self.f.C_GenerateKey.unwrap()(
                self.session,
                &mut mechanism,
                template.as_mut_ptr(),
                template.len() as CK_ULONG,
                &mut key,
            )
        };
        assert_eq!(rv, CKR_OK);
        key
    }

    fn ec_pair(&self) -> (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) {
        let mut public_template = [
            bytes_attribute(CKA_EC_PARAMS, &P256),
            attribute(CKA_VERIFY, &TRUE),
            attribute(CKA_TOKEN, &TRUE),
        ];
        let mut private_template = [
            attribute(CKA_SIGN, &TRUE),
            attribute(CKA_TOKEN, &TRUE),
            attribute(CKA_SENSITIVE, &TRUE),
        ];
        let mut mechanism = plain(CKM_EC_KEY_PAIR_GEN);
        let (mut public, mut private): (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) = (0, 0);
        // SAFETY: the templates' values outlive the call; valid out pointers.
        let rv = unsafe {
            self.f.C_GenerateKeyPair.unwrap()(
                self.session,
                &mut mechanism,
                public_template.as_mut_ptr(),
                public_template.len() as CK_ULONG,
                private_template.as_mut_ptr(),
                private_template.len() as CK_ULONG,
                &mut public,
                &mut private,
            )
        };
        assert_eq!(rv, CKR_OK);
        (public, private)
    }

    /// Calls `f(output, &mut length)` the way a C caller sizes its buffer: NULL first, then one byte short,
    /// then exactly right. Returns the result; asserts the protocol on the way.
    fn sized(&self, what: &str, mut call: impl FnMut(*mut u8, *mut CK_ULONG) -> CK_RV) -> Vec<u8> {
        let mut length: CK_ULONG = 0;
        assert_eq!(
            call(null_mut(), &mut length),
            CKR_OK,
            "{what}: length query"
        );
        assert!(length > 0, "{what}: a length");
        let mut short = vec![0u8; length as usize - 1];
        let mut short_length = short.len() as CK_ULONG;
        let rv = call(short.as_mut_ptr(), &mut short_length);
        let exact = if rv == CKR_BUFFER_TOO_SMALL {
            assert!(short_length <= length, "{what}: the exact length");
            short_length
        } else {
            // The NULL query may give a bound (CBC-PAD's full extra block); a result that fits is fine.
            assert_eq!(rv, CKR_OK, "{what}: short buffer");
            short.truncate(short_length as usize);
            return short;
        };
        let mut output = vec![0u8; exact as usize];
        let mut output_length = exact;
        assert_eq!(
            call(output.as_mut_ptr(), &mut output_length),
            CKR_OK,
            "{what}: right-sized buffer"
        );
        assert_eq!(output_length, exact, "{what}");
        output
    }
}

#[test]
fn output_buffers_follow_the_size_query_protocol_and_null_pointers_are_refused() {
    let server = common::TestServer::start();
    std::env::set_var("QKMS_PKCS11_CONFIG", server.config_path());
    let token = Token::open(server.pin().trim());
    let f = token.f;
    let session = token.session;

    // --- C_Sign: every step of the protocol reports the signature's length; the result verifies.
    let (public, private) = token.ec_pair();
    let mut message = *b"qkms raw C caller";
    let mut mechanism = plain(CKM_ECDSA_SHA256);
    // SAFETY: valid mechanism; handle from this session.
    assert_eq!(
        unsafe { f.C_SignInit.unwrap()(session, &mut mechanism, private) },
        CKR_OK
    );
    let mut lengths = Vec::new();
    let signature = token.sized("C_Sign", |out, len| {
        // SAFETY: `out` is NULL or holds `*len` bytes.
        let rv = unsafe {
            f.C_Sign.unwrap()(session, message.as_mut_ptr(), message.len() as _, out, len)
        };
        // SAFETY: `len` is a live local of `sized`.
        lengths.push(unsafe { *len });
        rv
    });
    assert_eq!(signature.len(), 64);
    assert_eq!(lengths, [64, 64, 64]);
    // The successful call ended the operation.
    let mut spare = [0u8; 64];
    let mut spare_length: CK_ULONG = 64;
    // SAFETY: valid buffers.
    assert_eq!(
        unsafe {
            f.C_Sign.unwrap()(
                session,
                message.as_mut_ptr(),
                message.len() as _,
                spare.as_mut_ptr(),
                &mut spare_length,
            )
        },
        CKR_OPERATION_NOT_INITIALIZED
    );
    // SAFETY: valid mechanism and buffers.
    unsafe {
        assert_eq!(
            f.C_VerifyInit.unwrap()(session, &mut mechanism, public),
            CKR_OK
        );
        let mut signature = signature.clone();
        assert_eq!(
            f.C_Verify.unwrap()(
                session,
                message.as_mut_ptr(),
                message.len() as _,
                signature.as_mut_ptr(),
                signature.len() as _,
            ),
            CKR_OK
        );
    }
    // A NULL length pointer is refused and ends the operation.
    // SAFETY: valid mechanism; NULL pulSignatureLen is checked by the callee.
    unsafe {
        assert_eq!(
            f.C_SignInit.unwrap()(session, &mut mechanism, private),
            CKR_OK
        );
        assert_eq!(
            f.C_Sign.unwrap()(
                session,
                message.as_mut_ptr(),
                message.len() as _,
                spare.as_mut_ptr(),
                null_mut(),
            ),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            f.C_Sign.unwrap()(
                session,
                message.as_mut_ptr(),
                message.len() as _,
                spare.as_mut_ptr(),
                &mut spare_length,
            ),
            CKR_OPERATION_NOT_INITIALIZED
        );
        // NULL data with a length is refused too.
        assert_eq!(
            f.C_SignInit.unwrap()(session, &mut mechanism, private),
            CKR_OK
        );
        assert_eq!(
            f.C_Sign.unwrap()(
                session,
                null_mut(),
                8,
                spare.as_mut_ptr(),
                &mut spare_length
            ),
            CKR_ARGUMENTS_BAD
        );
    }

    // --- C_Encrypt / C_Decrypt with AES-GCM.
    let aes = token.aes_key("raw-c-aes", false);
    let mut iv = *b"raw-c-gcm-iv";
    let mut gcm_params = CK_GCM_PARAMS {
        pIv: iv.as_mut_ptr(),
        ulIvLen: 12,
        ulIvBits: 96,
        pAAD: null_mut(),
        ulAADLen: 0,
        ulTagBits: 128,
    };
    let mut gcm = CK_MECHANISM {
        mechanism: CKM_AES_GCM,
        pParameter: &mut gcm_params as *mut _ as *mut c_void,
        ulParameterLen: std::mem::size_of::<CK_GCM_PARAMS>() as CK_ULONG,
    };
    let mut plaintext = *b"sixteen byte msg and more";
    // SAFETY: valid mechanism and handle.
    assert_eq!(
        unsafe { f.C_EncryptInit.unwrap()(session, &mut gcm, aes) },
        CKR_OK
    );
    let ciphertext = token.sized("C_Encrypt", |out, len| {
        // SAFETY: `out` is NULL or holds `*len` bytes.
        unsafe {
            f.C_Encrypt.unwrap()(
                session,
                plaintext.as_mut_ptr(),
                plaintext.len() as _,
                out,
                len,
            )
        }
    });
    assert_eq!(ciphertext.len(), plaintext.len() + 16);
    // SAFETY: valid mechanism and handle.
    assert_eq!(
        unsafe { f.C_DecryptInit.unwrap()(session, &mut gcm, aes) },
        CKR_OK
    );
    let mut ciphertext_in = ciphertext.clone();
    let decrypted = token.sized("C_Decrypt", |out, len| {
        // SAFETY: `out` is NULL or holds `*len` bytes.
        unsafe {
            f.C_Decrypt.unwrap()(
                session,
                ciphertext_in.as_mut_ptr(),
                ciphertext_in.len() as _,
                out,
                len,
            )
        }
    });
    assert_eq!(decrypted, plaintext);

    // --- C_WrapKey: RFC 3394 of a 32-byte key is 40 bytes.
    let kek = token.aes_key("raw-c-kek", true);
    let mut wrap = plain(CKM_AES_KEY_WRAP);
    let wrapped = token.sized("C_WrapKey", |out, len| {
        // SAFETY: `out` is NULL or holds `*len` bytes.
        unsafe { f.C_WrapKey.unwrap()(session, &mut wrap, kek, aes, out, len) }
    });
    assert_eq!(wrapped.len(), 40);
    // SAFETY: NULL pulWrappedKeyLen is checked by the callee.
    assert_eq!(
        unsafe { f.C_WrapKey.unwrap()(session, &mut wrap, kek, aes, null_mut(), null_mut()) },
        CKR_ARGUMENTS_BAD
    );

    // --- C_GetAttributeValue: NULL pValue asks the length; a short buffer is CKR_BUFFER_TOO_SMALL with
    // CK_UNAVAILABLE_INFORMATION for that attribute while the others are still filled in; a sensitive one is
    // CKR_ATTRIBUTE_SENSITIVE.
    let mut query = [CK_ATTRIBUTE {
        type_: CKA_EC_POINT,
        pValue: null_mut(),
        ulValueLen: 0,
    }];
    // SAFETY: a template of NULL values asks lengths.
    assert_eq!(
        unsafe { f.C_GetAttributeValue.unwrap()(session, public, query.as_mut_ptr(), 1) },
        CKR_OK
    );
    let point_length = query[0].ulValueLen;
    assert_eq!(
        point_length, 67,
        "DER OCTET STRING of an uncompressed P-256 point"
    );
    let mut short = vec![0u8; 10];
    let mut class: CK_OBJECT_CLASS = 0;
    let mut two = [
        CK_ATTRIBUTE {
            type_: CKA_EC_POINT,
            pValue: short.as_mut_ptr() as *mut c_void,
            ulValueLen: 10,
        },
        CK_ATTRIBUTE {
            type_: CKA_CLASS,
            pValue: &mut class as *mut CK_OBJECT_CLASS as *mut c_void,
            ulValueLen: std::mem::size_of::<CK_OBJECT_CLASS>() as CK_ULONG,
        },
    ];
    // SAFETY: each pValue holds ulValueLen writable bytes.
    assert_eq!(
        unsafe { f.C_GetAttributeValue.unwrap()(session, public, two.as_mut_ptr(), 2) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(two[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(class, CKO_PUBLIC_KEY);
    let mut point = vec![0u8; point_length as usize];
    query[0].pValue = point.as_mut_ptr() as *mut c_void;
    query[0].ulValueLen = point_length;
    // SAFETY: pValue holds ulValueLen writable bytes.
    assert_eq!(
        unsafe { f.C_GetAttributeValue.unwrap()(session, public, query.as_mut_ptr(), 1) },
        CKR_OK
    );
    assert_eq!(&point[..3], &[0x04, 0x41, 0x04]);
    let mut secret = [CK_ATTRIBUTE {
        type_: CKA_VALUE,
        pValue: null_mut(),
        ulValueLen: 0,
    }];
    // SAFETY: a NULL value asks the length.
    assert_eq!(
        unsafe { f.C_GetAttributeValue.unwrap()(session, private, secret.as_mut_ptr(), 1) },
        CKR_ATTRIBUTE_SENSITIVE
    );
    assert_eq!(secret[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    // SAFETY: NULL template with a count.
    assert_eq!(
        unsafe { f.C_GetAttributeValue.unwrap()(session, public, null_mut(), 1) },
        CKR_ARGUMENTS_BAD
    );

    // --- Other NULL outputs.
    // SAFETY: each NULL is checked by the callee.
    unsafe {
        assert_eq!(
            f.C_GenerateRandom.unwrap()(session, null_mut(), 16),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            f.C_GetSessionInfo.unwrap()(session, null_mut()),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(f.C_FindObjectsInit.unwrap()(session, null_mut(), 0), CKR_OK);
        assert_eq!(
            f.C_FindObjects.unwrap()(session, null_mut(), 4, null_mut()),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(f.C_FindObjectsFinal.unwrap()(session), CKR_OK);
        let mut random = [0u8; 16];
        assert_eq!(
            f.C_GenerateRandom.unwrap()(session, random.as_mut_ptr(), 16),
            CKR_OK
        );
        assert_ne!(random, [0u8; 16]);
    }

    // The two keys made by the refused C_GenerateKey calls (NULL phKey) do not exist: only the two made with
    // a handle carry these labels.
    for label in ["raw-c-aes", "raw-c-kek"] {
        let mut find = [bytes_attribute(CKA_LABEL, label.as_bytes())];
        let mut found = [0 as CK_OBJECT_HANDLE; 4];
        let mut count: CK_ULONG = 0;
        // SAFETY: template values outlive the calls; room for four handles.
        unsafe {
            assert_eq!(
                f.C_FindObjectsInit.unwrap()(session, find.as_mut_ptr(), 1),
                CKR_OK
            );
            assert_eq!(
                f.C_FindObjects.unwrap()(session, found.as_mut_ptr(), 4, &mut count),
                CKR_OK
            );
            assert_eq!(f.C_FindObjectsFinal.unwrap()(session), CKR_OK);
        }
        assert_eq!(count, 1, "{label}");
    }

    // SAFETY: NULL reserved pointer; then a call after C_Finalize.
    unsafe {
        assert_eq!(f.C_Finalize.unwrap()(null_mut()), CKR_OK);
        let mut random = [0u8; 4];
        assert_eq!(
            f.C_GenerateRandom.unwrap()(session, random.as_mut_ptr(), 4),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
    }
}
