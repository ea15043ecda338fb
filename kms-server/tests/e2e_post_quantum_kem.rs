//! ML-KEM end to end: the `qkms-server` binary on a real set-up directory, the `kmip` client over mutual TLS
//! (KMIP 2.1). Create Key Pair for ML-KEM-512/768/1024, seed and expanded forms equal to what the independent
//! `fips203` crate derives, Encapsulate / Decapsulate both ways between qkms and `fips203` (the shared secret as a
//! Secret Data with provenance and a link to the key), bad ciphertexts and keys, and Re-Key Key Pair.

mod e2e_support;

use e2e_support::post_quantum::*;
use e2e_support::*;
use fips203::traits::{Decaps, Encaps, KeyGen as _, SerDes as _};
use kmip::attributes::{Attribute, CryptographicUsageMask as Mask};
use kmip::enums::{CryptographicAlgorithm as A, KeyFormatType, LinkType, ObjectType};
use kmip::payloads::*;
use kmip::ResultReason;

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
