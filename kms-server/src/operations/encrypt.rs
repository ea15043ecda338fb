//! Encrypt and Decrypt with a managed key: AES (ECB, CBC, CTR, GCM), ChaCha20 and ChaCha20-Poly1305, and RSA
//! (OAEP with any label and hashes, PKCS#1 v1.5), one-shot or in parts. The key's usability ([`key_use`]) is
//! checked for every part; IVs the client does not give are drawn from the pool and returned. Sign / Verify / MAC / Hash are in `signing`.
//!
//! Result Reasons follow the OASIS cases: a missing IV on Decrypt is Invalid Message, a failed tag or padding
//! check Cryptographic Failure, a GCM or Poly1305 tag length outside 12..=16 bytes General Failure.

use kmip::attributes::{CryptographicParameters, CryptographicUsageMask};
use kmip::enums::BlockCipherMode;
use kmip::objects::ManagedObject;
use kmip::payloads::{DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse};
use kmip::{Operation, ProtocolVersion, ResultReason};
use zeroize::Zeroizing;

use crate::crypto::rsa_params::{oaep_decrypt, oaep_encrypt};
use crate::crypto::symmetric;
use crate::crypto::{asymmetric, chacha, CryptoError};
use crate::error::KmipError;
use crate::managed::cipher_params::{
    aead_tag_len, check_aead_encryption, checked_tag, cipher_of, oaep_or_pkcs1, padding_of,
    SymmetricCipher,
};
use crate::managed::key_codec::{
    crypto_error, public_key_of, stored_private_key_of, symmetric_bytes,
};
use crate::managed::key_use::{self, effective_parameters, KeyUse};
use crate::managed::streams::{self, Part, PartedRequest, Stream};
use crate::managed::target;
use crate::state::RequestContext;
use crate::store::StoredObject;

/// What one encryption produced.
#[derive(Debug, Default)]
struct Sealed {
    data: Vec<u8>,
    /// The IV actually used (returned only when the server drew it).
    iv: Option<Vec<u8>>,
    tag: Option<Vec<u8>>,
}

fn missing_iv() -> KmipError {
    KmipError::new(
        ResultReason::InvalidMessage,
        "this mode needs the IV/Counter/Nonce the data was encrypted with",
    )
}

fn encrypt_with(
    ctx: &RequestContext<'_>,
    object: &StoredObject,
    p: &CryptographicParameters,
    iv: Option<&[u8]>,
    aad: &[u8],
    data: &[u8],
) -> Result<Sealed, KmipError> {
    let version = ctx.version;
    let pool = &ctx.state.entropy;
    let error = |e| crypto_error(version, e);
    if let Some(held) = crate::managed::hsm_held::held(ctx, object)? {
        let sealed = held.encrypt(ctx, p, iv, aad, data)?;
        return Ok(Sealed {
            data: sealed.ciphertext,
            iv: sealed.drawn_iv,
            tag: Some(sealed.tag),
        });
    }
    match object.object.as_ref() {
        Some(ManagedObject::SymmetricKey(block)) => {
            let key = symmetric_bytes(block)?;
            let drawn = |used: Vec<u8>| if iv.is_none() { Some(used) } else { None };
            let mode = match cipher_of(version, block, p)? {
                SymmetricCipher::Aes(mode) => mode,
                SymmetricCipher::ChaCha20 => {
                    let out = chacha::chacha20_encrypt(pool, key, iv, data).map_err(error)?;
                    return Ok(Sealed {
                        data: out.ciphertext,
                        iv: drawn(out.iv),
                        tag: None,
                    });
                }
                SymmetricCipher::ChaCha20Poly1305 => {
                    check_aead_encryption(version)?;
                    let out = chacha::chacha20_poly1305_encrypt(
                        pool,
                        key,
                        iv,
                        aad,
                        data,
                        aead_tag_len(p)?,
                    )
                    .map_err(error)?;
                    return Ok(Sealed {
                        data: out.ciphertext,
                        iv: drawn(out.iv),
                        tag: Some(out.tag),
                    });
                }
            };
            match mode {
                BlockCipherMode::Ecb => Ok(Sealed {
                    data: symmetric::aes_ecb_encrypt(key, padding_of(version, p)?, data)
                        .map_err(error)?,
                    ..Sealed::default()
                }),
                BlockCipherMode::Cbc => {
                    let out =
                        symmetric::aes_cbc_encrypt(pool, key, iv, padding_of(version, p)?, data)
                            .map_err(error)?;
                    Ok(Sealed {
                        data: out.ciphertext,
                        iv: drawn(out.iv),
                        tag: None,
                    })
                }
                BlockCipherMode::Ctr => {
                    let out = symmetric::aes_ctr_encrypt(pool, key, iv, data).map_err(error)?;
                    Ok(Sealed {
                        data: out.ciphertext,
                        iv: drawn(out.iv),
                        tag: None,
                    })
                }
                _ => {
                    check_aead_encryption(version)?;
                    let out =
                        symmetric::aes_gcm_encrypt(pool, key, iv, aad, data, aead_tag_len(p)?)
                            .map_err(error)?;
                    Ok(Sealed {
                        data: out.ciphertext,
                        iv: drawn(out.iv),
                        tag: Some(out.tag),
                    })
                }
            }
        }
        Some(ManagedObject::PublicKey(block)) => {
            rsa_encrypt(ctx, &public_key_of(version, block)?, p, data)
        }
        Some(ManagedObject::PrivateKey(block)) => rsa_encrypt(
            ctx,
            &stored_private_key_of(version, block)?.public_key(),
            p,
            data,
        ),
        _ => Err(KmipError::invalid_field(format!(
            "{} is not a key that can encrypt",
            object.uid
        ))),
    }
}

