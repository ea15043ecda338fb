//! An object's value as Get and Export return it: converted (Raw <-> Transparent Symmetric Key; public and
//! private keys between PKCS#1, PKCS#8, SEC1, X.509 and the Transparent forms) and wrapped when a Key Wrapping
//! Specification asks (`wrapping`).

use kmip::attributes::{Attribute, KnownAttribute};
use kmip::enums::KeyFormatType;
use kmip::objects::KeyWrappingSpecification;
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::EnumValue;
use kmip::ResultReason;

use super::versioned;
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::StoredObject;

/// Key Wrap Type "Not Wrapped".
const KEY_WRAP_NOT_WRAPPED: u32 = 1;

/// The value of `stored` as Get / Export return it: checked for Sensitive / Extractable, converted to the
/// asked Key Format Type, and wrapped when a Key Wrapping Specification asks (a Sensitive key may leave the
/// server wrapped, never in the clear).
pub fn render(
    ctx: &RequestContext<'_>,
    stored: &StoredObject,
    key_format_type: Option<KeyFormatType>,
    key_wrap_type: Option<EnumValue>,
    key_compression_type: Option<kmip::enums::KeyCompressionType>,
    wrapping: Option<&KeyWrappingSpecification>,
) -> Result<ManagedObject, KmipError> {
    let uid = &stored.uid;
    if let Some(compression) = key_compression_type {
        return Err(KmipError::new(
            ResultReason::KeyCompressionTypeNotSupported,
            format!(
                "Key Compression Type {} is not supported",
                compression.name()
            ),
        ));
    }
    super::hsm_held::refuse_get(stored)?;
    let Some(object) = stored.object.clone() else {
        return Err(versioned(
            ctx.version,
            ResultReason::ObjectDestroyed,
            ResultReason::ItemNotFound,
            format!("{uid} was destroyed: its key material is gone, only its attributes remain"),
        ));
    };
    if wrapping.is_none()
        && matches!(
            stored.attributes.get(&KnownAttribute::Sensitive.into()),
            Some(Attribute::Sensitive(true))
        )
    {
        return Err(KmipError::new(
            ResultReason::Sensitive,
            format!("{uid} is Sensitive: its value cannot be returned in the clear"),
        ));
    }
    if matches!(
        stored.attributes.get(&KnownAttribute::Extractable.into()),
        Some(Attribute::Extractable(false))
    ) {
        return Err(versioned(
            ctx.version,
            ResultReason::NotExtractable,
            ResultReason::PermissionDenied,
            format!("{uid} is not Extractable"),
        ));
    }
    let wrapped = object
        .key_block()
        .is_some_and(|b| b.key_wrapping_data.is_some());
    if wrapped && key_wrap_type.is_some_and(|t| t.0 == KEY_WRAP_NOT_WRAPPED) {
        return Err(versioned(
            ctx.version,
            ResultReason::KeyWrapTypeNotSupported,
            ResultReason::FeatureNotSupported,
            format!("{uid} was registered wrapped; unwrapping on Get is not supported"),
        ));
    }
    let object = match key_format_type {
        Some(format) => convert(ctx.version, object, format)?,
        None => object,
    };
    match wrapping {
        Some(spec) => super::wrapping::wrap_object(ctx, object, spec),
        None => Ok(object),
    }
}

/// The object in Key Format Type `format`: the stored format as is, Raw <-> Transparent Symmetric Key for
/// symmetric keys, anything else Key Format Type Not Supported.
fn convert(
    version: kmip::ProtocolVersion,
    object: ManagedObject,
    format: KeyFormatType,
) -> Result<ManagedObject, KmipError> {
    let not_supported = |stored: Option<KeyFormatType>| {
        versioned(
            version,
            ResultReason::KeyFormatTypeNotSupported,
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "cannot return this object as {}{}",
                format.name(),
                stored.map_or(String::new(), |s| format!(
                    " (it is stored as {})",
                    s.name()
                ))
            ),
        )
    };
    match object {
        ManagedObject::SymmetricKey(block) => {
            if block.key_format_type == format {
                return Ok(ManagedObject::SymmetricKey(block));
            }
            let stored_format = block.key_format_type;
            let KeyBlock {
                key_value,
                cryptographic_algorithm,
                cryptographic_length,
                key_wrapping_data,
                ..
            } = block;
            let value = key_value.ok_or_else(|| not_supported(Some(stored_format)))?;
            if key_wrapping_data.is_some() || !value.attributes.is_empty() {
                return Err(not_supported(Some(stored_format)));
            }
            let bytes = match value.material {
                KeyMaterial::Bytes(ref b) => b.clone(),
                KeyMaterial::TransparentSymmetricKey { ref key } => key.clone(),
                _ => return Err(not_supported(Some(stored_format))),
            };
            let material = match format {
                KeyFormatType::Raw => KeyMaterial::Bytes(bytes),
                KeyFormatType::TransparentSymmetricKey => {
                    KeyMaterial::TransparentSymmetricKey { key: bytes }
                }
                _ => return Err(not_supported(Some(stored_format))),
            };
            Ok(ManagedObject::SymmetricKey(KeyBlock::new(
                format,
                material,
                cryptographic_algorithm,
                cryptographic_length,
            )))
        }
        ManagedObject::PrivateKey(block) if block.key_format_type != format => {
            let key = super::key_codec::stored_private_key_of(version, &block)?;
            let converted = super::key_codec::private_key_block(version, &key, format)?;
            Ok(ManagedObject::PrivateKey(converted))
        }
        ManagedObject::PublicKey(block) if block.key_format_type != format => {
            let key = super::key_codec::public_key_of(version, &block)?;
            let converted = super::key_codec::public_key_block(version, &key, format)?;
            Ok(ManagedObject::PublicKey(converted))
        }
        other => {
            let stored = other.key_block().map(|b| b.key_format_type);
            if stored == Some(format) || stored.is_none() {
                Ok(other)
            } else {
                Err(not_supported(stored))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn raw() -> ManagedObject {
        ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![7u8; 16])),
            Some(kmip::enums::CryptographicAlgorithm::Aes),
            Some(128),
        ))
    }

    #[test]
    fn raw_and_transparent_symmetric_keys_convert_both_ways() {
        let v = kmip::ProtocolVersion::V1_4;
        let transparent = convert(v, raw(), KeyFormatType::TransparentSymmetricKey).unwrap();
        let block = transparent.key_block().unwrap();
        assert_eq!(
            block.key_format_type,
            KeyFormatType::TransparentSymmetricKey
        );
        assert!(matches!(
            &block.key_value.as_ref().unwrap().material,
            KeyMaterial::TransparentSymmetricKey { key } if key.as_slice() == [7u8; 16]
        ));
        assert_eq!(convert(v, transparent, KeyFormatType::Raw).unwrap(), raw());
    }

    #[test]
    fn other_formats_are_refused() {
        let e = convert(kmip::ProtocolVersion::V2_1, raw(), KeyFormatType::Pkcs8).unwrap_err();
        assert_eq!(e.reason, ResultReason::KeyFormatTypeNotSupported);
    }
}
