//! C_GenerateKeyPair: RSA (2048-4096 bits, exponent 65537) and EC (P-256, P-384) pairs by KMIP Create Key
//! Pair, both halves activated so they are usable at once. The private half stays in the server.

use cryptoki_sys::*;
use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask as Usage};
use kmip::enums::CryptographicAlgorithm;
use kmip::payloads::*;

use crate::error::{fail, Result};
use crate::key_codec;
use crate::keygen::{add_session_lease, common_attributes, key_attributes, usage_mask};
use crate::library::Library;
use crate::ops::{activate, discard, unexpected};
use crate::template::Template;

const PUBLIC_TEMPLATE: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_CLASS,
    CKA_KEY_TYPE,
    CKA_LABEL,
    CKA_ID,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_MODULUS_BITS,
    CKA_PUBLIC_EXPONENT,
    CKA_EC_PARAMS,
    CKA_ENCRYPT,
    CKA_VERIFY,
    CKA_VERIFY_RECOVER,
    CKA_WRAP,
    CKA_DERIVE,
    CKA_MODIFIABLE,
    CKA_DESTROYABLE,
];

const PRIVATE_TEMPLATE: &[CK_ATTRIBUTE_TYPE] = &[
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
    CKA_MODIFIABLE,
    CKA_DESTROYABLE,
];

/// The algorithm and size (bits) a generation mechanism and public template ask for.
fn spec(mechanism: CK_MECHANISM_TYPE, public: &Template) -> Result<(CryptographicAlgorithm, i32)> {
    let (algorithm, key_type) = match mechanism {
        CKM_RSA_PKCS_KEY_PAIR_GEN => (CryptographicAlgorithm::Rsa, CKK_RSA),
        CKM_EC_KEY_PAIR_GEN => (CryptographicAlgorithm::Ec, CKK_EC),
        _ => {
            return fail(
                CKR_MECHANISM_INVALID,
                "C_GenerateKeyPair supports CKM_RSA_PKCS_KEY_PAIR_GEN and CKM_EC_KEY_PAIR_GEN",
            )
        }
    };
    if public.ulong(CKA_KEY_TYPE)?.is_some_and(|k| k != key_type) {
        return fail(
            CKR_TEMPLATE_INCONSISTENT,
            "CKA_KEY_TYPE differs from the mechanism",
        );
    }
    let bits = if key_type == CKK_RSA {
        if let Some(exponent) = public.get(CKA_PUBLIC_EXPONENT) {
            let start = exponent
                .iter()
                .position(|b| *b != 0)
                .unwrap_or(exponent.len());
            if exponent[start..] != [0x01, 0x00, 0x01] {
                return fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "the RSA public exponent is 65537",
                );
            }
        }
        match public.ulong(CKA_MODULUS_BITS)? {
            Some(bits @ 2048..=4096) if bits % 8 == 0 => bits as i32,
            // PKCS#11 v3.0 §5.1 / C_GenerateKeyPair: a key size outside the mechanism's range.
            Some(_) => {
                return fail(
                    CKR_KEY_SIZE_RANGE,
                    "RSA keys are 2048 to 4096 bits, a whole number of bytes",
                )
            }
            None => {
                return fail(
                    CKR_TEMPLATE_INCOMPLETE,
                    "RSA key pairs need CKA_MODULUS_BITS",
                )
            }
        }
    } else {
        if public.get(CKA_MODULUS_BITS).is_some() || public.get(CKA_PUBLIC_EXPONENT).is_some() {
            return fail(
                CKR_TEMPLATE_INCONSISTENT,
                "RSA attributes in an EC template",
            );
        }
        match public.get(CKA_EC_PARAMS) {
            Some(params) => key_codec::bits_for_ec_params(params)?,
            None => return fail(CKR_TEMPLATE_INCOMPLETE, "EC key pairs need CKA_EC_PARAMS"),
        }
    };
    Ok((algorithm, bits))
}

fn check_class(template: &Template, class: CK_OBJECT_CLASS) -> Result<()> {
    if template.ulong(CKA_CLASS)?.is_some_and(|c| c != class) {
        return fail(
            CKR_TEMPLATE_INCONSISTENT,
            "a key pair template has the wrong CKA_CLASS",
        );
    }
    Ok(())
}

/// Generates a pair; returns (public handle, private handle).
pub fn generate_key_pair(
    library: &Library,
    token: usize,
    mechanism: CK_MECHANISM_TYPE,
    public: &Template,
    private: &Template,
) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)> {
    public.only(PUBLIC_TEMPLATE)?;
    private.only(PRIVATE_TEMPLATE)?;
    check_class(public, CKO_PUBLIC_KEY)?;
    check_class(private, CKO_PRIVATE_KEY)?;
    // NSS states CKA_VERIFY_RECOVER / CKA_SIGN_RECOVER (as false) in every template; recovery is not offered.
    if public.bool(CKA_VERIFY_RECOVER)? == Some(true)
        || private.bool(CKA_SIGN_RECOVER)? == Some(true)
    {
        return fail(
            CKR_ATTRIBUTE_VALUE_INVALID,
            "signatures with message recovery are not supported",
        );
    }
    let (algorithm, bits) = spec(mechanism, public)?;
    if private
        .ulong(CKA_KEY_TYPE)?
        .is_some_and(|k| Some(k) != crate::mapping::key_type_of(algorithm))
    {
        return fail(
            CKR_TEMPLATE_INCONSISTENT,
            "the private CKA_KEY_TYPE differs",
        );
    }
    let mut common = Attributes::new();
    common.push(Attribute::CryptographicAlgorithm(algorithm));
    common.push(Attribute::CryptographicLength(bits));

    let mut public_attributes = Attributes::new();
    common_attributes(public, &mut public_attributes)?;
    if public.bool(CKA_PRIVATE)? == Some(true) {
        return fail(
            CKR_ATTRIBUTE_VALUE_INVALID,
            "public keys here are public objects",
        );
    }
    public_attributes.push(Attribute::CryptographicUsageMask(usage_mask(
        public,
        Usage::VERIFY,
    )?));

    let mut private_attributes = Attributes::new();
    common_attributes(private, &mut private_attributes)?;
    if private.bool(CKA_SENSITIVE)? == Some(false) || private.bool(CKA_EXTRACTABLE)? == Some(true) {
        return fail(
            CKR_ATTRIBUTE_VALUE_INVALID,
            "private keys stay in the server: sensitive and not extractable",
        );
    }
    key_attributes(
        private,
        usage_mask(private, Usage::SIGN)?,
        &mut private_attributes,
    )?;

    let public_session = add_session_lease(library, token, public, &mut public_attributes)?;
    let private_session = add_session_lease(library, token, private, &mut private_attributes)?;
    let request = CreateKeyPairRequest {
        common_attributes: Some(common),
        private_key_attributes: Some(private_attributes),
        public_key_attributes: Some(public_attributes),
        ..Default::default()
    };
    let (private_uid, public_uid) =
        match library.tokens[token].create_call(request, public_session || private_session)? {
            ResponsePayload::CreateKeyPair(r) => (
                r.private_key_unique_identifier,
                r.public_key_unique_identifier,
            ),
            other => return Err(unexpected(other)),
        };
    // A pair that cannot be activated is of no use: destroy both halves rather than leave them behind.
    if let Err(error) =
        activate(library, token, &private_uid).and_then(|()| activate(library, token, &public_uid))
    {
        discard(library, token, &private_uid);
        discard(library, token, &public_uid);
        return Err(error);
    }
    Ok((
        library.objects.handle_for(token, &public_uid)?,
        library.objects.handle_for(token, &private_uid)?,
    ))
}
