//! Derive Key: a new Symmetric Key or Secret Data from one Symmetric Key or Secret Data the caller may derive
//! from (Active, usage mask Derive Key). Methods (KMIP 1.4 §4.6, 2.1 §6.1.12), the math in `crypto::derivation`:
//! - PBKDF2: the base's bytes are the password; Salt and Iteration Count required; PRF HMAC with the Hashing
//!   Algorithm of the Cryptographic Parameters (SHA-1, RFC 8018's default, when none is named);
//! - HKDF (2.1): RFC 5869 with the base as input keying material, Salt, and Derivation Data as info;
//! - NIST800-108-C: SP 800-108 counter mode with HMAC, Derivation Data as the fixed input data;
//! - HASH: hash(base ‖ Derivation Data); HMAC: HMAC(base, Derivation Data); both truncated to the length;
//! - ENCRYPT: Derivation Data encrypted under the base AES key (ECB, or CBC with the Initialization Vector),
//!   truncated to the length.
//!
//! The new object takes the template's attributes (Cryptographic Length required, and for a key its
//! Cryptographic Algorithm) and a Derivation Base Object link to the base, which gets a Derived Key link back.

use kmip::attributes::{
    Attribute, Attributes, CryptographicParameters, CryptographicUsageMask, KnownAttribute, Link,
};
use kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, DerivationMethod, HashingAlgorithm, KeyFormatType,
    LinkType, ObjectType, PaddingMethod, SecretDataType,
};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject, SecretData};
use kmip::payloads::{DerivationParameters, DeriveKeyRequest, DeriveKeyResponse};
use kmip::ResultReason;
use zeroize::Zeroizing;

use crate::crypto::symmetric::{self, Padding};
use crate::crypto::{derivation, HashAlgorithm};
use crate::error::KmipError;
use crate::managed::key_codec::{crypto_error, symmetric_bytes};
use crate::managed::key_specs::key_spec;
use crate::managed::key_use::{self, hash_algorithm, KeyUse};
use crate::managed::provenance::{check_object_type, check_secret_object_type, initial_attributes};
use crate::managed::{attribute_policy as policy, new_uid, save, store_error, versioned};
use crate::state::RequestContext;
use crate::store::StoredObject;

pub fn derive_key(
    ctx: &RequestContext<'_>,
    request: DeriveKeyRequest,
) -> Result<DeriveKeyResponse, KmipError> {
    check_secret_object_type(ctx.version, request.object_type, "Derive Key makes")?;
    let base_uid = match request.unique_identifiers.as_slice() {
        [one] => one.as_str(),
        [] => {
            return Err(KmipError::new(
                ResultReason::MissingData,
                "Derive Key needs the Unique Identifier of the object to derive from",
            ))
        }
        _ => {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                "Derive Key from several objects is not supported: name one Symmetric Key or Secret Data",
            ))
        }
    };
    let mut base = key_use::load_for(
        ctx,
        base_uid,
        KeyUse::Protect(CryptographicUsageMask::DERIVE_KEY),
    )?;
    let base_key: Zeroizing<Vec<u8>> = match base.object.as_ref() {
        Some(ManagedObject::SymmetricKey(block)) => Zeroizing::new(symmetric_bytes(block)?.to_vec()),
        Some(ManagedObject::SecretData(secret)) => {
            Zeroizing::new(symmetric_bytes(&secret.key_block)?.to_vec())
        }
        _ => {
            return Err(versioned(
                ctx.version,
                ResultReason::InvalidObjectType,
                ResultReason::InvalidField,
                format!("{base_uid} is neither a Symmetric Key nor Secret Data: keys are derived from those"),
            ))
        }
    };

    let attributes: Attributes = match request.attributes {
        Some(attributes) => crate::managed::template::apply_templates(ctx, attributes)?,
        None => Attributes::new(),
    };
    check_object_type(request.object_type, &attributes)?;
    policy::check_template(
        ctx.version,
        &attributes,
        &[
            KnownAttribute::CryptographicAlgorithm,
            KnownAttribute::CryptographicLength,
            KnownAttribute::ObjectType,
        ],
    )?;
    let (algorithm, length_bits, len) = output_size(ctx, request.object_type, &attributes)?;
    let derived = derive(
        ctx,
        request.derivation_method,
        &request.derivation_parameters,
        &base_key,
        len,
    )?;

    let uid = new_uid(ctx)?;
    let block = KeyBlock::new(
        if request.object_type == ObjectType::SymmetricKey {
            KeyFormatType::Raw
        } else {
            KeyFormatType::Opaque
        },
        KeyMaterial::Bytes(derived),
        algorithm,
        Some(length_bits),
    );
    let object = match request.object_type {
        ObjectType::SymmetricKey => ManagedObject::SymmetricKey(block),
        _ => ManagedObject::SecretData(SecretData {
            secret_data_type: SecretDataType::Seed,
            key_block: block,
        }),
    };
    let mut stored_attributes = initial_attributes(&uid, &object, attributes, ctx.now);
    stored_attributes.push(Attribute::Link(Link {
        link_type: LinkType::DerivationBaseObjectLink,
        linked_object_identifier: base.uid.clone(),
    }));
    let stored = StoredObject {
        uid: uid.clone(),
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes: stored_attributes,
        internal: false,
    };
    ctx.state.store.insert(&stored).map_err(store_error)?;
    base.attributes.push(Attribute::Link(Link {
        link_type: LinkType::DerivedKeyLink,
        linked_object_identifier: uid.clone(),
    }));
    base.attributes.set(Attribute::LastChangeDate(ctx.now));
    save(ctx, &base)?;
    Ok(DeriveKeyResponse {
        unique_identifier: uid,
        attributes: None,
    })
}

