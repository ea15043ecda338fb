//! Get / Export with a Key Wrapping Specification (AES key wrap, RSA-OAEP) and Register / Import of wrapped keys,
//! through `dispatch`. The wrapped bytes are checked against independent implementations: Python
//! `cryptography`'s `aes_key_unwrap(_with_padding)`, OpenSSL's `-id-aes256-wrap` and `pkeyutl` (OAEP).

mod operations_harness;
mod wrapping_support;

use std::process::Command;

use kmip::attributes::{Attribute, CryptographicParameters, CryptographicUsageMask};
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, EncodingOption, KeyFormatType, ObjectType,
    WrappingMethod,
};
use kmip::objects::{
    KeyBlock, KeyMaterial, KeyWrappingData, KeyWrappingSpecification, ManagedObject,
    WrappingKeyInformation,
};
use kmip::payloads::*;
use kmip::ResultReason;
use operations_harness::*;
use wrapping_support::*;
use zeroize::Zeroizing;

#[test]
fn get_wraps_with_rfc_3394_and_5649_as_python_cryptography_unwraps() {
    let h = Harness::new();
    let kek = [0x11u8; 32];
    let kek_uid = register_key(&h, &kek, CryptographicUsageMask::WRAP_KEY, None).unwrap();
    let secret = [0x42u8; 32];
    let uid = register_key(&h, &secret, CryptographicUsageMask::ENCRYPT, None).unwrap();
    for (mode, function) in [
        (BlockCipherMode::NistKeyWrap, "aes_key_unwrap"),
        (
            BlockCipherMode::AesKeyWrapPadding,
            "aes_key_unwrap_with_padding",
        ),
    ] {
        let request = GetRequest {
            key_wrapping_specification: Some(spec(&kek_uid, mode)),
            ..get(&uid)
        };
        let wrapped = wrapped_bytes(h.ok(&h.alice, V2_1, request));
        assert_eq!(python_unwrap(function, &kek, &wrapped), secret);
    }
}

#[test]
fn get_wrapped_key_unwraps_with_openssl_id_aes256_wrap() {
    let h = Harness::new();
    let kek = [0x5au8; 32];
    let kek_uid = register_key(&h, &kek, CryptographicUsageMask::WRAP_KEY, None).unwrap();
    let secret: Vec<u8> = (0u8..32).collect();
    let uid = register_key(&h, &secret, CryptographicUsageMask::ENCRYPT, None).unwrap();
    let request = GetRequest {
        key_wrapping_specification: Some(spec(&kek_uid, BlockCipherMode::NistKeyWrap)),
        ..get(&uid)
    };
    let wrapped = wrapped_bytes(h.ok(&h.alice, V1_4, request));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("wrapped.bin");
    std::fs::write(&input, &wrapped).unwrap();
    let out = Command::new("openssl")
        .args([
            "enc",
            "-d",
            "-id-aes256-wrap",
            "-iv",
            "A6A6A6A6A6A6A6A6",
            "-K",
            &hex::encode(kek),
            "-in",
        ])
        .arg(&input)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, secret);
}

#[test]
fn a_wrapped_key_registers_unwrapped_and_a_key_without_wrap_usage_cannot_wrap() {
    let h = Harness::new();
    let kek = [0x33u8; 16];
    let kek_uid = register_kek(&h, &kek);
    let secret = [0x77u8; 16];
    let uid = register_key(&h, &secret, CryptographicUsageMask::ENCRYPT, None).unwrap();
    let request = GetRequest {
        key_wrapping_specification: Some(spec(&kek_uid, BlockCipherMode::NistKeyWrap)),
        ..get(&uid)
    };
    let wrapped = wrapped_bytes(h.ok(&h.alice, V2_1, request));
    let data = KeyWrappingData {
        wrapping_method: WrappingMethod::Encrypt,
        encryption_key_information: spec(&kek_uid, BlockCipherMode::NistKeyWrap)
            .encryption_key_information,
        mac_signature_key_information: None,
        mac_signature: None,
        iv_counter_nonce: None,
        encoding_option: Some(EncodingOption::NoEncoding),
    };
    let again = register_key(
        &h,
        &wrapped,
        CryptographicUsageMask::ENCRYPT,
        Some(data.clone()),
    )
    .unwrap();
    assert_eq!(key_bytes(&h.ok(&h.alice, V2_1, get(&again))), secret);
    // A tampered wrapping fails its integrity check.
    let mut tampered = wrapped.clone();
    tampered[3] ^= 1;
    assert_eq!(
        register_key(&h, &tampered, CryptographicUsageMask::ENCRYPT, Some(data)),
        Err(ResultReason::CryptographicFailure)
    );
    // The data key itself has no Wrap Key usage.
    let request = GetRequest {
        key_wrapping_specification: Some(spec(&uid, BlockCipherMode::NistKeyWrap)),
        ..get(&kek_uid)
    };
    assert_failed(
        &h.one(&h.alice, V2_1, request),
        ResultReason::IncompatibleCryptographicUsageMask,
    );
}

