//! Create Key Pair, Re-Key Key Pair, Sign / Signature Verify and the pair rules through `dispatch`, in the
//! 1.4 and 2.1 forms: links, provenance, usage masks, states, compromise of both keys, key formats on Get.

mod operations_harness;

use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask, Name};
use kmip::enums::{
    CryptographicAlgorithm, KeyFormatType, LinkType, ObjectType, RevocationReasonCode, State,
};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::*;
use kmip::{ProtocolVersion, ResultReason};
use operations_harness::*;
use zeroize::Zeroizing;

fn mask(bits: &[CryptographicUsageMask]) -> Attribute {
    Attribute::CryptographicUsageMask(CryptographicUsageMask(
        bits.iter().map(|m| m.bits()).fold(0, |a, b| a | b),
    ))
}

fn key_pair_request(
    algorithm: CryptographicAlgorithm,
    length: i32,
    activate: bool,
) -> CreateKeyPairRequest {
    let mut common: Vec<Attribute> = vec![
        Attribute::CryptographicAlgorithm(algorithm),
        Attribute::CryptographicLength(length),
    ];
    if activate {
        common.push(Attribute::ActivationDate(0));
    }
    CreateKeyPairRequest {
        common_attributes: Some(common.into()),
        private_key_attributes: Some(
            vec![
                Attribute::Name(Name::text("pair-private")),
                mask(&[CryptographicUsageMask::SIGN]),
            ]
            .into(),
        ),
        public_key_attributes: Some(
            vec![
                Attribute::Name(Name::text("pair-public")),
                mask(&[CryptographicUsageMask::VERIFY]),
            ]
            .into(),
        ),
        ..CreateKeyPairRequest::default()
    }
}

fn create_pair(
    h: &Harness,
    version: ProtocolVersion,
    request: CreateKeyPairRequest,
) -> (String, String) {
    match h.ok(&h.alice, version, request) {
        ResponsePayload::CreateKeyPair(r) => (
            r.private_key_unique_identifier,
            r.public_key_unique_identifier,
        ),
        other => panic!("{other:?}"),
    }
}

fn sign(uid: &str, data: &[u8]) -> SignRequest {
    SignRequest {
        unique_identifier: Some(uid.into()),
        data: Some(data.to_vec()),
        ..SignRequest::default()
    }
}

fn verify(uid: &str, data: &[u8], signature: &[u8]) -> SignatureVerifyRequest {
    SignatureVerifyRequest {
        unique_identifier: Some(uid.into()),
        data: Some(data.to_vec()),
        signature_data: Some(signature.to_vec()),
        ..SignatureVerifyRequest::default()
    }
}

fn signature_of(payload: ResponsePayload) -> Vec<u8> {
    match payload {
        ResponsePayload::Sign(r) => r.signature_data.unwrap(),
        other => panic!("{other:?}"),
    }
}

