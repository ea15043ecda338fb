//! ECDSA through `crypto::ecdsa_hedged` (hedged RFC 6979 nonce, k·G from `p256`/`p384`'s precomputed tables):
//! signatures verify with `p256`/`p384`'s verifiers and with `openssl dgst -verify`, for every hash the server
//! offers. (The NIST CAVP SigGen known-k vectors are unit
//! tests in `ecdsa_hedged`, because the nonce cannot be chosen through the public API.)

mod crypto_support;

use crypto_support::{openssl_status, path_str, pool, Scratch};
use kms_server::crypto::hash::{digest, HashAlgorithm};
use kms_server::crypto::keygen::{generate_key_pair, EcCurve, KeyPairSpec, PrivateKey};
use kms_server::crypto::signature::{sign, SignInput, SignatureAlgorithm};
use kms_server::crypto::CryptoError;
use p256::ecdsa::signature::hazmat::PrehashVerifier;

const HASHES: [HashAlgorithm; 5] = [
    HashAlgorithm::Sha1,
    HashAlgorithm::Sha224,
    HashAlgorithm::Sha256,
    HashAlgorithm::Sha384,
    HashAlgorithm::Sha512,
];

/// The hashes a curve signs with: all but SHA-1 on P-384, whose 20-byte digest is under half the 48-byte field
/// (refused, as the `ecdsa` crate 0.16 did; see `sha1_on_p384_is_refused`).
fn hashes_for(curve: EcCurve) -> impl Iterator<Item = HashAlgorithm> {
    HASHES
        .into_iter()
        .filter(move |hash| !(curve == EcCurve::P384 && *hash == HashAlgorithm::Sha1))
}

fn openssl_digest_option(hash: HashAlgorithm) -> &'static str {
    match hash {
        HashAlgorithm::Sha1 => "-sha1",
        HashAlgorithm::Sha224 => "-sha224",
        HashAlgorithm::Sha256 => "-sha256",
        HashAlgorithm::Sha384 => "-sha384",
        HashAlgorithm::Sha512 => "-sha512",
    }
}

#[test]
fn signatures_verify_with_the_crates_verifiers_for_every_hash() {
    let pool = pool();
    for round in 0..40u32 {
        let message = format!("message {round} for the hedged signer");
        for curve in [EcCurve::P256, EcCurve::P384] {
            let key = generate_key_pair(&pool, KeyPairSpec::Ec(curve)).unwrap();
            for hash in hashes_for(curve) {
                let prehash = digest(hash, message.as_bytes());
                let der = sign(
                    &pool,
                    &key,
                    SignatureAlgorithm::Ecdsa(hash),
                    SignInput::Data(message.as_bytes()),
                )
                .unwrap();
                let verified = match &key {
                    PrivateKey::EcP256(secret) => {
                        let signature = p256::ecdsa::Signature::from_der(&der).unwrap();
                        p256::ecdsa::VerifyingKey::from(&secret.public_key())
                            .verify_prehash(&prehash, &signature)
                            .is_ok()
                    }
                    PrivateKey::EcP384(secret) => {
                        let signature = p384::ecdsa::Signature::from_der(&der).unwrap();
                        p384::ecdsa::VerifyingKey::from(&secret.public_key())
                            .verify_prehash(&prehash, &signature)
                            .is_ok()
                    }
                    other => panic!("an EC key was generated, got {:?}", other.spec()),
                };
                assert!(verified, "{curve:?} {hash:?} round {round}");
            }
        }
    }
}

#[test]
fn openssl_verifies_hedged_signatures_for_every_hash() {
    let pool = pool();
    let scratch = Scratch::new();
    for curve in [EcCurve::P256, EcCurve::P384] {
        for round in 0..3 {
            let key = generate_key_pair(&pool, KeyPairSpec::Ec(curve)).unwrap();
            let public = scratch.write("public.der", &key.public_key().to_spki_der().unwrap());
            let message = format!("{curve:?} round {round}");
            let message_path = scratch.write("message", message.as_bytes());
            for hash in hashes_for(curve) {
                let der = sign(
                    &pool,
                    &key,
                    SignatureAlgorithm::Ecdsa(hash),
                    SignInput::Data(message.as_bytes()),
                )
                .unwrap();
                let signature = scratch.write("signature", &der);
                let verdict = openssl_status(&[
                    "dgst",
                    openssl_digest_option(hash),
                    "-verify",
                    path_str(&public),
                    "-keyform",
                    "DER",
                    "-signature",
                    path_str(&signature),
                    path_str(&message_path),
                ]);
                assert!(
                    verdict.is_ok(),
                    "{curve:?} {hash:?}: OpenSSL rejects: {verdict:?}"
                );

                let mut tampered = der.clone();
                let last = tampered.len() - 1;
                tampered[last] ^= 1;
                let signature = scratch.write("signature", &tampered);
                let verdict = openssl_status(&[
                    "dgst",
                    openssl_digest_option(hash),
                    "-verify",
                    path_str(&public),
                    "-keyform",
                    "DER",
                    "-signature",
                    path_str(&signature),
                    path_str(&message_path),
                ]);
                assert!(
                    verdict.is_err(),
                    "{curve:?} {hash:?}: OpenSSL accepts a tampered signature"
                );
            }
        }
    }
}

#[test]
fn the_same_key_and_message_give_a_fresh_r_every_time() {
    let pool = pool();
    for curve in [EcCurve::P256, EcCurve::P384] {
        let key = generate_key_pair(&pool, KeyPairSpec::Ec(curve)).unwrap();
        let algorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
        let signatures: std::collections::HashSet<Vec<u8>> = (0..16)
            .map(|_| sign(&pool, &key, algorithm, SignInput::Data(b"same")).unwrap())
            .collect();
        assert_eq!(
            signatures.len(),
            16,
            "{curve:?}: pool entropy enters every nonce"
        );
    }
}

#[test]
fn sha1_on_p384_is_refused() {
    let pool = pool();
    let key = generate_key_pair(&pool, KeyPairSpec::Ec(EcCurve::P384)).unwrap();
    let result = sign(
        &pool,
        &key,
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha1),
        SignInput::Data(b"short digest"),
    );
    assert!(
        matches!(result, Err(CryptoError::InvalidInput(_))),
        "{result:?}"
    );
}
