//! Import and Export (KMIP 1.4+): an object with all its attributes, in or out. Also the checks every
//! client-supplied object goes through before it is stored (`prepare_object`, shared with Register): wrapped
//! keys are unwrapped, public and private keys must parse, certificates must parse and get their X.509
//! identifying attributes.

use kmip::attributes::{
    Attribute, Attributes, UnknownAttribute, X509CertificateIdentifier, X509Names,
};
use kmip::enums::ObjectType;
use kmip::objects::ManagedObject;
use kmip::payloads::{ExportRequest, ExportResponse, ImportRequest, ImportResponse, ObjectField};
use kmip::ResultReason;
use ttlv::{tags, Tag, Value};

use super::get::render;
use super::key_codec::{algorithm_and_length, crypto_error, private_key_of, public_key_of};
use super::policy::is_read_only;
use super::provenance::{check_object_type, initial_attributes};
use super::{load, store_error, target};
use crate::crypto::certificate::{parse_certificate, DistinguishedName, NameAttribute};
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::{StoreError, StoredObject};

/// Readies a client-supplied object for storage; returns the attributes the server derives from it.
pub fn prepare_object(
    ctx: &RequestContext<'_>,
    object: &mut ManagedObject,
) -> Result<Vec<Attribute>, KmipError> {
    match object {
        ManagedObject::SymmetricKey(block) => super::wrapping::unwrap_block(ctx, block)?,
        ManagedObject::SecretData(secret) => {
            super::wrapping::unwrap_block(ctx, &mut secret.key_block)?;
        }
        ManagedObject::PrivateKey(block) => {
            super::wrapping::unwrap_block(ctx, block)?;
            let spec = private_key_of(ctx.version, block)?.spec();
            fill_algorithm(block, spec);
        }
        ManagedObject::PublicKey(block) => {
            super::wrapping::unwrap_block(ctx, block)?;
            let spec = public_key_of(ctx.version, block)?.spec();
            fill_algorithm(block, spec);
        }
        ManagedObject::Certificate(certificate) => {
            let info = parse_certificate(&certificate.certificate_value)
                .map_err(|e| crypto_error(ctx.version, e))?;
            return Ok(certificate_attributes(&info));
        }
        _ => {}
    }
    Ok(Vec::new())
}

/// A key's algorithm and length come from the key itself where the client left them out.
fn fill_algorithm(block: &mut kmip::objects::KeyBlock, spec: crate::crypto::KeyPairSpec) {
    let (algorithm, length) = algorithm_and_length(spec);
    block.cryptographic_algorithm.get_or_insert(algorithm);
    block.cryptographic_length.get_or_insert(length);
}

/// The X.509 attributes a certificate object carries (subject, issuer, identifier), and the 2.x Certificate
/// Subject / Issuer name-field attributes (2.1 §4.9-4.10: CN, O, OU, C, ST, L, one per value in the name).
pub fn certificate_attributes(
    info: &crate::crypto::certificate::CertificateInfo,
) -> Vec<Attribute> {
    let mut attributes = vec![
        Attribute::X509CertificateIdentifier(X509CertificateIdentifier {
            issuer_distinguished_name: info.issuer_der.clone(),
            certificate_serial_number: info.serial_number.clone(),
        }),
        Attribute::X509CertificateSubject(X509Names {
            distinguished_name: info.subject_der.clone(),
            alternative_names: Vec::new(),
        }),
        Attribute::X509CertificateIssuer(X509Names {
            distinguished_name: info.issuer_der.clone(),
            alternative_names: Vec::new(),
        }),
    ];
    attributes.extend(name_fields(&info.subject, SUBJECT_FIELD_TAGS));
    attributes.extend(name_fields(&info.issuer, ISSUER_FIELD_TAGS));
    attributes
}

/// The 2.x tags of the Certificate Subject name fields qkms parses, in `NameAttribute` order: CN, C, ST, L, O, OU.
const SUBJECT_FIELD_TAGS: [Tag; 6] = [
    tags::CERTIFICATE_SUBJECT_CN,
    tags::CERTIFICATE_SUBJECT_C,
    tags::CERTIFICATE_SUBJECT_ST,
    tags::CERTIFICATE_SUBJECT_L,
    tags::CERTIFICATE_SUBJECT_O,
    tags::CERTIFICATE_SUBJECT_OU,
];