fn validity(payload: ResponsePayload) -> u32 {
    match payload {
        ResponsePayload::SignatureVerify(r) => r.validity_indicator.unwrap().0,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_new_pair_is_linked_both_ways_and_carries_provenance_in_both_versions() {
    for version in [V1_4, V2_1] {
        let h = Harness::new();
        let (private, public) = create_pair(
            &h,
            version,
            key_pair_request(CryptographicAlgorithm::Rsa, 2048, false),
        );
        let private_attributes = h.attributes(&h.alice, version, &private);
        let public_attributes = h.attributes(&h.alice, version, &public);
        assert_eq!(
            private_attributes.linked(LinkType::PublicKeyLink),
            Some(public.as_str())
        );
        assert_eq!(
            public_attributes.linked(LinkType::PrivateKeyLink),
            Some(private.as_str())
        );
        assert_eq!(
            private_attributes.object_type(),
            Some(ObjectType::PrivateKey)
        );
        assert_eq!(public_attributes.cryptographic_length(), Some(2048));
        assert_eq!(private_attributes.state(), Some(State::PreActive));
        for attributes in [&private_attributes, &public_attributes] {
            assert!(attributes
                .iter()
                .any(|a| matches!(a, Attribute::RandomNumberGenerator(_))));
            assert!(attributes.iter().any(|a| matches!(a, Attribute::Custom(c) if c.attribute_name.starts_with("qkms-entropy"))));
        }
        assert!(private_attributes.iter().any(
            |a| matches!(a, Attribute::Digest(d) if d.key_format_type == Some(KeyFormatType::Pkcs1))
        ));
    }
}

#[test]
fn an_active_ec_pair_signs_and_verifies_and_a_changed_message_is_invalid() {
    for (length, version) in [(256, V2_1), (384, V1_4)] {
        let h = Harness::new();
        let (private, public) = create_pair(
            &h,
            version,
            key_pair_request(CryptographicAlgorithm::Ec, length, true),
        );
        let signature = signature_of(h.ok(&h.alice, version, sign(&private, b"hello")));
        assert_eq!(
            validity(h.ok(&h.alice, version, verify(&public, b"hello", &signature))),
            validity::VALID
        );
        assert_eq!(
            validity(h.ok(&h.alice, version, verify(&public, b"hellO", &signature))),
            validity::INVALID
        );
    }
}

#[test]
fn a_key_without_sign_usage_cannot_sign() {
    for (version, reason) in [
        (V2_1, ResultReason::IncompatibleCryptographicUsageMask),
        (V1_4, ResultReason::PermissionDenied),
    ] {
        let h = Harness::new();
        let (_, public) = create_pair(
            &h,
            version,
            key_pair_request(CryptographicAlgorithm::Ec, 256, true),
        );
        let (private, _) = create_pair(
            &h,
            version,
            key_pair_request(CryptographicAlgorithm::Ec, 256, true),
        );
        // The public key's mask is Verify only; the private key signs but cannot verify-only paths misuse it.
        let item = h.one(&h.alice, version, sign(&public, b"x"));
        assert!(item.result_reason.is_some(), "a public key must not sign");
        let no_verify = h.one(&h.alice, version, verify(&private, b"x", b"sig"));
        assert_failed(&no_verify, reason);
    }
}

#[test]
fn pre_active_and_deactivated_keys_follow_the_protect_and_process_rules() {
    for (version, reason) in [
        (V2_1, ResultReason::WrongKeyLifecycleState),
        (V1_4, ResultReason::PermissionDenied),
    ] {
        let h = Harness::new();
        let (private, public) = create_pair(
            &h,
            version,
            key_pair_request(CryptographicAlgorithm::Ec, 256, false),
        );
        assert_failed(&h.one(&h.alice, version, sign(&private, b"x")), reason);
        h.ok(&h.alice, version, activate(&private));
        h.ok(&h.alice, version, activate(&public));
        let signature = signature_of(h.ok(&h.alice, version, sign(&private, b"x")));
        h.ok(
            &h.alice,
            version,
            revoke(&private, RevocationReasonCode::CessationOfOperation, None),
        );
        h.ok(
            &h.alice,
            version,
            revoke(&public, RevocationReasonCode::CessationOfOperation, None),
        );
        // Deactivated: no more signing, verifying still works.
        assert_failed(&h.one(&h.alice, version, sign(&private, b"x")), reason);
        assert_eq!(
            validity(h.ok(&h.alice, version, verify(&public, b"x", &signature))),
            validity::VALID
        );
    }
}

#[test]
fn a_compromised_key_of_a_pair_cannot_sign_and_its_partner_keeps_its_state_as_oasis_expects() {
    for (version, reason) in [
        (V2_1, ResultReason::WrongKeyLifecycleState),
        (V1_4, ResultReason::PermissionDenied),
    ] {
        let h = Harness::new();
        let (private, public) = create_pair(
            &h,
            version,
            key_pair_request(CryptographicAlgorithm::Rsa, 2048, true),
        );
        let signature = signature_of(h.ok(&h.alice, version, sign(&private, b"x")));
        h.ok(
            &h.alice,
            version,
            revoke(&private, RevocationReasonCode::KeyCompromise, Some(6)),
        );
        assert_eq!(h.state_of(&h.alice, &private), State::Compromised);
        assert_eq!(
            h.state_of(&h.alice, &public),
            State::Active,
            "AKLC-M-3: Revoke acts on the named key only"
        );
        assert_failed(&h.one(&h.alice, version, sign(&private, b"x")), reason);
        // A compromised public key may still verify (process) but the pair no longer signs.
        h.ok(
            &h.alice,
            version,
            revoke(&public, RevocationReasonCode::KeyCompromise, Some(6)),
        );
        assert_eq!(
            validity(h.ok(&h.alice, version, verify(&public, b"x", &signature))),
            validity::VALID
        );
    }
}

#[test]
fn re_key_key_pair_makes_a_linked_replacement_pair() {
    let h = Harness::new();
    let (private, public) = create_pair(
        &h,
        V2_1,
        key_pair_request(CryptographicAlgorithm::Ec, 384, true),
    );
    let request = ReKeyKeyPairRequest {
        private_key_unique_identifier: Some(private.clone()),
        ..Default::default()
    };
    let ResponsePayload::ReKeyKeyPair(r) = h.ok(&h.alice, V2_1, request) else {
        panic!()
    };
    let new_private = h.attributes(&h.alice, V2_1, &r.private_key_unique_identifier);
    assert_eq!(
        new_private.linked(LinkType::ReplacedObjectLink),
        Some(private.as_str())
    );
    assert_eq!(
        new_private.linked(LinkType::PublicKeyLink),
        Some(r.public_key_unique_identifier.as_str())
    );
    assert_eq!(new_private.cryptographic_length(), Some(384));
    let old_private = h.attributes(&h.alice, V2_1, &private);
    assert_eq!(
        old_private.linked(LinkType::ReplacementObjectLink),
        Some(r.private_key_unique_identifier.as_str())
    );
    let old_public = h.attributes(&h.alice, V2_1, &public);
    assert_eq!(
        old_public.linked(LinkType::ReplacementObjectLink),
        Some(r.public_key_unique_identifier.as_str())
    );
    let unknown = ReKeyKeyPairRequest {
        private_key_unique_identifier: Some(public),
        ..Default::default()
    };
    assert_failed(
        &h.one(&h.alice, V2_1, unknown),
        ResultReason::InvalidObjectType,
    );
}

#[test]
fn keys_convert_between_formats_on_get() {
    let h = Harness::new();
    let (private, public) = create_pair(
        &h,
        V2_1,
        key_pair_request(CryptographicAlgorithm::Rsa, 2048, false),
    );
    for format in [
        KeyFormatType::Pkcs8,
        KeyFormatType::TransparentRsaPrivateKey,
        KeyFormatType::Pkcs1,
    ] {
        let ResponsePayload::Get(r) = h.ok(
            &h.alice,
            V2_1,
            GetRequest {
                key_format_type: Some(format),
                ..get(&private)
            },
        ) else {
            panic!()
        };
        assert_eq!(
            r.object.0.unwrap().key_block().unwrap().key_format_type,
            format
        );
    }
    let ResponsePayload::Get(r) = h.ok(
        &h.alice,
        V1_4,
        GetRequest {
            key_format_type: Some(KeyFormatType::X509),
            ..get(&public)
        },
    ) else {
        panic!()
    };
    let block = r.object.0.unwrap().key_block().cloned().unwrap();
    let KeyMaterial::Bytes(spki) = block.key_value.unwrap().material else {
        panic!()
    };
    assert_eq!(&spki[..2], &[0x30, 0x82], "an SPKI DER SEQUENCE");
    let refused = h.one(
        &h.alice,
        V2_1,
        GetRequest {
            key_format_type: Some(KeyFormatType::EcPrivateKey),
            ..get(&private)
        },
    );
    assert_failed(&refused, ResultReason::KeyFormatTypeNotSupported);
}

/// KMIP Big Integers are two's complement: a Transparent RSA Private Key whose components come back from Get
/// registers again, and the same key with an unsigned modulus (its top bit set, no leading zero byte) is
/// refused as negative, naming the component, rather than read as a guessed magnitude.
#[test]
fn transparent_key_components_must_be_positive_big_integers() {
    let h = Harness::new();
    let (private, _) = create_pair(
        &h,
        V2_1,
        key_pair_request(CryptographicAlgorithm::Rsa, 2048, false),
    );
    let ResponsePayload::Get(r) = h.ok(
        &h.alice,
        V2_1,
        GetRequest {
            key_format_type: Some(KeyFormatType::TransparentRsaPrivateKey),
            ..get(&private)
        },
    ) else {
        panic!()
    };
    let block = r.object.0.unwrap().key_block().cloned().unwrap();
    let register = |block: KeyBlock| RegisterRequest {
        object_type: ObjectType::PrivateKey,
        attributes: Attributes::new(),
        object: ObjectField(Some(ManagedObject::PrivateKey(block))),
        protection_storage_masks: None,
    };
    h.ok(&h.alice, V2_1, register(block.clone()));

    let mut unsigned = block;
    let Some(KeyMaterial::TransparentRsaPrivateKey(parts)) =
        unsigned.key_value.as_mut().map(|v| &mut v.material)
    else {
        panic!("a Transparent RSA Private Key")
    };
    assert_eq!(
        parts.modulus[0], 0,
        "a 2048-bit modulus needs its sign byte"
    );
    parts.modulus.remove(0);
    let refused = h.one(&h.alice, V2_1, register(unsigned));
    assert_failed(&refused, ResultReason::InvalidField);
    assert!(
        refused
            .result_message
            .as_deref()
            .is_some_and(|m| m.contains("Modulus is a negative Big Integer")),
        "{:?}",
        refused.result_message
    );
}

/// A Sign that names an elliptic-curve scheme is answered on the connection's own task, so the request's word is
/// held against the key: naming ECDSA for an RSA key is refused as Invalid Field before the key is parsed, and
/// the same key signs when the request names its own scheme.
#[test]
fn a_sign_naming_ecdsa_for_an_rsa_key_is_refused() {
    use kmip::attributes::CryptographicParameters;
    use kmip::enums::DigitalSignatureAlgorithm;
    let h = Harness::new();
    let (private, _) = create_pair(
        &h,
        V2_1,
        key_pair_request(CryptographicAlgorithm::Rsa, 2048, true),
    );
    let claiming = |dsa| SignRequest {
        cryptographic_parameters: Some(CryptographicParameters {
            digital_signature_algorithm: Some(dsa),
            ..CryptographicParameters::default()
        }),
        ..sign(&private, b"claims to be ECDSA")
    };
    let refused = h.one(
        &h.alice,
        V2_1,
        claiming(DigitalSignatureAlgorithm::EcdsaWithSha256),
    );
    assert_failed(&refused, ResultReason::InvalidField);
    assert!(
        refused
            .result_message
            .as_deref()
            .is_some_and(|m| m.contains("names an elliptic-curve signature")),
        "{:?}",
        refused.result_message
    );
    h.ok(
        &h.alice,
        V2_1,
        claiming(DigitalSignatureAlgorithm::Sha256WithRsaEncryption),
    );
}

#[test]
fn unparseable_or_unsupported_pair_requests_are_typed_errors() {
    let h = Harness::new();
    let garbage = ManagedObject::PrivateKey(KeyBlock::new(
        KeyFormatType::Pkcs8,
        KeyMaterial::Bytes(Zeroizing::new(vec![0x30, 0x80, 0x01])),
        Some(CryptographicAlgorithm::Rsa),
        Some(2048),
    ));
    for version in [V1_4, V2_1] {
        let request = RegisterRequest {
            object_type: ObjectType::PrivateKey,
            attributes: Attributes::new(),
            object: ObjectField(Some(garbage.clone())),
            protection_storage_masks: None,
        };
        assert_failed(
            &h.one(&h.alice, version, request),
            ResultReason::InvalidField,
        );
    }
    let odd = key_pair_request(CryptographicAlgorithm::Rsa, 1000, false);
    assert_failed(
        &h.one(&h.alice, V2_1, odd.clone()),
        ResultReason::UnsupportedCryptographicParameters,
    );
    assert_failed(&h.one(&h.alice, V1_4, odd), ResultReason::InvalidField);
    let other_tenant = h.one(&h.bob, V2_1, sign("no-such-key", b"x"));
    assert_failed(&other_tenant, ResultReason::ObjectNotFound);
}

#[test]
fn a_private_key_whose_usage_mask_lacks_sign_cannot_sign() {
    for (version, reason) in [
        (V2_1, ResultReason::IncompatibleCryptographicUsageMask),
        (V1_4, ResultReason::PermissionDenied),
    ] {
        let h = Harness::new();
        let mut request = key_pair_request(CryptographicAlgorithm::Ec, 256, true);
        // Decrypt only: an active private key of the right algorithm, but not one allowed to sign.
        request.private_key_attributes =
            Some(vec![mask(&[CryptographicUsageMask::DECRYPT])].into());
        let (private, _) = create_pair(&h, version, request);
        assert_failed(&h.one(&h.alice, version, sign(&private, b"x")), reason);
        // The same pair with Sign in the mask signs.
        let (signer, _) = create_pair(
            &h,
            version,
            key_pair_request(CryptographicAlgorithm::Ec, 256, true),
        );
        signature_of(h.ok(&h.alice, version, sign(&signer, b"x")));
    }
}

#[test]
fn key_pairs_and_randomised_operations_fail_closed_with_the_pool_while_stored_keys_still_verify() {
    let healthy = Harness::new();
    let (ec_private, ec_public) = create_pair(
        &healthy,
        V2_1,
        key_pair_request(CryptographicAlgorithm::Ec, 256, true),
    );
    let signature = signature_of(healthy.ok(&healthy.alice, V2_1, sign(&ec_private, b"kept")));

    // Same store, a pool whose only source is stuck.
    let mut failing = Harness::with_pool(failing_pool());
    failing.state.store = std::sync::Arc::clone(&healthy.state.store);
    let pair = failing.one(
        &failing.alice,
        V2_1,
        key_pair_request(CryptographicAlgorithm::Ec, 256, true),
    );
    assert_failed(&pair, ResultReason::CryptographicFailure);
    assert!(pair.result_message.unwrap().contains("stuck-qrng"));
    // ECDSA's nonce is hedged with pool bytes: no signature without them.
    let signed = failing.one(&failing.alice, V2_1, sign(&ec_private, b"new"));
    assert_failed(&signed, ResultReason::CryptographicFailure);
    // Verifying needs no randomness.
    assert_eq!(
        validity(failing.ok(
            &failing.alice,
            V2_1,
            verify(&ec_public, b"kept", &signature)
        )),
        validity::VALID
    );
}

#[test]
fn digested_data_under_pkcs1v15_with_no_hash_named_is_signed_as_given() {
    use kmip::attributes::CryptographicParameters;
    use kmip::enums::{HashingAlgorithm, PaddingMethod};
    let h = Harness::new();
    let (private, public) = create_pair(
        &h,
        V2_1,
        key_pair_request(CryptographicAlgorithm::Rsa, 2048, true),
    );
    let pkcs1 = |hash: Option<HashingAlgorithm>| CryptographicParameters {
        cryptographic_algorithm: Some(CryptographicAlgorithm::Rsa),
        padding_method: Some(PaddingMethod::Pkcs1v1_5),
        hashing_algorithm: hash,
        ..CryptographicParameters::default()
    };
    let digested = |value: &[u8], hash| SignRequest {
        unique_identifier: Some(private.clone()),
        cryptographic_parameters: Some(pkcs1(hash)),
        digested_data: Some(value.to_vec()),
        ..SignRequest::default()
    };
    // 36 bytes of no hash (TLS 1.1's MD5 || SHA-1): signed, and verified the same way.
    let encoded: Vec<u8> = (100u8..136).collect();
    let raw = signature_of(h.ok(&h.alice, V2_1, digested(&encoded, None)));
    let check = SignatureVerifyRequest {
        unique_identifier: Some(public.clone()),
        cryptographic_parameters: Some(pkcs1(None)),
        digested_data: Some(encoded.clone()),
        signature_data: Some(raw.clone()),
        ..SignatureVerifyRequest::default()
    };
    assert_eq!(validity(h.ok(&h.alice, V2_1, check)), validity::VALID);
    // A 32-byte value with SHA-256 named gets its DigestInfo; the same bytes with no hash do not.
    let digest = [9u8; 32];
    assert_ne!(
        signature_of(h.ok(&h.alice, V2_1, digested(&digest, None))),
        signature_of(h.ok(
            &h.alice,
            V2_1,
            digested(&digest, Some(HashingAlgorithm::Sha256))
        ))
    );
    // Longer than k - 11: a clear error, no signature.
    let too_long = h.one(&h.alice, V2_1, digested(&[1; 246], None));
    assert_failed(&too_long, ResultReason::InvalidField);
    assert!(too_long.result_message.unwrap().contains("too long"));
}
