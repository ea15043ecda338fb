//! Create Split Key and Join Split Key (KMIP 1.2+ operations; the Split Key object). Create Split Key splits
//! the key it names (a Symmetric Key or Secret Data the caller holds, Extractable and not Sensitive: its parts
//! reveal it) or a new key drawn from the entropy pool, into Split Key objects, each with its Key Part
//! Identifier, the number of parts, the threshold and the method; Join Split Key rebuilds the key from at
//! least threshold parts of one split. Methods: Polynomial Sharing GF(2^8) and XOR (`crypto::secret_sharing`);
//! GF(2^16) and prime-field sharing are refused as not supported. A malformed part set (too few, repeated,
//! of different splits, of different lengths) is refused with a message saying which.

use kmip::attributes::{Attribute, Attributes, KnownAttribute, Link};
use kmip::enums::{KeyFormatType, LinkType, ObjectType, SecretDataType, SplitKeyMethod};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject, SecretData, SplitKey};
use kmip::payloads::{
    CreateSplitKeyRequest, CreateSplitKeyResponse, JoinSplitKeyRequest, JoinSplitKeyResponse,
};
use kmip::ResultReason;
use zeroize::Zeroizing;

use crate::crypto::secret_sharing::{self, Share};
use crate::error::KmipError;
use crate::managed::key_codec::{crypto_error, symmetric_bytes};
use crate::managed::key_specs::key_spec;
use crate::managed::provenance::{check_secret_object_type, initial_attributes};
use crate::managed::{
    attribute_policy as policy, entropy_error, load, new_uid, save, store_error, versioned,
};
use crate::state::RequestContext;
use crate::store::StoredObject;

/// The key to split: its bytes, algorithm and length.
struct Secret {
    bytes: Zeroizing<Vec<u8>>,
    algorithm: Option<kmip::enums::CryptographicAlgorithm>,
    length_bits: Option<i32>,
    /// The stored object it came from (to link the parts to), if any.
    base: Option<StoredObject>,
}

fn unsupported(ctx: &RequestContext<'_>, message: String) -> KmipError {
    versioned(
        ctx.version,
        ResultReason::UnsupportedCryptographicParameters,
        ResultReason::FeatureNotSupported,
        message,
    )
}

fn template(
    ctx: &RequestContext<'_>,
    attributes: Option<Attributes>,
) -> Result<Attributes, KmipError> {
    let attributes = match attributes {
        Some(a) => crate::managed::template::apply_templates(ctx, a)?,
        None => Attributes::new(),
    };
    policy::check_template(
        ctx.version,
        &attributes,
        &[
            KnownAttribute::CryptographicAlgorithm,
            KnownAttribute::CryptographicLength,
            KnownAttribute::ObjectType,
        ],
    )?;
    Ok(attributes)
}

fn secret_to_split(
    ctx: &RequestContext<'_>,
    request: &CreateSplitKeyRequest,
    attributes: &Attributes,
) -> Result<Secret, KmipError> {
    let Some(uid) = request.unique_identifier.as_deref() else {
        if request.object_type != ObjectType::SymmetricKey {
            return Err(KmipError::invalid_field(
                "without a Unique Identifier, Create Split Key splits a new Symmetric Key: name the Secret Data to split",
            ));
        }
        let spec = key_spec(
            ctx.version,
            attributes.cryptographic_algorithm(),
            attributes.cryptographic_length(),
        )?;
        let mut bytes = Zeroizing::new(vec![0u8; spec.material_bytes]);
        ctx.state
            .entropy
            .fill(&mut bytes)
            .map_err(|e| entropy_error(&e))?;
        return Ok(Secret {
            bytes,
            algorithm: Some(spec.algorithm),
            length_bits: Some(spec.length_bits),
            base: None,
        });
    };
    let base = load(ctx, uid)?;
    for (attribute, why) in [
        (Attribute::Sensitive(true), "Sensitive"),
        (Attribute::Extractable(false), "not Extractable"),
    ] {
        if base.attributes.iter().any(|a| *a == attribute) {
            return Err(versioned(
                ctx.version,
                ResultReason::PermissionDenied,
                ResultReason::PermissionDenied,
                format!("{uid} is {why}: its parts would reveal it"),
            ));
        }
    }
    let block = match (request.object_type, base.object.as_ref()) {
        (ObjectType::SymmetricKey, Some(ManagedObject::SymmetricKey(block))) => block,
        (ObjectType::SecretData, Some(ManagedObject::SecretData(secret))) => &secret.key_block,
        (_, None) => {
            return Err(crate::managed::wrong_state(
                ctx.version,
                format!("{uid} was destroyed: there is no key to split"),
            ))
        }
        _ => {
            return Err(versioned(
                ctx.version,
                ResultReason::InvalidObjectType,
                ResultReason::InvalidField,
                format!(
                    "{uid} is not a {} (Create Split Key splits Symmetric Keys and Secret Data)",
                    request.object_type.name()
                ),
            ))
        }
    };
    Ok(Secret {
        bytes: Zeroizing::new(symmetric_bytes(block)?.to_vec()),
        algorithm: block.cryptographic_algorithm,
        length_bits: block.cryptographic_length,
        base: Some(base),
    })
}