/// The new object's algorithm, length in bits and length in bytes, from its template.
fn output_size(
    ctx: &RequestContext<'_>,
    object_type: ObjectType,
    attributes: &Attributes,
) -> Result<(Option<CryptographicAlgorithm>, i32, usize), KmipError> {
    let Some(bits) = attributes.cryptographic_length() else {
        return Err(KmipError::new(
            ResultReason::InvalidField,
            "Derive Key needs the Cryptographic Length (in bits) of what it derives",
        ));
    };
    if object_type == ObjectType::SymmetricKey {
        let spec = key_spec(
            ctx.version,
            attributes.cryptographic_algorithm(),
            Some(bits),
        )?;
        return Ok((Some(spec.algorithm), spec.length_bits, spec.material_bytes));
    }
    let max_bits = derivation::MAX_OUTPUT_LEN * 8;
    match usize::try_from(bits) {
        Ok(b) if b > 0 && b % 8 == 0 && b <= max_bits => Ok((None, bits, b / 8)),
        _ => Err(KmipError::invalid_field(format!(
            "derived Secret Data is 8 to {max_bits} bits in whole bytes, not {bits}"
        ))),
    }
}

fn hash_of(
    ctx: &RequestContext<'_>,
    parameters: &DerivationParameters,
    default: Option<HashingAlgorithm>,
) -> Result<HashAlgorithm, KmipError> {
    let named = parameters
        .cryptographic_parameters
        .as_ref()
        .and_then(|p| p.hashing_algorithm)
        .or(default)
        .ok_or_else(|| {
            KmipError::invalid_field(
                "this Derivation Method needs a Hashing Algorithm in the Derivation Parameters' Cryptographic Parameters",
            )
        })?;
    hash_algorithm(ctx.version, named)
}

fn derivation_data<'a>(
    parameters: &'a DerivationParameters,
    method: &str,
) -> Result<&'a [u8], KmipError> {
    parameters
        .derivation_data
        .as_ref()
        .map(|d| d.expose())
        .ok_or_else(|| {
            KmipError::invalid_field(format!("{method} derivation needs Derivation Data"))
        })
}

