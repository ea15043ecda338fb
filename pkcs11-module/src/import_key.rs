//! C_CreateObject for keys: secret keys (AES, generic secret and HMAC), RSA / EC public keys, and RSA private
//! keys from their components, each as the KMIP object Register takes.

use cryptoki_sys::*;
use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask as Usage};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{positive_big_integer, KeyBlock, KeyMaterial, ManagedObject, RsaPrivateParts};
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::import::{value, Import};
use crate::key_codec;
use crate::keygen::{
    common_attributes, key_attributes, secret_key_attributes, usage_mask, AES_DEFAULT_USAGE,
    HMAC_DEFAULT_USAGE, KEY_TEMPLATE,
};
use crate::mapping;
use crate::template::Template;

/// CKO_SECRET_KEY: an AES key (16, 24 or 32 bytes), or a generic secret / HMAC key (CKK_GENERIC_SECRET is
/// stored as an HMAC-SHA256 key, as CKM_GENERIC_SECRET_KEY_GEN makes them; CKK_SHA_1/224/256/384/512_HMAC as
/// that HMAC), 14 to 1024 bytes like the keys the server generates.
pub(crate) fn secret_key(template: &Template) -> Result<Import> {
    let mut allowed = KEY_TEMPLATE.to_vec();
    allowed.push(CKA_VALUE);
    template.only(&allowed)?;
    let value = value(template, "a secret key needs CKA_VALUE")?;
    let key_type = template.ulong(CKA_KEY_TYPE)?.ok_or(Pkcs11Error::rv(
        CKR_TEMPLATE_INCOMPLETE,
        "a secret key needs CKA_KEY_TYPE",
    ))?;
    let (algorithm, default_usage) = match key_type {
        CKK_AES => (CryptographicAlgorithm::Aes, AES_DEFAULT_USAGE),
        CKK_GENERIC_SECRET | CKK_SHA256_HMAC => {
            (CryptographicAlgorithm::HmacSha256, HMAC_DEFAULT_USAGE)
        }
        CKK_SHA_1_HMAC => (CryptographicAlgorithm::HmacSha1, HMAC_DEFAULT_USAGE),
        CKK_SHA224_HMAC => (CryptographicAlgorithm::HmacSha224, HMAC_DEFAULT_USAGE),
        CKK_SHA384_HMAC => (CryptographicAlgorithm::HmacSha384, HMAC_DEFAULT_USAGE),
        CKK_SHA512_HMAC => (CryptographicAlgorithm::HmacSha512, HMAC_DEFAULT_USAGE),
        _ => {
            return fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "secret keys are CKK_AES, CKK_GENERIC_SECRET or CKK_SHA*_HMAC",
            )
        }
    };
    let length_ok = if algorithm == CryptographicAlgorithm::Aes {
        matches!(value.len(), 16 | 24 | 32)
    } else {
        (14..=1024).contains(&value.len())
    };
    if !length_ok {
        return fail(
            CKR_ATTRIBUTE_VALUE_INVALID,
            "AES keys are 16, 24 or 32 bytes; HMAC keys 14 to 1024 bytes",
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
    let bits = value.len() as i32 * 8;
    let attributes = secret_key_attributes(algorithm, bits, default_usage, template)?;
    let block = KeyBlock::new(
        KeyFormatType::Raw,
        KeyMaterial::Bytes(value),
        Some(algorithm),
        Some(bits),
    );
    Ok(Import {
        object_type: ObjectType::SymmetricKey,
        object: ManagedObject::SymmetricKey(block),
        attributes,
        activate: true,
    })
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
pub(crate) fn public_key(template: &Template) -> Result<Import> {
    template.only(PUBLIC_KEY_TEMPLATE)?;
    let mut attributes = Attributes::new();
    common_attributes(template, &mut attributes)?;
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
    Ok(Import {
        object_type: ObjectType::PublicKey,
        object: ManagedObject::PublicKey(KeyBlock::new(
            KeyFormatType::X509,
            KeyMaterial::Bytes(Zeroizing::new(spki)),
            None,
            None,
        )),
        attributes,
        activate: true,
    })
}

/// What an RSA private key template may hold.
const PRIVATE_KEY_TEMPLATE: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_CLASS,
    CKA_KEY_TYPE,
    CKA_LABEL,
    CKA_ID,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_SENSITIVE,
    CKA_EXTRACTABLE,
    CKA_DECRYPT,
    CKA_SIGN,
    CKA_SIGN_RECOVER,
    CKA_UNWRAP,
    CKA_DERIVE,
    CKA_SUBJECT,
    CKA_MODIFIABLE,
    CKA_DESTROYABLE,
    CKA_MODULUS,
    CKA_PUBLIC_EXPONENT,
    CKA_PRIVATE_EXPONENT,
    CKA_PRIME_1,
    CKA_PRIME_2,
    CKA_EXPONENT_1,
    CKA_EXPONENT_2,
    CKA_COEFFICIENT,
];

/// CKO_PRIVATE_KEY, CKK_RSA: the components (CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT and the CRT
/// values CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT, which the server recomputes
/// when absent) registered as a KMIP Transparent RSA Private Key, which the server checks for consistency. The
/// public half (a SubjectPublicKeyInfo) rides along as a vendor attribute, so CKA_MODULUS and
/// CKA_PUBLIC_EXPONENT stay readable. Like generated keys, an imported private key is sensitive and never
/// extractable: its value is in the server from now on.
pub(crate) fn private_key(template: &Template) -> Result<Import> {
    match template.ulong(CKA_KEY_TYPE)? {
        Some(CKK_RSA) => {}
        Some(_) => {
            return fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "private keys are imported as CKK_RSA (EC keys are generated on the token)",
            )
        }
        None => return fail(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required"),
    }
    template.only(PRIVATE_KEY_TEMPLATE)?;
    let required = |kind: CK_ATTRIBUTE_TYPE, name: &'static str| {
        template
            .get(kind)
            .filter(|v| !v.is_empty())
            .ok_or(Pkcs11Error::rv(CKR_TEMPLATE_INCOMPLETE, name))
    };
    let modulus = required(CKA_MODULUS, "an RSA private key needs CKA_MODULUS")?;
    let exponent = required(
        CKA_PUBLIC_EXPONENT,
        "an RSA private key needs CKA_PUBLIC_EXPONENT (to present its public half)",
    )?;
    let private_exponent = required(
        CKA_PRIVATE_EXPONENT,
        "an RSA private key needs CKA_PRIVATE_EXPONENT",
    )?;
    let bits = significant_bits(modulus);
    // (CKR_KEY_SIZE_RANGE is not among C_CreateObject's codes: the modulus is a value this token refuses.)
    if !(2048..=4096).contains(&bits) {
        return fail(
            CKR_ATTRIBUTE_VALUE_INVALID,
            "RSA keys are 2048 to 4096 bits",
        );
    }
    // PKCS#11 big integers are unsigned; KMIP's are two's complement (a leading zero byte keeps a value whose
    // top bit is set positive).
    let secret = |kind| {
        template
            .get(kind)
            .map(|v| Zeroizing::new(positive_big_integer(v)))
    };
    let (p, q) = (secret(CKA_PRIME_1), secret(CKA_PRIME_2));
    if p.is_some() != q.is_some() {
        return fail(
            CKR_TEMPLATE_INCONSISTENT,
            "give both CKA_PRIME_1 and CKA_PRIME_2, or neither",
        );
    }
    if template.bool(CKA_SENSITIVE)? == Some(false) || template.bool(CKA_EXTRACTABLE)? == Some(true)
    {
        return fail(
            CKR_ATTRIBUTE_VALUE_INVALID,
            "private keys stay in the server: sensitive and not extractable",
        );
    }
    if template.bool(CKA_SIGN_RECOVER)? == Some(true) {
        return fail(
            CKR_ATTRIBUTE_VALUE_INVALID,
            "signatures with message recovery are not supported",
        );
    }
    let spki = key_codec::rsa_spki(modulus, exponent)?;
    let mut attributes = Attributes::new();
    common_attributes(template, &mut attributes)?;
    key_attributes(
        template,
        usage_mask(template, Usage::SIGN)?,
        &mut attributes,
    )?;
    attributes.push(mapping::public_half_attribute(&spki));
    let parts = RsaPrivateParts {
        modulus: positive_big_integer(modulus),
        private_exponent: Some(Zeroizing::new(positive_big_integer(private_exponent))),
        public_exponent: Some(positive_big_integer(exponent)),
        p,
        q,
        prime_exponent_p: secret(CKA_EXPONENT_1),
        prime_exponent_q: secret(CKA_EXPONENT_2),
        crt_coefficient: secret(CKA_COEFFICIENT),
    };
    Ok(Import {
        object_type: ObjectType::PrivateKey,
        object: ManagedObject::PrivateKey(KeyBlock::new(
            KeyFormatType::TransparentRsaPrivateKey,
            KeyMaterial::TransparentRsaPrivateKey(Box::new(parts)),
            Some(CryptographicAlgorithm::Rsa),
            Some(bits as i32),
        )),
        attributes,
        activate: true,
    })
}

/// Bits of a big-endian unsigned integer, leading zero bytes and bits not counted.
fn significant_bits(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        Some(first) => (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize,
        None => 0,
    }
}
