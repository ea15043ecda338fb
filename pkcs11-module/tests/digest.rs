//! C_Digest* through raw C calls against a real server: every digest mechanism agrees with Python's hashlib,
//! one-shot and in parts; the length probe and short-buffer contract; the operation-state rules; C_DigestKey.
#![allow(unsafe_code)]

mod common;
mod raw_support;

use std::ptr::null_mut;

use cryptoki_sys::*;
use raw_support::{hashlib, plain, Token};

const DIGESTS: &[(CK_MECHANISM_TYPE, &str)] = &[
    (CKM_SHA_1, "sha1"),
    (CKM_SHA224, "sha224"),
    (CKM_SHA256, "sha256"),
    (CKM_SHA384, "sha384"),
    (CKM_SHA512, "sha512"),
    (CKM_SHA3_224, "sha3_224"),
    (CKM_SHA3_256, "sha3_256"),
    (CKM_SHA3_384, "sha3_384"),
    (CKM_SHA3_512, "sha3_512"),
];

fn init(t: &Token, mechanism: CK_MECHANISM_TYPE) -> CK_RV {
    let mut m = plain(mechanism);
    // SAFETY: a valid mechanism.
    unsafe { t.f.C_DigestInit.unwrap()(t.session, &mut m) }
}

fn update(t: &Token, data: &[u8]) -> CK_RV {
    // SAFETY: data holds its length.
    unsafe {
        t.f.C_DigestUpdate.unwrap()(t.session, data.as_ptr() as *mut u8, data.len() as CK_ULONG)
    }
}

/// C_Digest (`Some(data)`) or C_DigestFinal (`None`) into a buffer of `room` bytes (NULL for `None`): the CK_RV,
/// the digest and the length the module wrote.
fn finish(t: &Token, data: Option<&[u8]>, room: Option<usize>) -> (CK_RV, Vec<u8>, CK_ULONG) {
    let mut out = vec![0u8; room.unwrap_or(0)];
    let pointer = if room.is_some() {
        out.as_mut_ptr()
    } else {
        null_mut()
    };
    let mut length = room.unwrap_or(0) as CK_ULONG;
    // SAFETY: `pointer` is NULL or has `length` writable bytes; data holds its length.
    let rv = unsafe {
        match data {
            Some(data) => t.f.C_Digest.unwrap()(
                t.session,
                data.as_ptr() as *mut u8,
                data.len() as CK_ULONG,
                pointer,
                &mut length,
            ),
            None => t.f.C_DigestFinal.unwrap()(t.session, pointer, &mut length),
        }
    };
    out.truncate(length.min(out.len() as CK_ULONG) as usize);
    (rv, out, length)
}

#[test]
fn every_digest_agrees_with_hashlib_in_one_call_and_in_parts() {
    let token = Token::open();
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    for (mechanism, name) in DIGESTS {
        let expected = hashlib(name, &data);
        assert_eq!(init(&token, *mechanism), CKR_OK);
        let (rv, one_shot, _) = finish(&token, Some(&data), Some(64));
        assert_eq!((rv, &one_shot), (CKR_OK, &expected), "{name} one-shot");
        assert_eq!(init(&token, *mechanism), CKR_OK);
        for part in data.chunks(333) {
            assert_eq!(update(&token, part), CKR_OK);
        }
        assert_eq!(update(&token, &[]), CKR_OK);
        let (rv, parts, _) = finish(&token, None, Some(64));
        assert_eq!((rv, &parts), (CKR_OK, &expected), "{name} in parts");
    }
    // The empty message.
    assert_eq!(init(&token, CKM_SHA256), CKR_OK);
    let (rv, empty, _) = finish(&token, Some(&[]), Some(32));
    assert_eq!((rv, empty), (CKR_OK, hashlib("sha256", &[])));
}

