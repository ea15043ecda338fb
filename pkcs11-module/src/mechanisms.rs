//! The mechanisms this module performs, exactly: a fixed table, answered without a round trip.

use cryptoki_sys::*;

/// `(mechanism, min key size, max key size, flags)`; AES sizes in bytes.
pub const MECHANISMS: &[(CK_MECHANISM_TYPE, CK_ULONG, CK_ULONG, CK_FLAGS)] =
    &[(CKM_AES_KEY_GEN, 16, 32, CKF_GENERATE)];

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
