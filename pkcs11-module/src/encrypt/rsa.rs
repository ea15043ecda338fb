//! The RSA encryption modes of [`CipherOperation`]: RSAES-OAEP and RSAES-PKCS1-v1_5, one KMIP Encrypt or
//! Decrypt over all the data gathered, with the standard's length limits checked first.

use cryptoki_sys::*;
use kmip::attributes::CryptographicParameters;
use kmip::enums::{CryptographicAlgorithm, MaskGenerator, PaddingMethod};
use zeroize::Zeroizing;

use super::{CipherOperation, Mode};
use crate::error::{fail, Pkcs11Error, Result};
use crate::library::Library;

impl CipherOperation {
    pub(super) fn oaep(&mut self, library: &Library) -> Result<Zeroizing<Vec<u8>>> {
        let Mode::Oaep {
            hash,
            mgf1,
            hash_len,
            label,
            modulus_len,
        } = &self.mode
        else {
            return Err(Pkcs11Error::Unexpected("not an OAEP operation".into()));
        };
        let data = std::mem::take(&mut self.buffer);
        if self.encrypt && data.len() + 2 * hash_len + 2 > *modulus_len {
            return fail(
                CKR_DATA_LEN_RANGE,
                "too much data for OAEP with this key and hash",
            );
        }
        if !self.encrypt && data.len() != *modulus_len {
            return fail(
                CKR_ENCRYPTED_DATA_LEN_RANGE,
                "an OAEP ciphertext is as long as the modulus",
            );
        }
        let p = CryptographicParameters {
            cryptographic_algorithm: Some(CryptographicAlgorithm::Rsa),
            padding_method: Some(PaddingMethod::Oaep),
            hashing_algorithm: Some(*hash),
            mask_generator: Some(MaskGenerator::Mgf1),
            mask_generator_hashing_algorithm: Some(*mgf1),
            p_source: (!label.is_empty()).then(|| label.clone()),
            ..Default::default()
        };
        self.call(library, p, &data, None, None, None)
    }

    /// CKM_RSA_PKCS: at most k - 11 bytes of data (k: the modulus length in bytes); a ciphertext of k bytes.
    pub(super) fn rsa_pkcs(
        &mut self,
        library: &Library,
        modulus_len: usize,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let data = std::mem::take(&mut self.buffer);
        if self.encrypt && data.len() + 11 > modulus_len {
            return fail(
                CKR_DATA_LEN_RANGE,
                "CKM_RSA_PKCS encrypts at most k - 11 bytes",
            );
        }
        if !self.encrypt && data.len() != modulus_len {
            return fail(
                CKR_ENCRYPTED_DATA_LEN_RANGE,
                "an RSA ciphertext is as long as the modulus",
            );
        }
        let p = CryptographicParameters {
            cryptographic_algorithm: Some(CryptographicAlgorithm::Rsa),
            padding_method: Some(PaddingMethod::Pkcs1v1_5),
            ..Default::default()
        };
        self.call(library, p, &data, None, None, None)
    }
}
