//! Which KMIP signature scheme each PKCS#11 signature mechanism is, with its parameters checked
//! (CK_RSA_PKCS_PSS_PARAMS: hash, MGF1 hash and salt length against the key size).

use cryptoki_sys::*;
use kmip::enums::{DigitalSignatureAlgorithm, HashingAlgorithm};

use crate::error::{fail, Result};
use crate::mechanism_params::{self, Mechanism, Params};

/// The signature mechanisms this module performs.
pub const SIGNATURE_MECHANISMS: &[CK_MECHANISM_TYPE] = &[
    CKM_RSA_PKCS,
    CKM_SHA256_RSA_PKCS,
    CKM_SHA384_RSA_PKCS,
    CKM_SHA512_RSA_PKCS,
    CKM_RSA_PKCS_PSS,
    CKM_SHA256_RSA_PKCS_PSS,
    CKM_SHA384_RSA_PKCS_PSS,
    CKM_SHA512_RSA_PKCS_PSS,
    CKM_ECDSA,
    CKM_ECDSA_SHA256,
    CKM_ECDSA_SHA384,
    CKM_SHA256_HMAC,
];

/// How one signature mechanism is carried out over KMIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// CKM_RSA_PKCS: the caller's encoded value T (a DigestInfo, or any bytes up to `max_len` = k - 11),
    /// padded as PKCS#1 v1.5 block type 1 and signed.
    RsaPkcs {
        max_len: usize,
    },
    /// CKM_SHAx_RSA_PKCS: the server hashes.
    RsaPkcs1(DigitalSignatureAlgorithm),
    /// RSASSA-PSS; `prehashed` for CKM_RSA_PKCS_PSS (the caller's digest).
    Pss {
        hash: HashingAlgorithm,
        digest_len: usize,
        salt_len: i32,
        prehashed: bool,
    },
    /// CKM_ECDSA: the caller's digest.
    EcdsaDigest,
    Ecdsa(DigitalSignatureAlgorithm),
    /// CKM_SHA256_HMAC: KMIP MAC / MAC Verify with a secret key.
    Hmac,
}

impl Scheme {
    /// Mechanisms that sign one caller-made digest, in one call.
    pub(crate) fn single_part(self) -> bool {
        matches!(
            self,
            Scheme::RsaPkcs { .. }
                | Scheme::EcdsaDigest
                | Scheme::Pss {
                    prehashed: true,
                    ..
                }
        )
    }
}

/// The scheme of a mechanism, checked against its parameters and the key's modulus size.
pub(crate) fn scheme(mechanism: &Mechanism, rsa_bits: i32) -> Result<Scheme> {
    use DigitalSignatureAlgorithm as D;
    let pss_hash = match mechanism.kind {
        CKM_RSA_PKCS_PSS => None,
        CKM_SHA256_RSA_PKCS_PSS => Some(CKM_SHA256),
        CKM_SHA384_RSA_PKCS_PSS => Some(CKM_SHA384),
        CKM_SHA512_RSA_PKCS_PSS => Some(CKM_SHA512),
        CKM_RSA_PKCS => {
            let modulus_len = usize::try_from(rsa_bits).unwrap_or(0).div_ceil(8);
            return Ok(Scheme::RsaPkcs {
                max_len: modulus_len.saturating_sub(11),
            });
        }
        CKM_SHA256_RSA_PKCS => return Ok(Scheme::RsaPkcs1(D::Sha256WithRsaEncryption)),
        CKM_SHA384_RSA_PKCS => return Ok(Scheme::RsaPkcs1(D::Sha384WithRsaEncryption)),
        CKM_SHA512_RSA_PKCS => return Ok(Scheme::RsaPkcs1(D::Sha512WithRsaEncryption)),
        CKM_ECDSA => return Ok(Scheme::EcdsaDigest),
        CKM_ECDSA_SHA256 => return Ok(Scheme::Ecdsa(D::EcdsaWithSha256)),
        CKM_ECDSA_SHA384 => return Ok(Scheme::Ecdsa(D::EcdsaWithSha384)),
        CKM_SHA256_HMAC => return Ok(Scheme::Hmac),
        _ => {
            return fail(
                CKR_MECHANISM_INVALID,
                "not a signature mechanism this module performs",
            )
        }
    };
    let Params::Pss {
        hash,
        mgf,
        salt_len,
    } = mechanism.params
    else {
        return fail(
            CKR_MECHANISM_PARAM_INVALID,
            "PSS mechanisms take CK_RSA_PKCS_PSS_PARAMS",
        );
    };
    if pss_hash.is_some_and(|h| h != hash) {
        return fail(
            CKR_MECHANISM_PARAM_INVALID,
            "hashAlg differs from the mechanism's hash",
        );
    }
    let (kmip_hash, digest_len) = mechanism_params::hash_of(hash)?;
    // The server's PSS uses MGF1 with the message hash.
    if mechanism_params::mgf1_of(hash) != Some(mgf) {
        return fail(
            CKR_MECHANISM_PARAM_INVALID,
            "the MGF must be MGF1 with the same hash as hashAlg",
        );
    }
    // RFC 8017 9.1.1: emLen >= hLen + sLen + 2, with emLen = ceil((modBits - 1) / 8).
    let em_len = (usize::try_from(rsa_bits).unwrap_or(0).saturating_sub(1)).div_ceil(8);
    let salt = usize::try_from(salt_len).unwrap_or(usize::MAX);
    if salt.saturating_add(digest_len + 2) > em_len {
        return fail(
            CKR_MECHANISM_PARAM_INVALID,
            "the PSS salt is too long for this key and hash",
        );
    }
    Ok(Scheme::Pss {
        hash: kmip_hash,
        digest_len,
        salt_len: i32::try_from(salt).unwrap_or(i32::MAX),
        prehashed: pss_hash.is_none(),
    })
}

