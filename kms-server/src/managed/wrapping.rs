//! Key wrapping on the way out (Get / Export with a Key Wrapping Specification) and unwrapping on the way in
//! (Register / Import of a Key Block with Key Wrapping Data).
//!
//! Wrapping Method Encrypt only, under a managed key the caller may use: an AES key with RFC 3394 (Block
//! Cipher Mode NIST Key Wrap, the default) or RFC 5649 (AES Key Wrap Padding), or an RSA public key with OAEP.
//! Encoding Option No Encoding wraps the Key Material bytes; TTLV Encoding (the KMIP default) wraps the TTLV
//! encoding of the whole Key Value.

use kmip::attributes::{CryptographicParameters, CryptographicUsageMask};
use kmip::enums::{BlockCipherMode, EncodingOption, HashingAlgorithm, WrappingMethod};
use kmip::objects::{
    KeyBlock, KeyMaterial, KeyValue, KeyWrappingData, KeyWrappingSpecification, ManagedObject,
    WrappingKeyInformation,
};
use kmip::ResultReason;
use zeroize::Zeroizing;

use super::key_codec::{crypto_error, public_key_of, stored_private_key_of, symmetric_bytes};
use super::key_use::{self, effective_parameters, hash_algorithm, KeyUse};
use super::versioned;
use crate::crypto::wrap;
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::StoredObject;

fn check_method(
    ctx: &RequestContext<'_>,
    method: WrappingMethod,
    mac: bool,
) -> Result<(), KmipError> {
    if method != WrappingMethod::Encrypt || mac {
        return Err(versioned(
            ctx.version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::FeatureNotSupported,
            format!(
                "only Wrapping Method Encrypt without MAC/signature is supported, not {}",
                method.name()
            ),
        ));
    }
    Ok(())
}

/// Loads the wrapping key named in `info`, checked for `usage`.
fn wrapping_key(
    ctx: &RequestContext<'_>,
    info: Option<&WrappingKeyInformation>,
    usage: KeyUse,
) -> Result<(StoredObject, CryptographicParameters), KmipError> {
    let info = info.ok_or_else(|| {
        KmipError::new(
            ResultReason::MissingData,
            "key wrapping needs Encryption Key Information naming the wrapping key",
        )
    })?;
    let key = key_use::load_for(ctx, &info.unique_identifier, usage).map_err(|e| {
        if matches!(
            e.reason,
            ResultReason::ObjectNotFound | ResultReason::ItemNotFound
        ) {
            versioned(
                ctx.version,
                ResultReason::WrappingObjectNotFound,
                e.reason,
                e.message,
            )
        } else {
            e
        }
    })?;
    let params = effective_parameters(&key, info.cryptographic_parameters.as_ref());
    Ok((key, params))
}

fn oaep_hashes(
    ctx: &RequestContext<'_>,
    p: &CryptographicParameters,
) -> Result<(crate::crypto::HashAlgorithm, crate::crypto::HashAlgorithm), KmipError> {
    Ok((
        hash_algorithm(
            ctx.version,
            p.hashing_algorithm.unwrap_or(HashingAlgorithm::Sha1),
        )?,
        hash_algorithm(
            ctx.version,
            p.mask_generator_hashing_algorithm
                .unwrap_or(HashingAlgorithm::Sha1),
        )?,
    ))
}

/// The bytes to wrap: the Key Material (No Encoding) or the TTLV encoding of the Key Value.
fn plaintext_of(
    ctx: &RequestContext<'_>,
    block: &KeyBlock,
    encoding: EncodingOption,
) -> Result<Zeroizing<Vec<u8>>, KmipError> {
    let value = block
        .key_value
        .as_ref()
        .ok_or_else(|| KmipError::new(ResultReason::KeyValueNotPresent, "the key has no value"))?;
    match encoding {
        EncodingOption::NoEncoding => match &value.material {
            KeyMaterial::Bytes(bytes) => Ok(bytes.clone()),
            KeyMaterial::TransparentSymmetricKey { key } => Ok(key.clone()),
            _ => Err(KmipError::new(
                ResultReason::EncodingOptionError,
                "No Encoding wraps byte-string key material; ask for another Key Format Type or TTLV Encoding",
            )),
        },
        EncodingOption::TtlvEncoding => ttlv::binary::encode(&value.to_ttlv(ctx.version))
            .map(Zeroizing::new)
            .map_err(|e| KmipError::general(format!("encoding the Key Value failed: {e}"))),
    }
}

