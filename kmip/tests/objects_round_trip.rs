//! Managed objects round-trip in both protocol families; key material never shows in Debug output; malformed
//! objects are typed errors.

use kmip::attributes::{Attribute, CryptographicParameters};
use kmip::enums::*;
use kmip::objects::*;
use kmip::{ProtocolVersion, ResultReason};
use ttlv::{tags, Item, Value};
use zeroize::Zeroizing;

const SECRET: [u8; 16] = [
    0xC0, 0xFF, 0xEE, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD,
];

fn secret() -> SecretBytes {
    Zeroizing::new(SECRET.to_vec())
}

fn aes_key() -> ManagedObject {
    ManagedObject::SymmetricKey(KeyBlock::new(
        KeyFormatType::Raw,
        KeyMaterial::Bytes(secret()),
        Some(CryptographicAlgorithm::Aes),
        Some(128),
    ))
}

fn samples() -> Vec<ManagedObject> {
    let rsa_private = KeyMaterial::TransparentRsaPrivateKey(Box::new(RsaPrivateParts {
        modulus: positive_big_integer(&[0xC3; 32]),
        private_exponent: Some(secret()),
        public_exponent: Some(vec![0x01, 0x00, 0x01]),
        p: Some(secret()),
        q: Some(secret()),
        prime_exponent_p: None,
        prime_exponent_q: None,
        crt_coefficient: Some(secret()),
    }));
    vec![
        aes_key(),
        ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::TransparentSymmetricKey,
            KeyMaterial::TransparentSymmetricKey { key: secret() },
            Some(CryptographicAlgorithm::Aes),
            Some(128),
        )),
        ManagedObject::PrivateKey(KeyBlock::new(
            KeyFormatType::TransparentRsaPrivateKey,
            rsa_private,
            Some(CryptographicAlgorithm::Rsa),
            Some(256),
        )),
        ManagedObject::PublicKey(KeyBlock::new(
            KeyFormatType::TransparentRsaPublicKey,
            KeyMaterial::TransparentRsaPublicKey {
                modulus: vec![0, 0xC3, 1],
                public_exponent: vec![1, 0, 1],
            },
            Some(CryptographicAlgorithm::Rsa),
            Some(16),
        )),
        ManagedObject::PublicKey(KeyBlock::new(
            KeyFormatType::TransparentEcPublicKey,
            KeyMaterial::TransparentEcPublicKey {
                recommended_curve: RecommendedCurve::P256,
                q_string: vec![4; 65],
            },
            Some(CryptographicAlgorithm::Ec),
            Some(256),
        )),
        ManagedObject::PrivateKey(KeyBlock::new(
            KeyFormatType::TransparentEcPrivateKey,
            KeyMaterial::TransparentEcPrivateKey {
                recommended_curve: RecommendedCurve::P384,
                d: secret(),
            },
            Some(CryptographicAlgorithm::Ec),
            Some(384),
        )),
        ManagedObject::PrivateKey(KeyBlock::new(
            KeyFormatType::Pkcs8,
            KeyMaterial::Bytes(secret()),
            None,
            None,
        )),
        ManagedObject::Certificate(Certificate {
            certificate_type: CertificateType::X509,
            certificate_value: vec![0x30, 0x82, 0x01, 0x00],
        }),
        ManagedObject::SecretData(SecretData {
            secret_data_type: SecretDataType::Seed,
            key_block: KeyBlock::new(
                KeyFormatType::Opaque,
                KeyMaterial::Bytes(secret()),
                None,
                None,
            ),
        }),
        ManagedObject::OpaqueObject(OpaqueObject {
            opaque_data_type: OpaqueDataType(0x8000_0001),
            opaque_data_value: secret(),
        }),
        ManagedObject::SplitKey(SplitKey {
            split_key_parts: 3,
            key_part_identifier: 1,
            split_key_threshold: 2,
            split_key_method: SplitKeyMethod::PolynomialSharingPrimeField,
            prime_field_size: Some(vec![0, 0xFF]),
            key_block: KeyBlock::new(KeyFormatType::Raw, KeyMaterial::Bytes(secret()), None, None),
        }),
    ]
}

