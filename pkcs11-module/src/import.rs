//! C_CreateObject: certificates, data objects, AES keys and RSA / EC public keys, by KMIP Register.

use cryptoki_sys::*;
use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask as Usage};
use kmip::enums::{CertificateType, CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{Certificate, KeyBlock, KeyMaterial, ManagedObject, OpaqueObject};
use kmip::payloads::*;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::key_codec;
use crate::keygen::{
    common_attributes, key_attributes, usage_mask, AES_DEFAULT_USAGE, KEY_TEMPLATE,
};
use crate::library::Library;
use crate::ops::{activate, unexpected, PKCS11_DATA};
use crate::template::Template;

/// C_CreateObject: certificates, data objects, AES keys and RSA / EC public keys, by KMIP Register.
pub fn create_object(
    library: &Library,
    token: usize,
    template: &Template,
) -> Result<CK_OBJECT_HANDLE> {
    let class = template.ulong(CKA_CLASS)?.ok_or(Pkcs11Error::rv(
        CKR_TEMPLATE_INCOMPLETE,
        "CKA_CLASS is required",
    ))?;
    if class == CKO_PUBLIC_KEY {
        let mut attributes = Attributes::new();
        let object = public_key(template, &mut attributes)?;
        return register(
            library,
            token,
            template,
            ObjectType::PublicKey,
            object,
            attributes,
            true,
        );
    }
    let value = template
        .get(CKA_VALUE)
        .ok_or(Pkcs11Error::rv(
            CKR_TEMPLATE_INCOMPLETE,
            "CKA_VALUE is required",
        ))?
        .to_vec();
    let mut attributes = Attributes::new();
    let (object_type, object, activate_after) = match class {
        CKO_CERTIFICATE => {
            template.only(&[
                CKA_CLASS,
                CKA_CERTIFICATE_TYPE,
                CKA_VALUE,
                CKA_LABEL,
                CKA_ID,
                CKA_TOKEN,
                CKA_PRIVATE,
                CKA_SUBJECT,
                CKA_ISSUER,
                CKA_SERIAL_NUMBER,
                CKA_TRUSTED,
                CKA_CERTIFICATE_CATEGORY,
                CKA_MODIFIABLE,
                CKA_DESTROYABLE,
            ])?;
            if template
                .ulong(CKA_CERTIFICATE_TYPE)?
                .is_some_and(|t| t != CKC_X_509)
            {
                return fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "only X.509 certificates are supported",
                );
            }
            if template.bool(CKA_PRIVATE)? == Some(true)
                || template.bool(CKA_TRUSTED)? == Some(true)
            {
                return fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "certificates here are public and untrusted",
                );
            }
            // The value must be a certificate; subject, issuer and serial, when given, must be its own.
            for kind in [CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER] {
                let own = crate::objects::certificate_field(&value, kind)?;
                if template
                    .get(kind)
                    .is_some_and(|given| given != own.as_slice())
                {
                    return fail(
                        CKR_TEMPLATE_INCONSISTENT,
                        "a certificate field differs from CKA_VALUE",
                    );
                }
            }
            let object = ManagedObject::Certificate(Certificate {
                certificate_type: CertificateType::X509,
                certificate_value: value,
            });
            (ObjectType::Certificate, object, false)
        }
        CKO_DATA => {
            template.only(&[
                CKA_CLASS,
                CKA_VALUE,
                CKA_LABEL,
                CKA_TOKEN,
                CKA_PRIVATE,
                CKA_APPLICATION,
                CKA_OBJECT_ID,
                CKA_MODIFIABLE,
                CKA_DESTROYABLE,
            ])?;
            if template.bool(CKA_PRIVATE)? == Some(true) {
                return fail(CKR_ATTRIBUTE_VALUE_INVALID, "data objects here are public");
            }
            if template.get(CKA_APPLICATION).is_some_and(|a| !a.is_empty())
                || template.get(CKA_OBJECT_ID).is_some_and(|o| !o.is_empty())
            {
                return fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "CKA_APPLICATION and CKA_OBJECT_ID are not stored",
                );
            }
            let object = ManagedObject::OpaqueObject(OpaqueObject {
                opaque_data_type: PKCS11_DATA,
                opaque_data_value: Zeroizing::new(value),
            });
            (ObjectType::OpaqueObject, object, false)
        }
        CKO_SECRET_KEY => {
            let mut allowed = KEY_TEMPLATE.to_vec();
            allowed.push(CKA_VALUE);
            template.only(&allowed)?;
            if template.ulong(CKA_KEY_TYPE)? != Some(CKK_AES) {
                return fail(
                    CKR_TEMPLATE_INCONSISTENT,
                    "imported secret keys must be CKK_AES",
                );
            }
            if !matches!(value.len(), 16 | 24 | 32) {
                return fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "AES keys are 16, 24 or 32 bytes",
                );
            }
            if template
                .ulong(CKA_VALUE_LEN)?
                .is_some_and(|l| l as usize != value.len())
            {
                return fail(
                    CKR_TEMPLATE_INCONSISTENT,
                    "CKA_VALUE_LEN differs from the value",
                );
            }
            key_attributes(
                template,
                usage_mask(template, AES_DEFAULT_USAGE)?,
                &mut attributes,
            )?;
            let bits = value.len() as i32 * 8;
            attributes.push(Attribute::CryptographicAlgorithm(
                CryptographicAlgorithm::Aes,
            ));
            attributes.push(Attribute::CryptographicLength(bits));
            let block = KeyBlock::new(
                KeyFormatType::Raw,
                KeyMaterial::Bytes(Zeroizing::new(value)),
                Some(CryptographicAlgorithm::Aes),
                Some(bits),
            );
            (
                ObjectType::SymmetricKey,
                ManagedObject::SymmetricKey(block),
                true,
            )
        }
        _ => {
            return fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "this module creates certificates, data, AES keys and RSA / EC public keys",
            )
        }
    };
    register(
        library,
        token,
        template,
        object_type,
        object,
        attributes,
        activate_after,
    )
}

