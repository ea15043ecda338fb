//! The return codes PKCS#11 v2.40 / v3.0 prescribe, one behaviour per test, through raw C calls against a real
//! server (found by running a conformance program against the module and SoftHSM2 side by side).
#![allow(unsafe_code)]

mod common;
mod raw_support;

use std::ptr::null_mut;

use common::{hex, python};
use cryptoki_sys::*;
use raw_support::{attribute, bytes_attribute, plain, Token, FALSE, TRUE};

/// The number of objects on the token (all classes).
fn object_count(token: &Token) -> usize {
    token.find(&mut []).len()
}

#[test]
fn an_rsa_key_pair_outside_2048_to_4096_bits_is_key_size_range_and_leaves_nothing() {
    let token = Token::open();
    let before = object_count(&token);
    for bits in [1024 as CK_ULONG, 8192, 2047] {
        let mut public = [attribute(CKA_MODULUS_BITS, &bits)];
        let mut private = [attribute(CKA_SIGN, &TRUE)];
        let mut mechanism = plain(CKM_RSA_PKCS_KEY_PAIR_GEN);
        let (mut public_key, mut private_key) = (0, 0);
        // SAFETY: templates outlive the call; valid out pointers.
        let rv = unsafe {
            token.f.C_GenerateKeyPair.unwrap()(
                token.session,
                &mut mechanism,
                public.as_mut_ptr(),
                1,
                private.as_mut_ptr(),
                1,
                &mut public_key,
                &mut private_key,
            )
        };
        assert_eq!(rv, CKR_KEY_SIZE_RANGE, "{bits} bits");
    }
    assert_eq!(
        object_count(&token),
        before,
        "a refused generation leaves no object"
    );
}

/// C_VerifyInit then C_Verify of `data` with `signature`.
fn verify(
    token: &Token,
    mechanism: CK_MECHANISM_TYPE,
    key: CK_OBJECT_HANDLE,
    data: &[u8],
    signature: &[u8],
) -> CK_RV {
    let mut m = plain(mechanism);
    // SAFETY: a valid mechanism.
    assert_eq!(
        unsafe { token.f.C_VerifyInit.unwrap()(token.session, &mut m, key) },
        CKR_OK
    );
    // SAFETY: data and signature hold their lengths.
    unsafe {
        token.f.C_Verify.unwrap()(
            token.session,
            data.as_ptr() as *mut u8,
            data.len() as CK_ULONG,
            signature.as_ptr() as *mut u8,
            signature.len() as CK_ULONG,
        )
    }
}

#[test]
fn a_signature_of_the_wrong_length_is_signature_len_range_and_a_wrong_one_signature_invalid() {
    let token = Token::open();
    let (rsa_public, _) = token.key_pair(true);
    let (ec_public, _) = token.key_pair(false);
    for (mechanism, key, good_len) in [
        (CKM_SHA256_RSA_PKCS, rsa_public, 256),
        (CKM_ECDSA_SHA256, ec_public, 64),
    ] {
        assert_eq!(
            verify(&token, mechanism, key, b"data", &[1u8; 10]),
            CKR_SIGNATURE_LEN_RANGE
        );
        let long = vec![1u8; good_len + 1];
        assert_eq!(
            verify(&token, mechanism, key, b"data", &long),
            CKR_SIGNATURE_LEN_RANGE
        );
        let right_length = vec![1u8; good_len];
        assert_eq!(
            verify(&token, mechanism, key, b"data", &right_length),
            CKR_SIGNATURE_INVALID
        );
    }
}

#[test]
fn an_invalid_key_handle_in_an_init_call_is_key_handle_invalid() {
    let token = Token::open();
    let bogus: CK_OBJECT_HANDLE = 0x0bad_cafe;
    let f = token.f;
    let s = token.session;
    let mut sign = plain(CKM_SHA256_RSA_PKCS);
    let mut ecb = plain(CKM_AES_ECB);
    // SAFETY: valid mechanisms; the handle is checked by the callee.
    unsafe {
        assert_eq!(
            f.C_SignInit.unwrap()(s, &mut sign, bogus),
            CKR_KEY_HANDLE_INVALID
        );
        assert_eq!(
            f.C_VerifyInit.unwrap()(s, &mut sign, bogus),
            CKR_KEY_HANDLE_INVALID
        );
        assert_eq!(
            f.C_EncryptInit.unwrap()(s, &mut ecb, bogus),
            CKR_KEY_HANDLE_INVALID
        );
        assert_eq!(
            f.C_DecryptInit.unwrap()(s, &mut ecb, bogus),
            CKR_KEY_HANDLE_INVALID
        );
    }
    // A handle whose object was destroyed is just as invalid.
    let key = token.aes_key(&[5u8; 32], true);
    // SAFETY: a valid session and handle.
    assert_eq!(unsafe { f.C_DestroyObject.unwrap()(s, key) }, CKR_OK);
    // SAFETY: as above.
    assert_eq!(
        unsafe { f.C_EncryptInit.unwrap()(s, &mut ecb, key) },
        CKR_KEY_HANDLE_INVALID
    );
}

