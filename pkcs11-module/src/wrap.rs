//! C_WrapKey / C_UnwrapKey with CKM_AES_KEY_WRAP (RFC 3394) and CKM_AES_KEY_WRAP_PAD (RFC 5649): a KMIP Get
//! with a Key Wrapping Specification, and a KMIP Register of a Key Block carrying Key Wrapping Data (the server
//! unwraps it). Encoding Option No Encoding, so the wrapped bytes are exactly RFC 3394 / 5649 output and
//! interoperate with OpenSSL's id-aes*-wrap(-pad) and Python `cryptography`.
//!
//! Rules (PKCS#11 2.40 §5.16): the wrapping key needs CKA_WRAP, the unwrapping key CKA_UNWRAP, the wrapped key
//! CKA_EXTRACTABLE; only secret keys are wrapped here.

use cryptoki_sys::*;
use kmip::attributes::{CryptographicParameters, CryptographicUsageMask as Usage};
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, EncodingOption, KeyFormatType, ObjectType,
    WrappingMethod,
};
use kmip::objects::{
    KeyBlock, KeyMaterial, KeyWrappingData, KeyWrappingSpecification, ManagedObject,
    WrappingKeyInformation,
};
use kmip::payloads::*;
use kmip::ResultReason;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::keygen::{secret_key_attributes, KEY_TEMPLATE};
use crate::library::Library;
use crate::mapping;
use crate::mechanism_params::{Mechanism, Params};
use crate::objects::Entry;
use crate::ops::{activate, discard, unexpected, view};
use crate::template::Template;

/// The wrapping mechanisms this module performs.
pub const WRAP_MECHANISMS: &[CK_MECHANISM_TYPE] = &[CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD];

/// The KMIP Block Cipher Mode of a wrapping mechanism, which takes no parameter (the default IVs).
fn mode_of(mechanism: &Mechanism) -> Result<BlockCipherMode> {
    let mode = match mechanism.kind {
        CKM_AES_KEY_WRAP => BlockCipherMode::NistKeyWrap,
        CKM_AES_KEY_WRAP_PAD => BlockCipherMode::AesKeyWrapPadding,
        _ => {
            return fail(
                CKR_MECHANISM_INVALID,
                "wrapping: CKM_AES_KEY_WRAP and CKM_AES_KEY_WRAP_PAD",
            )
        }
    };
    if mechanism.params != Params::None {
        return fail(
            CKR_MECHANISM_PARAM_INVALID,
            "only the default AES key wrap IV is supported",
        );
    }
    Ok(mode)
}

/// Bytes of the wrapping of a `key_len`-byte key (RFC 3394 needs whole 8-byte blocks, at least two).
fn wrapped_len(mode: BlockCipherMode, key_len: usize) -> Result<usize> {
    match mode {
        BlockCipherMode::NistKeyWrap if !key_len.is_multiple_of(8) || key_len < 16 => fail(
            CKR_KEY_SIZE_RANGE,
            "CKM_AES_KEY_WRAP wraps keys of 16 bytes or more, a multiple of 8",
        ),
        BlockCipherMode::NistKeyWrap => Ok(key_len + 8),
        _ => Ok(key_len.div_ceil(8) * 8 + 8),
    }
}

/// Checks that `entry` is an AES key with the usage bit `usage`; `type_error` names the key's role.
fn check_kek(library: &Library, entry: &Entry, usage: Usage, type_error: CK_RV) -> Result<()> {
    let view = view(library, entry)?;
    if view.class != CKO_SECRET_KEY
        || view.attributes.cryptographic_algorithm() != Some(CryptographicAlgorithm::Aes)
    {
        return fail(type_error, "AES key wrapping takes an AES key");
    }
    if !mapping::usage(&view.attributes).contains(usage) {
        return fail(
            CKR_KEY_FUNCTION_NOT_PERMITTED,
            "the wrapping key lacks CKA_WRAP / CKA_UNWRAP",
        );
    }
    Ok(())
}

fn key_information(kek: &Entry, mode: BlockCipherMode) -> WrappingKeyInformation {
    WrappingKeyInformation {
        unique_identifier: kek.uid.clone(),
        cryptographic_parameters: Some(CryptographicParameters {
            block_cipher_mode: Some(mode),
            ..Default::default()
        }),
    }
}