pub fn create_split_key(
    ctx: &RequestContext<'_>,
    request: CreateSplitKeyRequest,
) -> Result<CreateSplitKeyResponse, KmipError> {
    let parts = usize::try_from(request.split_key_parts).unwrap_or(0);
    let threshold = usize::try_from(request.split_key_threshold).unwrap_or(0);
    if request.prime_field_size.is_some()
        && request.split_key_method != SplitKeyMethod::PolynomialSharingPrimeField
    {
        return Err(KmipError::invalid_field(
            "Prime Field Size belongs to Polynomial Sharing Prime Field only",
        ));
    }
    let mut attributes = template(ctx, request.attributes.clone())?;
    if attributes.names().next().is_some() && parts > 1 {
        return Err(KmipError::invalid_field(
            "every part would carry the same Name: name the parts one by one with Add Attribute",
        ));
    }
    let secret = secret_to_split(ctx, &request, &attributes)?;
    let shares = match request.split_key_method {
        SplitKeyMethod::PolynomialSharingGf2_8 => {
            secret_sharing::split_gf256(&ctx.state.entropy, &secret.bytes, parts, threshold)
        }
        SplitKeyMethod::Xor if threshold == parts => {
            secret_sharing::split_xor(&ctx.state.entropy, &secret.bytes, parts)
        }
        SplitKeyMethod::Xor => {
            return Err(KmipError::invalid_field(format!(
                "XOR splitting needs every part: the threshold must equal the {parts} parts, not {threshold}"
            )))
        }
        other => {
            return Err(unsupported(
                ctx,
                format!(
                    "Split Key Method {} is not supported (Polynomial Sharing GF(2^8) and XOR are)",
                    other.name()
                ),
            ))
        }
    }
    .map_err(|e| crypto_error(ctx.version, e))?;

    // The parts' algorithm and length are the split key's.
    attributes.remove(&KnownAttribute::CryptographicAlgorithm.into(), None);
    attributes.remove(&KnownAttribute::CryptographicLength.into(), None);
    attributes.remove(&KnownAttribute::ObjectType.into(), None);
    let mut uids = Vec::with_capacity(shares.len());
    for share in shares {
        let uid = new_uid(ctx)?;
        let object = ManagedObject::SplitKey(SplitKey {
            split_key_parts: request.split_key_parts,
            key_part_identifier: i32::from(share.x),
            split_key_threshold: request.split_key_threshold,
            split_key_method: request.split_key_method,
            prime_field_size: None,
            key_block: KeyBlock::new(
                KeyFormatType::Raw,
                KeyMaterial::Bytes(share.bytes),
                secret.algorithm,
                secret.length_bits,
            ),
        });
        let mut stored_attributes = initial_attributes(&uid, &object, attributes.clone(), ctx.now);
        if let Some(base) = &secret.base {
            stored_attributes.push(Attribute::Link(Link {
                link_type: LinkType::ParentLink,
                linked_object_identifier: base.uid.clone(),
            }));
        }
        ctx.state
            .store
            .insert(&StoredObject {
                uid: uid.clone(),
                owner: ctx.caller.tenant.clone(),
                object: Some(object),
                attributes: stored_attributes,
                internal: false,
            })
            .map_err(store_error)?;
        uids.push(uid);
    }
    if let Some(mut base) = secret.base {
        for uid in &uids {
            base.attributes.push(Attribute::Link(Link {
                link_type: LinkType::ChildLink,
                linked_object_identifier: uid.clone(),
            }));
        }
        base.attributes.set(Attribute::LastChangeDate(ctx.now));
        save(ctx, &base)?;
    }
    Ok(CreateSplitKeyResponse {
        unique_identifiers: uids,
    })
}

