//! Re-Key: a new symmetric key replacing an existing one, with fresh material from the entropy pool, the old
//! key's attributes carried over, Replaced / Replacement Object links, and dates shifted by the Offset.

use kmip::attributes::{Attribute, Attributes, Link};
use kmip::enums::{KeyFormatType, LinkType, ObjectType, State};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::{ReKeyRequest, ReKeyResponse};
use kmip::ResultReason;
use zeroize::Zeroizing;

use crate::error::KmipError;
use crate::managed::key_specs::key_spec;
use crate::managed::provenance::{initial_attributes, provenance_attributes};
use crate::managed::{entropy_error, load, new_uid, store_error, target, versioned, wrong_state};
use crate::state::RequestContext;
use crate::store::StoredObject;

/// Attributes the replacement inherits from the replaced key (the server sets the rest afresh): what a
/// replacement pair inherits, and also Alternative Names and client custom attributes.
fn inherited(attribute: &Attribute) -> bool {
    crate::managed::key_pairs::inherited(attribute)
        || matches!(attribute, Attribute::AlternativeName(_))
        || matches!(attribute, Attribute::Custom(c) if !crate::managed::attribute_policy::is_server_vendor_attribute(&c.vendor_identification, &c.attribute_name))
}

pub fn rekey(ctx: &RequestContext<'_>, request: ReKeyRequest) -> Result<ReKeyResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let old = load(ctx, uid)?;
    if old.attributes.object_type() != Some(ObjectType::SymmetricKey) {
        return Err(versioned(
            ctx.version,
            ResultReason::InvalidObjectType,
            ResultReason::IllegalOperation,
            format!("Re-Key replaces symmetric keys; {uid} is not one (use Re-Key Key Pair for key pairs)"),
        ));
    }
    if request.protection_storage_masks.is_some() {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "Protection Storage Masks are not supported: every object is stored sealed in software",
        ));
    }
    let state = old.attributes.state().unwrap_or(State::PreActive);
    if matches!(state, State::Destroyed | State::DestroyedCompromised) {
        return Err(wrong_state(
            ctx.version,
            format!("{uid} is destroyed and cannot be re-keyed"),
        ));
    }
    let spec = key_spec(
        ctx.version,
        old.attributes.cryptographic_algorithm(),
        old.attributes.cryptographic_length(),
    )?;
    let mut client: Attributes = old
        .attributes
        .iter()
        .filter(|a| inherited(a))
        .cloned()
        .collect();
    if let Some(extra) = request.attributes {
        crate::managed::attribute_policy::check_template(ctx.version, &extra, &[])?;
        for attribute in extra {
            client.set(attribute);
        }
    }
    // KMIP: with an Offset the new key activates Offset after now; without one, it keeps the old key's
    // activation lag (Activation Date - Initial Date) if the old key had an Activation Date.
    let old_initial = old.attributes.iter().find_map(|a| match a {
        Attribute::InitialDate(d) => Some(*d),
        _ => None,
    });
    let lag = match (
        request.offset,
        old.attributes.activation_date(),
        old_initial,
    ) {
        (Some(offset), _, _) => Some(i64::from(offset.0)),
        (None, Some(activation), Some(initial)) => Some((activation - initial).max(0)),
        _ => None,
    };
    if let Some(lag) = lag {
        client.set(Attribute::ActivationDate(ctx.now.saturating_add(lag)));
    }
    let mut key = Zeroizing::new(vec![0u8; spec.material_bytes]);
    let provenance = ctx
        .state
        .entropy
        .fill(&mut key)
        .map_err(|e| entropy_error(&e))?;
    let new_uid = new_uid(ctx)?;
    let object = ManagedObject::SymmetricKey(KeyBlock::new(
        KeyFormatType::Raw,
        KeyMaterial::Bytes(key),
        Some(spec.algorithm),
        Some(spec.length_bits),
    ));
    let mut attributes = initial_attributes(&new_uid, &object, client, ctx.now);
    attributes.extend(provenance_attributes(&provenance));
    attributes.push(Attribute::Link(Link {
        link_type: LinkType::ReplacedObjectLink,
        linked_object_identifier: old.uid.clone(),
    }));
    let new = StoredObject {
        uid: new_uid.clone(),
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes,
        internal: false,
    };
    ctx.state.store.insert(&new).map_err(store_error)?;
    crate::managed::key_pairs::link_replacement(ctx, old, &new_uid)?;
    Ok(ReKeyResponse {
        unique_identifier: new_uid,
        attributes: None,
    })
}
