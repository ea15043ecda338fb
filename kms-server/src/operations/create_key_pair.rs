//! Create Key Pair and Re-Key Key Pair: RSA 1024-4096 (1024 only for KMIP conformance), EC P-256 / P-384 and
//! Ed25519 generated from the entropy pool; the private key in PKCS#1 (RSA) or PKCS#8, the public key in
//! PKCS#1 (RSA) or SubjectPublicKeyInfo; the two linked to each other (Public Key Link / Private Key Link) and
//! both carrying the provenance of the pool behind them. Also the quantum-safety check of `QuantumSafe`.
//!
//! Revoking one key of a pair (even for a compromise) changes that key only: KMIP's Revoke acts on the object
//! it names, and the OASIS AKLC-M-3 case expects the public key to stay Pre-Active after its private key is
//! compromised. A client that wants both compromised revokes both.

use kmip::attributes::{Attribute, Attributes, KnownAttribute};
use kmip::enums::{LinkType, ObjectType, State};
use kmip::objects::ManagedObject;
use kmip::payloads::{
    CreateKeyPairRequest, CreateKeyPairResponse, ReKeyKeyPairRequest, ReKeyKeyPairResponse,
};
use kmip::ResultReason;

use crate::crypto::keygen::generate_key_pair;
use crate::crypto::KeyPairSpec;
use crate::error::KmipError;
use crate::managed::key_codec::{
    crypto_error, default_private_format, default_public_format, private_key_block,
    public_key_block,
};
use crate::managed::key_pairs::{inherited, key_pair_spec, link, link_replacement, refuse_unsafe};
use crate::managed::provenance::{initial_attributes, provenance_attributes};
use crate::managed::{
    attribute_policy as policy, entropy_error, load, new_uid, store_error, target, versioned,
    wrong_state,
};
use crate::state::RequestContext;
use crate::store::StoredObject;

/// Attributes a Create Key Pair template may set although only the server sets them elsewhere.
const INPUTS: &[KnownAttribute] = &[
    KnownAttribute::CryptographicAlgorithm,
    KnownAttribute::CryptographicLength,
    KnownAttribute::ObjectType,
];

/// The two stored objects of a new pair and their identifiers.
struct NewPair {
    private: StoredObject,
    public: StoredObject,
}

/// Generates a pair for `spec` and builds both stored objects with their attributes and links.
fn generate(
    ctx: &RequestContext<'_>,
    spec: KeyPairSpec,
    private_attributes: Attributes,
    public_attributes: Attributes,
) -> Result<NewPair, KmipError> {
    // The provenance of a draw taken from the pool just before the generation: the same sources, health state
    // and seed epoch the generator draws from (the RNG adapter the generators use reports no record itself).
    let provenance = ctx
        .state
        .entropy
        .fill(&mut [0u8; 1])
        .map_err(|e| entropy_error(&e))?;
    let key =
        generate_key_pair(&ctx.state.entropy, spec).map_err(|e| crypto_error(ctx.version, e))?;
    let private_uid = new_uid(ctx)?;
    let public_uid = new_uid(ctx)?;
    let private_object = ManagedObject::PrivateKey(private_key_block(
        ctx.version,
        &key,
        default_private_format(spec),
    )?);
    let public_object = ManagedObject::PublicKey(public_key_block(
        ctx.version,
        &key.public_key(),
        default_public_format(spec),
    )?);
    let mut private =
        initial_attributes(&private_uid, &private_object, private_attributes, ctx.now);
    private.extend(provenance_attributes(&provenance));
    private.push(link(LinkType::PublicKeyLink, &public_uid));
    let mut public = initial_attributes(&public_uid, &public_object, public_attributes, ctx.now);
    public.extend(provenance_attributes(&provenance));
    public.push(link(LinkType::PrivateKeyLink, &private_uid));
    let stored = |uid: String, object, attributes| StoredObject {
        uid,
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes,
        internal: false,
    };
    Ok(NewPair {
        private: stored(private_uid, private_object, private),
        public: stored(public_uid, public_object, public),
    })
}

fn merged(common: &Attributes, own: &Attributes) -> Attributes {
    let mut out = common.clone();
    for attribute in own.iter() {
        out.set(attribute.clone());
    }
    out
}

fn refuse_masks(present: bool) -> Result<(), KmipError> {
    if present {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "Protection Storage Masks are not supported: every object is stored sealed in software",
        ));
    }
    Ok(())
}

