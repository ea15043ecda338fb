//! Get Attributes, Get Attribute List, Add / Set / Modify / Delete Attribute, with the version rules: read-only
//! attributes (2.x Attribute Read Only, 1.x Permission Denied), single-valued attributes, 1.x Attribute Index
//! and 2.x Current Attribute, and only attributes the request's version defines in answers.

use kmip::attributes::{Attribute, AttributeName, Attributes, KnownAttribute};
use kmip::payloads::{
    AddAttributeRequest, AddAttributeResponse, AttributeArgument, AttributeNames,
    DeleteAttributeRequest, DeleteAttributeResponse, GetAttributeListRequest,
    GetAttributeListResponse, GetAttributesRequest, GetAttributesResponse, ModifyAttributeRequest,
    ModifyAttributeResponse, PayloadAttributes, SetAttributeRequest, SetAttributeResponse,
};
use kmip::{ProtocolVersion, ResultReason};

use crate::error::KmipError;
use crate::managed::attribute_policy::{
    check_client_change, is_multi_valued, is_read_only, read_only_error, single_valued_error,
};
use crate::managed::lifecycle::set_changed;
use crate::managed::{load, save, target, versioned};
use crate::state::RequestContext;
use crate::store::StoredObject;

pub fn get_attributes(
    ctx: &RequestContext<'_>,
    request: GetAttributesRequest,
) -> Result<GetAttributesResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let object = load(ctx, uid)?;
    let selected: Attributes = if request.attribute_names.0.is_empty() {
        visible(&object.attributes, ctx.version).cloned().collect()
    } else {
        // In the order asked for; attributes the object lacks (or the version lacks) are simply absent.
        let mut out = Attributes::new();
        for name in &request.attribute_names.0 {
            if name.is_available_in(ctx.version) {
                out.extend(object.attributes.get_all(name).cloned());
            }
        }
        out
    };
    Ok(GetAttributesResponse {
        unique_identifier: object.uid,
        attributes: PayloadAttributes(selected),
    })
}

pub fn get_attribute_list(
    ctx: &RequestContext<'_>,
    request: GetAttributeListRequest,
) -> Result<GetAttributeListResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let object = load(ctx, uid)?;
    let mut names: Vec<AttributeName> = Vec::new();
    for attribute in visible(&object.attributes, ctx.version) {
        let name = attribute.name();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(GetAttributeListResponse {
        unique_identifier: object.uid,
        attribute_names: AttributeNames(names),
    })
}

/// The attributes `version` defines (real 1.0 clients break on later ones).
fn visible(attributes: &Attributes, version: ProtocolVersion) -> impl Iterator<Item = &Attribute> {
    attributes
        .iter()
        .filter(move |a| a.name().is_available_in(version))
}

fn state(object: &StoredObject) -> Option<kmip::enums::State> {
    object.attributes.state()
}

/// A Name may appear once on an object.
fn check_name_unique(
    version: ProtocolVersion,
    object: &StoredObject,
    attribute: &Attribute,
) -> Result<(), KmipError> {
    if let Attribute::Name(name) = attribute {
        if object.attributes.names().any(|n| n.value == name.value) {
            return Err(versioned(
                version,
                ResultReason::NonUniqueNameAttribute,
                ResultReason::IllegalOperation,
                format!("the object already has the Name {:?}", name.value),
            ));
        }
    }
    Ok(())
}

/// The 1.x echo of an attribute at `index`. KMIP 1.0-1.3 answer Add / Modify / Delete Attribute with "the
/// attribute with its Attribute Index"; 1.4 lets a server leave an index of 0 out, which the OASIS 1.4 cases
/// do. So the index is always sent below 1.4 and whenever the request itself named one (PyKMIP reads it back),
/// and from 1.4 on an index of 0 the request did not name is left out, as the OASIS cases expect.
fn echo(
    version: ProtocolVersion,
    attribute: Attribute,
    index: usize,
    request_named_index: bool,
) -> Option<AttributeArgument> {
    let send_index = index > 0 || request_named_index || version < ProtocolVersion::V1_4;
    (!version.is_v2()).then(|| AttributeArgument {
        attribute,
        index: send_index.then(|| i32::try_from(index).unwrap_or(i32::MAX)),
    })
}

pub fn add_attribute(
    ctx: &RequestContext<'_>,
    request: AddAttributeRequest,
) -> Result<AddAttributeResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let mut object = load(ctx, uid)?;
    let attribute = request.new_attribute.attribute;
    let name = attribute.name();
    check_client_change(ctx.version, &attribute, state(&object))?;
    check_name_unique(ctx.version, &object, &attribute)?;
    let existing = object.attributes.get_all(&name).count();
    if existing > 0 && !is_multi_valued(&name) {
        return Err(single_valued_error(ctx.version, &name));
    }
    object.attributes.push(attribute.clone());
    object.attributes.set(Attribute::LastChangeDate(ctx.now));
    save(ctx, &object)?;
    Ok(AddAttributeResponse {
        unique_identifier: object.uid,
        attribute: echo(ctx.version, attribute, existing, false),
    })
}

/// Set Attribute (2.x): the value of a single-valued attribute, added or replaced.
pub fn set_attribute(
    ctx: &RequestContext<'_>,
    request: SetAttributeRequest,
) -> Result<SetAttributeResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let mut object = load(ctx, uid)?;
    let attribute = request.new_attribute.attribute;
    let name = attribute.name();
    check_client_change(ctx.version, &attribute, state(&object))?;
    if is_multi_valued(&name) {
        return Err(versioned(
            ctx.version,
            ResultReason::MultiValuedAttribute,
            ResultReason::InvalidField,
            format!("{name} is multi-valued: use Add Attribute or Modify Attribute"),
        ));
    }
    set_changed(&mut object.attributes, attribute, ctx.now);
    save(ctx, &object)?;
    Ok(SetAttributeResponse {
        unique_identifier: object.uid,
    })
}