#[test]
fn a_length_probe_and_a_short_buffer_keep_the_digest_and_report_its_length() {
    let token = Token::open();
    assert_eq!(init(&token, CKM_SHA384), CKR_OK);
    let (rv, _, length) = finish(&token, Some(b"abc"), None);
    assert_eq!((rv, length), (CKR_OK, 48));
    let (rv, _, length) = finish(&token, Some(b"abc"), Some(47));
    assert_eq!((rv, length), (CKR_BUFFER_TOO_SMALL, 48));
    let (rv, digest, length) = finish(&token, Some(b"abc"), Some(100));
    assert_eq!((rv, length), (CKR_OK, 48));
    assert_eq!(digest, hashlib("sha384", b"abc"));
    // The successful call ended the operation.
    assert_eq!(
        finish(&token, None, Some(48)).0,
        CKR_OPERATION_NOT_INITIALIZED
    );

    // The same contract for C_DigestFinal.
    assert_eq!(init(&token, CKM_SHA_1), CKR_OK);
    assert_eq!(update(&token, b"abc"), CKR_OK);
    assert_eq!(finish(&token, None, None).2, 20);
    assert_eq!(finish(&token, None, Some(19)).0, CKR_BUFFER_TOO_SMALL);
    let (rv, digest, _) = finish(&token, None, Some(20));
    assert_eq!((rv, digest), (CKR_OK, hashlib("sha1", b"abc")));
    // A NULL length pointer is CKR_ARGUMENTS_BAD.
    assert_eq!(init(&token, CKM_SHA256), CKR_OK);
    // SAFETY: NULL pointers are checked by the callee.
    let rv = unsafe { token.f.C_DigestFinal.unwrap()(token.session, null_mut(), null_mut()) };
    assert_eq!(rv, CKR_ARGUMENTS_BAD);
}

