//! Reads a caller's CK_MECHANISM and its parameter structure into an owned [`Mechanism`].

use cryptoki_sys::*;
use zeroize::Zeroizing;

use super::ptr::bytes;
use crate::error::{fail, Result};
use crate::mechanism_params::{param_kind, Mechanism, ParamKind, Params};

/// `*p` as the parameter structure `T`, which must be exactly `len` bytes.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
unsafe fn structure<'a, T>(p: *mut std::os::raw::c_void, len: CK_ULONG) -> Result<&'a T> {
    if p.is_null() || usize::try_from(len).ok() != Some(std::mem::size_of::<T>()) {
        return fail(
            CKR_MECHANISM_PARAM_INVALID,
            "the mechanism parameter is missing or has the wrong size",
        );
    }
    if p.align_offset(std::mem::align_of::<T>()) != 0 {
        return fail(
            CKR_MECHANISM_PARAM_INVALID,
            "the mechanism parameter is misaligned",
        );
    }
    // SAFETY: non-NULL, aligned, and the caller guarantees `len` (= size_of::<T>()) readable bytes.
    Ok(unsafe { &*(p as *const T) })
}

/// The mechanism behind `p` (None when `p` is NULL, which cancels an operation at *Init).
///
/// # Safety
/// `p` is NULL or points to a CK_MECHANISM whose parameter is valid as PKCS#11 defines for that mechanism.
pub unsafe fn mechanism(p: CK_MECHANISM_PTR) -> Result<Option<Mechanism>> {
    // SAFETY: the caller guarantees `p` is NULL or valid.
    let Some(m) = (unsafe { p.as_ref() }) else {
        return Ok(None);
    };
    let params = match param_kind(m.mechanism) {
        ParamKind::None if m.ulParameterLen != 0 => {
            return fail(
                CKR_MECHANISM_PARAM_INVALID,
                "this mechanism takes no parameter",
            )
        }
        ParamKind::None => Params::None,
        ParamKind::Pss => {
            // SAFETY: for PSS mechanisms the parameter is a CK_RSA_PKCS_PSS_PARAMS of ulParameterLen bytes.
            let s: &CK_RSA_PKCS_PSS_PARAMS = unsafe { structure(m.pParameter, m.ulParameterLen)? };
            Params::Pss {
                hash: s.hashAlg,
                mgf: s.mgf,
                salt_len: s.sLen,
            }
        }
        ParamKind::Oaep => {
            // SAFETY: for OAEP the parameter is a CK_RSA_PKCS_OAEP_PARAMS of ulParameterLen bytes.
            let s: &CK_RSA_PKCS_OAEP_PARAMS = unsafe { structure(m.pParameter, m.ulParameterLen)? };
            let label = match s.source {
                // SAFETY: pSourceData holds ulSourceDataLen readable bytes.
                CKZ_DATA_SPECIFIED => {
                    unsafe { bytes(s.pSourceData as *const u8, s.ulSourceDataLen)? }.to_vec()
                }
                0 if s.ulSourceDataLen == 0 => Vec::new(),
                _ => {
                    return fail(
                        CKR_MECHANISM_PARAM_INVALID,
                        "OAEP source is CKZ_DATA_SPECIFIED",
                    )
                }
            };
            Params::Oaep {
                hash: s.hashAlg,
                mgf: s.mgf,
                label,
            }
        }
        ParamKind::Gcm => {
            // SAFETY: for GCM the parameter is a CK_GCM_PARAMS of ulParameterLen bytes.
            let s: &CK_GCM_PARAMS = unsafe { structure(m.pParameter, m.ulParameterLen)? };
            // SAFETY: pIv holds ulIvLen readable bytes.
            let iv = unsafe { bytes(s.pIv, s.ulIvLen)? }.to_vec();
            // SAFETY: pAAD holds ulAADLen readable bytes.
            let aad = unsafe { bytes(s.pAAD, s.ulAADLen)? }.to_vec();
            Params::Gcm {
                iv,
                aad,
                tag_bits: s.ulTagBits,
            }
        }
        ParamKind::Iv => {
            // SAFETY: for CBC modes the parameter is the IV, ulParameterLen readable bytes.
            let iv = unsafe { bytes(m.pParameter as *const u8, m.ulParameterLen)? };
            Params::Iv(Zeroizing::new(iv.to_vec()))
        }
    };
    Ok(Some(Mechanism {
        kind: m.mechanism,
        params,
    }))
}