/// The wrapped-key length C_WrapKey would produce, answered without a round trip (the size query).
pub fn wrap_len(
    library: &Library,
    mechanism: &Mechanism,
    kek: &Entry,
    key: &Entry,
) -> Result<usize> {
    let mode = mode_of(mechanism)?;
    check_kek(
        library,
        kek,
        Usage::WRAP_KEY,
        CKR_WRAPPING_KEY_TYPE_INCONSISTENT,
    )?;
    let view = view(library, key)?;
    if view.class != CKO_SECRET_KEY {
        return fail(CKR_KEY_NOT_WRAPPABLE, "only secret keys are wrapped here");
    }
    if !mapping::extractable(&view.attributes, view.class) {
        return fail(CKR_KEY_UNEXTRACTABLE, "the key is not CKA_EXTRACTABLE");
    }
    let bits = view.attributes.cryptographic_length().unwrap_or(0);
    wrapped_len(mode, usize::try_from(bits).unwrap_or(0) / 8)
}

/// C_WrapKey: `key` wrapped under `kek` by the server.
pub fn wrap(
    library: &Library,
    mechanism: &Mechanism,
    kek: &Entry,
    key: &Entry,
) -> Result<Zeroizing<Vec<u8>>> {
    let expected = wrap_len(library, mechanism, kek, key)?;
    let mode = mode_of(mechanism)?;
    let request = GetRequest {
        unique_identifier: Some(key.uid.clone()),
        key_format_type: Some(KeyFormatType::Raw),
        key_wrapping_specification: Some(KeyWrappingSpecification {
            wrapping_method: WrappingMethod::Encrypt,
            encryption_key_information: Some(key_information(kek, mode)),
            mac_signature_key_information: None,
            attribute_names: Vec::new(),
            encoding_option: Some(EncodingOption::NoEncoding),
        }),
        ..Default::default()
    };
    let object = match library.tokens[key.token].link()?.call(request) {
        Ok(ResponsePayload::Get(response)) => response.object.0,
        Ok(other) => return Err(unexpected(other)),
        Err(Pkcs11Error::Server {
            reason: ResultReason::NotExtractable | ResultReason::Sensitive,
            ..
        }) => {
            return fail(
                CKR_KEY_UNEXTRACTABLE,
                "the server refuses to export the key",
            )
        }
        Err(e) => return Err(e),
    };
    let wrapped = match object {
        Some(ManagedObject::SymmetricKey(block)) => match block.key_value.map(|v| v.material) {
            Some(KeyMaterial::Wrapped(bytes) | KeyMaterial::Bytes(bytes)) => bytes,
            _ => {
                return Err(Pkcs11Error::Unexpected(
                    "Get returned no wrapped key".into(),
                ))
            }
        },
        _ => {
            return Err(Pkcs11Error::Unexpected(
                "Get returned no symmetric key".into(),
            ))
        }
    };
    if wrapped.len() != expected {
        return Err(Pkcs11Error::Unexpected(
            "the wrapped key has an unexpected length".into(),
        ));
    }
    Ok(wrapped)
}