#[test]
fn null_data_with_a_length_ends_an_encryption_or_decryption() {
    let token = Token::open();
    let key = token.aes_key(&[9u8; 32], true);
    let f = token.f;
    let s = token.session;
    let mut ecb = plain(CKM_AES_ECB);
    let mut out = [0u8; 32];
    let mut length: CK_ULONG = 32;
    // SAFETY: valid mechanism, key and buffers; NULL data with a length is checked by the callee.
    unsafe {
        assert_eq!(f.C_EncryptInit.unwrap()(s, &mut ecb, key), CKR_OK);
        assert_eq!(
            f.C_Encrypt.unwrap()(s, null_mut(), 16, out.as_mut_ptr(), &mut length),
            CKR_ARGUMENTS_BAD
        );
        let rv = f.C_EncryptFinal.unwrap()(s, out.as_mut_ptr(), &mut length);
        assert_eq!(rv, CKR_OPERATION_NOT_INITIALIZED, "the encryption ended");
        assert_eq!(f.C_DecryptInit.unwrap()(s, &mut ecb, key), CKR_OK);
        length = 32;
        assert_eq!(
            f.C_DecryptUpdate.unwrap()(s, null_mut(), 16, out.as_mut_ptr(), &mut length),
            CKR_ARGUMENTS_BAD
        );
        let rv = f.C_DecryptFinal.unwrap()(s, out.as_mut_ptr(), &mut length);
        assert_eq!(rv, CKR_OPERATION_NOT_INITIALIZED, "the decryption ended");
        // The same for signing.
        let (_, private) = token.key_pair(false);
        let mut ecdsa = plain(CKM_ECDSA_SHA256);
        assert_eq!(f.C_SignInit.unwrap()(s, &mut ecdsa, private), CKR_OK);
        length = 64;
        assert_eq!(
            f.C_Sign.unwrap()(s, null_mut(), 5, out.as_mut_ptr(), &mut length),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            f.C_SignFinal.unwrap()(s, out.as_mut_ptr(), &mut length),
            CKR_OPERATION_NOT_INITIALIZED
        );
    }
}

