//! C_GenerateKey: AES keys (CKM_AES_KEY_GEN) and HMAC keys (CKM_GENERIC_SECRET_KEY_GEN, stored as KMIP
//! HMAC-SHA256 keys) by KMIP Create; and the template rules every new key shares (label, id, sensitivity,
//! usage flags).

use cryptoki_sys::*;
use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask as Usage};
use kmip::enums::{CryptographicAlgorithm, ObjectType};
use kmip::payloads::*;

use crate::error::{fail, Result};
use crate::library::Library;
use crate::mapping;
use crate::ops::{activate, discard, unexpected};
use crate::template::Template;

/// Label, id and the attributes every object template may carry.
pub(crate) fn common_attributes(template: &Template, out: &mut Attributes) -> Result<()> {
    if let Some(label) = template.text(CKA_LABEL)? {
        out.push(mapping::name_attribute(&label));
    }
    if let Some(id) = template.get(CKA_ID) {
        out.push(mapping::id_attribute(id));
    }
    for kind in [CKA_MODIFIABLE, CKA_DESTROYABLE] {
        if template.bool(kind)? == Some(false) {
            return fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "objects here are always modifiable and destroyable",
            );
        }
    }
    Ok(())
}

/// A session object (CKA_TOKEN false or absent) carries this process's lease, so the server destroys it with
/// the lease (see [`crate::mapping::SESSION_LEASE_NAME`]). Whether the template makes one.
pub(crate) fn add_session_lease(
    library: &Library,
    token: usize,
    template: &Template,
    out: &mut Attributes,
) -> Result<bool> {
    if !template.is_session_object()? {
        return Ok(false);
    }
    let lease = library.tokens[token].session_lease()?;
    out.push(mapping::session_lease_attribute(&lease));
    Ok(true)
}

/// Sensitive / Extractable / CKA_PRIVATE and the usage mask (see [`usage_mask`]) of a new secret or private key.
pub(crate) fn key_attributes(
    template: &Template,
    usage: Usage,
    out: &mut Attributes,
) -> Result<()> {
    if let Some(private) = template.bool(CKA_PRIVATE)? {
        out.push(mapping::private_attribute(private));
    }
    let sensitive = template.bool(CKA_SENSITIVE)?.unwrap_or(true);
    let extractable = template.bool(CKA_EXTRACTABLE)?.unwrap_or(false);
    out.push(Attribute::Sensitive(sensitive));
    out.push(Attribute::Extractable(extractable));
    out.push(Attribute::CryptographicUsageMask(usage));
    Ok(())
}

/// The usage mask the template's CKA_ENCRYPT/CKA_SIGN/... flags ask for, `default_usage` when none is given.
pub(crate) fn usage_mask(template: &Template, default_usage: Usage) -> Result<Usage> {
    let mut usage = Usage::empty();
    let mut any = false;
    for (kind, bit) in mapping::USAGE_FLAGS {
        match template.bool(*kind)? {
            Some(true) => {
                usage |= *bit;
                any = true;
            }
            Some(false) => any = true,
            None => {}
        }
    }
    Ok(if any { usage } else { default_usage })
}

pub(crate) const KEY_TEMPLATE: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_CLASS,
    CKA_KEY_TYPE,
    CKA_VALUE_LEN,
    CKA_LABEL,
    CKA_ID,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_SENSITIVE,
    CKA_EXTRACTABLE,
    CKA_ENCRYPT,
    CKA_DECRYPT,
    CKA_SIGN,
    CKA_VERIFY,
    CKA_WRAP,
    CKA_UNWRAP,
    CKA_DERIVE,
    CKA_MODIFIABLE,
    CKA_DESTROYABLE,
];

pub(crate) const AES_DEFAULT_USAGE: Usage =
    Usage(Usage::ENCRYPT.0 | Usage::DECRYPT.0 | Usage::WRAP_KEY.0 | Usage::UNWRAP_KEY.0);

/// Default usage of HMAC keys: PKCS#11's CKA_SIGN / CKA_VERIFY and the KMIP MAC bits the server checks.
pub(crate) const HMAC_DEFAULT_USAGE: Usage =
    Usage(Usage::SIGN.0 | Usage::VERIFY.0 | Usage::MAC_GENERATE.0 | Usage::MAC_VERIFY.0);

