//! MAC and MAC Verify: HMAC-SHA-1/224/256/384/512 under a managed symmetric key; one-shot or in parts.

use kmip::attributes::{CryptographicParameters, CryptographicUsageMask};
use kmip::enums::CryptographicAlgorithm;
use kmip::objects::ManagedObject;
use kmip::payloads::validity;
use kmip::payloads::{MacRequest, MacResponse, MacVerifyRequest, MacVerifyResponse};
use kmip::{Operation, ProtocolVersion, ResultReason};

use crate::crypto::{mac, HashAlgorithm};
use crate::error::KmipError;
use crate::managed::key_codec::{crypto_error, symmetric_bytes};
use crate::managed::key_use::{self, effective_parameters, KeyUse};
use crate::managed::streams::gather;
use crate::managed::{target, versioned};
use crate::state::RequestContext;
use crate::store::StoredObject;

/// The HMAC hash for a MAC key: the parameters' algorithm, else the key's own (HMAC keys).
fn mac_hash(
    version: ProtocolVersion,
    object: &StoredObject,
    p: &CryptographicParameters,
) -> Result<HashAlgorithm, KmipError> {
    use CryptographicAlgorithm as A;
    let algorithm = p
        .cryptographic_algorithm
        .or(object.attributes.cryptographic_algorithm());
    Ok(match algorithm {
        Some(A::HmacSha1) => HashAlgorithm::Sha1,
        Some(A::HmacSha224) => HashAlgorithm::Sha224,
        Some(A::HmacSha256) => HashAlgorithm::Sha256,
        Some(A::HmacSha384) => HashAlgorithm::Sha384,
        Some(A::HmacSha512) => HashAlgorithm::Sha512,
        other => {
            return Err(versioned(
                version,
                ResultReason::UnsupportedCryptographicParameters,
                ResultReason::InvalidField,
                format!(
                    "MAC needs an HMAC algorithm (HMAC-SHA1/224/256/384/512), not {}",
                    other.map_or("none", |a| a.name())
                ),
            ))
        }
    })
}

fn mac_key(object: &StoredObject) -> Result<&[u8], KmipError> {
    match object.object.as_ref() {
        Some(ManagedObject::SymmetricKey(block)) => symmetric_bytes(block),
        _ => Err(KmipError::invalid_field(format!(
            "{} is not a symmetric key",
            object.uid
        ))),
    }
}

pub fn mac(ctx: &RequestContext<'_>, request: MacRequest) -> Result<MacResponse, KmipError> {
    let uid = target(&request.unique_identifier)?.to_owned();
    let mut object = key_use::load_for(
        ctx,
        &uid,
        KeyUse::Protect(CryptographicUsageMask::MAC_GENERATE),
    )?;
    let p = effective_parameters(&object, request.cryptographic_parameters.as_ref());
    let mut response = MacResponse {
        unique_identifier: uid.clone(),
        ..MacResponse::default()
    };
    let data = request.data.clone().unwrap_or_default();
    let Some((p, data)) = gather(ctx, Operation::Mac, &uid, p, &request, &data)?
        .complete(&mut response.correlation_value)
    else {
        return Ok(response);
    };
    let hash = mac_hash(ctx.version, &object, &p)?;
    let tag = match crate::managed::hsm_held::held(ctx, &object)? {
        Some(held) if held.is_mac_key() => held.hmac(hash, &data)?,
        Some(_) => {
            return Err(KmipError::invalid_field(format!(
                "{uid} is not an HMAC key"
            )))
        }
        None => {
            mac::hmac(hash, mac_key(&object)?, &data).map_err(|e| crypto_error(ctx.version, e))?
        }
    };
    key_use::consume(ctx, &mut object, data.len())?;
    response.mac_data = Some(tag);
    Ok(response)
}

pub fn mac_verify(
    ctx: &RequestContext<'_>,
    request: MacVerifyRequest,
) -> Result<MacVerifyResponse, KmipError> {
    let uid = target(&request.unique_identifier)?.to_owned();
    let object = key_use::load_for(
        ctx,
        &uid,
        KeyUse::Process(CryptographicUsageMask::MAC_VERIFY),
    )?;
    let p = effective_parameters(&object, request.cryptographic_parameters.as_ref());
    let mut response = MacVerifyResponse {
        unique_identifier: uid.clone(),
        ..MacVerifyResponse::default()
    };
    let data = request.data.clone().unwrap_or_default();
    let Some((p, data)) = gather(ctx, Operation::MacVerify, &uid, p, &request, &data)?
        .complete(&mut response.correlation_value)
    else {
        return Ok(response);
    };
    let tag = request.mac_data.as_deref().ok_or_else(|| {
        KmipError::new(ResultReason::MissingData, "MAC Verify needs the MAC Data")
    })?;
    let hash = mac_hash(ctx.version, &object, &p)?;
    let valid = match crate::managed::hsm_held::held(ctx, &object)? {
        Some(held) => held.hmac_verify(hash, &data, tag)?,
        None => mac::hmac_verify(hash, mac_key(&object)?, &data, tag)
            .map_err(|e| crypto_error(ctx.version, e))?,
    };
    response.validity_indicator = Some(validity::indicator(valid));
    Ok(response)
}