#[test]
fn a_one_shot_call_after_an_update_is_operation_active_and_ends_the_operation() {
    let token = Token::open();
    let key = token.aes_key(&[3u8; 32], true);
    let (_, private) = token.key_pair(false);
    let (public, _) = token.key_pair(false);
    let f = token.f;
    let s = token.session;
    let block = [0u8; 16];
    let mut out = [0u8; 64];
    let mut length: CK_ULONG;
    let data = block.as_ptr() as *mut u8;
    // SAFETY: valid mechanisms, keys and buffers of the lengths given.
    unsafe {
        let mut ecb = plain(CKM_AES_ECB);
        assert_eq!(f.C_EncryptInit.unwrap()(s, &mut ecb, key), CKR_OK);
        length = 64;
        assert_eq!(
            f.C_EncryptUpdate.unwrap()(s, data, 16, out.as_mut_ptr(), &mut length),
            CKR_OK
        );
        length = 64;
        assert_eq!(
            f.C_Encrypt.unwrap()(s, data, 16, out.as_mut_ptr(), &mut length),
            CKR_OPERATION_ACTIVE
        );
        assert_eq!(
            f.C_EncryptFinal.unwrap()(s, out.as_mut_ptr(), &mut length),
            CKR_OPERATION_NOT_INITIALIZED
        );

        assert_eq!(f.C_DecryptInit.unwrap()(s, &mut ecb, key), CKR_OK);
        length = 64;
        assert_eq!(
            f.C_DecryptUpdate.unwrap()(s, data, 16, out.as_mut_ptr(), &mut length),
            CKR_OK
        );
        length = 64;
        assert_eq!(
            f.C_Decrypt.unwrap()(s, data, 16, out.as_mut_ptr(), &mut length),
            CKR_OPERATION_ACTIVE
        );

        let mut ecdsa = plain(CKM_ECDSA_SHA256);
        assert_eq!(f.C_SignInit.unwrap()(s, &mut ecdsa, private), CKR_OK);
        assert_eq!(f.C_SignUpdate.unwrap()(s, data, 16), CKR_OK);
        length = 64;
        assert_eq!(
            f.C_Sign.unwrap()(s, data, 16, out.as_mut_ptr(), &mut length),
            CKR_OPERATION_ACTIVE
        );
        assert_eq!(
            f.C_SignFinal.unwrap()(s, out.as_mut_ptr(), &mut length),
            CKR_OPERATION_NOT_INITIALIZED
        );

        assert_eq!(f.C_VerifyInit.unwrap()(s, &mut ecdsa, public), CKR_OK);
        assert_eq!(f.C_VerifyUpdate.unwrap()(s, data, 16), CKR_OK);
        assert_eq!(
            f.C_Verify.unwrap()(s, data, 16, out.as_mut_ptr(), 64),
            CKR_OPERATION_ACTIVE
        );
        assert_eq!(
            f.C_VerifyFinal.unwrap()(s, out.as_mut_ptr(), 64),
            CKR_OPERATION_NOT_INITIALIZED
        );
    }
}

/// C_SetAttributeValue of one CK_BBOOL attribute.
fn set_bool(
    token: &Token,
    object: CK_OBJECT_HANDLE,
    kind: CK_ATTRIBUTE_TYPE,
    value: CK_BBOOL,
) -> CK_RV {
    let mut template = [attribute(kind, &value)];
    // SAFETY: one attribute whose value outlives the call.
    unsafe { token.f.C_SetAttributeValue.unwrap()(token.session, object, template.as_mut_ptr(), 1) }
}

