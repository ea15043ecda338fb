//! "Seed then generate" for held keys (part of `--test hsm_held_keys`), forced with `[hsm] generate_held_keys`
//! (the path a token that refuses C_UnwrapKey takes): the dispatcher in process over the operations harness and a
//! real SoftHSM2 token. The key's provenance says it was generated in the HSM after C_SeedRandom; an AES key
//! encrypts and decrypts inside the HSM; an EC pair signs inside the HSM and the signature verifies in software
//! with the public key the store holds, which is therefore the HSM's and not the one the server first drew.

use std::sync::Arc;

use hsm_bridge::softhsm::SoftHsmToken;
use hsm_bridge::Hsm;
use kmip::attributes::{
    Attribute, CryptographicDomainParameters, CryptographicParameters, CryptographicUsageMask,
    KnownAttribute,
};
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, DigitalSignatureAlgorithm, RecommendedCurve,
};
use kmip::payloads::*;

use super::operations_harness::{self, Harness, V2_1};
use super::{token_objects, LABEL, TURN};

fn in_hsm() -> Attribute {
    Attribute::Custom(kmip::attributes::CustomAttribute {
        vendor_identification: "x".into(),
        attribute_name: "qkms-hsm".into(),
        value: ttlv::Value::TextString(LABEL.into()),
    })
}

fn origin(h: &Harness, uid: &str) -> String {
    match h
        .attributes(&h.alice, V2_1, uid)
        .custom("x", "qkms-key-origin")
    {
        Some(ttlv::Value::TextString(text)) => text.clone(),
        other => panic!("{uid} has no x-qkms-key-origin: {other:?}"),
    }
}

#[test]
fn seed_then_generate_makes_working_keys_and_says_so() {
    let _turn = TURN.blocking_lock();
    let dir = tempfile::tempdir().unwrap();
    let token = SoftHsmToken::create(dir.path(), LABEL, "user-pin-3579").unwrap();
    token.activate();
    let mut h = Harness::new();
    h.state.settings.key_hsm = Some(Arc::new(
        Hsm::connect(token.settings()).expect("SoftHSM2 connects"),
    ));
    h.state.settings.generate_held_keys = true;

    // AES: generated in the HSM, no digest of a value the server never had, GCM round trip inside the HSM.
    let mut create = operations_harness::create_aes(256, "generated-aes");
    create.attributes.push(in_hsm());
    create.attributes.push(Attribute::ActivationDate(0));
    let ResponsePayload::Create(aes) = h.ok(&h.alice, V2_1, create) else {
        panic!("not a Create answer")
    };
    let aes = aes.unique_identifier;
    let provenance = origin(&h, &aes);
    assert!(
        provenance.contains("generated inside the HSM") && provenance.contains("C_SeedRandom"),
        "{provenance}"
    );
    assert!(h
        .attributes(&h.alice, V2_1, &aes)
        .get(&KnownAttribute::Digest.into())
        .is_none());
    let gcm = CryptographicParameters {
        block_cipher_mode: Some(BlockCipherMode::Gcm),
        ..CryptographicParameters::default()
    };
    let ResponsePayload::Encrypt(sealed) = h.ok(
        &h.alice,
        V2_1,
        EncryptRequest {
            unique_identifier: Some(aes.clone()),
            cryptographic_parameters: Some(gcm.clone()),
            data: Some(b"seeded, then generated".to_vec().into()),
            ..EncryptRequest::default()
        },
    ) else {
        panic!("not an Encrypt answer")
    };
    let ResponsePayload::Decrypt(opened) = h.ok(
        &h.alice,
        V2_1,
        DecryptRequest {
            unique_identifier: Some(aes.clone()),
            cryptographic_parameters: Some(gcm),
            data: sealed.data.clone(),
            iv_counter_nonce: sealed.iv_counter_nonce.clone(),
            authenticated_encryption_tag: sealed.authenticated_encryption_tag.clone(),
            ..DecryptRequest::default()
        },
    ) else {
        panic!("not a Decrypt answer")
    };
    assert_eq!(
        opened.data.as_ref().map(|d| d.expose().to_vec()),
        Some(b"seeded, then generated".to_vec())
    );

    // EC P-256: the HSM signs; Signature Verify runs in software with the stored public key.
    let common: kmip::attributes::Attributes = vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Ec),
        Attribute::CryptographicLength(256),
        Attribute::CryptographicDomainParameters(CryptographicDomainParameters {
            qlength: None,
            recommended_curve: Some(RecommendedCurve::P256),
        }),
        Attribute::ActivationDate(0),
        in_hsm(),
    ]
    .into();
    let ResponsePayload::CreateKeyPair(pair) = h.ok(
        &h.alice,
        V2_1,
        CreateKeyPairRequest {
            common_attributes: Some(common),
            private_key_attributes: Some(
                vec![Attribute::CryptographicUsageMask(
                    CryptographicUsageMask::SIGN,
                )]
                .into(),
            ),
            public_key_attributes: Some(
                vec![Attribute::CryptographicUsageMask(
                    CryptographicUsageMask::VERIFY,
                )]
                .into(),
            ),
            ..CreateKeyPairRequest::default()
        },
    ) else {
        panic!("not a Create Key Pair answer")
    };
    let private = pair.private_key_unique_identifier;
    assert!(origin(&h, &private).contains("generated inside the HSM"));
    let ecdsa = CryptographicParameters {
        digital_signature_algorithm: Some(DigitalSignatureAlgorithm::EcdsaWithSha256),
        ..CryptographicParameters::default()
    };
    let data = b"signed inside the HSM".to_vec();
    let ResponsePayload::Sign(signed) = h.ok(
        &h.alice,
        V2_1,
        SignRequest {
            unique_identifier: Some(private.clone()),
            cryptographic_parameters: Some(ecdsa.clone()),
            data: Some(data.clone()),
            ..SignRequest::default()
        },
    ) else {
        panic!("not a Sign answer")
    };
    let verify = |data: Vec<u8>| {
        let ResponsePayload::SignatureVerify(verified) = h.ok(
            &h.alice,
            V2_1,
            SignatureVerifyRequest {
                unique_identifier: Some(pair.public_key_unique_identifier.clone()),
                cryptographic_parameters: Some(ecdsa.clone()),
                data: Some(data),
                signature_data: signed.signature_data.clone(),
                ..SignatureVerifyRequest::default()
            },
        ) else {
            panic!("not a Signature Verify answer")
        };
        verified.validity_indicator.map(|v| v.0)
    };
    assert_eq!(verify(data), Some(validity::VALID));
    assert_eq!(verify(b"something else".to_vec()), Some(validity::INVALID));

    // Outside view: the token holds the generated keys under their uids; the pair's public object was a
    // session object and is gone.
    let listing = token_objects(&token);
    assert!(
        listing.contains(&aes) && listing.contains(&private),
        "{listing}"
    );
    assert!(!listing.contains("Public Key Object"), "{listing}");
}
