//! Create: symmetric keys (AES 128/192/256, 3DES, HMAC-SHA1/224/256/384/512) from the entropy pool, with the
//! attributes of either version's template and the draw's provenance.

use kmip::attributes::{Attributes, KnownAttribute};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::{CreateRequest, CreateResponse};
use kmip::ResultReason;
use zeroize::Zeroizing;

use crate::error::KmipError;
use crate::managed::hsm_held;
use crate::managed::key_specs::key_spec;
use crate::managed::provenance::{check_object_type, initial_attributes, provenance_attributes};
use crate::managed::{attribute_policy as policy, entropy_error, new_uid, versioned};
use crate::state::RequestContext;
use crate::store::StoredObject;

/// Sets odd parity on every byte (DES key convention).
fn set_des_parity(key: &mut [u8]) {
    for byte in key {
        let ones = (*byte & 0xFE).count_ones();
        *byte = (*byte & 0xFE) | u8::from(ones % 2 == 0);
    }
}

pub fn create(
    ctx: &RequestContext<'_>,
    request: CreateRequest,
) -> Result<CreateResponse, KmipError> {
    if request.object_type != ObjectType::SymmetricKey {
        return Err(versioned(
            ctx.version,
            ResultReason::InvalidObjectType,
            ResultReason::InvalidField,
            format!(
                "Create makes Symmetric Keys; a {} is registered or made by Create Key Pair",
                request.object_type.name()
            ),
        ));
    }
    if request.protection_storage_masks.is_some() {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "Protection Storage Masks are not supported: every object is stored sealed in software",
        ));
    }
    let mut attributes: Attributes =
        crate::managed::template::apply_templates(ctx, request.attributes)?;
    let hsm = hsm_held::take_request(ctx, &mut [&mut attributes])?;
    check_object_type(request.object_type, &attributes)?;
    crate::managed::key_pairs::refuse_unsafe(
        &attributes,
        attributes.cryptographic_algorithm(),
        attributes.cryptographic_length(),
    )?;
    policy::check_template(
        ctx.version,
        &attributes,
        &[
            KnownAttribute::CryptographicAlgorithm,
            KnownAttribute::CryptographicLength,
            KnownAttribute::ObjectType,
        ],
    )?;
    let spec = key_spec(
        ctx.version,
        attributes.cryptographic_algorithm(),
        attributes.cryptographic_length(),
    )?;
    let mut key = Zeroizing::new(vec![0u8; spec.material_bytes]);
    let provenance = ctx
        .state
        .entropy
        .fill(&mut key)
        .map_err(|e| entropy_error(&e))?;
    if spec.algorithm == CryptographicAlgorithm::TripleDes {
        set_des_parity(&mut key);
    }
    let uid = new_uid(ctx)?;
    let object = ManagedObject::SymmetricKey(KeyBlock::new(
        KeyFormatType::Raw,
        KeyMaterial::Bytes(key),
        Some(spec.algorithm),
        Some(spec.length_bits),
    ));
    let mut stored_attributes = initial_attributes(&uid, &object, attributes, ctx.now);
    stored_attributes.extend(provenance_attributes(&provenance));
    let mut stored = StoredObject {
        uid: uid.clone(),
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes: stored_attributes,
        internal: false,
    };
    if let Some(hsm) = &hsm {
        // A secret key has no public half: nothing comes back.
        hsm_held::hold(ctx, hsm, &mut stored)?;
    }
    hsm_held::insert_or_roll_back(ctx, &[&stored])?;
    Ok(CreateResponse {
        object_type: ObjectType::SymmetricKey,
        unique_identifier: uid,
        attributes: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn des_keys_get_odd_parity() {
        let mut key = [0u8, 1, 2, 3, 0xFF, 0xFE];
        set_des_parity(&mut key);
        assert!(key.iter().all(|b| b.count_ones() % 2 == 1), "{key:?}");
    }
}