#[test]
fn every_object_kind_round_trips_in_every_version() {
    for object in samples() {
        for &version in ProtocolVersion::SUPPORTED {
            let item = object.to_ttlv(version);
            assert_eq!(
                ManagedObject::from_ttlv(&item, version).unwrap(),
                object,
                "{version}"
            );
            assert_eq!(
                ManagedObject::from_ttlv_as(&item, object.object_type(), version).unwrap(),
                object,
                "{version}"
            );
        }
    }
}

#[test]
fn symmetric_key_has_the_specified_shape() {
    let item = aes_key().to_ttlv(ProtocolVersion::V1_4);
    let expected = Item::structure(
        tags::SYMMETRIC_KEY,
        vec![Item::structure(
            tags::KEY_BLOCK,
            vec![
                Item::new(tags::KEY_FORMAT_TYPE, Value::Enumeration(1)),
                Item::structure(
                    tags::KEY_VALUE,
                    vec![Item::new(
                        tags::KEY_MATERIAL,
                        Value::ByteString(SECRET.to_vec()),
                    )],
                ),
                Item::new(tags::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
                Item::new(tags::CRYPTOGRAPHIC_LENGTH, Value::Integer(128)),
            ],
        )],
    );
    assert_eq!(item, expected);
}

#[test]
fn key_material_never_appears_in_debug_output() {
    let secret_hex: String = SECRET.iter().map(|b| format!("{b:02x}")).collect();
    let secret_list = format!("{:?}", SECRET.to_vec());
    for object in samples() {
        let debug = format!("{object:?}");
        assert!(!debug.to_lowercase().contains(&secret_hex), "{debug}");
        assert!(
            !debug.contains(&secret_list[1..secret_list.len() - 1]),
            "{debug}"
        );
        assert!(!debug.contains("192, 255, 238"), "{debug}");
    }
}

#[test]
fn wrapped_key_value_is_a_byte_string_with_its_wrapping_data() {
    let block = KeyBlock {
        key_format_type: KeyFormatType::Raw,
        key_compression_type: None,
        key_value: Some(KeyValue {
            material: KeyMaterial::Wrapped(secret()),
            attributes: vec![],
        }),
        cryptographic_algorithm: Some(CryptographicAlgorithm::Aes),
        cryptographic_length: Some(128),
        key_wrapping_data: Some(KeyWrappingData {
            wrapping_method: WrappingMethod::Encrypt,
            encryption_key_information: Some(WrappingKeyInformation {
                unique_identifier: "kek-1".into(),
                cryptographic_parameters: Some(CryptographicParameters {
                    block_cipher_mode: Some(BlockCipherMode::NistKeyWrap),
                    ..Default::default()
                }),
            }),
            mac_signature_key_information: None,
            mac_signature: None,
            iv_counter_nonce: Some(vec![1; 12]),
            encoding_option: Some(EncodingOption::TtlvEncoding),
        }),
    };
    for &version in ProtocolVersion::SUPPORTED {
        let item = block.to_ttlv(version);
        assert_eq!(
            item.child(tags::KEY_VALUE).unwrap().value,
            Value::ByteString(SECRET.to_vec())
        );
        assert_eq!(KeyBlock::from_ttlv(&item, version).unwrap(), block);
    }
}

#[test]
fn key_value_attributes_take_each_family_form_and_respect_the_version() {
    let block = KeyBlock {
        key_value: Some(KeyValue {
            material: KeyMaterial::Bytes(secret()),
            attributes: vec![
                Attribute::CryptographicLength(128),
                Attribute::Sensitive(true),
            ],
        }),
        ..KeyBlock::new(KeyFormatType::Raw, KeyMaterial::Bytes(secret()), None, None)
    };
    let v1 = block.to_ttlv(ProtocolVersion::V1_4);
    let value = v1.child(tags::KEY_VALUE).unwrap();
    assert_eq!(value.children_with(tags::ATTRIBUTE).count(), 2);
    assert_eq!(
        KeyBlock::from_ttlv(&v1, ProtocolVersion::V1_4).unwrap(),
        block
    );

    // 1.0 has no Sensitive attribute.
    let v1_0 = block.to_ttlv(ProtocolVersion::V1_0);
    assert_eq!(
        v1_0.child(tags::KEY_VALUE)
            .unwrap()
            .children_with(tags::ATTRIBUTE)
            .count(),
        1
    );

    let v2 = block.to_ttlv(ProtocolVersion::V2_1);
    let attributes = v2
        .child(tags::KEY_VALUE)
        .unwrap()
        .child(tags::ATTRIBUTES)
        .unwrap();
    assert_eq!(attributes.children().len(), 2);
    assert_eq!(
        KeyBlock::from_ttlv(&v2, ProtocolVersion::V2_1).unwrap(),
        block
    );
}

#[test]
fn transparent_material_with_extra_fields_is_kept_raw_and_re_encoded_unchanged() {
    let material = Item::structure(
        tags::KEY_MATERIAL,
        vec![
            Item::new(tags::MODULUS, Value::BigInteger(vec![0, 0xC3])),
            Item::new(tags::PUBLIC_EXPONENT, Value::BigInteger(vec![1, 0, 1])),
            Item::new(tags::P, Value::BigInteger(vec![3])),
        ],
    );
    let decoded =
        KeyMaterial::from_item(&material, KeyFormatType::TransparentRsaPublicKey).unwrap();
    assert!(matches!(decoded, KeyMaterial::Raw(_)));
    assert_eq!(decoded.to_item(), material);
}

#[test]
fn malformed_objects_are_typed_errors() {
    let no_block = Item::structure(tags::SYMMETRIC_KEY, vec![]);
    assert_eq!(
        ManagedObject::from_ttlv(&no_block, ProtocolVersion::V1_4)
            .unwrap_err()
            .reason,
        ResultReason::InvalidField
    );

    let not_an_object = Item::new(tags::STATE, Value::Enumeration(1));
    assert_eq!(
        ManagedObject::from_ttlv(&not_an_object, ProtocolVersion::V2_1)
            .unwrap_err()
            .reason,
        ResultReason::InvalidField
    );

    let item = aes_key().to_ttlv(ProtocolVersion::V2_1);
    let err = ManagedObject::from_ttlv_as(&item, ObjectType::PublicKey, ProtocolVersion::V2_1)
        .unwrap_err();
    assert_eq!(err.reason, ResultReason::InvalidField);
    let err =
        ManagedObject::from_ttlv_as(&item, ObjectType::PgpKey, ProtocolVersion::V1_4).unwrap_err();
    assert_eq!(err.reason, ResultReason::FeatureNotSupported);

    let rsa_without_modulus = Item::structure(
        tags::KEY_MATERIAL,
        vec![Item::new(
            tags::PUBLIC_EXPONENT,
            Value::BigInteger(vec![1, 0, 1]),
        )],
    );
    let err = KeyMaterial::from_item(&rsa_without_modulus, KeyFormatType::TransparentRsaPublicKey)
        .unwrap_err();
    assert_eq!(err.reason, ResultReason::InvalidField);

    let bad_format = Item::structure(
        tags::KEY_BLOCK,
        vec![Item::new(tags::KEY_FORMAT_TYPE, Value::Enumeration(0x99))],
    );
    assert_eq!(
        KeyBlock::from_ttlv(&bad_format, ProtocolVersion::V1_4)
            .unwrap_err()
            .reason,
        ResultReason::InvalidField
    );
}

#[test]
fn big_integer_helpers_keep_values_positive() {
    assert_eq!(positive_big_integer(&[0x80, 0x01]), [0x00, 0x80, 0x01]);
    assert_eq!(positive_big_integer(&[0x00, 0x00, 0x7F]), [0x7F]);
    assert_eq!(positive_big_integer(&[]), [0x00]);
    assert_eq!(magnitude(&[0, 0, 0x80, 0x01]), [0x80, 0x01]);
}