/// DigestInfo prefixes (RFC 8017 §9.2 note 1) of the hashes CKM_RSA_PKCS input may carry.
pub(crate) const DIGEST_INFO_PREFIXES: &[(HashingAlgorithm, &[u8])] = &[
    (
        HashingAlgorithm::Sha1,
        &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
    ),
    (
        HashingAlgorithm::Sha224,
        &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x04, 0x05, 0x00, 0x04, 0x1c,
        ],
    ),
    (
        HashingAlgorithm::Sha256,
        &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
    ),
    (
        HashingAlgorithm::Sha384,
        &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
    ),
    (
        HashingAlgorithm::Sha512,
        &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn pss(
        kind: CK_MECHANISM_TYPE,
        hash: CK_MECHANISM_TYPE,
        mgf: CK_ULONG,
        salt: CK_ULONG,
    ) -> Mechanism {
        Mechanism {
            kind,
            params: Params::Pss {
                hash,
                mgf,
                salt_len: salt,
            },
        }
    }

    #[test]
    fn pss_parameters_are_checked() {
        let ok = scheme(
            &pss(CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 32),
            2048,
        );
        assert!(matches!(
            ok,
            Ok(Scheme::Pss {
                prehashed: false,
                salt_len: 32,
                ..
            })
        ));
        let rv = |r: Result<Scheme>| r.unwrap_err().to_rv();
        // hash differing from the mechanism's, MGF with another hash, salt too long, no parameter
        assert_eq!(
            rv(scheme(
                &pss(CKM_SHA384_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 32),
                2048
            )),
            CKR_MECHANISM_PARAM_INVALID
        );
        assert_eq!(
            rv(scheme(
                &pss(CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA1, 32),
                2048
            )),
            CKR_MECHANISM_PARAM_INVALID
        );
        assert_eq!(
            rv(scheme(
                &pss(CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, 200),
                2048
            )),
            CKR_MECHANISM_PARAM_INVALID
        );
        assert_eq!(
            rv(scheme(&Mechanism::plain(CKM_RSA_PKCS_PSS), 2048)),
            CKR_MECHANISM_PARAM_INVALID
        );
        // the largest salt allowed: 256 - 64 - 2 bytes for SHA-512 on RSA-2048
        assert!(scheme(
            &pss(CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, 190),
            2048
        )
        .is_ok());
        assert!(scheme(
            &pss(CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, 191),
            2048
        )
        .is_err());
    }

    #[test]
    fn every_listed_mechanism_has_a_scheme() {
        for kind in SIGNATURE_MECHANISMS {
            let m = if mechanism_params::param_kind(*kind) == mechanism_params::ParamKind::Pss {
                pss(*kind, CKM_SHA256, CKG_MGF1_SHA256, 0)
            } else {
                Mechanism::plain(*kind)
            };
            let m = match (kind, &m.params) {
                (&CKM_SHA384_RSA_PKCS_PSS, _) => pss(*kind, CKM_SHA384, CKG_MGF1_SHA384, 0),
                (&CKM_SHA512_RSA_PKCS_PSS, _) => pss(*kind, CKM_SHA512, CKG_MGF1_SHA512, 0),
                _ => m,
            };
            assert!(scheme(&m, 2048).is_ok(), "{kind:#x}");
        }
        assert_eq!(
            scheme(&Mechanism::plain(CKM_AES_CBC_PAD), 2048)
                .unwrap_err()
                .to_rv(),
            CKR_MECHANISM_INVALID
        );
    }
}