pub fn join_split_key(
    ctx: &RequestContext<'_>,
    request: JoinSplitKeyRequest,
) -> Result<JoinSplitKeyResponse, KmipError> {
    check_secret_object_type(ctx.version, request.object_type, "Join Split Key rebuilds")?;
    if request.unique_identifiers.is_empty() {
        return Err(KmipError::new(
            ResultReason::MissingData,
            "Join Split Key needs the Unique Identifiers of the parts",
        ));
    }
    let mut parts: Vec<SplitKey> = Vec::with_capacity(request.unique_identifiers.len());
    for uid in &request.unique_identifiers {
        match load(ctx, uid)?.object {
            Some(ManagedObject::SplitKey(part)) => parts.push(part),
            Some(other) => {
                return Err(versioned(
                    ctx.version,
                    ResultReason::InvalidObjectType,
                    ResultReason::InvalidField,
                    format!("{uid} is a {}, not a Split Key", other.object_type().name()),
                ))
            }
            None => {
                return Err(crate::managed::wrong_state(
                    ctx.version,
                    format!("{uid} was destroyed: its part is gone"),
                ))
            }
        }
    }
    let first = &parts[0];
    let (n, m, method) = (
        first.split_key_parts,
        first.split_key_threshold,
        first.split_key_method,
    );
    let (algorithm, length) = (
        first.key_block.cryptographic_algorithm,
        first.key_block.cryptographic_length,
    );
    if let Some(odd) = parts.iter().find(|p| {
        (p.split_key_parts, p.split_key_threshold, p.split_key_method) != (n, m, method)
            || (
                p.key_block.cryptographic_algorithm,
                p.key_block.cryptographic_length,
            ) != (algorithm, length)
    }) {
        return Err(KmipError::invalid_field(format!(
            "part {} belongs to another split (parts, threshold, method or key differ)",
            odd.key_part_identifier
        )));
    }
    let mut shares = Vec::with_capacity(parts.len());
    for part in &parts {
        let x = u8::try_from(part.key_part_identifier).map_err(|_| {
            KmipError::invalid_field(format!(
                "Key Part Identifier {} is outside 1 to 255",
                part.key_part_identifier
            ))
        })?;
        shares.push(Share {
            x,
            bytes: Zeroizing::new(symmetric_bytes(&part.key_block)?.to_vec()),
        });
    }
    let threshold = usize::try_from(m).unwrap_or(0);
    let secret = match method {
        SplitKeyMethod::PolynomialSharingGf2_8 => secret_sharing::join_gf256(&shares, threshold),
        SplitKeyMethod::Xor => secret_sharing::join_xor(&shares, usize::try_from(n).unwrap_or(0)),
        other => {
            return Err(unsupported(
                ctx,
                format!("Split Key Method {} is not supported", other.name()),
            ))
        }
    }
    .map_err(|e| KmipError::invalid_field(format!("the parts cannot be joined: {e}")))?;

    let attributes = template(ctx, request.attributes)?;
    let uid = new_uid(ctx)?;
    let object = match request.object_type {
        ObjectType::SymmetricKey => {
            let spec = key_spec(
                ctx.version,
                algorithm.or(attributes.cryptographic_algorithm()),
                length,
            )?;
            if spec.material_bytes != secret.len() {
                return Err(KmipError::invalid_field(format!(
                    "the joined key is {} bytes, not the {} of a {}-bit key",
                    secret.len(),
                    spec.material_bytes,
                    spec.length_bits
                )));
            }
            ManagedObject::SymmetricKey(KeyBlock::new(
                KeyFormatType::Raw,
                KeyMaterial::Bytes(secret),
                Some(spec.algorithm),
                Some(spec.length_bits),
            ))
        }
        _ => ManagedObject::SecretData(SecretData {
            secret_data_type: request.secret_data_type.unwrap_or(SecretDataType::Seed),
            key_block: KeyBlock::new(
                KeyFormatType::Opaque,
                KeyMaterial::Bytes(secret),
                None,
                length,
            ),
        }),
    };
    let stored_attributes = initial_attributes(&uid, &object, attributes, ctx.now);
    ctx.state
        .store
        .insert(&StoredObject {
            uid: uid.clone(),
            owner: ctx.caller.tenant.clone(),
            object: Some(object),
            attributes: stored_attributes,
            internal: false,
        })
        .map_err(store_error)?;
    Ok(JoinSplitKeyResponse {
        unique_identifier: uid,
    })
}
