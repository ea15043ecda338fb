//! ML-DSA end to end: the `qkms-server` binary on a real set-up directory, the `kmip` client over mutual TLS
//! (KMIP 2.1). Create Key Pair for ML-DSA-44/65/87 with pool provenance, the seed and expanded forms equal to what
//! the independent `fips204` crate derives from the same seed, Sign / Signature Verify pure and HashML-DSA, and
//! signatures verifying both ways between qkms and `fips204`.

mod e2e_support;

use e2e_support::post_quantum::*;
use e2e_support::*;
use fips204::traits::{KeyGen as _, SerDes as _, Signer as _, Verifier as _};
use kmip::attributes::{Attribute, CryptographicParameters, CryptographicUsageMask as Mask};
use kmip::enums::{CryptographicAlgorithm as A, HashingAlgorithm, KeyFormatType, LinkType};
use kmip::payloads::*;

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
