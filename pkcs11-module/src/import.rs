//! C_CreateObject: certificates, data objects and AES keys, by KMIP Register.

use cryptoki_sys::*;
use kmip::attributes::{Attribute, Attributes};
use kmip::enums::{CertificateType, CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{Certificate, KeyBlock, KeyMaterial, ManagedObject, OpaqueObject};
use kmip::payloads::*;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::keygen::{
    common_attributes, key_attributes, usage_mask, AES_DEFAULT_USAGE, KEY_TEMPLATE,
};
use crate::library::Library;
use crate::ops::{activate, unexpected, PKCS11_DATA};
use crate::template::Template;

/// C_CreateObject: certificates, data objects and AES keys, by KMIP Register.
pub fn create_object(
    library: &Library,
    token: usize,
    template: &Template,
) -> Result<CK_OBJECT_HANDLE> {
    let class = template.ulong(CKA_CLASS)?.ok_or(Pkcs11Error::rv(
        CKR_TEMPLATE_INCOMPLETE,
        "CKA_CLASS is required",
    ))?;
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
                "this module creates certificates, data and AES keys",
            )
        }
    };
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