fn attribute_not_found(version: ProtocolVersion, what: String) -> KmipError {
    versioned(
        version,
        ResultReason::AttributeNotFound,
        ResultReason::InvalidField,
        what,
    )
}

/// Replaces the value at `position` (an index into the whole list) with `attribute`.
fn replace_at(attributes: &mut Attributes, position: usize, attribute: Attribute) {
    let mut all = std::mem::take(attributes).into_vec();
    if let Some(slot) = all.get_mut(position) {
        *slot = attribute;
    }
    *attributes = all.into();
}

/// Where the `index`-th value of `name` sits in the whole list.
fn position_of(attributes: &Attributes, name: &AttributeName, index: usize) -> Option<usize> {
    attributes
        .iter()
        .enumerate()
        .filter(|(_, a)| a.name() == *name)
        .nth(index)
        .map(|(position, _)| position)
}

pub fn modify_attribute(
    ctx: &RequestContext<'_>,
    request: ModifyAttributeRequest,
) -> Result<ModifyAttributeResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let mut object = load(ctx, uid)?;
    let named_index = request.new_attribute.index.is_some();
    let new = request.new_attribute.attribute;
    let name = new.name();
    check_client_change(ctx.version, &new, state(&object))?;
    let (position, index) = match request.current_attribute {
        Some(current) => {
            if current.attribute.name() != name {
                return Err(KmipError::invalid_field(format!(
                    "Current Attribute ({}) and New Attribute ({name}) name different attributes",
                    current.attribute.name()
                )));
            }
            let found = object
                .attributes
                .iter()
                .filter(|a| a.name() == name)
                .position(|a| *a == current.attribute);
            let index = found.ok_or_else(|| {
                versioned(
                    ctx.version,
                    ResultReason::AttributeInstanceNotFound,
                    ResultReason::InvalidField,
                    format!("the object has no {name} with the Current Attribute's value"),
                )
            })?;
            (position_of(&object.attributes, &name, index), index)
        }
        None => {
            let index = usize::try_from(request.new_attribute.index.unwrap_or(0)).unwrap_or(0);
            (position_of(&object.attributes, &name, index), index)
        }
    };
    let Some(position) = position else {
        return Err(attribute_not_found(
            ctx.version,
            format!("the object has no {name} (index {index}) to modify"),
        ));
    };
    if let Attribute::Name(new_name) = &new {
        let clash = object.attributes.iter().enumerate().any(|(p, a)| {
            p != position && matches!(a, Attribute::Name(n) if n.value == new_name.value)
        });
        if clash {
            return Err(versioned(
                ctx.version,
                ResultReason::NonUniqueNameAttribute,
                ResultReason::IllegalOperation,
                format!("the object already has the Name {:?}", new_name.value),
            ));
        }
    }
    replace_at(&mut object.attributes, position, new.clone());
    object.attributes.set(Attribute::LastChangeDate(ctx.now));
    save(ctx, &object)?;
    Ok(ModifyAttributeResponse {
        unique_identifier: object.uid,
        attribute: echo(ctx.version, new, index, named_index),
    })
}

pub fn delete_attribute(
    ctx: &RequestContext<'_>,
    request: DeleteAttributeRequest,
) -> Result<DeleteAttributeResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let mut object = load(ctx, uid)?;
    let name = match (&request.current_attribute, &request.attribute_name) {
        (Some(current), _) => current.attribute.name(),
        (None, Some(name)) => name.clone(),
        (None, None) => {
            return Err(KmipError::invalid_field(
                "Delete Attribute needs the attribute to delete (Attribute Name / Reference or Current Attribute)",
            ))
        }
    };
    if is_read_only(&name) {
        return Err(read_only_error(ctx.version, &name));
    }
    let dates_locked = !matches!(state(&object), None | Some(kmip::enums::State::PreActive));
    if dates_locked
        && matches!(
            name,
            AttributeName::Known(KnownAttribute::ActivationDate | KnownAttribute::DeactivationDate)
        )
    {
        return Err(crate::managed::wrong_state(
            ctx.version,
            format!("{name} cannot be deleted once the object has left Pre-Active"),
        ));
    }
    let (removed, index) = if let Some(current) = &request.current_attribute {
        let index = object
            .attributes
            .get_all(&name)
            .position(|a| *a == current.attribute)
            .ok_or_else(|| {
                versioned(
                    ctx.version,
                    ResultReason::AttributeInstanceNotFound,
                    ResultReason::InvalidField,
                    format!("the object has no {name} with the Current Attribute's value"),
                )
            })?;
        (object.attributes.remove(&name, Some(index)), index)
    } else if ctx.version.is_v2() && request.attribute_index.is_none() {
        (object.attributes.remove(&name, None), 0)
    } else {
        let index = usize::try_from(request.attribute_index.unwrap_or(0)).unwrap_or(0);
        (object.attributes.remove(&name, Some(index)), index)
    };
    let Some(first) = removed.into_iter().next() else {
        return Err(attribute_not_found(
            ctx.version,
            format!("the object has no {name} to delete"),
        ));
    };
    object.attributes.set(Attribute::LastChangeDate(ctx.now));
    save(ctx, &object)?;
    Ok(DeleteAttributeResponse {
        unique_identifier: object.uid,
        attribute: echo(ctx.version, first, index, request.attribute_index.is_some()),
    })
}
