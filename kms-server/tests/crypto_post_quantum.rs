//! qkms's ML-KEM and ML-DSA (RustCrypto `ml-kem` / `ml-dsa`) against an independent implementation of FIPS 203
//! and 204 (integritychain's `fips203` / `fips204`): keys from the same seed are byte-identical (public key and
//! expanded private key), encapsulations decapsulate both ways (and the same message `m` gives the same
//! ciphertext and secret), and signatures verify both ways, pure and HashML-DSA, with and without a context.

use fips203::traits::{Decaps, Encaps, KeyGen as KemKeyGen, SerDes as KemSerDes};
use fips204::traits::{KeyGen as DsaKeyGen, SerDes as DsaSerDes, Signer, Verifier};
use kms_server::crypto::hash::{digest, HashAlgorithm};
use kms_server::crypto::ml_dsa::{MlDsaInput, MlDsaLevel, MlDsaPrivateKey, MlDsaPublicKey};
use kms_server::crypto::ml_kem::{MlKemLevel, MlKemPrivateKey};

fn pool() -> entropy::EntropyPool {
    entropy::EntropyPool::new(entropy::EntropyConfig::default()).unwrap()
}

/// A fixed, distinct byte pattern (a seed the test chooses, so both sides see the same one).
fn pattern<const N: usize>(start: u8) -> [u8; N] {
    std::array::from_fn(|i| start.wrapping_add((i as u8).wrapping_mul(37)))
}