/// The same for the Certificate Issuer name fields.
const ISSUER_FIELD_TAGS: [Tag; 6] = [
    tags::CERTIFICATE_ISSUER_CN,
    tags::CERTIFICATE_ISSUER_C,
    tags::CERTIFICATE_ISSUER_ST,
    tags::CERTIFICATE_ISSUER_L,
    tags::CERTIFICATE_ISSUER_O,
    tags::CERTIFICATE_ISSUER_OU,
];

/// One Text String attribute per name value. `kmip` does not type these 2.x attributes, so they are kept in their
/// 2.x form only (tagged, no 1.x name), like the Short Unique Identifier: 1.x clients never see them.
fn name_fields(name: &DistinguishedName, field_tags: [Tag; 6]) -> Vec<Attribute> {
    name.entries
        .iter()
        .filter_map(|(field, value)| {
            let tag = match field {
                NameAttribute::CommonName => field_tags[0],
                NameAttribute::Country => field_tags[1],
                NameAttribute::StateOrProvince => field_tags[2],
                NameAttribute::Locality => field_tags[3],
                NameAttribute::Organization => field_tags[4],
                NameAttribute::OrganizationalUnit => field_tags[5],
                NameAttribute::Other(_) => return None,
            };
            Some(Attribute::Unknown(UnknownAttribute {
                text_name: None,
                tag: Some(tag),
                value: Value::TextString(value.clone()),
            }))
        })
        .collect()
}

pub fn import(
    ctx: &RequestContext<'_>,
    request: ImportRequest,
) -> Result<ImportResponse, KmipError> {
    let uid = request.unique_identifier.clone();
    if uid.is_empty() {
        return Err(KmipError::invalid_field(
            "Import needs a non-empty Unique Identifier",
        ));
    }
    let mut object = request.object.0.ok_or_else(|| {
        KmipError::new(ResultReason::MissingData, "Import needs the managed object")
    })?;
    if object.object_type() != request.object_type {
        return Err(KmipError::invalid_field(format!(
            "the request says {} but carries a {}",
            request.object_type.name(),
            object.object_type().name()
        )));
    }
    if request.object_type == ObjectType::Template {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "Template objects are not supported",
        ));
    }
    let given = request.attributes.unwrap_or_default();
    check_object_type(request.object_type, &given)?;
    let derived = prepare_object(ctx, &mut object)?;
    // The client's own attributes as for Register; the server-set ones the exporting server recorded (state,
    // dates, provenance) are kept as they were, so the object's history travels with it.
    let (server_set, client): (Vec<Attribute>, Vec<Attribute>) =
        given.into_iter().partition(|a| is_read_only(&a.name()));
    let mut attributes = initial_attributes(&uid, &object, client.into(), ctx.now);
    for attribute in derived {
        attributes.set(attribute);
    }
    for attribute in server_set {
        if !matches!(
            attribute,
            Attribute::UniqueIdentifier(_)
                | Attribute::ObjectType(_)
                | Attribute::CryptographicAlgorithm(_)
                | Attribute::CryptographicLength(_)
                | Attribute::Digest(_)
                | Attribute::KeyFormatType(_)
        ) {
            attributes.set(attribute);
        }
    }
    let stored = StoredObject {
        uid: uid.clone(),
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes,
        internal: false,
    };
    match ctx.state.store.insert(&stored) {
        Ok(()) => {}
        Err(StoreError::AlreadyExists(_)) if request.replace_existing == Some(true) => {
            // Replacing is allowed only for the caller's own object (load checks the owner).
            load(ctx, &uid)?;
            ctx.state.store.update(&stored).map_err(store_error)?;
        }
        Err(StoreError::AlreadyExists(_)) => {
            return Err(KmipError::new(
                ResultReason::ObjectAlreadyExists,
                format!(
                    "an object {uid:?} already exists (set Replace Existing to replace your own)"
                ),
            ))
        }
        Err(other) => return Err(store_error(other)),
    }
    Ok(ImportResponse {
        unique_identifier: uid,
    })
}

pub fn export(
    ctx: &RequestContext<'_>,
    request: ExportRequest,
) -> Result<ExportResponse, KmipError> {
    let uid = target(&request.unique_identifier)?;
    let stored = load(ctx, uid)?;
    let object = render(
        ctx,
        &stored,
        request.key_format_type,
        request.key_wrap_type,
        request.key_compression_type,
        request.key_wrapping_specification.as_ref(),
    )?;
    let attributes: Attributes = stored.attributes.iter().cloned().collect();
    Ok(ExportResponse {
        object_type: object.object_type(),
        unique_identifier: stored.uid,
        attributes,
        object: ObjectField(Some(object)),
    })
}
