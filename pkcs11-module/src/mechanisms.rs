//! The mechanisms this module performs, exactly: a fixed table, answered without a round trip.

use cryptoki_sys::*;

const EC_FLAGS: CK_FLAGS = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
const SIGN: CK_FLAGS = CKF_SIGN | CKF_VERIFY;
const CIPHER: CK_FLAGS = CKF_ENCRYPT | CKF_DECRYPT;
const RSA: (CK_ULONG, CK_ULONG) = (2048, 4096);
const EC: (CK_ULONG, CK_ULONG) = (256, 384);
const AES: (CK_ULONG, CK_ULONG) = (16, 32);

/// `(mechanism, min key size, max key size, flags)`. Sizes as PKCS#11 gives them per mechanism: AES and HMAC
/// keys in bytes; RSA, EC and generic secret key generation in bits. Every mechanism but the digests runs in the
/// server, the token's device, and carries CKF_HW ([`info`] adds it); digests are computed in the library.
pub const MECHANISMS: &[(CK_MECHANISM_TYPE, CK_ULONG, CK_ULONG, CK_FLAGS)] = &[
    (CKM_AES_KEY_GEN, AES.0, AES.1, CKF_GENERATE),
    (CKM_GENERIC_SECRET_KEY_GEN, 112, 8192, CKF_GENERATE),
    (
        CKM_RSA_PKCS_KEY_PAIR_GEN,
        RSA.0,
        RSA.1,
        CKF_GENERATE_KEY_PAIR,
    ),
    (
        CKM_EC_KEY_PAIR_GEN,
        EC.0,
        EC.1,
        CKF_GENERATE_KEY_PAIR | EC_FLAGS,
    ),
    (CKM_RSA_PKCS, RSA.0, RSA.1, SIGN | CIPHER),
    (CKM_SHA256_RSA_PKCS, RSA.0, RSA.1, SIGN),
    (CKM_SHA384_RSA_PKCS, RSA.0, RSA.1, SIGN),
    (CKM_SHA512_RSA_PKCS, RSA.0, RSA.1, SIGN),
    (CKM_RSA_PKCS_PSS, RSA.0, RSA.1, SIGN),
    (CKM_SHA256_RSA_PKCS_PSS, RSA.0, RSA.1, SIGN),
    (CKM_SHA384_RSA_PKCS_PSS, RSA.0, RSA.1, SIGN),
    (CKM_SHA512_RSA_PKCS_PSS, RSA.0, RSA.1, SIGN),
    (CKM_RSA_PKCS_OAEP, RSA.0, RSA.1, CIPHER),
    (CKM_ECDSA, EC.0, EC.1, SIGN | EC_FLAGS),
    (CKM_ECDSA_SHA256, EC.0, EC.1, SIGN | EC_FLAGS),
    (CKM_ECDSA_SHA384, EC.0, EC.1, SIGN | EC_FLAGS),
    (CKM_AES_ECB, AES.0, AES.1, CIPHER),
    (CKM_AES_CBC, AES.0, AES.1, CIPHER),
    (CKM_AES_CBC_PAD, AES.0, AES.1, CIPHER),
    (CKM_AES_GCM, AES.0, AES.1, CIPHER),
    (CKM_AES_KEY_WRAP, AES.0, AES.1, CKF_WRAP | CKF_UNWRAP),
    (CKM_AES_KEY_WRAP_PAD, AES.0, AES.1, CKF_WRAP | CKF_UNWRAP),
    (CKM_SHA256_HMAC, 14, 1024, SIGN),
    // Digests take no key: key sizes 0.
    (CKM_SHA_1, 0, 0, CKF_DIGEST),
    (CKM_SHA224, 0, 0, CKF_DIGEST),
    (CKM_SHA256, 0, 0, CKF_DIGEST),
    (CKM_SHA384, 0, 0, CKF_DIGEST),
    (CKM_SHA512, 0, 0, CKF_DIGEST),
    (CKM_SHA3_224, 0, 0, CKF_DIGEST),
    (CKM_SHA3_256, 0, 0, CKF_DIGEST),
    (CKM_SHA3_384, 0, 0, CKF_DIGEST),
    (CKM_SHA3_512, 0, 0, CKF_DIGEST),
];

pub fn info(mechanism: CK_MECHANISM_TYPE) -> Option<CK_MECHANISM_INFO> {
    MECHANISMS
        .iter()
        .find(|(m, ..)| *m == mechanism)
        .map(|&(_, min, max, flags)| CK_MECHANISM_INFO {
            ulMinKeySize: min,
            ulMaxKeySize: max,
            flags: if flags == CKF_DIGEST {
                flags
            } else {
                flags | CKF_HW
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table and the code that performs the mechanisms agree both ways: every advertised flag is one an
    /// operation module accepts, and every accepted mechanism is advertised with its flag.
    #[test]
    fn the_table_advertises_exactly_what_the_operations_perform() {
        let digests: Vec<CK_MECHANISM_TYPE> = crate::digest::DIGEST_MECHANISMS
            .iter()
            .map(|d| d.0)
            .collect();
        let performed: Vec<(CK_MECHANISM_TYPE, CK_FLAGS)> = [
            (&digests[..], CKF_DIGEST),
            (crate::signing::SIGNATURE_MECHANISMS, SIGN),
            (crate::encrypt::CIPHER_MECHANISMS, CIPHER),
            (crate::wrap::WRAP_MECHANISMS, CKF_WRAP | CKF_UNWRAP),
            (
                &[CKM_AES_KEY_GEN, CKM_GENERIC_SECRET_KEY_GEN][..],
                CKF_GENERATE,
            ),
            (
                &[CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_EC_KEY_PAIR_GEN][..],
                CKF_GENERATE_KEY_PAIR,
            ),
        ]
        .iter()
        .flat_map(|(list, flag)| list.iter().map(move |m| (*m, *flag)))
        .collect();
        let mut flags: Vec<(CK_MECHANISM_TYPE, CK_FLAGS)> = Vec::new();
        for (mechanism, flag) in performed {
            match flags.iter_mut().find(|(m, _)| *m == mechanism) {
                Some((_, both)) => *both |= flag,
                None => flags.push((mechanism, flag)),
            }
        }
        for (mechanism, flag) in &flags {
            let info = info(*mechanism).unwrap();
            assert_eq!(info.flags & !(EC_FLAGS | CKF_HW), *flag, "{mechanism:#x}");
            assert_eq!(
                info.flags & CKF_HW == 0,
                *flag == CKF_DIGEST,
                "{mechanism:#x}"
            );
        }
        assert_eq!(flags.len(), MECHANISMS.len());
        assert!(info(CKM_AES_CTR).is_none());
    }
}