/// The DER of SHA-256's and SHA-512's OIDs, as HashML-DSA prefixes them.
const SHA256_OID: [u8; 11] = [
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
const SHA512_OID: [u8; 11] = [
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
];

macro_rules! ml_kem_cross_check {
    ($name:ident, $level:expr, $reference:ident) => {
        #[test]
        fn $name() {
            use fips203::$reference as reference;
            let pool = pool();
            // 1. The same seed gives the same keys; once with a chosen seed, once with a seed from the pool.
            let generated = MlKemPrivateKey::generate(&pool, $level).unwrap();
            let chosen: [u8; 64] = pattern(7);
            for seed in [generated.seed().unwrap().to_vec(), chosen.to_vec()] {
                let ours = MlKemPrivateKey::from_bytes($level, &seed).unwrap();
                let (d, z) = seed.split_at(32);
                let (ek, dk) =
                    reference::KG::keygen_from_seed(d.try_into().unwrap(), z.try_into().unwrap());
                assert_eq!(ours.public_key().as_bytes(), &ek.clone().into_bytes()[..]);
                assert_eq!(&ours.expanded().unwrap()[..], &dk.clone().into_bytes()[..]);

                // 2. Ours encapsulates, the reference decapsulates.
                let (ct, shared) = ours.public_key().encapsulate(&pool).unwrap();
                let ref_ct =
                    reference::CipherText::try_from_bytes(ct.clone().try_into().unwrap()).unwrap();
                assert_eq!(
                    dk.try_decaps(&ref_ct).unwrap().into_bytes().to_vec(),
                    shared.to_vec()
                );

                // 3. The reference encapsulates, ours decapsulates; the same m gives the same result.
                let m: [u8; 32] = pattern(99);
                let (ref_shared, ref_ct) = ek.encaps_from_seed(&m);
                let ref_ct = ref_ct.into_bytes();
                assert_eq!(
                    ours.decapsulate(&ref_ct).unwrap().to_vec(),
                    ref_shared.clone().into_bytes().to_vec()
                );
                let (our_ct, our_shared) = ours.public_key().encapsulate_with(&m).unwrap();
                assert_eq!(
                    (our_ct, our_shared.to_vec()),
                    (ref_ct.to_vec(), ref_shared.into_bytes().to_vec())
                );

                // 4. The reference's expanded key, registered as such, decapsulates the same.
                let from_expanded = MlKemPrivateKey::from_bytes($level, &dk.into_bytes()).unwrap();
                assert_eq!(
                    from_expanded.decapsulate(&ct).unwrap().to_vec(),
                    shared.to_vec()
                );
            }
        }
    };
}

ml_kem_cross_check!(
    ml_kem_512_matches_fips203_both_ways,
    MlKemLevel::MlKem512,
    ml_kem_512
);
ml_kem_cross_check!(
    ml_kem_768_matches_fips203_both_ways,
    MlKemLevel::MlKem768,
    ml_kem_768
);
ml_kem_cross_check!(
    ml_kem_1024_matches_fips203_both_ways,
    MlKemLevel::MlKem1024,
    ml_kem_1024
);

macro_rules! ml_dsa_cross_check {
    ($name:ident, $level:expr, $reference:ident) => {
        #[test]
        fn $name() {
            use fips204::$reference as reference;
            let pool = pool();
            let generated = MlDsaPrivateKey::generate(&pool, $level).unwrap();
            let chosen: [u8; 32] = pattern(3);
            for seed in [generated.seed().unwrap().to_vec(), chosen.to_vec()] {
                // 1. The same seed gives the same keys.
                let ours = MlDsaPrivateKey::from_bytes($level, &seed).unwrap();
                let (pk, sk) = reference::KG::keygen_from_seed(&seed.clone().try_into().unwrap());
                assert_eq!(ours.public_key().as_bytes(), &pk.clone().into_bytes()[..]);
                assert_eq!(&ours.expanded()[..], &sk.clone().into_bytes()[..]);
                let public = MlDsaPublicKey::from_bytes($level, &pk.clone().into_bytes()).unwrap();
                // The reference's expanded private key, taken in that form, signs what the reference verifies.
                let from_expanded =
                    MlDsaPrivateKey::from_bytes($level, &sk.clone().into_bytes()).unwrap();
                assert_eq!(from_expanded.public_key(), public);
                let sig = from_expanded
                    .sign(&pool, b"", MlDsaInput::Pure(b"expanded"))
                    .unwrap();
                assert!(pk.verify(b"expanded", &sig.try_into().unwrap(), b""));

                for context in [&b""[..], &b"qkms cross-check"[..]] {
                    let message = b"the message both implementations sign";
                    // 2. Pure ML-DSA: ours signs (hedged), the reference verifies; and back.
                    let ours_sig = ours
                        .sign(&pool, context, MlDsaInput::Pure(message))
                        .unwrap();
                    assert!(pk.verify(message, &ours_sig.clone().try_into().unwrap(), context));
                    let rnd: [u8; 32] = pattern(42);
                    let ref_sig = sk.try_sign_with_seed(&rnd, message, context).unwrap();
                    assert!(public
                        .verify(context, MlDsaInput::Pure(message), &ref_sig)
                        .unwrap());
                    assert!(!public
                        .verify(b"another context", MlDsaInput::Pure(message), &ref_sig)
                        .unwrap());

                    // 3. HashML-DSA with SHA-256 and SHA-512: ours over data and over the digest, both
                    // verified by the reference; the reference's verified by ours over data and digest.
                    for (hash, oid) in [
                        (HashAlgorithm::Sha256, SHA256_OID),
                        (HashAlgorithm::Sha512, SHA512_OID),
                    ] {
                        let d = digest(hash, message);
                        for input in [
                            MlDsaInput::PreHashData(hash, message),
                            MlDsaInput::PreHashDigest(hash, &d),
                        ] {
                            let sig = ours.sign(&pool, context, input).unwrap();
                            assert!(pk.hash_verify(&d, &sig.try_into().unwrap(), context, &oid));
                        }
                        let ref_sig = sk.try_hash_sign_with_seed(&rnd, &d, context, &oid).unwrap();
                        assert!(public
                            .verify(context, MlDsaInput::PreHashData(hash, message), &ref_sig)
                            .unwrap());
                        assert!(public
                            .verify(context, MlDsaInput::PreHashDigest(hash, &d), &ref_sig)
                            .unwrap());
                        // A pre-hash signature is not a pure one.
                        assert!(!public
                            .verify(context, MlDsaInput::Pure(message), &ref_sig)
                            .unwrap());
                    }
                }
            }
        }
    };
}

ml_dsa_cross_check!(
    ml_dsa_44_matches_fips204_both_ways,
    MlDsaLevel::MlDsa44,
    ml_dsa_44
);
ml_dsa_cross_check!(
    ml_dsa_65_matches_fips204_both_ways,
    MlDsaLevel::MlDsa65,
    ml_dsa_65
);
ml_dsa_cross_check!(
    ml_dsa_87_matches_fips204_both_ways,
    MlDsaLevel::MlDsa87,
    ml_dsa_87
);