#[test]
fn digest_operations_follow_the_state_rules() {
    let token = Token::open();
    assert_eq!(update(&token, b"x"), CKR_OPERATION_NOT_INITIALIZED);
    assert_eq!(
        finish(&token, Some(b"x"), Some(32)).0,
        CKR_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(init(&token, CKM_MD5), CKR_MECHANISM_INVALID);
    let mut with_parameter = plain(CKM_SHA256);
    let iv = [0u8; 16];
    with_parameter.pParameter = iv.as_ptr() as *mut _;
    with_parameter.ulParameterLen = 16;
    // SAFETY: a valid mechanism with a 16-byte parameter.
    let rv = unsafe { token.f.C_DigestInit.unwrap()(token.session, &mut with_parameter) };
    assert_eq!(rv, CKR_MECHANISM_PARAM_INVALID);

    assert_eq!(init(&token, CKM_SHA256), CKR_OK);
    assert_eq!(init(&token, CKM_SHA512), CKR_OPERATION_ACTIVE);
    // C_Digest cannot end a multi-part digest: refused, and the operation is over.
    assert_eq!(update(&token, b"part"), CKR_OK);
    assert_eq!(
        finish(&token, Some(b"rest"), Some(32)).0,
        CKR_OPERATION_ACTIVE
    );
    assert_eq!(
        finish(&token, None, Some(32)).0,
        CKR_OPERATION_NOT_INITIALIZED
    );

    // NULL data with a length is CKR_ARGUMENTS_BAD and ends the operation.
    assert_eq!(init(&token, CKM_SHA256), CKR_OK);
    // SAFETY: NULL data is checked by the callee.
    let rv = unsafe { token.f.C_DigestUpdate.unwrap()(token.session, null_mut(), 5) };
    assert_eq!(rv, CKR_ARGUMENTS_BAD);
    assert_eq!(update(&token, b"x"), CKR_OPERATION_NOT_INITIALIZED);

    // A NULL mechanism cancels an active digest (PKCS#11 v3.0).
    assert_eq!(init(&token, CKM_SHA256), CKR_OK);
    // SAFETY: NULL cancels.
    assert_eq!(
        unsafe { token.f.C_DigestInit.unwrap()(token.session, null_mut()) },
        CKR_OK
    );
    assert_eq!(update(&token, b"x"), CKR_OPERATION_NOT_INITIALIZED);
}

#[test]
fn digest_key_digests_an_extractable_secret_key_and_refuses_what_it_cannot_read() {
    let token = Token::open();
    let value: Vec<u8> = (100u8..132).collect();
    let readable = token.aes_key(&value, false);
    assert_eq!(init(&token, CKM_SHA256), CKR_OK);
    assert_eq!(update(&token, b"prefix:"), CKR_OK);
    // SAFETY: a session and a key handle.
    assert_eq!(
        unsafe { token.f.C_DigestKey.unwrap()(token.session, readable) },
        CKR_OK
    );
    let (rv, digest, _) = finish(&token, None, Some(32));
    let mut expected_input = b"prefix:".to_vec();
    expected_input.extend_from_slice(&value);
    assert_eq!((rv, digest), (CKR_OK, hashlib("sha256", &expected_input)));

    let digest_key = |key| {
        assert_eq!(init(&token, CKM_SHA256), CKR_OK);
        // SAFETY: a session and a handle (valid or not: the callee checks).
        let rv = unsafe { token.f.C_DigestKey.unwrap()(token.session, key) };
        // Every failure ends the operation.
        assert_eq!(update(&token, b"x"), CKR_OPERATION_NOT_INITIALIZED);
        rv
    };
    // A sensitive key's value never leaves the server: the module cannot digest it.
    let sensitive = token.aes_key(&value, true);
    assert_eq!(digest_key(sensitive), CKR_KEY_INDIGESTIBLE);
    // Only secret keys are digested.
    let (public, private) = token.key_pair(false);
    assert_eq!(digest_key(public), CKR_KEY_INDIGESTIBLE);
    assert_eq!(digest_key(private), CKR_KEY_INDIGESTIBLE);
    assert_eq!(digest_key(0xdead_beef), CKR_KEY_HANDLE_INVALID);
    // A key made sensitive after the fact is no longer digested either.
    let sensitive_now = [raw_support::attribute(CKA_SENSITIVE, &raw_support::TRUE)];
    let mut template = sensitive_now;
    // SAFETY: one attribute whose value outlives the call.
    let rv = unsafe {
        token.f.C_SetAttributeValue.unwrap()(token.session, readable, template.as_mut_ptr(), 1)
    };
    assert_eq!(rv, CKR_OK);
    assert_eq!(digest_key(readable), CKR_KEY_INDIGESTIBLE);
}

#[test]
fn the_mechanism_list_offers_every_digest_with_ckf_digest_only() {
    let token = Token::open();
    let mut count: CK_ULONG = 0;
    // SAFETY: a NULL list asks the count.
    assert_eq!(
        unsafe { token.f.C_GetMechanismList.unwrap()(0, null_mut(), &mut count) },
        CKR_OK
    );
    let mut list = vec![0 as CK_MECHANISM_TYPE; count as usize];
    // SAFETY: room for `count` entries.
    assert_eq!(
        unsafe { token.f.C_GetMechanismList.unwrap()(0, list.as_mut_ptr(), &mut count) },
        CKR_OK
    );
    // 23 key, signature and cipher mechanisms, and the 9 digests.
    assert_eq!(list.len(), 32);
    for (mechanism, name) in DIGESTS {
        assert!(list.contains(mechanism), "{name} is not listed");
        let mut info = CK_MECHANISM_INFO {
            ulMinKeySize: 9,
            ulMaxKeySize: 9,
            flags: 0,
        };
        // SAFETY: a valid out pointer.
        let rv = unsafe { token.f.C_GetMechanismInfo.unwrap()(0, *mechanism, &mut info) };
        assert_eq!(rv, CKR_OK);
        assert_eq!(info.flags, CKF_DIGEST, "{name}");
    }
}