/// The KMIP algorithm and length (bits) of a new secret key, from the generation mechanism and template.
pub(crate) fn secret_key_spec(
    mechanism: CK_MECHANISM_TYPE,
    template: &Template,
) -> Result<(CryptographicAlgorithm, i32, Usage)> {
    if template
        .ulong(CKA_CLASS)?
        .is_some_and(|c| c != CKO_SECRET_KEY)
    {
        return fail(CKR_TEMPLATE_INCONSISTENT, "secret keys have CKO_SECRET_KEY");
    }
    let key_type = template.ulong(CKA_KEY_TYPE)?;
    let length = template.ulong(CKA_VALUE_LEN)?;
    match mechanism {
        CKM_AES_KEY_GEN => {
            if key_type.is_some_and(|k| k != CKK_AES) {
                return fail(CKR_TEMPLATE_INCONSISTENT, "CKM_AES_KEY_GEN makes AES keys");
            }
            match length {
                Some(len @ (16 | 24 | 32)) => Ok((
                    CryptographicAlgorithm::Aes,
                    len as i32 * 8,
                    AES_DEFAULT_USAGE,
                )),
                Some(_) => fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "AES keys are 16, 24 or 32 bytes",
                ),
                None => fail(
                    CKR_TEMPLATE_INCOMPLETE,
                    "CKM_AES_KEY_GEN needs CKA_VALUE_LEN",
                ),
            }
        }
        CKM_GENERIC_SECRET_KEY_GEN => {
            if key_type.is_some_and(|k| !matches!(k, CKK_GENERIC_SECRET | CKK_SHA256_HMAC)) {
                return fail(
                    CKR_TEMPLATE_INCONSISTENT,
                    "CKM_GENERIC_SECRET_KEY_GEN makes HMAC-SHA256 keys (CKK_GENERIC_SECRET or CKK_SHA256_HMAC)",
                );
            }
            match length {
                // The server's HMAC key sizes: 112 to 8192 bits.
                Some(len @ 14..=1024) => Ok((
                    CryptographicAlgorithm::HmacSha256,
                    len as i32 * 8,
                    HMAC_DEFAULT_USAGE,
                )),
                Some(_) => fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "HMAC keys are 14 to 1024 bytes",
                ),
                None => fail(
                    CKR_TEMPLATE_INCOMPLETE,
                    "CKM_GENERIC_SECRET_KEY_GEN needs CKA_VALUE_LEN",
                ),
            }
        }
        _ => fail(
            CKR_MECHANISM_INVALID,
            "C_GenerateKey supports CKM_AES_KEY_GEN and CKM_GENERIC_SECRET_KEY_GEN",
        ),
    }
}

/// The attributes of a new secret key (generated or unwrapped): algorithm, length, label, id, flags, usage.
pub(crate) fn secret_key_attributes(
    algorithm: CryptographicAlgorithm,
    bits: i32,
    default_usage: Usage,
    template: &Template,
) -> Result<Attributes> {
    let mut attributes = Attributes::new();
    attributes.push(Attribute::CryptographicAlgorithm(algorithm));
    attributes.push(Attribute::CryptographicLength(bits));
    common_attributes(template, &mut attributes)?;
    let mut usage = usage_mask(template, default_usage)?;
    if algorithm != CryptographicAlgorithm::Aes {
        // CKA_SIGN / CKA_VERIFY of an HMAC key mean MAC Generate / MAC Verify to the server.
        if usage.contains(Usage::SIGN) {
            usage |= Usage::MAC_GENERATE;
        }
        if usage.contains(Usage::VERIFY) {
            usage |= Usage::MAC_VERIFY;
        }
    }
    key_attributes(template, usage, &mut attributes)?;
    Ok(attributes)
}

/// C_GenerateKey: a KMIP Create, then Activate so the key is usable at once.
pub fn generate_key(
    library: &Library,
    token: usize,
    mechanism: CK_MECHANISM_TYPE,
    template: &Template,
) -> Result<CK_OBJECT_HANDLE> {
    let (algorithm, bits, default_usage) = secret_key_spec(mechanism, template)?;
    template.only(KEY_TEMPLATE)?;
    let mut attributes = secret_key_attributes(algorithm, bits, default_usage, template)?;
    let session_object = add_session_lease(library, token, template, &mut attributes)?;
    let request = CreateRequest {
        object_type: ObjectType::SymmetricKey,
        attributes,
        protection_storage_masks: None,
    };
    let uid = match library.tokens[token].create_call(request, session_object)? {
        ResponsePayload::Create(response) => response.unique_identifier,
        other => return Err(unexpected(other)),
    };
    if let Err(error) = activate(library, token, &uid) {
        discard(library, token, &uid);
        return Err(error);
    }
    library.objects.handle_for(token, &uid)
}
