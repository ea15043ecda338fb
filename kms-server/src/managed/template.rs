//! KMIP 1.x Template objects (1.4 §2.2.6, §2.1.8): Register stores a named set of attributes; a Create, Register or
//! Create Key Pair whose Template-Attribute names a Template by Name gets that Template's attributes. Get, Get
//! Attributes, Locate and Destroy treat a Template like any other object (it has no key material, no State
//! until destroyed). KMIP 2.0 removed the object: a 2.x message cannot carry one (`kmip` refuses it), and 2.x
//! Query does not list it.
//!
//! Precedence, when a request names Templates: an attribute given in the Template-Attribute itself wins over a
//! Template's; between Templates, the first one named wins for a single-valued attribute; multi-valued
//! attributes (Object Group, Application Specific Information, ...) are collected from all, without duplicates.

use kmip::attributes::{Attribute, Attributes, KnownAttribute, Name};
use kmip::enums::ObjectType;
use kmip::objects::{ManagedObject, Template};
use kmip::payloads::{RegisterRequest, RegisterResponse};
use kmip::ResultReason;

use super::attribute_policy::{check_template, is_multi_valued};
use super::{load, new_uid, store_error, versioned};
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::{IndexQuery, StoredObject};

/// What a Template may hold beyond client-settable attributes: those Create / Register take as input.
const TEMPLATE_INPUTS: &[KnownAttribute] = &[
    KnownAttribute::CryptographicAlgorithm,
    KnownAttribute::CryptographicLength,
    KnownAttribute::CertificateType,
    KnownAttribute::ObjectType,
];

fn not_in_v2(version: kmip::ProtocolVersion) -> KmipError {
    KmipError::new(
        ResultReason::InvalidObjectType,
        format!("Template objects exist in KMIP 1.x only, not in {version}"),
    )
}

/// Register of a Template: its own attributes (Name...) from the Template-Attribute, its content from the
/// Template object.
pub fn register_template(
    ctx: &RequestContext<'_>,
    request: RegisterRequest,
) -> Result<RegisterResponse, KmipError> {
    if ctx.version.is_v2() {
        return Err(not_in_v2(ctx.version));
    }
    let own = request.attributes;
    if !own.template_names.is_empty() {
        return Err(KmipError::invalid_field(
            "a Template cannot be registered from other Templates: give its attributes in the Template object",
        ));
    }
    let Some(ManagedObject::Template(template)) = request.object.0 else {
        return Err(KmipError::invalid_field(
            "a Register of Object Type Template needs a Template object",
        ));
    };
    super::provenance::check_object_type(ObjectType::Template, &own)?;
    check_template(ctx.version, &own, &[KnownAttribute::ObjectType])?;
    check_template(ctx.version, &template.attributes, TEMPLATE_INPUTS)?;
    if template.attributes.contains(KnownAttribute::Name) {
        // Every object made from it would carry the same Name, which Names exist to tell apart.
        return Err(KmipError::invalid_field(
            "a Template cannot hold a Name: name the Template in the Register request's Template-Attribute",
        ));
    }
    for name in own.names() {
        if !find(ctx, &name.value)?.is_empty() {
            return Err(versioned(
                ctx.version,
                ResultReason::NonUniqueNameAttribute,
                ResultReason::InvalidField,
                format!("a Template named {:?} already exists", name.value),
            ));
        }
    }
    let uid = new_uid(ctx)?;
    let mut attributes = Attributes::new();
    attributes.push(Attribute::UniqueIdentifier(uid.clone()));
    attributes.push(Attribute::ObjectType(ObjectType::Template));
    attributes.extend(
        own.into_iter()
            .filter(|a| !matches!(a, Attribute::ObjectType(_))),
    );
    attributes.push(Attribute::InitialDate(ctx.now));
    attributes.push(Attribute::LastChangeDate(ctx.now));
    let stored = StoredObject {
        uid: uid.clone(),
        owner: ctx.caller.tenant.clone(),
        attributes,
        object: Some(ManagedObject::Template(template)),
        internal: false,
    };
    ctx.state.store.insert(&stored).map_err(store_error)?;
    Ok(RegisterResponse {
        unique_identifier: uid,
        attributes: None,
    })
}

/// `attributes` with the attributes of every Template its Template-Attribute names merged in (see the module
/// documentation for precedence), and no Template names left.
pub fn apply_templates(
    ctx: &RequestContext<'_>,
    mut attributes: Attributes,
) -> Result<Attributes, KmipError> {
    let names = std::mem::take(&mut attributes.template_names);
    for name in &names {
        let template = named_template(ctx, name)?;
        for attribute in template.attributes {
            let attribute_name = attribute.name();
            let present = if is_multi_valued(&attribute_name) {
                attributes.iter().any(|a| *a == attribute)
            } else {
                attributes.get(&attribute_name).is_some()
            };
            if !present {
                attributes.push(attribute);
            }
        }
    }
    Ok(attributes)
}

/// The live (not destroyed) Template of the caller's tenant named `name`.
fn named_template(ctx: &RequestContext<'_>, name: &Name) -> Result<Template, KmipError> {
    let mut found = find(ctx, &name.value)?;
    match found.len() {
        0 => Err(versioned(
            ctx.version,
            ResultReason::ObjectNotFound,
            ResultReason::ItemNotFound,
            format!("no Template named {:?}", name.value),
        )),
        1 => Ok(found.remove(0)),
        n => Err(KmipError::invalid_field(format!(
            "{n} Templates are named {:?}; rename all but one",
            name.value
        ))),
    }
}

/// The caller's live Templates named `name`.
fn find(ctx: &RequestContext<'_>, name: &str) -> Result<Vec<Template>, KmipError> {
    let query = IndexQuery {
        name: Some(name.to_owned()),
        object_type: Some(ObjectType::Template),
        ..IndexQuery::default()
    };
    let uids = ctx
        .state
        .store
        .locate(&ctx.caller.tenant, &query, &mut |_| true)
        .map_err(store_error)?;
    let mut templates = Vec::new();
    for uid in uids {
        if let Some(ManagedObject::Template(template)) = load(ctx, &uid)?.object {
            templates.push(template);
        }
    }
    Ok(templates)
}