#[test]
fn without_an_encoding_option_the_key_value_is_wrapped_ttlv_encoded_and_the_answer_names_no_option()
{
    let h = Harness::new();
    let kek = [0x6du8; 32];
    let kek_uid = register_kek(&h, &kek);
    let secret = [0x19u8; 32];
    let uid = register_key(&h, &secret, CryptographicUsageMask::ENCRYPT, None).unwrap();
    let mut default_encoding = spec(&kek_uid, BlockCipherMode::NistKeyWrap);
    default_encoding.encoding_option = None;
    let request = GetRequest {
        key_wrapping_specification: Some(default_encoding),
        ..get(&uid)
    };
    let (data, wrapped) = wrapped_block(h.ok(&h.alice, V2_1, request));
    // The answer's Key Wrapping Data says what the request said (OASIS AX-M-2): no Encoding Option, which means
    // TTLV encoding.
    assert_eq!(data.encoding_option, None);
    // What was wrapped is the TTLV Key Value structure (tag 0x420045), not the bare key bytes.
    let inner = python_unwrap("aes_key_unwrap", &kek, &wrapped);
    assert_eq!(&inner[..3], &[0x42, 0x00, 0x45], "{}", hex::encode(&inner));
    assert!(inner.windows(secret.len()).any(|w| w == secret));
    // Registered back with the Key Wrapping Data it came with, it unwraps to the same key.
    let again = register_key(&h, &wrapped, CryptographicUsageMask::ENCRYPT, Some(data)).unwrap();
    assert_eq!(key_bytes(&h.ok(&h.alice, V2_1, get(&again))), secret);
}

#[test]
fn export_wraps_import_unwraps_and_another_tenant_can_use_neither_key() {
    let h = Harness::new();
    let kek = [0x2cu8; 32];
    let kek_uid = register_kek(&h, &kek);
    let secret: Vec<u8> = (100u8..132).collect();
    let uid = register_key(&h, &secret, CryptographicUsageMask::ENCRYPT, None).unwrap();

    // Export with RFC 5649 wrapping: the attributes travel in the clear, the key wrapped; Python unwraps it.
    let export = ExportRequest {
        unique_identifier: Some(uid.clone()),
        key_wrapping_specification: Some(spec(&kek_uid, BlockCipherMode::AesKeyWrapPadding)),
        ..ExportRequest::default()
    };
    let ResponsePayload::Export(exported) = h.ok(&h.alice, V2_1, export) else {
        panic!("an Export response")
    };
    assert_eq!(exported.unique_identifier, uid);
    let object = exported.object.0.clone().unwrap();
    let block = object.key_block().cloned().unwrap();
    let KeyMaterial::Bytes(wrapped) = block.key_value.clone().unwrap().material else {
        panic!("wrapped key material")
    };
    assert_eq!(
        python_unwrap("aes_key_unwrap_with_padding", &kek, &wrapped),
        secret
    );

    // Import it under a new identifier: the server unwraps it with the KEK, and Get gives the plain key.
    let import = ImportRequest {
        unique_identifier: "imported-copy".into(),
        object_type: ObjectType::SymmetricKey,
        replace_existing: None,
        key_wrap_type: None,
        attributes: Some(
            vec![Attribute::CryptographicUsageMask(
                CryptographicUsageMask::ENCRYPT,
            )]
            .into(),
        ),
        object: ObjectField(Some(object.clone())),
    };
    let ResponsePayload::Import(imported) = h.ok(&h.alice, V2_1, import.clone()) else {
        panic!("an Import response")
    };
    assert_eq!(imported.unique_identifier, "imported-copy");
    assert_eq!(
        key_bytes(&h.ok(&h.alice, V2_1, get("imported-copy"))),
        secret
    );
    // A second Import of the same identifier needs Replace Existing.
    assert_failed(
        &h.one(&h.alice, V2_1, import),
        ResultReason::ObjectAlreadyExists,
    );

    // Another tenant can neither export Alice's key nor wrap its own key under Alice's KEK: to it they do not
    // exist (the 2.x answer for a missing object).
    let foreign_export = ExportRequest {
        unique_identifier: Some(uid.clone()),
        ..ExportRequest::default()
    };
    assert_failed(
        &h.one(&h.bob, V2_1, foreign_export),
        ResultReason::ObjectNotFound,
    );
    let bobs = match h
        .one(
            &h.bob,
            V2_1,
            RegisterRequest {
                object_type: ObjectType::SymmetricKey,
                attributes: vec![Attribute::CryptographicUsageMask(
                    CryptographicUsageMask::ENCRYPT,
                )]
                .into(),
                object: ObjectField(Some(ManagedObject::SymmetricKey(KeyBlock::new(
                    KeyFormatType::Raw,
                    KeyMaterial::Bytes(Zeroizing::new(vec![9u8; 16])),
                    Some(CryptographicAlgorithm::Aes),
                    Some(128),
                )))),
                protection_storage_masks: None,
            },
        )
        .payload
    {
        Some(ResponsePayload::Register(r)) => r.unique_identifier,
        other => panic!("{other:?}"),
    };
    let under_alices_kek = GetRequest {
        key_wrapping_specification: Some(spec(&kek_uid, BlockCipherMode::NistKeyWrap)),
        ..get(&bobs)
    };
    assert_failed(
        &h.one(&h.bob, V2_1, under_alices_kek),
        ResultReason::WrappingObjectNotFound,
    );
}

