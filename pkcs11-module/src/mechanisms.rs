//! The mechanisms this module performs, exactly: a fixed table, answered without a round trip.

use cryptoki_sys::*;

const EC_FLAGS: CK_FLAGS = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;

/// `(mechanism, min key size, max key size, flags)`; AES sizes in bytes, RSA and EC sizes in bits.
pub const MECHANISMS: &[(CK_MECHANISM_TYPE, CK_ULONG, CK_ULONG, CK_FLAGS)] = &[
    (CKM_AES_KEY_GEN, 16, 32, CKF_GENERATE),
    (CKM_RSA_PKCS_KEY_PAIR_GEN, 2048, 4096, CKF_GENERATE_KEY_PAIR),
    (
        CKM_EC_KEY_PAIR_GEN,
        256,
        256,
        CKF_GENERATE_KEY_PAIR | EC_FLAGS,
    ),
    (CKM_RSA_PKCS, 2048, 4096, CKF_SIGN | CKF_VERIFY),
    (CKM_SHA256_RSA_PKCS, 2048, 4096, CKF_SIGN | CKF_VERIFY),
    (CKM_ECDSA, 256, 256, CKF_SIGN | CKF_VERIFY | EC_FLAGS),
    (CKM_ECDSA_SHA256, 256, 256, CKF_SIGN | CKF_VERIFY | EC_FLAGS),
];

pub fn info(mechanism: CK_MECHANISM_TYPE) -> Option<CK_MECHANISM_INFO> {
    MECHANISMS
        .iter()
        .find(|(m, ..)| *m == mechanism)
        .map(|&(_, min, max, flags)| CK_MECHANISM_INFO {
            ulMinKeySize: min,
            ulMaxKeySize: max,
            flags,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signature_mechanism_is_advertised_for_signing() {
        for mechanism in crate::signing::SIGNATURE_MECHANISMS {
            let flags = info(*mechanism).unwrap().flags;
            assert_eq!(flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY);
        }
        assert!(info(CKM_AES_CBC_PAD).is_none());
    }
}