pub fn create_key_pair(
    ctx: &RequestContext<'_>,
    request: CreateKeyPairRequest,
) -> Result<CreateKeyPairResponse, KmipError> {
    refuse_masks(
        request.common_protection_storage_masks.is_some()
            || request.private_protection_storage_masks.is_some()
            || request.public_protection_storage_masks.is_some(),
    )?;
    let apply = |attributes: Option<Attributes>| {
        crate::managed::template::apply_templates(ctx, attributes.unwrap_or_default())
    };
    let mut common = apply(request.common_attributes)?;
    let mut private_template = apply(request.private_key_attributes)?;
    let mut public_template = apply(request.public_key_attributes)?;
    let hsm = crate::managed::hsm_held::take_request(
        ctx,
        &mut [&mut common, &mut private_template, &mut public_template],
    )?;
    let spec = key_pair_spec(ctx.version, &[&common, &private_template, &public_template])?;
    for template in [&common, &private_template, &public_template] {
        let (algorithm, length) = crate::managed::key_codec::algorithm_and_length(spec);
        refuse_unsafe(template, Some(algorithm), Some(length))?;
        policy::check_template(ctx.version, template, INPUTS)?;
    }
    let mut pair = generate(
        ctx,
        spec,
        merged(&common, &private_template),
        merged(&common, &public_template),
    )?;
    if let Some(hsm) = &hsm {
        let generated_public = crate::managed::hsm_held::hold(ctx, hsm, &mut pair.private)?;
        if let Some(public_key) = generated_public {
            // The HSM generated the pair (seed then generate): its public key replaces the software one; on
            // failure the HSM object must not outlive the refused request.
            if let Err(error) =
                crate::managed::hsm_held::replace_public_key(ctx, &mut pair.public, &public_key)
            {
                let _ = crate::managed::hsm_held::destroy_in_hsm(ctx, &pair.private);
                return Err(error);
            }
        }
        crate::managed::hsm_held::mark(&mut pair.public.attributes, hsm.label());
    }
    crate::managed::hsm_held::insert_or_roll_back(ctx, &[&pair.private, &pair.public])?;
    Ok(CreateKeyPairResponse {
        private_key_unique_identifier: pair.private.uid,
        public_key_unique_identifier: pair.public.uid,
        private_key_attributes: None,
        public_key_attributes: None,
    })
}

pub fn rekey_key_pair(
    ctx: &RequestContext<'_>,
    request: ReKeyKeyPairRequest,
) -> Result<ReKeyKeyPairResponse, KmipError> {
    refuse_masks(
        request.common_protection_storage_masks.is_some()
            || request.private_protection_storage_masks.is_some()
            || request.public_protection_storage_masks.is_some(),
    )?;
    let uid = target(&request.private_key_unique_identifier)?;
    let old_private = load(ctx, uid)?;
    if old_private.attributes.object_type() != Some(ObjectType::PrivateKey) {
        return Err(versioned(
            ctx.version,
            ResultReason::InvalidObjectType,
            ResultReason::IllegalOperation,
            format!(
                "Re-Key Key Pair replaces a pair by its private key; {uid} is not a private key"
            ),
        ));
    }
    let state = old_private.attributes.state().unwrap_or(State::PreActive);
    if matches!(state, State::Destroyed | State::DestroyedCompromised)
        || old_private.object.is_none()
    {
        return Err(wrong_state(
            ctx.version,
            format!("{uid} is destroyed and cannot be re-keyed"),
        ));
    }
    let old_public = match old_private.attributes.linked(LinkType::PublicKeyLink) {
        Some(public_uid) => Some(load(ctx, public_uid)?),
        None => None,
    };
    let Some(ManagedObject::PrivateKey(block)) = &old_private.object else {
        return Err(KmipError::invalid_field(format!(
            "{uid} holds no private key"
        )));
    };
    let spec = crate::managed::key_codec::stored_private_key_of(ctx.version, block)?.spec();
    let pick = |old: &StoredObject, own: Option<Attributes>| -> Result<Attributes, KmipError> {
        let mut out: Attributes = old
            .attributes
            .iter()
            .filter(|a| inherited(a))
            .cloned()
            .collect();
        for extra in [request.common_attributes.clone(), own]
            .into_iter()
            .flatten()
        {
            policy::check_template(ctx.version, &extra, &[])?;
            for attribute in extra {
                out.set(attribute);
            }
        }
        if let Some(offset) = request.offset {
            out.set(Attribute::ActivationDate(
                ctx.now.saturating_add(i64::from(offset.0)),
            ));
        }
        Ok(out)
    };
    let private_attributes = pick(&old_private, request.private_key_attributes.clone())?;
    let public_attributes = match &old_public {
        Some(old) => pick(old, request.public_key_attributes.clone())?,
        None => pick(&old_private, request.public_key_attributes.clone())?
            .into_iter()
            .filter(|a| !matches!(a, Attribute::CryptographicUsageMask(_)))
            .collect(),
    };
    let mut pair = generate(ctx, spec, private_attributes, public_attributes)?;
    pair.private
        .attributes
        .push(link(LinkType::ReplacedObjectLink, &old_private.uid));
    if let Some(old) = &old_public {
        pair.public
            .attributes
            .push(link(LinkType::ReplacedObjectLink, &old.uid));
    }
    ctx.state.store.insert(&pair.private).map_err(store_error)?;
    ctx.state.store.insert(&pair.public).map_err(store_error)?;
    link_replacement(ctx, old_private, &pair.private.uid)?;
    if let Some(old) = old_public {
        link_replacement(ctx, old, &pair.public.uid)?;
    }
    Ok(ReKeyKeyPairResponse {
        private_key_unique_identifier: pair.private.uid,
        public_key_unique_identifier: pair.public.uid,
        private_key_attributes: None,
        public_key_attributes: None,
    })
}
