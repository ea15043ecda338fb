//! ML-KEM and ML-DSA keys end to end: the `qkms-server` binary on a real set-up directory, the `kmip` client
//! over mutual TLS (KMIP 2.1). Create Key Pair, Get / Export in the seed (Raw), expanded (Opaque), PKCS#8 and
//! SubjectPublicKeyInfo forms, Register in those forms, Sign / Signature Verify (pure and HashML-DSA),
//! Encapsulate / Decapsulate (the shared secret as a Secret Data), Locate by algorithm, Destroy, provenance,
//! and bad inputs answered with their Result Reasons. Keys and signatures are checked against the independent
//! `fips203` / `fips204` implementations on the client side.

mod e2e_support;

use e2e_support::*;
use fips203::traits::{Decaps, Encaps, KeyGen as _, SerDes as _};
use fips204::traits::{KeyGen as _, SerDes as _, Signer as _, Verifier as _};
use kmip::attributes::{Attribute, CryptographicParameters, CryptographicUsageMask as Mask, Name};
use kmip::client::{Client, ClientError};
use kmip::enums::{
    CryptographicAlgorithm as A, HashingAlgorithm, KeyFormatType, LinkType, ObjectType,
};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::*;
use kmip::ResultReason;
use zeroize::Zeroizing;

fn mask(bits: &[Mask]) -> Attribute {
    Attribute::CryptographicUsageMask(Mask(bits.iter().fold(0, |a, m| a | m.bits())))
}

fn pair_request(
    algorithm: A,
    name: &str,
    private: &[Mask],
    public: &[Mask],
) -> CreateKeyPairRequest {
    CreateKeyPairRequest {
        common_attributes: Some(
            vec![
                Attribute::CryptographicAlgorithm(algorithm),
                Attribute::ActivationDate(0),
            ]
            .into(),
        ),
        private_key_attributes: Some(
            vec![
                Attribute::Name(Name::text(format!("{name}-private"))),
                mask(private),
            ]
            .into(),
        ),
        public_key_attributes: Some(
            vec![
                Attribute::Name(Name::text(format!("{name}-public"))),
                mask(public),
            ]
            .into(),
        ),
        ..CreateKeyPairRequest::default()
    }
}

async fn get_as(client: &mut Client, uid: &str, format: Option<KeyFormatType>) -> Vec<u8> {
    let response = client
        .get(GetRequest {
            unique_identifier: Some(uid.into()),
            key_format_type: format,
            ..GetRequest::default()
        })
        .await
        .expect("Get");
    material(&response)
}