/// C_UnwrapKey: registers `wrapped` for the server to unwrap under `kek`; returns the new key's handle.
pub fn unwrap(
    library: &Library,
    mechanism: &Mechanism,
    kek: &Entry,
    wrapped: &[u8],
    template: &Template,
) -> Result<CK_OBJECT_HANDLE> {
    let mode = mode_of(mechanism)?;
    check_kek(
        library,
        kek,
        Usage::UNWRAP_KEY,
        CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT,
    )?;
    let mut allowed = KEY_TEMPLATE.to_vec();
    allowed.push(CKA_VALUE_LEN);
    template.only(&allowed)?;
    match template.ulong(CKA_CLASS)? {
        Some(CKO_SECRET_KEY) => {}
        Some(_) => {
            return fail(
                CKR_TEMPLATE_INCONSISTENT,
                "keys are unwrapped as secret keys",
            )
        }
        None => return fail(CKR_TEMPLATE_INCOMPLETE, "C_UnwrapKey needs CKA_CLASS"),
    }
    if wrapped.len() < 16 || !wrapped.len().is_multiple_of(8) {
        return fail(
            CKR_WRAPPED_KEY_LEN_RANGE,
            "an AES key wrap is at least 16 bytes, a multiple of 8",
        );
    }
    let mechanism_for_type = match template.ulong(CKA_KEY_TYPE)? {
        Some(CKK_AES) => CKM_AES_KEY_GEN,
        Some(CKK_GENERIC_SECRET | CKK_SHA256_HMAC) => CKM_GENERIC_SECRET_KEY_GEN,
        Some(_) => {
            return fail(
                CKR_TEMPLATE_INCONSISTENT,
                "unwrapped keys are CKK_AES or CKK_GENERIC_SECRET",
            )
        }
        None => return fail(CKR_TEMPLATE_INCOMPLETE, "C_UnwrapKey needs CKA_KEY_TYPE"),
    };
    // The key length: as the template says, else what the wrapping holds (exact for RFC 3394, and for
    // RFC 5649 whenever the key is a whole number of 8-byte blocks, as AES keys are).
    let key_len = match template.ulong(CKA_VALUE_LEN)? {
        Some(len) => len,
        None => (wrapped.len() - 8) as CK_ULONG,
    };
    let mut sized = template.clone();
    sized.0.retain(|(kind, _)| *kind != CKA_VALUE_LEN);
    sized.0.push((CKA_VALUE_LEN, mapping::ulong(key_len)));
    let (algorithm, bits, default_usage) =
        crate::keygen::secret_key_spec(mechanism_for_type, &sized)?;
    sized.0.retain(|(kind, _)| *kind != CKA_VALUE_LEN);
    let mut attributes = secret_key_attributes(algorithm, bits, default_usage, &sized)?;
    let session_object =
        crate::keygen::add_session_lease(library, kek.token, &sized, &mut attributes)?;
    let mut block = KeyBlock::new(
        KeyFormatType::Raw,
        KeyMaterial::Bytes(Zeroizing::new(wrapped.to_vec())),
        Some(algorithm),
        Some(bits),
    );
    block.key_wrapping_data = Some(KeyWrappingData {
        wrapping_method: WrappingMethod::Encrypt,
        encryption_key_information: Some(key_information(kek, mode)),
        mac_signature_key_information: None,
        mac_signature: None,
        iv_counter_nonce: None,
        encoding_option: Some(EncodingOption::NoEncoding),
    });
    let request = RegisterRequest {
        object_type: ObjectType::SymmetricKey,
        attributes,
        object: ObjectField(Some(ManagedObject::SymmetricKey(block))),
        protection_storage_masks: None,
    };
    let uid = match library.tokens[kek.token].create_call(request, session_object) {
        Ok(ResponsePayload::Register(response)) => response.unique_identifier,
        Ok(other) => return Err(unexpected(other)),
        Err(Pkcs11Error::Server {
            reason: ResultReason::CryptographicFailure,
            ..
        }) => return fail(CKR_WRAPPED_KEY_INVALID, "the wrapped key does not unwrap"),
        Err(e) => return Err(e),
    };
    if let Err(error) = activate(library, kek.token, &uid) {
        discard(library, kek.token, &uid);
        return Err(error);
    }
    library.objects.handle_for(kek.token, &uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lengths_follow_rfc_3394_and_5649() {
        assert_eq!(wrapped_len(BlockCipherMode::NistKeyWrap, 32).unwrap(), 40);
        assert_eq!(
            wrapped_len(BlockCipherMode::NistKeyWrap, 20)
                .unwrap_err()
                .to_rv(),
            CKR_KEY_SIZE_RANGE
        );
        assert_eq!(
            wrapped_len(BlockCipherMode::AesKeyWrapPadding, 20).unwrap(),
            32
        );
        assert_eq!(
            wrapped_len(BlockCipherMode::AesKeyWrapPadding, 16).unwrap(),
            24
        );
        let with_iv = Mechanism {
            kind: CKM_AES_KEY_WRAP,
            params: Params::Iv(Zeroizing::new(vec![0; 8])),
        };
        assert_eq!(
            mode_of(&with_iv).unwrap_err().to_rv(),
            CKR_MECHANISM_PARAM_INVALID
        );
    }
}