fn rsa_encrypt(
    ctx: &RequestContext<'_>,
    key: &crate::crypto::PublicKey,
    p: &CryptographicParameters,
    data: &[u8],
) -> Result<Sealed, KmipError> {
    let pool = &ctx.state.entropy;
    let data = match oaep_or_pkcs1(ctx.version, p)? {
        Some(oaep) => oaep_encrypt(pool, key, &oaep, data),
        None => {
            asymmetric::rsa_encrypt(pool, key, asymmetric::RsaEncryptionPadding::Pkcs1v15, data)
        }
    }
    .map_err(|e| crypto_error(ctx.version, e))?;
    Ok(Sealed {
        data,
        ..Sealed::default()
    })
}

fn decrypt_with(
    ctx: &RequestContext<'_>,
    object: &StoredObject,
    p: &CryptographicParameters,
    iv: Option<&[u8]>,
    aad: &[u8],
    tag: Option<&[u8]>,
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmipError> {
    let version = ctx.version;
    let error = |e| crypto_error(version, e);
    if let Some(held) = crate::managed::hsm_held::held(ctx, object)? {
        return held.decrypt(ctx, p, iv, aad, tag, data);
    }
    match object.object.as_ref() {
        Some(ManagedObject::SymmetricKey(block)) => {
            let key = symmetric_bytes(block)?;
            let mode = match cipher_of(version, block, p)? {
                SymmetricCipher::Aes(mode) => mode,
                SymmetricCipher::ChaCha20 => {
                    return chacha::chacha20_decrypt(key, iv.ok_or_else(missing_iv)?, data)
                        .map_err(error)
                }
                SymmetricCipher::ChaCha20Poly1305 => {
                    let tag = checked_tag(p, tag)?;
                    return chacha::chacha20_poly1305_decrypt(
                        key,
                        iv.ok_or_else(missing_iv)?,
                        aad,
                        data,
                        tag,
                    )
                    .map_err(error);
                }
            };
            match mode {
                BlockCipherMode::Ecb => {
                    symmetric::aes_ecb_decrypt(key, padding_of(version, p)?, data)
                }
                BlockCipherMode::Cbc => symmetric::aes_cbc_decrypt(
                    key,
                    iv.ok_or_else(missing_iv)?,
                    padding_of(version, p)?,
                    data,
                ),
                BlockCipherMode::Ctr => {
                    symmetric::aes_ctr_decrypt(key, iv.ok_or_else(missing_iv)?, data)
                }
                _ => {
                    let iv = iv.ok_or_else(missing_iv)?;
                    let tag = checked_tag(p, tag)?;
                    symmetric::aes_gcm_decrypt(key, iv, aad, data, tag)
                }
            }
            .map_err(error)
        }
        Some(ManagedObject::PrivateKey(block)) => {
            let key = stored_private_key_of(version, block)?;
            let pool = &ctx.state.entropy;
            match oaep_or_pkcs1(version, p)? {
                Some(oaep) => oaep_decrypt(pool, &key, &oaep, data),
                None => asymmetric::rsa_decrypt(
                    pool,
                    &key,
                    asymmetric::RsaEncryptionPadding::Pkcs1v15,
                    data,
                ),
            }
            .map_err(error)
        }
        _ => Err(KmipError::invalid_field(format!(
            "{} is not a key that can decrypt",
            object.uid
        ))),
    }
}

/// Whether output can be returned part by part (stream modes); block modes answer at the final part.
fn streams_output(p: &CryptographicParameters) -> bool {
    matches!(
        p.block_cipher_mode,
        Some(BlockCipherMode::Ctr | BlockCipherMode::Gcm | BlockCipherMode::Aead)
    )
}

pub fn encrypt(
    ctx: &RequestContext<'_>,
    request: EncryptRequest,
) -> Result<EncryptResponse, KmipError> {
    let uid = target(&request.unique_identifier)?.to_owned();
    let usage = KeyUse::Protect(CryptographicUsageMask::ENCRYPT);
    let mut object = key_use::load_for(ctx, &uid, usage)?;
    let part = request.part()?;
    let data = request
        .data
        .as_ref()
        .map(|d| d.expose().to_vec())
        .unwrap_or_default();
    let aad = request
        .authenticated_encryption_additional_data
        .clone()
        .unwrap_or_default();
    let mut response = EncryptResponse {
        unique_identifier: uid.clone(),
        ..EncryptResponse::default()
    };
    match part {
        Part::Whole => {
            let p = effective_parameters(&object, request.cryptographic_parameters.as_ref());
            if request.data.is_none() {
                return Err(KmipError::new(
                    ResultReason::MissingData,
                    "Encrypt needs Data",
                ));
            }
            let sealed = encrypt_with(
                ctx,
                &object,
                &p,
                request.iv_counter_nonce.as_deref(),
                &aad,
                &data,
            )?;
            key_use::consume(ctx, &mut object, data.len())?;
            response.data = Some(sealed.data);
            response.iv_counter_nonce = sealed.iv;
            response.authenticated_encryption_tag = sealed.tag;
        }
        Part::First => {
            let p = effective_parameters(&object, request.cryptographic_parameters.as_ref());
            let mut stream = Stream::new(ctx, Operation::Encrypt, &uid, p.clone());
            stream.aad = aad;
            stream.push(&data)?;
            // Fix the IV now, so every part uses the same one; validate the parameters on this first part.
            let sealed = encrypt_with(
                ctx,
                &object,
                &p,
                request.iv_counter_nonce.as_deref(),
                &stream.aad,
                &stream.data,
            )?;
            stream.iv = request
                .iv_counter_nonce
                .clone()
                .or_else(|| sealed.iv.clone());
            response.iv_counter_nonce = sealed.iv;
            if streams_output(&p) {
                stream.emitted = sealed.data.len();
                response.data = Some(sealed.data);
            }
            response.correlation_value = Some(streams::keep(ctx, stream)?);
        }
        Part::Next { last } => {
            let correlation = request.correlation_value.clone().unwrap_or_default();
            let mut stream = streams::take(ctx, &correlation, Operation::Encrypt, &uid)?;
            stream.push(&data)?;
            let p = stream.parameters.clone();
            let sealed = encrypt_with(
                ctx,
                &object,
                &p,
                stream.iv.as_deref(),
                &stream.aad,
                &stream.data,
            )?;
            let new_output = sealed
                .data
                .get(stream.emitted..)
                .unwrap_or_default()
                .to_vec();
            if last {
                key_use::consume(ctx, &mut object, stream.data.len())?;
                response.data = Some(new_output);
                response.authenticated_encryption_tag = sealed.tag;
            } else {
                if streams_output(&p) {
                    stream.emitted = sealed.data.len();
                    response.data = Some(new_output);
                }
                streams::keep_as(correlation.clone(), stream);
                response.correlation_value = Some(correlation);
            }
        }
    }
    Ok(response)
}

pub fn decrypt(
    ctx: &RequestContext<'_>,
    request: DecryptRequest,
) -> Result<DecryptResponse, KmipError> {
    let uid = target(&request.unique_identifier)?.to_owned();
    let usage = KeyUse::Process(CryptographicUsageMask::DECRYPT);
    let mut object = key_use::load_for(ctx, &uid, usage)?;
    let part = request.part()?;
    let data = request.data.clone().unwrap_or_default();
    let aad = request
        .authenticated_encryption_additional_data
        .clone()
        .unwrap_or_default();
    let tag = request.authenticated_encryption_tag.as_deref();
    let mut response = DecryptResponse {
        unique_identifier: uid.clone(),
        ..DecryptResponse::default()
    };
    let plaintext = match part {
        Part::Whole => {
            if request.data.is_none() {
                return Err(KmipError::new(
                    ResultReason::MissingData,
                    "Decrypt needs Data",
                ));
            }
            let p = effective_parameters(&object, request.cryptographic_parameters.as_ref());
            decrypt_with(
                ctx,
                &object,
                &p,
                request.iv_counter_nonce.as_deref(),
                &aad,
                tag,
                &data,
            )?
        }
        Part::First => {
            let p = effective_parameters(&object, request.cryptographic_parameters.as_ref());
            let mut stream = Stream::new(ctx, Operation::Decrypt, &uid, p);
            stream.iv = request.iv_counter_nonce.clone();
            stream.aad = aad;
            stream.push(&data)?;
            response.correlation_value = Some(streams::keep(ctx, stream)?);
            return Ok(response);
        }
        Part::Next { last } => {
            let correlation = request.correlation_value.clone().unwrap_or_default();
            let mut stream = streams::take(ctx, &correlation, Operation::Decrypt, &uid)?;
            stream.push(&data)?;
            if !last {
                streams::keep_as(correlation.clone(), stream);
                response.correlation_value = Some(correlation);
                return Ok(response);
            }
            let p = stream.parameters.clone();
            decrypt_with(
                ctx,
                &object,
                &p,
                stream.iv.as_deref(),
                &stream.aad,
                tag,
                &stream.data,
            )?
        }
    };
    key_use::consume(ctx, &mut object, plaintext.len())?;
    response.data = Some(kmip::payloads::SecretBytes::from(plaintext.to_vec()));
    Ok(response)
}

/// Why an operation's input was refused, for errors the `crypto` layer cannot name itself.
pub fn unsupported_key(version: ProtocolVersion, what: &str) -> KmipError {
    crypto_error(version, CryptoError::Unsupported(what.to_owned()))
}
