//! CKM_SHA256_HMAC: C_Sign / C_Verify with a secret key are KMIP MAC / MAC Verify, HMAC-SHA256.

use cryptoki_sys::*;
use kmip::attributes::CryptographicParameters;
use kmip::enums::CryptographicAlgorithm;
use kmip::payloads::*;

use crate::error::{fail, Pkcs11Error, Result};
use crate::library::Library;
use crate::objects::Entry;
use crate::ops::unexpected;

/// Bytes of an HMAC-SHA256 tag.
pub const HMAC_SHA256_LEN: usize = 32;

fn parameters() -> CryptographicParameters {
    CryptographicParameters {
        cryptographic_algorithm: Some(CryptographicAlgorithm::HmacSha256),
        ..Default::default()
    }
}

/// The HMAC-SHA256 of `data` under `key`.
pub fn mac(library: &Library, key: &Entry, data: &[u8]) -> Result<Vec<u8>> {
    let request = MacRequest {
        unique_identifier: Some(key.uid.clone()),
        cryptographic_parameters: Some(parameters()),
        data: Some(data.to_vec()),
        ..Default::default()
    };
    let tag = match library.tokens[key.token].link()?.call(request)? {
        ResponsePayload::Mac(response) => response
            .mac_data
            .ok_or(Pkcs11Error::Unexpected("MAC returned no MAC data".into()))?,
        other => return Err(unexpected(other)),
    };
    if tag.len() != HMAC_SHA256_LEN {
        return Err(Pkcs11Error::Unexpected(
            "MAC returned a tag that is not 32 bytes".into(),
        ));
    }
    Ok(tag)
}

/// CKR_OK if `tag` is the HMAC-SHA256 of `data` under `key`.
pub fn verify(library: &Library, key: &Entry, data: &[u8], tag: &[u8]) -> Result<()> {
    if tag.len() != HMAC_SHA256_LEN {
        return fail(
            CKR_SIGNATURE_LEN_RANGE,
            "a CKM_SHA256_HMAC signature is 32 bytes",
        );
    }
    let request = MacVerifyRequest {
        unique_identifier: Some(key.uid.clone()),
        cryptographic_parameters: Some(parameters()),
        data: Some(data.to_vec()),
        mac_data: Some(tag.to_vec()),
        ..Default::default()
    };
    match library.tokens[key.token].link()?.call(request)? {
        ResponsePayload::MacVerify(response) => match response.validity_indicator.map(|v| v.0) {
            Some(validity::VALID) => Ok(()),
            _ => fail(CKR_SIGNATURE_INVALID, "the HMAC does not verify"),
        },
        other => Err(unexpected(other)),
    }
}