/// `object`'s Key Block wrapped as `spec` asks.
pub fn wrap_object(
    ctx: &RequestContext<'_>,
    mut object: ManagedObject,
    spec: &KeyWrappingSpecification,
) -> Result<ManagedObject, KmipError> {
    check_method(
        ctx,
        spec.wrapping_method,
        spec.mac_signature_key_information.is_some(),
    )?;
    if !spec.attribute_names.is_empty() {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "wrapping attributes along with the key is not supported",
        ));
    }
    let encoding = spec.encoding_option.unwrap_or(EncodingOption::TtlvEncoding);
    let (wrapping, p) = wrapping_key(
        ctx,
        spec.encryption_key_information.as_ref(),
        KeyUse::Protect(CryptographicUsageMask::WRAP_KEY),
    )?;
    let block = match &mut object {
        ManagedObject::SymmetricKey(b)
        | ManagedObject::PrivateKey(b)
        | ManagedObject::PublicKey(b) => b,
        ManagedObject::SecretData(s) => &mut s.key_block,
        _ => {
            return Err(KmipError::invalid_field(
                "only keys and secret data can be wrapped",
            ))
        }
    };
    let plaintext = plaintext_of(ctx, block, encoding)?;
    let error = |e| crypto_error(ctx.version, e);
    let wrapped = match wrapping.object.as_ref() {
        Some(ManagedObject::SymmetricKey(kek)) => {
            let kek = symmetric_bytes(kek)?;
            match p.block_cipher_mode {
                None | Some(BlockCipherMode::NistKeyWrap) => wrap::aes_key_wrap(kek, &plaintext),
                Some(BlockCipherMode::AesKeyWrapPadding) => {
                    wrap::aes_key_wrap_with_padding(kek, &plaintext)
                }
                Some(other) => {
                    return Err(KmipError::invalid_field(format!(
                        "AES key wrapping uses NIST Key Wrap or AES Key Wrap Padding, not {}",
                        other.name()
                    )))
                }
            }
            .map_err(error)?
        }
        Some(ManagedObject::PublicKey(public)) => {
            let key = public_key_of(ctx.version, public)?;
            let (hash, mgf1) = oaep_hashes(ctx, &p)?;
            wrap::rsa_oaep_wrap(&ctx.state.entropy, &key, hash, mgf1, &plaintext).map_err(error)?
        }
        _ => {
            return Err(KmipError::invalid_field(format!(
                "{} cannot wrap keys (an AES key or an RSA public key can)",
                wrapping.uid
            )))
        }
    };
    block.key_value = Some(KeyValue {
        material: KeyMaterial::Wrapped(Zeroizing::new(wrapped)),
        attributes: Vec::new(),
    });
    block.key_wrapping_data = Some(KeyWrappingData {
        wrapping_method: WrappingMethod::Encrypt,
        encryption_key_information: spec.encryption_key_information.clone(),
        mac_signature_key_information: None,
        mac_signature: None,
        iv_counter_nonce: None,
        // Echo the request: an absent Encoding Option already means TTLV encoding (the default), and clients
        // compare the Key Wrapping Data they get with what they asked for (OASIS AX-M-2).
        encoding_option: spec.encoding_option,
    });
    Ok(object)
}

/// Unwraps a client-supplied Key Block that carries Key Wrapping Data (Register / Import): afterwards it holds
/// the key in the clear and no wrapping data. A block without wrapping data is left as it is.
pub fn unwrap_block(ctx: &RequestContext<'_>, block: &mut KeyBlock) -> Result<(), KmipError> {
    let Some(data) = block.key_wrapping_data.clone() else {
        return Ok(());
    };
    check_method(
        ctx,
        data.wrapping_method,
        data.mac_signature_key_information.is_some(),
    )?;
    let (unwrapping, p) = wrapping_key(
        ctx,
        data.encryption_key_information.as_ref(),
        KeyUse::Process(CryptographicUsageMask::UNWRAP_KEY),
    )?;
    let wrapped = match block.key_value.as_ref().map(|v| &v.material) {
        Some(KeyMaterial::Wrapped(bytes) | KeyMaterial::Bytes(bytes)) => bytes.clone(),
        _ => {
            return Err(KmipError::invalid_field(
                "a wrapped Key Value must be a byte string",
            ))
        }
    };
    let error = |e| crypto_error(ctx.version, e);
    let plaintext = match unwrapping.object.as_ref() {
        Some(ManagedObject::SymmetricKey(kek)) => {
            let kek = symmetric_bytes(kek)?;
            match p.block_cipher_mode {
                Some(BlockCipherMode::AesKeyWrapPadding) => {
                    wrap::aes_key_unwrap_with_padding(kek, &wrapped)
                }
                _ => wrap::aes_key_unwrap(kek, &wrapped),
            }
            .map_err(error)?
        }
        Some(ManagedObject::PrivateKey(private)) => {
            let key = stored_private_key_of(ctx.version, private)?;
            let (hash, mgf1) = oaep_hashes(ctx, &p)?;
            wrap::rsa_oaep_unwrap(&ctx.state.entropy, &key, hash, mgf1, &wrapped).map_err(error)?
        }
        _ => {
            return Err(KmipError::invalid_field(format!(
                "{} cannot unwrap keys (an AES key or an RSA private key can)",
                unwrapping.uid
            )))
        }
    };
    let value = match data.encoding_option.unwrap_or(EncodingOption::TtlvEncoding) {
        EncodingOption::NoEncoding => KeyValue {
            material: KeyMaterial::Bytes(plaintext),
            attributes: Vec::new(),
        },
        EncodingOption::TtlvEncoding => {
            let item = ttlv::binary::decode(&plaintext).map_err(|e| {
                KmipError::invalid_field(format!("the unwrapped Key Value is not TTLV: {e}"))
            })?;
            KeyValue::from_ttlv(&item, block.key_format_type, ctx.version)?
        }
    };
    block.key_value = Some(value);
    block.key_wrapping_data = None;
    Ok(())
}