fn derive(
    ctx: &RequestContext<'_>,
    method: DerivationMethod,
    parameters: &DerivationParameters,
    key: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, KmipError> {
    let crypto = |e| crypto_error(ctx.version, e);
    let data = parameters
        .derivation_data
        .as_ref()
        .map_or(&[][..], |d| d.expose());
    match method {
        DerivationMethod::Pbkdf2 => {
            let salt = parameters.salt.as_deref().ok_or_else(|| {
                KmipError::invalid_field("PBKDF2 derivation needs a Salt")
            })?;
            let iterations = parameters.iteration_count.ok_or_else(|| {
                KmipError::invalid_field("PBKDF2 derivation needs an Iteration Count")
            })?;
            let iterations = u32::try_from(iterations).map_err(|_| {
                KmipError::invalid_field(format!("Iteration Count {iterations} is negative"))
            })?;
            let prf = hash_of(ctx, parameters, Some(HashingAlgorithm::Sha1))?;
            derivation::pbkdf2_hmac(prf, key, salt, iterations, len).map_err(crypto)
        }
        DerivationMethod::Hkdf => {
            let hash = hash_of(ctx, parameters, Some(HashingAlgorithm::Sha256))?;
            derivation::hkdf(hash, key, parameters.salt.as_deref(), data, len).map_err(crypto)
        }
        DerivationMethod::Nist800_108C => {
            let hash = hash_of(ctx, parameters, None)?;
            let fixed = derivation_data(parameters, "NIST SP 800-108 counter mode")?;
            derivation::sp800_108_counter_hmac(hash, key, fixed, len).map_err(crypto)
        }
        DerivationMethod::Hash => {
            let hash = hash_of(ctx, parameters, None)?;
            derivation::hash_derive(hash, key, data, len).map_err(crypto)
        }
        DerivationMethod::Hmac => {
            let hash = hash_of(ctx, parameters, None)?;
            let data = derivation_data(parameters, "HMAC")?;
            derivation::hmac_derive(hash, key, data, len).map_err(crypto)
        }
        DerivationMethod::Encrypt => encrypt_derive(ctx, parameters, key, len),
        other => Err(versioned(
            ctx.version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::FeatureNotSupported,
            format!(
                "Derivation Method {} is not supported (PBKDF2, HKDF, NIST800-108-C, HASH, HMAC and ENCRYPT are)",
                other.name()
            ),
        )),
    }
}

/// ENCRYPT: the Derivation Data encrypted under the base AES key, truncated to `len`.
fn encrypt_derive(
    ctx: &RequestContext<'_>,
    parameters: &DerivationParameters,
    key: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, KmipError> {
    let data = derivation_data(parameters, "ENCRYPT")?;
    let p = parameters
        .cryptographic_parameters
        .clone()
        .unwrap_or_default();
    let CryptographicParameters {
        cryptographic_algorithm,
        block_cipher_mode,
        padding_method,
        ..
    } = p;
    if cryptographic_algorithm.is_some_and(|a| a != CryptographicAlgorithm::Aes) {
        return Err(versioned(
            ctx.version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::FeatureNotSupported,
            "ENCRYPT derivation uses AES",
        ));
    }
    let padding = match padding_method {
        None | Some(PaddingMethod::None) => Padding::None,
        Some(PaddingMethod::Pkcs5) => Padding::Pkcs5,
        Some(other) => {
            return Err(KmipError::invalid_field(format!(
                "ENCRYPT derivation pads with PKCS5 or not at all, not {}",
                other.name()
            )))
        }
    };
    let crypto = |e| crypto_error(ctx.version, e);
    let ciphertext = match block_cipher_mode {
        None | Some(BlockCipherMode::Ecb) => {
            symmetric::aes_ecb_encrypt(key, padding, data).map_err(crypto)?
        }
        Some(BlockCipherMode::Cbc) => {
            let iv = parameters.initialization_vector.as_deref().ok_or_else(|| {
                KmipError::invalid_field(
                    "ENCRYPT derivation with CBC needs the Initialization Vector (a derivation must be repeatable)",
                )
            })?;
            symmetric::aes_cbc_encrypt(&ctx.state.entropy, key, Some(iv), padding, data)
                .map_err(crypto)?
                .ciphertext
        }
        Some(other) => {
            return Err(versioned(
                ctx.version,
                ResultReason::UnsupportedCryptographicParameters,
                ResultReason::FeatureNotSupported,
                format!("ENCRYPT derivation uses ECB or CBC, not {}", other.name()),
            ))
        }
    };
    if ciphertext.len() < len {
        return Err(KmipError::invalid_field(format!(
            "the encrypted Derivation Data is {} bytes, fewer than the {len} to derive",
            ciphertext.len()
        )));
    }
    let mut out = Zeroizing::new(ciphertext);
    out.truncate(len);
    Ok(out)
}