/// Registers `object` with the template's common attributes (activated when `activate_after`), and returns its
/// handle.
fn register(
    library: &Library,
    token: usize,
    template: &Template,
    object_type: ObjectType,
    object: ManagedObject,
    mut attributes: Attributes,
    activate_after: bool,
) -> Result<CK_OBJECT_HANDLE> {
    common_attributes(template, &mut attributes)?;
    let request = RegisterRequest {
        object_type,
        attributes,
        object: ObjectField(Some(object)),
        protection_storage_masks: None,
    };
    let uid = match library.tokens[token].link()?.call(request)? {
        ResponsePayload::Register(response) => response.unique_identifier,
        other => return Err(unexpected(other)),
    };
    if activate_after {
        activate(library, token, &uid)?;
    }
    library.objects.handle_for(token, &uid)
}

/// What a public key template may hold.
const PUBLIC_KEY_TEMPLATE: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_CLASS,
    CKA_KEY_TYPE,
    CKA_LABEL,
    CKA_ID,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_MODULUS,
    CKA_MODULUS_BITS,
    CKA_PUBLIC_EXPONENT,
    CKA_EC_PARAMS,
    CKA_EC_POINT,
    CKA_ENCRYPT,
    CKA_VERIFY,
    CKA_VERIFY_RECOVER,
    CKA_WRAP,
    CKA_DERIVE,
    CKA_SUBJECT,
    CKA_MODIFIABLE,
    CKA_DESTROYABLE,
];

/// Default usage of an imported public key: what a public key is for.
const PUBLIC_KEY_DEFAULT_USAGE: Usage =
    Usage(Usage::VERIFY.0 | Usage::ENCRYPT.0 | Usage::WRAP_KEY.0);

/// CKO_PUBLIC_KEY: an RSA (CKA_MODULUS, CKA_PUBLIC_EXPONENT) or EC (CKA_EC_PARAMS, CKA_EC_POINT) public key,
/// registered as a SubjectPublicKeyInfo (the server parses it and fills in algorithm and length).
fn public_key(template: &Template, attributes: &mut Attributes) -> Result<ManagedObject> {
    template.only(PUBLIC_KEY_TEMPLATE)?;
    let required = |kind: CK_ATTRIBUTE_TYPE, name: &'static str| {
        template
            .get(kind)
            .ok_or(Pkcs11Error::rv(CKR_TEMPLATE_INCOMPLETE, name))
    };
    let spki = match template.ulong(CKA_KEY_TYPE)? {
        Some(CKK_RSA) => {
            let modulus = required(CKA_MODULUS, "an RSA public key needs CKA_MODULUS")?;
            if template
                .ulong(CKA_MODULUS_BITS)?
                .is_some_and(|bits| bits as usize != significant_bits(modulus))
            {
                return fail(
                    CKR_TEMPLATE_INCONSISTENT,
                    "CKA_MODULUS_BITS differs from CKA_MODULUS",
                );
            }
            let exponent = required(
                CKA_PUBLIC_EXPONENT,
                "an RSA public key needs CKA_PUBLIC_EXPONENT",
            )?;
            key_codec::rsa_spki(modulus, exponent)?
        }
        Some(CKK_EC) => key_codec::ec_spki(
            required(CKA_EC_PARAMS, "an EC public key needs CKA_EC_PARAMS")?,
            required(CKA_EC_POINT, "an EC public key needs CKA_EC_POINT")?,
        )?,
        Some(_) => {
            return fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "public keys are CKK_RSA or CKK_EC",
            )
        }
        None => return fail(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required"),
    };
    if template.bool(CKA_PRIVATE)? == Some(true) {
        return fail(CKR_ATTRIBUTE_VALUE_INVALID, "public keys here are public");
    }
    if template.bool(CKA_VERIFY_RECOVER)? == Some(true) {
        return fail(CKR_ATTRIBUTE_VALUE_INVALID, "verify-recover is not offered");
    }
    attributes.push(Attribute::CryptographicUsageMask(usage_mask(
        template,
        PUBLIC_KEY_DEFAULT_USAGE,
    )?));
    Ok(ManagedObject::PublicKey(KeyBlock::new(
        KeyFormatType::X509,
        KeyMaterial::Bytes(Zeroizing::new(spki)),
        None,
        None,
    )))
}

/// Bits of a big-endian unsigned integer, leading zero bytes and bits not counted.
fn significant_bits(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        Some(first) => (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize,
        None => 0,
    }
}