#[test]
fn sensitive_may_go_from_false_to_true_and_extractable_from_true_to_false_never_back() {
    let token = Token::open();
    let key = token.aes_key(&[7u8; 32], false);
    assert_eq!(token.get(key, CKA_VALUE).unwrap(), [7u8; 32]);
    assert_eq!(set_bool(&token, key, CKA_SENSITIVE, TRUE), CKR_OK);
    assert_eq!(token.get(key, CKA_SENSITIVE).unwrap(), [CK_TRUE]);
    assert_eq!(token.get(key, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    assert_eq!(
        set_bool(&token, key, CKA_SENSITIVE, FALSE),
        CKR_ATTRIBUTE_READ_ONLY
    );
    assert_eq!(
        set_bool(&token, key, CKA_SENSITIVE, TRUE),
        CKR_OK,
        "setting it again is no change"
    );

    assert_eq!(set_bool(&token, key, CKA_EXTRACTABLE, FALSE), CKR_OK);
    assert_eq!(token.get(key, CKA_EXTRACTABLE).unwrap(), [CK_FALSE]);
    assert_eq!(
        set_bool(&token, key, CKA_EXTRACTABLE, TRUE),
        CKR_ATTRIBUTE_READ_ONLY
    );
    // Certificates and data objects have no CKA_SENSITIVE.
    let class = CKO_DATA;
    let mut data = [
        attribute(CKA_CLASS, &class),
        bytes_attribute(CKA_VALUE, b"d"),
    ];
    let data = token.create(&mut data).unwrap();
    assert_eq!(
        set_bool(&token, data, CKA_SENSITIVE, TRUE),
        CKR_ATTRIBUTE_TYPE_INVALID
    );
}

#[test]
fn rsa_pkcs_encryption_interoperates_with_python() {
    let token = Token::open();
    let (public, private) = token.key_pair(true);
    let modulus = token.get(public, CKA_MODULUS).unwrap();
    let f = token.f;
    let s = token.session;
    let mut mechanism = plain(CKM_RSA_PKCS);
    let message = b"PKCS#1 v1.5 encrypted";
    let mut ciphertext = vec![0u8; 256];
    let mut length: CK_ULONG = 256;
    // SAFETY: valid mechanism, keys and buffers of the lengths given.
    unsafe {
        assert_eq!(f.C_EncryptInit.unwrap()(s, &mut mechanism, public), CKR_OK);
        let rv = f.C_Encrypt.unwrap()(
            s,
            message.as_ptr() as *mut u8,
            message.len() as CK_ULONG,
            ciphertext.as_mut_ptr(),
            &mut length,
        );
        assert_eq!((rv, length), (CKR_OK, 256));
    }
    let decrypt = |ciphertext: &[u8]| -> (CK_RV, Vec<u8>) {
        let mut plain_text = vec![0u8; 256];
        let mut length: CK_ULONG = 256;
        let mut mechanism = plain(CKM_RSA_PKCS);
        // SAFETY: valid mechanism, key and buffers of the lengths given.
        unsafe {
            assert_eq!(f.C_DecryptInit.unwrap()(s, &mut mechanism, private), CKR_OK);
            let rv = f.C_Decrypt.unwrap()(
                s,
                ciphertext.as_ptr() as *mut u8,
                ciphertext.len() as CK_ULONG,
                plain_text.as_mut_ptr(),
                &mut length,
            );
            plain_text.truncate(length as usize);
            (rv, plain_text)
        }
    };
    assert_eq!(decrypt(&ciphertext), (CKR_OK, message.to_vec()));
    // A ciphertext Python made for the token's public key decrypts on the token.
    let from_python = python(&format!(
        "k = rsa.RSAPublicNumbers(65537, int('{}', 16)).public_key()\n\
         print(k.encrypt(b'from python', apad.PKCS1v15()).hex())",
        hex(&modulus)
    ));
    assert_eq!(decrypt(&from_python), (CKR_OK, b"from python".to_vec()));
    assert_eq!(decrypt(&from_python[1..]).0, CKR_ENCRYPTED_DATA_LEN_RANGE);
    // A wrong padding is no error (implicit rejection, done by the server): CKR_OK with a message derived from
    // the key and the ciphertext, the same one at every call, so the two-call length query stays consistent.
    let mut altered = from_python.clone();
    altered[200] ^= 0x41;
    let (rv, rejected) = decrypt(&altered);
    assert_eq!(rv, CKR_OK);
    assert!(rejected.len() <= 256 - 11 && rejected != b"from python");
    assert_eq!(decrypt(&altered), (CKR_OK, rejected));
    // At most k - 11 bytes go in.
    let too_long = [0u8; 246];
    let mut length: CK_ULONG = 256;
    // SAFETY: as above.
    unsafe {
        assert_eq!(f.C_EncryptInit.unwrap()(s, &mut mechanism, public), CKR_OK);
        let rv = f.C_Encrypt.unwrap()(
            s,
            too_long.as_ptr() as *mut u8,
            246,
            ciphertext.as_mut_ptr(),
            &mut length,
        );
        assert_eq!(rv, CKR_DATA_LEN_RANGE);
    }
}

#[test]
fn sign_recover_and_verify_recover_read_false_and_cannot_be_asked_for() {
    let token = Token::open();
    for rsa in [true, false] {
        let (public, private) = token.key_pair(rsa);
        assert_eq!(token.get(private, CKA_SIGN_RECOVER).unwrap(), [CK_FALSE]);
        assert_eq!(token.get(public, CKA_VERIFY_RECOVER).unwrap(), [CK_FALSE]);
    }
    // A template asking for recovery is refused; one stating it false (as NSS does) is fine.
    let bits: CK_ULONG = 2048;
    for (recover, expected) in [(FALSE, CKR_OK), (TRUE, CKR_ATTRIBUTE_VALUE_INVALID)] {
        let mut public = [attribute(CKA_MODULUS_BITS, &bits)];
        let mut private = [
            attribute(CKA_SIGN, &TRUE),
            attribute(CKA_SIGN_RECOVER, &recover),
        ];
        let mut mechanism = plain(CKM_RSA_PKCS_KEY_PAIR_GEN);
        let (mut public_key, mut private_key) = (0, 0);
        // SAFETY: templates outlive the call; valid out pointers.
        let rv = unsafe {
            token.f.C_GenerateKeyPair.unwrap()(
                token.session,
                &mut mechanism,
                public.as_mut_ptr(),
                1,
                private.as_mut_ptr(),
                2,
                &mut public_key,
                &mut private_key,
            )
        };
        assert_eq!(rv, expected);
    }
}
