//! Key wrapping on the way out (Get / Export with a Key Wrapping Specification) and unwrapping on the way in
//! (Register / Import of a Key Block with Key Wrapping Data).
//!
//! Wrapping Method Encrypt only, under a managed key the caller may use: an AES key with RFC 3394 (Block
//! Cipher Mode NIST Key Wrap, the default) or RFC 5649 (AES Key Wrap Padding), or an RSA public key with OAEP.
//! Encoding Option No Encoding wraps the Key Material bytes and answers a Key Value *structure* whose Key
//! Material is the wrapped bytes (KMIP 1.4 §2.1.5 and 2.1 §2.1.6: the Encoding Option is "the encoding of the
//! Key Material within the Key Value structure", and with No Encoding "the Key Value structure SHALL NOT
//! contain any attributes"; PyKMIP's client and server read it so). TTLV Encoding (the KMIP default) wraps the
//! TTLV encoding of the whole Key Value, which is then a Byte String (the OASIS AX-M cases).
//!
//! A registered key wrapped under a key this server does not hold is stored as registered, with its Key
//! Wrapping Data, and returned so; it cannot be used for cryptography here (`key_codec` refuses it).

use kmip::attributes::{CryptographicParameters, CryptographicUsageMask};
use kmip::enums::{
    BlockCipherMode, EncodingOption, HashingAlgorithm, KeyFormatType, WrappingMethod,
};
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
    if block.key_wrapping_data.is_some() {
        return Err(versioned(
            ctx.version,
            ResultReason::KeyWrapTypeNotSupported,
            ResultReason::FeatureNotSupported,
            "the key was registered wrapped under a key this server does not hold: it cannot be re-wrapped",
        ));
    }
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
    let material = match encoding {
        EncodingOption::NoEncoding => {
            // The wrapped bytes are a Byte String Key Material: a Transparent Symmetric Key's bytes are Raw.
            if block.key_format_type == KeyFormatType::TransparentSymmetricKey {
                block.key_format_type = KeyFormatType::Raw;
            }
            KeyMaterial::Bytes(Zeroizing::new(wrapped))
        }
        EncodingOption::TtlvEncoding => KeyMaterial::Wrapped(Zeroizing::new(wrapped)),
    };
    block.key_value = Some(KeyValue {
        material,
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

/// Whether this server holds `uid` for the caller (another tenant's keys are not held: to it they do not
/// exist). A held key the caller may not unwrap with is still held: that refusal is reported.
fn is_held(ctx: &RequestContext<'_>, uid: &str) -> bool {
    match super::load(ctx, uid) {
        Ok(_) => true,
        Err(e) => !matches!(
            e.reason,
            ResultReason::ObjectNotFound | ResultReason::ItemNotFound
        ),
    }
}

/// What [`unwrap_block`] did with a client-supplied Key Block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unwrapped {
    /// The block holds the key in the clear (it came so, or the server unwrapped it).
    Clear,
    /// The block was wrapped under a key this server does not hold: it is kept as registered.
    KeptWrapped,
}

/// Unwraps a client-supplied Key Block that carries Key Wrapping Data (Register / Import): afterwards it holds
/// the key in the clear and no wrapping data. A block without wrapping data is left as it is; so is a block
/// wrapped under a key the server does not hold (KMIP lets a client register wrapped key material as it is).
pub fn unwrap_block(
    ctx: &RequestContext<'_>,
    block: &mut KeyBlock,
) -> Result<Unwrapped, KmipError> {
    let Some(data) = block.key_wrapping_data.clone() else {
        return Ok(Unwrapped::Clear);
    };
    let wrapped = match block.key_value.as_ref().map(|v| &v.material) {
        Some(KeyMaterial::Wrapped(bytes) | KeyMaterial::Bytes(bytes)) => bytes.clone(),
        _ => return Err(KmipError::invalid_field(
            "a wrapped Key Value must be a byte string (or a Key Value whose Key Material is one)",
        )),
    };
    if data.encryption_key_information.is_none() && data.mac_signature_key_information.is_none() {
        return Err(KmipError::new(
            ResultReason::MissingData,
            "Key Wrapping Data names no wrapping key (Encryption or MAC/Signature Key Information)",
        ));
    }
    let held = data
        .encryption_key_information
        .as_ref()
        .is_some_and(|info| is_held(ctx, &info.unique_identifier));
    if !held || data.wrapping_method != WrappingMethod::Encrypt {
        // Not ours to open (another key manager's KEK, or a MAC/signature wrapping): stored as registered.
        return Ok(Unwrapped::KeptWrapped);
    }
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
    Ok(Unwrapped::Clear)
}
