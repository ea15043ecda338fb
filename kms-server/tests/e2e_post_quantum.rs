//! Post-quantum keys end to end beyond Create Key Pair: the `qkms-server` binary, the `kmip` client over mutual
//! TLS (KMIP 2.1). Register in the expanded (ML-KEM, ML-DSA), seed and PKCS#8 forms, Export as PKCS#8, Locate by
//! algorithm, Query's provisional marking, Destroy, and bad inputs answered with their Result Reasons. The
//! neighbouring `e2e_post_quantum_dsa` and `e2e_post_quantum_kem` cover signing and key encapsulation.

mod e2e_support;

use e2e_support::post_quantum::*;
use e2e_support::*;
use fips203::traits::{Encaps, KeyGen as _, SerDes as _};
use fips204::traits::{KeyGen as _, SerDes as _, Verifier as _};
use kmip::attributes::{Attribute, CryptographicUsageMask as Mask, Name};
use kmip::enums::{CryptographicAlgorithm as A, KeyFormatType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::*;
use kmip::ResultReason;
use zeroize::Zeroizing;

#[tokio::test]
async fn register_get_export_locate_destroy_and_wrong_key_types() {
    let mut r = start().await;
    let c = &mut r.client;
    // Register an ML-KEM-768 private key in the expanded form and its public key in SPKI, from the reference.
    let (ek, dk) = fips203::ml_kem_768::KG::keygen_from_seed([1; 32], [2; 32]);
    let registered = c
        .register(register(
            ManagedObject::PrivateKey(raw_block(A::MlKem768, &dk.into_bytes())),
            vec![
                Attribute::Name(Name::text("kem-registered")),
                mask(&[Mask::DECRYPT]),
                Attribute::ActivationDate(0),
            ],
        ))
        .await
        .expect("Register an expanded ML-KEM key")
        .unique_identifier;
    let attributes = c
        .get_attributes(get_attributes(&registered))
        .await
        .unwrap()
        .attributes
        .0;
    assert_eq!(attributes.cryptographic_algorithm(), Some(A::MlKem768));
    assert_eq!(attributes.cryptographic_length(), Some(768));
    // Encapsulating with the reference to its public key, the registered key decapsulates.
    let (ss, ct) = ek.encaps_from_seed(&[5; 32]);
    let out = c
        .decapsulate(DecapsulateRequest {
            unique_identifier: Some(registered.clone()),
            data: Some(ct.into_bytes().to_vec()),
            ..DecapsulateRequest::default()
        })
        .await
        .expect("Decapsulate with a registered key");
    assert_eq!(
        secret_of(c, &out.unique_identifier).await,
        ss.into_bytes().to_vec()
    );

    // An ML-DSA-65 key registered by seed, exported as PKCS#8 (RFC 9881), registered again from that PKCS#8.
    let seed = [3u8; 32];
    let by_seed = c
        .register(register(
            ManagedObject::PrivateKey(raw_block(A::MlDsa65, &seed)),
            vec![Attribute::Name(Name::text("dsa-seed")), mask(&[Mask::SIGN])],
        ))
        .await
        .expect("Register an ML-DSA seed")
        .unique_identifier;
    let exported = c
        .export(ExportRequest {
            unique_identifier: Some(by_seed.clone()),
            key_format_type: Some(KeyFormatType::Pkcs8),
            ..ExportRequest::default()
        })
        .await
        .expect("Export as PKCS#8");
    let pkcs8 = exported
        .object
        .0
        .as_ref()
        .unwrap()
        .key_block()
        .unwrap()
        .key_value
        .as_ref()
        .unwrap()
        .material
        .clone();
    let KeyMaterial::Bytes(pkcs8) = pkcs8 else {
        panic!("PKCS#8 is bytes")
    };
    let again = c
        .register(register(
            ManagedObject::PrivateKey(KeyBlock::new(
                KeyFormatType::Pkcs8,
                KeyMaterial::Bytes(pkcs8),
                None,
                None,
            )),
            vec![
                Attribute::Name(Name::text("dsa-pkcs8")),
                mask(&[Mask::SIGN]),
            ],
        ))
        .await
        .expect("Register PKCS#8")
        .unique_identifier;
    assert_eq!(
        get_as(c, &again, Some(KeyFormatType::Raw)).await,
        seed.to_vec()
    );
    let attributes = c
        .get_attributes(get_attributes(&again))
        .await
        .unwrap()
        .attributes
        .0;
    assert_eq!(attributes.cryptographic_algorithm(), Some(A::MlDsa65));

    // An ML-DSA-87 key registered in the expanded form only: it signs what the reference verifies; it has no
    // seed, so PKCS#8 is refused.
    let (pk87, sk87) = fips204::ml_dsa_87::KG::keygen_from_seed(&[4; 32]);
    let expanded = c
        .register(register(
            ManagedObject::PrivateKey(raw_block(A::MlDsa87, &sk87.into_bytes())),
            vec![
                Attribute::Name(Name::text("dsa-expanded")),
                mask(&[Mask::SIGN]),
                Attribute::ActivationDate(0),
            ],
        ))
        .await
        .expect("Register an expanded ML-DSA key")
        .unique_identifier;
    let signature = c
        .sign(SignRequest {
            unique_identifier: Some(expanded.clone()),
            data: Some(b"from the expanded form".to_vec()),
            ..SignRequest::default()
        })
        .await
        .expect("Sign with an expanded key")
        .signature_data
        .unwrap();
    assert!(pk87.verify(
        b"from the expanded form",
        &signature.try_into().unwrap(),
        b""
    ));
    let pkcs8 = c
        .get(GetRequest {
            unique_identifier: Some(expanded.clone()),
            key_format_type: Some(KeyFormatType::Pkcs8),
            ..GetRequest::default()
        })
        .await;
    assert_eq!(
        reason(pkcs8),
        ResultReason::UnsupportedCryptographicParameters
    );
    let mut broken = fips204::ml_dsa_87::KG::keygen_from_seed(&[5; 32])
        .1
        .into_bytes();
    broken[70] ^= 1;
    let refused = c
        .register(register(
            ManagedObject::PrivateKey(raw_block(A::MlDsa87, &broken)),
            vec![],
        ))
        .await;
    assert_eq!(reason(refused), ResultReason::InvalidField);

    // Locate by algorithm finds exactly the ML-DSA-65 keys.
    let found = c
        .locate(locate(vec![Attribute::CryptographicAlgorithm(A::MlDsa65)]))
        .await
        .unwrap()
        .unique_identifiers;
    assert_eq!(
        found
            .iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        [by_seed.clone(), again.clone()].into_iter().collect()
    );

    // Bad inputs: wrong seed length, a Raw key without algorithm, ML-DSA expanded form, wrong key type for the
    // operation, a Cryptographic Length that contradicts the parameter set.
    let short = c
        .register(register(
            ManagedObject::PrivateKey(raw_block(A::MlDsa44, &[0; 31])),
            vec![],
        ))
        .await;
    assert_eq!(reason(short), ResultReason::InvalidField);
    let no_algorithm = c
        .register(register(
            ManagedObject::PrivateKey(KeyBlock::new(
                KeyFormatType::Raw,
                KeyMaterial::Bytes(Zeroizing::new(vec![0; 32])),
                None,
                None,
            )),
            vec![],
        ))
        .await;
    assert_eq!(
        reason(no_algorithm),
        ResultReason::KeyFormatTypeNotSupported
    );
    let bad_public = c
        .register(register(
            ManagedObject::PublicKey(raw_block(A::MlKem512, &[0xFF; 800])),
            vec![],
        ))
        .await;
    assert_eq!(reason(bad_public), ResultReason::InvalidField);
    let encapsulate_with_dsa = c
        .encapsulate(EncapsulateRequest {
            unique_identifier: Some(by_seed.clone()),
            ..EncapsulateRequest::default()
        })
        .await;
    assert_eq!(
        reason(encapsulate_with_dsa),
        ResultReason::InvalidObjectType
    );
    let sign_with_kem = c
        .sign(SignRequest {
            unique_identifier: Some(registered.clone()),
            data: Some(b"x".to_vec()),
            ..SignRequest::default()
        })
        .await;
    assert_eq!(
        reason(sign_with_kem),
        ResultReason::IncompatibleCryptographicUsageMask
    );
    let mut wrong_length = pair_request(A::MlKem768, "bad", &[], &[]);
    wrong_length
        .common_attributes
        .as_mut()
        .unwrap()
        .push(Attribute::CryptographicLength(1024));
    assert_eq!(
        reason(c.create_key_pair(wrong_length).await),
        ResultReason::UnsupportedCryptographicParameters
    );

    // Query says which post-quantum wire choices are provisional, and lists the two operations.
    let query = c
        .query(QueryRequest {
            query_functions: vec![
                QueryFunction::QueryOperations,
                QueryFunction::QueryServerInformation,
            ],
        })
        .await
        .expect("Query");
    for op in [kmip::Operation::Encapsulate, kmip::Operation::Decapsulate] {
        assert!(
            query.operations.contains(&kmip::OperationCode::Known(op)),
            "{op}"
        );
    }
    let information = format!("{:?}", query.server_information);
    assert!(
        information.contains("provisional until KMIP 3.0"),
        "{information}"
    );

    // Destroy: the key can no longer be used.
    c.destroy(&by_seed).await.expect("Destroy");
    let after = c
        .sign(SignRequest {
            unique_identifier: Some(by_seed.clone()),
            data: Some(b"x".to_vec()),
            ..SignRequest::default()
        })
        .await;
    assert_eq!(reason(after), ResultReason::WrongKeyLifecycleState);
}