#[test]
fn rsa_oaep_wrapping_on_get_decrypts_in_openssl_and_registers_back_unwrapped() {
    use kmip::enums::{HashingAlgorithm, PaddingMethod};

    let h = Harness::new();
    let pair = CreateKeyPairRequest {
        common_attributes: Some(
            vec![
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Rsa),
                Attribute::CryptographicLength(2048),
                Attribute::ActivationDate(0),
            ]
            .into(),
        ),
        private_key_attributes: Some(
            vec![Attribute::CryptographicUsageMask(
                CryptographicUsageMask::UNWRAP_KEY,
            )]
            .into(),
        ),
        public_key_attributes: Some(
            vec![Attribute::CryptographicUsageMask(
                CryptographicUsageMask::WRAP_KEY,
            )]
            .into(),
        ),
        ..CreateKeyPairRequest::default()
    };
    let ResponsePayload::CreateKeyPair(pair) = h.ok(&h.alice, V2_1, pair) else {
        panic!("a key pair")
    };
    let secret: Vec<u8> = (7u8..39).collect();
    let uid = register_key(&h, &secret, CryptographicUsageMask::ENCRYPT, None).unwrap();
    let oaep = |kek: &str| WrappingKeyInformation {
        unique_identifier: kek.into(),
        cryptographic_parameters: Some(CryptographicParameters {
            padding_method: Some(PaddingMethod::Oaep),
            hashing_algorithm: Some(HashingAlgorithm::Sha256),
            mask_generator_hashing_algorithm: Some(HashingAlgorithm::Sha256),
            ..Default::default()
        }),
    };
    let request = GetRequest {
        key_wrapping_specification: Some(KeyWrappingSpecification {
            encryption_key_information: Some(oaep(&pair.public_key_unique_identifier)),
            ..spec(
                &pair.public_key_unique_identifier,
                BlockCipherMode::NistKeyWrap,
            )
        }),
        ..get(&uid)
    };
    let wrapped = wrapped_bytes(h.ok(&h.alice, V2_1, request));
    assert_eq!(wrapped.len(), 256, "one RSA-2048 block");

    // OpenSSL decrypts it with the private key (fetched as PKCS#8).
    let private_der = {
        let request = GetRequest {
            key_format_type: Some(KeyFormatType::Pkcs8),
            ..get(&pair.private_key_unique_identifier)
        };
        let ResponsePayload::Get(r) = h.ok(&h.alice, V2_1, request) else {
            panic!("a Get response")
        };
        match r
            .object
            .0
            .unwrap()
            .key_block()
            .unwrap()
            .key_value
            .clone()
            .unwrap()
            .material
        {
            KeyMaterial::Bytes(der) => der.to_vec(),
            other => panic!("{other:?}"),
        }
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("private.der"), &private_der).unwrap();
    std::fs::write(dir.path().join("wrapped.bin"), &wrapped).unwrap();
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "pkeyutl",
            "-decrypt",
            "-keyform",
            "DER",
            "-inkey",
            "private.der",
            "-in",
            "wrapped.bin",
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
        ])
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, secret);

    // Registered back with Key Wrapping Data naming the private key: stored unwrapped.
    let data = KeyWrappingData {
        wrapping_method: WrappingMethod::Encrypt,
        encryption_key_information: Some(oaep(&pair.private_key_unique_identifier)),
        mac_signature_key_information: None,
        mac_signature: None,
        iv_counter_nonce: None,
        encoding_option: Some(EncodingOption::NoEncoding),
    };
    let again = register_key(&h, &wrapped, CryptographicUsageMask::ENCRYPT, Some(data)).unwrap();
    assert_eq!(key_bytes(&h.ok(&h.alice, V2_1, get(&again))), secret);
}
