//! A caller's CK_MECHANISM copied into owned, checked values: the mechanism type and its parameter structure
//! (CK_RSA_PKCS_PSS_PARAMS, CK_RSA_PKCS_OAEP_PARAMS, CK_GCM_PARAMS, a CBC IV), read once at *Init.

use cryptoki_sys::*;
use kmip::enums::HashingAlgorithm;
use zeroize::Zeroizing;

use crate::error::{fail, Result};

/// The parameter a mechanism came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params {
    None,
    Pss {
        hash: CK_MECHANISM_TYPE,
        mgf: CK_RSA_PKCS_MGF_TYPE,
        salt_len: CK_ULONG,
    },
    Oaep {
        hash: CK_MECHANISM_TYPE,
        mgf: CK_RSA_PKCS_MGF_TYPE,
        /// The OAEP label (CKZ_DATA_SPECIFIED source data); empty when none.
        label: Vec<u8>,
    },
    Gcm {
        iv: Vec<u8>,
        aad: Vec<u8>,
        tag_bits: CK_ULONG,
    },
    /// A block-cipher IV (CBC modes).
    Iv(Zeroizing<Vec<u8>>),
}

/// One mechanism with its parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mechanism {
    pub kind: CK_MECHANISM_TYPE,
    pub params: Params,
}

impl Mechanism {
    pub fn plain(kind: CK_MECHANISM_TYPE) -> Self {
        Self {
            kind,
            params: Params::None,
        }
    }
}

/// Which parameter structure a mechanism takes, so the C layer knows how to read `pParameter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    None,
    Pss,
    Oaep,
    Gcm,
    Iv,
}

pub fn param_kind(kind: CK_MECHANISM_TYPE) -> ParamKind {
    match kind {
        CKM_RSA_PKCS_PSS
        | CKM_SHA256_RSA_PKCS_PSS
        | CKM_SHA384_RSA_PKCS_PSS
        | CKM_SHA512_RSA_PKCS_PSS => ParamKind::Pss,
        CKM_RSA_PKCS_OAEP => ParamKind::Oaep,
        CKM_AES_GCM => ParamKind::Gcm,
        CKM_AES_CBC | CKM_AES_CBC_PAD => ParamKind::Iv,
        _ => ParamKind::None,
    }
}

/// The KMIP hash and digest length of a PKCS#11 hash mechanism (CKM_SHA_1, CKM_SHA256...).
pub fn hash_of(mechanism: CK_MECHANISM_TYPE) -> Result<(HashingAlgorithm, usize)> {
    Ok(match mechanism {
        CKM_SHA_1 => (HashingAlgorithm::Sha1, 20),
        CKM_SHA224 => (HashingAlgorithm::Sha224, 28),
        CKM_SHA256 => (HashingAlgorithm::Sha256, 32),
        CKM_SHA384 => (HashingAlgorithm::Sha384, 48),
        CKM_SHA512 => (HashingAlgorithm::Sha512, 64),
        _ => {
            return fail(
                CKR_MECHANISM_PARAM_INVALID,
                "the hash is CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384 or CKM_SHA512",
            )
        }
    })
}

/// The MGF1 generator that goes with a hash mechanism.
pub fn mgf1_of(hash: CK_MECHANISM_TYPE) -> Option<CK_RSA_PKCS_MGF_TYPE> {
    Some(match hash {
        CKM_SHA_1 => CKG_MGF1_SHA1,
        CKM_SHA224 => CKG_MGF1_SHA224,
        CKM_SHA256 => CKG_MGF1_SHA256,
        CKM_SHA384 => CKG_MGF1_SHA384,
        CKM_SHA512 => CKG_MGF1_SHA512,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_structures_follow_the_mechanism() {
        assert_eq!(param_kind(CKM_SHA384_RSA_PKCS_PSS), ParamKind::Pss);
        assert_eq!(param_kind(CKM_AES_GCM), ParamKind::Gcm);
        assert_eq!(param_kind(CKM_AES_ECB), ParamKind::None);
        assert_eq!(mgf1_of(CKM_SHA256), Some(CKG_MGF1_SHA256));
        assert_eq!(hash_of(CKM_SHA512).unwrap().1, 64);
        assert!(hash_of(CKM_MD5).is_err());
    }
}