fn reason(result: Result<impl std::fmt::Debug, ClientError>) -> ResultReason {
    match result {
        Err(ClientError::Operation {
            reason, message, ..
        }) => {
            assert!(message.len() > 5, "a failure says why: {message:?}");
            reason
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn raw_block(algorithm: A, bytes: &[u8]) -> KeyBlock {
    KeyBlock::new(
        KeyFormatType::Raw,
        KeyMaterial::Bytes(Zeroizing::new(bytes.to_vec())),
        Some(algorithm),
        None,
    )
}

fn register(object: ManagedObject, attributes: Vec<Attribute>) -> RegisterRequest {
    RegisterRequest {
        object_type: object.object_type(),
        attributes: attributes.into(),
        object: ObjectField(Some(object)),
        protection_storage_masks: None,
    }
}

async fn secret_of(client: &mut Client, uid: &str) -> Vec<u8> {
    get_as(client, uid, None).await
}

struct Running {
    _setup: SetUp,
    _server: ServerProcess,
    client: Client,
}

async fn start() -> Running {
    let setup = SetUp::init();
    let server = ServerProcess::start(&setup).expect("the server starts");
    let client = server.connect(&setup.client).await;
    Running {
        _setup: setup,
        _server: server,
        client,
    }
}

#[tokio::test]
async fn ml_dsa_pairs_sign_and_verify_and_match_fips204() {
    let mut r = start().await;
    let c = &mut r.client;
    for (algorithm, level) in [(A::MlDsa44, 44), (A::MlDsa65, 65), (A::MlDsa87, 87)] {
        let pair = c
            .create_key_pair(pair_request(
                algorithm,
                "dsa",
                &[Mask::SIGN],
                &[Mask::VERIFY],
            ))
            .await
            .expect("Create Key Pair");
        let (private, public) = (
            pair.private_key_unique_identifier,
            pair.public_key_unique_identifier,
        );
        // Both keys carry the pool's provenance, are linked, and name the parameter set.
        for (uid, link) in [
            (&private, LinkType::PublicKeyLink),
            (&public, LinkType::PrivateKeyLink),
        ] {
            let attributes = c
                .get_attributes(get_attributes(uid))
                .await
                .unwrap()
                .attributes
                .0;
            assert_eq!(attributes.cryptographic_algorithm(), Some(algorithm));
            assert_eq!(attributes.cryptographic_length(), Some(level));
            assert!(attributes.linked(link).is_some());
            assert!(attributes
                .iter()
                .any(|a| matches!(a, Attribute::RandomNumberGenerator(_))));
            assert!(
                attributes.iter().any(
                    |a| matches!(a, Attribute::Custom(c) if c.attribute_name.contains("entropy"))
                ),
                "{attributes:?}"
            );
        }
        // The seed is the stored form; the reference derives the same public and expanded keys from it.
        let seed = get_as(c, &private, None).await;
        assert_eq!(seed.len(), 32);
        let public_raw = get_as(c, &public, Some(KeyFormatType::Raw)).await;
        let expanded = get_as(c, &private, Some(KeyFormatType::Opaque)).await;
        let seed32: [u8; 32] = seed.clone().try_into().unwrap();
        macro_rules! check_reference {
            ($m:ident) => {{
                let (pk, sk) = fips204::$m::KG::keygen_from_seed(&seed32);
                assert_eq!(pk.clone().into_bytes().to_vec(), public_raw);
                assert_eq!(sk.clone().into_bytes().to_vec(), expanded);
                (pk, sk)
            }};
        }
        // Pure ML-DSA: qkms signs, the reference and qkms verify; the reference signs, qkms verifies.
        let message = b"signed over real TLS".to_vec();
        let signature = c
            .sign(SignRequest {
                unique_identifier: Some(private.clone()),
                data: Some(message.clone()),
                ..SignRequest::default()
            })
            .await
            .expect("Sign")
            .signature_data
            .unwrap();
        let verify = |signature: Vec<u8>,
                      params: Option<CryptographicParameters>,
                      data: Option<Vec<u8>>,
                      digest: Option<Vec<u8>>| SignatureVerifyRequest {
            unique_identifier: Some(public.clone()),
            cryptographic_parameters: params,
            data,
            digested_data: digest,
            signature_data: Some(signature),
            ..SignatureVerifyRequest::default()
        };
        let valid = |r: SignatureVerifyResponse| r.validity_indicator.unwrap().0 == 1;
        assert!(valid(
            c.signature_verify(verify(signature.clone(), None, Some(message.clone()), None))
                .await
                .unwrap()
        ));
        let mut tampered = signature.clone();
        tampered[10] ^= 1;
        assert!(!valid(
            c.signature_verify(verify(tampered, None, Some(message.clone()), None))
                .await
                .unwrap()
        ));
        match level {
            44 => {
                let (pk, sk) = check_reference!(ml_dsa_44);
                assert!(pk.verify(&message, &signature.clone().try_into().unwrap(), b""));
                let theirs = sk.try_sign_with_seed(&[7; 32], &message, b"").unwrap();
                assert!(valid(
                    c.signature_verify(verify(theirs.to_vec(), None, Some(message.clone()), None))
                        .await
                        .unwrap()
                ));
            }
            65 => {
                let (pk, sk) = check_reference!(ml_dsa_65);
                assert!(pk.verify(&message, &signature.clone().try_into().unwrap(), b""));
                let theirs = sk.try_sign_with_seed(&[7; 32], &message, b"").unwrap();
                assert!(valid(
                    c.signature_verify(verify(theirs.to_vec(), None, Some(message.clone()), None))
                        .await
                        .unwrap()
                ));
            }
            _ => {
                let (pk, sk) = check_reference!(ml_dsa_87);
                assert!(pk.verify(&message, &signature.clone().try_into().unwrap(), b""));
                let theirs = sk.try_sign_with_seed(&[7; 32], &message, b"").unwrap();
                assert!(valid(
                    c.signature_verify(verify(theirs.to_vec(), None, Some(message.clone()), None))
                        .await
                        .unwrap()
                ));
            }
        }
        // HashML-DSA with SHA-256: over the data by qkms, verified over the client's digest.
        let sha256 = CryptographicParameters {
            hashing_algorithm: Some(HashingAlgorithm::Sha256),
            ..CryptographicParameters::default()
        };
        let pre_hashed = c
            .sign(SignRequest {
                unique_identifier: Some(private.clone()),
                cryptographic_parameters: Some(sha256.clone()),
                data: Some(message.clone()),
                ..SignRequest::default()
            })
            .await
            .expect("HashML-DSA Sign")
            .signature_data
            .unwrap();
        let digest =
            kms_server::crypto::hash::digest(kms_server::crypto::HashAlgorithm::Sha256, &message);
        assert!(valid(
            c.signature_verify(verify(
                pre_hashed.clone(),
                Some(sha256.clone()),
                None,
                Some(digest)
            ))
            .await
            .unwrap()
        ));
        // A HashML-DSA signature is not a pure one.
        assert!(!valid(
            c.signature_verify(verify(pre_hashed, None, Some(message.clone()), None))
                .await
                .unwrap()
        ));
    }
}

#[tokio::test]
async fn ml_kem_pairs_encapsulate_and_decapsulate_both_ways() {
    let mut r = start().await;
    let c = &mut r.client;
    for algorithm in [A::MlKem512, A::MlKem768, A::MlKem1024] {
        let pair = c
            .create_key_pair(pair_request(
                algorithm,
                "kem",
                &[Mask::DECRYPT],
                &[Mask::ENCRYPT],
            ))
            .await
            .expect("Create Key Pair");
        let (private, public) = (
            pair.private_key_unique_identifier,
            pair.public_key_unique_identifier,
        );
        let seed = get_as(c, &private, None).await;
        assert_eq!(seed.len(), 64);
        let expanded = get_as(c, &private, Some(KeyFormatType::Opaque)).await;
        let public_raw = get_as(c, &public, Some(KeyFormatType::Raw)).await;

        // qkms encapsulates; the shared secret is a Secret Data linked to the key, with pool provenance.
        let encapsulated = c
            .encapsulate(EncapsulateRequest {
                unique_identifier: Some(public.clone()),
                ..EncapsulateRequest::default()
            })
            .await
            .expect("Encapsulate");
        let ciphertext = encapsulated.data.clone().unwrap();
        let ours = secret_of(c, &encapsulated.unique_identifier).await;
        assert_eq!(ours.len(), 32);
        let attributes = c
            .get_attributes(get_attributes(&encapsulated.unique_identifier))
            .await
            .unwrap()
            .attributes
            .0;
        assert_eq!(attributes.object_type(), Some(ObjectType::SecretData));
        assert_eq!(
            attributes.linked(LinkType::DerivationBaseObjectLink),
            Some(public.as_str())
        );
        assert!(attributes
            .iter()
            .any(|a| matches!(a, Attribute::RandomNumberGenerator(_))));
        // qkms decapsulates its own ciphertext to the same secret.
        let decapsulated = c
            .decapsulate(DecapsulateRequest {
                unique_identifier: Some(private.clone()),
                data: Some(ciphertext.clone()),
                ..DecapsulateRequest::default()
            })
            .await
            .expect("Decapsulate");
        assert_eq!(secret_of(c, &decapsulated.unique_identifier).await, ours);

        // The reference, from the seed qkms gave, has the same keys, decapsulates qkms's ciphertext, and
        // encapsulates to qkms's public key what qkms decapsulates.
        let (d, z) = seed.split_at(32);
        macro_rules! reference {
            ($m:ident) => {{
                let (ek, dk) =
                    fips203::$m::KG::keygen_from_seed(d.try_into().unwrap(), z.try_into().unwrap());
                assert_eq!(ek.clone().into_bytes().to_vec(), public_raw);
                assert_eq!(dk.clone().into_bytes().to_vec(), expanded);
                let ct =
                    fips203::$m::CipherText::try_from_bytes(ciphertext.clone().try_into().unwrap())
                        .unwrap();
                assert_eq!(dk.try_decaps(&ct).unwrap().into_bytes().to_vec(), ours);
                let (ss, ct) = ek.encaps_from_seed(&[9; 32]);
                (ss.into_bytes().to_vec(), ct.into_bytes().to_vec())
            }};
        }
        let (their_secret, their_ct) = match algorithm {
            A::MlKem512 => reference!(ml_kem_512),
            A::MlKem768 => reference!(ml_kem_768),
            _ => reference!(ml_kem_1024),
        };
        let decapsulated = c
            .decapsulate(DecapsulateRequest {
                unique_identifier: Some(private.clone()),
                data: Some(their_ct),
                ..DecapsulateRequest::default()
            })
            .await
            .expect("Decapsulate the reference's ciphertext");
        assert_eq!(
            secret_of(c, &decapsulated.unique_identifier).await,
            their_secret
        );

        // Bad inputs: a ciphertext of the wrong length, none at all, the public key to decapsulate.
        let bad_len = c
            .decapsulate(DecapsulateRequest {
                unique_identifier: Some(private.clone()),
                data: Some(vec![0; 100]),
                ..DecapsulateRequest::default()
            })
            .await;
        assert_eq!(reason(bad_len), ResultReason::InvalidField);
        let missing = c
            .decapsulate(DecapsulateRequest {
                unique_identifier: Some(private.clone()),
                ..DecapsulateRequest::default()
            })
            .await;
        assert_eq!(reason(missing), ResultReason::MissingData);
        let with_public = c
            .decapsulate(DecapsulateRequest {
                unique_identifier: Some(public.clone()),
                data: Some(ciphertext.clone()),
                ..DecapsulateRequest::default()
            })
            .await;
        assert_eq!(
            reason(with_public),
            ResultReason::IncompatibleCryptographicUsageMask
        );

        // Re-Key Key Pair makes a new pair of the same parameter set from a new pool seed.
        let rekeyed = c
            .re_key_key_pair(ReKeyKeyPairRequest {
                private_key_unique_identifier: Some(private.clone()),
                common_attributes: Some(vec![Attribute::ActivationDate(0)].into()),
                ..ReKeyKeyPairRequest::default()
            })
            .await
            .expect("Re-Key Key Pair");
        let new_seed = get_as(c, &rekeyed.private_key_unique_identifier, None).await;
        assert_eq!(new_seed.len(), 64);
        assert_ne!(new_seed, seed);
        let attributes = c
            .get_attributes(get_attributes(&rekeyed.public_key_unique_identifier))
            .await
            .unwrap()
            .attributes
            .0;
        assert_eq!(attributes.cryptographic_algorithm(), Some(algorithm));
        let again = c
            .encapsulate(EncapsulateRequest {
                unique_identifier: Some(rekeyed.public_key_unique_identifier.clone()),
                ..EncapsulateRequest::default()
            })
            .await
            .expect("Encapsulate to the re-keyed pair");
        let opened = c
            .decapsulate(DecapsulateRequest {
                unique_identifier: Some(rekeyed.private_key_unique_identifier.clone()),
                data: again.data.clone(),
                ..DecapsulateRequest::default()
            })
            .await
            .expect("Decapsulate with the re-keyed pair");
        assert_eq!(
            secret_of(c, &opened.unique_identifier).await,
            secret_of(c, &again.unique_identifier).await
        );
    }
}

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
