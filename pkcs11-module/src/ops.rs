//! Object operations over KMIP: find (Locate), read (Get Attributes, Get), create (Create, Register),
//! change (Modify/Add Attribute) and destroy (Revoke + Destroy).

use std::sync::Arc;

use cryptoki_sys::*;
use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask as Usage, RevocationReason};
use kmip::enums::{
    CertificateType, CryptographicAlgorithm, KeyFormatType, ObjectType, OpaqueDataType,
    RevocationReasonCode, State,
};
use kmip::objects::{Certificate, KeyBlock, KeyMaterial, ManagedObject, OpaqueObject};
use kmip::payloads::*;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::library::Library;
use crate::mapping;
use crate::objects::{Answer, Entry, ObjectView};
use crate::template::Template;

/// Opaque Data Type of CKO_DATA objects (the KMIP extension range).
pub const PKCS11_DATA: OpaqueDataType = OpaqueDataType(0x8000_0011);

/// The object behind `entry`, from the cache or the server.
pub fn view(library: &Library, entry: &Entry) -> Result<Arc<ObjectView>> {
    if let Some(view) = entry.cached() {
        return Ok(view);
    }
    let request = GetAttributesRequest {
        unique_identifier: Some(entry.uid.clone()),
        attribute_names: AttributeNames::default(),
    };
    let attributes = match library.tokens[entry.token].link()?.call(request)? {
        ResponsePayload::GetAttributes(response) => response.attributes.0,
        other => return Err(unexpected(other)),
    };
    let view = Arc::new(ObjectView::new(attributes).ok_or(Pkcs11Error::rv(
        CKR_OBJECT_HANDLE_INVALID,
        "the object is of a type PKCS#11 does not present",
    ))?);
    entry.cache(view.clone());
    Ok(view)
}

/// The object's value bytes (KMIP Get): certificate DER, data bytes, raw key bytes.
pub fn fetch_value(library: &Library, entry: &Entry) -> Result<Zeroizing<Vec<u8>>> {
    let public = view(library, entry)?.class == CKO_PUBLIC_KEY;
    let request = GetRequest {
        unique_identifier: Some(entry.uid.clone()),
        // Public keys are read as a SubjectPublicKeyInfo, whatever format they are stored in.
        key_format_type: public.then_some(KeyFormatType::X509),
        ..Default::default()
    };
    let object = match library.tokens[entry.token].link()?.call(request)? {
        ResponsePayload::Get(response) => response.object.0,
        other => return Err(unexpected(other)),
    };
    let bytes = match object {
        Some(ManagedObject::Certificate(c)) => c.certificate_value,
        Some(ManagedObject::OpaqueObject(o)) => o.opaque_data_value.to_vec(),
        Some(ManagedObject::SymmetricKey(block))
        | Some(ManagedObject::PublicKey(block))
        | Some(ManagedObject::SecretData(kmip::objects::SecretData {
            key_block: block, ..
        })) => match block.key_value.map(|v| v.material) {
            Some(KeyMaterial::Bytes(bytes)) => bytes.to_vec(),
            Some(KeyMaterial::TransparentSymmetricKey { key }) => key.to_vec(),
            _ => {
                return fail(
                    CKR_ATTRIBUTE_SENSITIVE,
                    "the server returned no plain key value",
                )
            }
        },
        _ => {
            return Err(Pkcs11Error::Unexpected(
                "Get returned no usable object".into(),
            ))
        }
    };
    Ok(Zeroizing::new(bytes))
}

/// One attribute of one object.
pub fn attribute(library: &Library, entry: &Entry, kind: CK_ATTRIBUTE_TYPE) -> Result<Answer> {
    let view = view(library, entry)?;
    view.answer(kind, &|| fetch_value(library, entry))
}

/// C_FindObjectsInit: the handles of the token's objects matching `template`. Class, label and id are sent
/// to Locate; every other attribute is matched here against the cached objects.
pub fn find(library: &Library, token: usize, template: &Template) -> Result<Vec<CK_OBJECT_HANDLE>> {
    let t = &library.tokens[token];
    if t.has_pin() && !t.logged_in() {
        // The identity is locked: nothing on the server is reachable, so nothing is visible.
        return Ok(Vec::new());
    }
    let mut filters = Attributes::new();
    let object_types: Vec<ObjectType> = match template.ulong(CKA_CLASS)? {
        Some(class) => mapping::object_types_of(class).to_vec(),
        None => Vec::new(),
    };
    if template.ulong(CKA_CLASS)?.is_some() && object_types.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(label) = template.text(CKA_LABEL)? {
        filters.push(mapping::name_attribute(&label));
    }
    if let Some(id) = template.get(CKA_ID) {
        filters.push(mapping::id_attribute(id));
    }
    let mut uids = Vec::new();
    let passes: Vec<Option<ObjectType>> = if object_types.is_empty() {
        vec![None]
    } else {
        object_types.into_iter().map(Some).collect()
    };
    for object_type in passes {
        let mut attributes = filters.clone();
        if let Some(object_type) = object_type {
            attributes.push(Attribute::ObjectType(object_type));
        }
        let request = LocateRequest {
            attributes: PayloadAttributes(attributes),
            ..Default::default()
        };
        match t.link()?.call(request)? {
            ResponsePayload::Locate(response) => uids.extend(response.unique_identifiers),
            other => return Err(unexpected(other)),
        }
    }
    let mut handles = Vec::new();
    for uid in uids {
        let handle = library.objects.handle_for(token, &uid)?;
        let entry = library.objects.get(handle)?;
        let Ok(view) = view(library, &entry) else {
            continue; // an object type PKCS#11 does not present, or one destroyed meanwhile
        };
        if matches_template(library, &entry, &view, template)? {
            handles.push(handle);
        }
    }
    Ok(handles)
}

fn matches_template(
    library: &Library,
    entry: &Entry,
    view: &ObjectView,
    template: &Template,
) -> Result<bool> {
    for (kind, wanted) in &template.0 {
        let answer = view.answer(*kind, &|| fetch_value(library, entry))?;
        if answer != Answer::Value(wanted.clone()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Label, id and the attributes every object template may carry.
pub(crate) fn common_attributes(template: &Template, out: &mut Attributes) -> Result<()> {
    template.require_token_object()?;
    if let Some(label) = template.text(CKA_LABEL)? {
        out.push(mapping::name_attribute(&label));
    }
    if let Some(id) = template.get(CKA_ID) {
        out.push(mapping::id_attribute(id));
    }
    for kind in [CKA_MODIFIABLE, CKA_DESTROYABLE] {
        if template.bool(kind)? == Some(false) {
            return fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "objects here are always modifiable and destroyable",
            );
        }
    }
    Ok(())
}

/// Sensitive / Extractable / CKA_PRIVATE and the usage mask of a new secret or private key.
pub(crate) fn key_attributes(
    template: &Template,
    default_usage: Usage,
    out: &mut Attributes,
) -> Result<()> {
    if let Some(private) = template.bool(CKA_PRIVATE)? {
        out.push(mapping::private_attribute(private));
    }
    let sensitive = template.bool(CKA_SENSITIVE)?.unwrap_or(true);
    let extractable = template.bool(CKA_EXTRACTABLE)?.unwrap_or(false);
    out.push(Attribute::Sensitive(sensitive));
    out.push(Attribute::Extractable(extractable));
    out.push(Attribute::CryptographicUsageMask(usage_mask(
        template,
        default_usage,
    )?));
    Ok(())
}

/// The usage mask the template's CKA_ENCRYPT/CKA_SIGN/... flags ask for, `default_usage` when none is given.
pub(crate) fn usage_mask(template: &Template, default_usage: Usage) -> Result<Usage> {
    let mut usage = Usage::empty();
    let mut any = false;
    for (kind, bit) in mapping::USAGE_FLAGS {
        match template.bool(*kind)? {
            Some(true) => {
                usage |= *bit;
                any = true;
            }
            Some(false) => any = true,
            None => {}
        }
    }
    Ok(if any { usage } else { default_usage })
}

const KEY_TEMPLATE: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_CLASS,
    CKA_KEY_TYPE,
    CKA_VALUE_LEN,
    CKA_LABEL,
    CKA_ID,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_SENSITIVE,
    CKA_EXTRACTABLE,
    CKA_ENCRYPT,
    CKA_DECRYPT,
    CKA_SIGN,
    CKA_VERIFY,
    CKA_WRAP,
    CKA_UNWRAP,
    CKA_DERIVE,
    CKA_MODIFIABLE,
    CKA_DESTROYABLE,
];

const AES_DEFAULT_USAGE: Usage =
    Usage(Usage::ENCRYPT.0 | Usage::DECRYPT.0 | Usage::WRAP_KEY.0 | Usage::UNWRAP_KEY.0);

/// C_GenerateKey with CKM_AES_KEY_GEN: a KMIP Create, then Activate so the key is usable at once.
pub fn generate_aes_key(
    library: &Library,
    token: usize,
    template: &Template,
) -> Result<CK_OBJECT_HANDLE> {
    template.only(KEY_TEMPLATE)?;
    if template
        .ulong(CKA_CLASS)?
        .is_some_and(|c| c != CKO_SECRET_KEY)
    {
        return fail(
            CKR_TEMPLATE_INCONSISTENT,
            "CKM_AES_KEY_GEN makes secret keys",
        );
    }
    if template.ulong(CKA_KEY_TYPE)?.is_some_and(|k| k != CKK_AES) {
        return fail(CKR_TEMPLATE_INCONSISTENT, "CKM_AES_KEY_GEN makes AES keys");
    }
    let length = match template.ulong(CKA_VALUE_LEN)? {
        Some(len @ (16 | 24 | 32)) => len as i32,
        Some(_) => {
            return fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "AES keys are 16, 24 or 32 bytes",
            )
        }
        None => {
            return fail(
                CKR_TEMPLATE_INCOMPLETE,
                "CKM_AES_KEY_GEN needs CKA_VALUE_LEN",
            )
        }
    };
    let mut attributes = Attributes::new();
    attributes.push(Attribute::CryptographicAlgorithm(
        CryptographicAlgorithm::Aes,
    ));
    attributes.push(Attribute::CryptographicLength(length * 8));
    common_attributes(template, &mut attributes)?;
    key_attributes(template, AES_DEFAULT_USAGE, &mut attributes)?;
    let request = CreateRequest {
        object_type: ObjectType::SymmetricKey,
        attributes,
        protection_storage_masks: None,
    };
    let uid = match library.tokens[token].link()?.call(request)? {
        ResponsePayload::Create(response) => response.unique_identifier,
        other => return Err(unexpected(other)),
    };
    activate(library, token, &uid)?;
    library.objects.handle_for(token, &uid)
}

pub(crate) fn activate(library: &Library, token: usize, uid: &str) -> Result<()> {
    let request = ActivateRequest {
        unique_identifier: Some(uid.to_owned()),
    };
    match library.tokens[token].link()?.call(request)? {
        ResponsePayload::Activate(_) => Ok(()),
        other => Err(unexpected(other)),
    }
}

/// C_CreateObject: certificates, data objects and AES keys, by KMIP Register.
pub fn create_object(
    library: &Library,
    token: usize,
    template: &Template,
) -> Result<CK_OBJECT_HANDLE> {
    let class = template.ulong(CKA_CLASS)?.ok_or(Pkcs11Error::rv(
        CKR_TEMPLATE_INCOMPLETE,
        "CKA_CLASS is required",
    ))?;
    let value = template
        .get(CKA_VALUE)
        .ok_or(Pkcs11Error::rv(
            CKR_TEMPLATE_INCOMPLETE,
            "CKA_VALUE is required",
        ))?
        .to_vec();
    let mut attributes = Attributes::new();
    let (object_type, object, activate_after) = match class {
        CKO_CERTIFICATE => {
            template.only(&[
                CKA_CLASS,
                CKA_CERTIFICATE_TYPE,
                CKA_VALUE,
                CKA_LABEL,
                CKA_ID,
                CKA_TOKEN,
                CKA_PRIVATE,
                CKA_SUBJECT,
                CKA_ISSUER,
                CKA_SERIAL_NUMBER,
                CKA_TRUSTED,
                CKA_CERTIFICATE_CATEGORY,
                CKA_MODIFIABLE,
                CKA_DESTROYABLE,
            ])?;
            if template
                .ulong(CKA_CERTIFICATE_TYPE)?
                .is_some_and(|t| t != CKC_X_509)
            {
                return fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "only X.509 certificates are supported",
                );
            }
            if template.bool(CKA_PRIVATE)? == Some(true)
                || template.bool(CKA_TRUSTED)? == Some(true)
            {
                return fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "certificates here are public and untrusted",
                );
            }
            // The value must be a certificate; subject, issuer and serial, when given, must be its own.
            for kind in [CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER] {
                let own = crate::objects::certificate_field(&value, kind)?;
                if template
                    .get(kind)
                    .is_some_and(|given| given != own.as_slice())
                {
                    return fail(
                        CKR_TEMPLATE_INCONSISTENT,
                        "a certificate field differs from CKA_VALUE",
                    );
                }
            }
            let object = ManagedObject::Certificate(Certificate {
                certificate_type: CertificateType::X509,
                certificate_value: value,
            });
            (ObjectType::Certificate, object, false)
        }
        CKO_DATA => {
            template.only(&[
                CKA_CLASS,
                CKA_VALUE,
                CKA_LABEL,
                CKA_TOKEN,
                CKA_PRIVATE,
                CKA_APPLICATION,
                CKA_OBJECT_ID,
                CKA_MODIFIABLE,
                CKA_DESTROYABLE,
            ])?;
            if template.bool(CKA_PRIVATE)? == Some(true) {
                return fail(CKR_ATTRIBUTE_VALUE_INVALID, "data objects here are public");
            }
            if template.get(CKA_APPLICATION).is_some_and(|a| !a.is_empty())
                || template.get(CKA_OBJECT_ID).is_some_and(|o| !o.is_empty())
            {
                return fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "CKA_APPLICATION and CKA_OBJECT_ID are not stored",
                );
            }
            let object = ManagedObject::OpaqueObject(OpaqueObject {
                opaque_data_type: PKCS11_DATA,
                opaque_data_value: Zeroizing::new(value),
            });
            (ObjectType::OpaqueObject, object, false)
        }
        CKO_SECRET_KEY => {
            let mut allowed = KEY_TEMPLATE.to_vec();
            allowed.push(CKA_VALUE);
            template.only(&allowed)?;
            if template.ulong(CKA_KEY_TYPE)? != Some(CKK_AES) {
                return fail(
                    CKR_TEMPLATE_INCONSISTENT,
                    "imported secret keys must be CKK_AES",
                );
            }
            if !matches!(value.len(), 16 | 24 | 32) {
                return fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "AES keys are 16, 24 or 32 bytes",
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
            key_attributes(template, AES_DEFAULT_USAGE, &mut attributes)?;
            let bits = value.len() as i32 * 8;
            attributes.push(Attribute::CryptographicAlgorithm(
                CryptographicAlgorithm::Aes,
            ));
            attributes.push(Attribute::CryptographicLength(bits));
            let block = KeyBlock::new(
                KeyFormatType::Raw,
                KeyMaterial::Bytes(Zeroizing::new(value)),
                Some(CryptographicAlgorithm::Aes),
                Some(bits),
            );
            (
                ObjectType::SymmetricKey,
                ManagedObject::SymmetricKey(block),
                true,
            )
        }
        _ => {
            return fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "this module creates certificates, data and AES keys",
            )
        }
    };
    common_attributes(template, &mut attributes)?;
    let request = RegisterRequest {
        object_type,
        attributes,
        object: ObjectField(Some(object)),
        protection_storage_masks: None,
    };
    let uid = match library.tokens[token].link()?.call(request)? {
        ResponsePayload::Register(response) => response.unique_identifier,
        other => return Err(unexpected(other)),
    };
    if activate_after {
        activate(library, token, &uid)?;
    }
    library.objects.handle_for(token, &uid)
}

/// C_DestroyObject: Revoke first when the object is Active (KMIP destroys only inactive objects), then Destroy.
pub fn destroy_object(library: &Library, handle: CK_OBJECT_HANDLE) -> Result<()> {
    let entry = library.objects.get(handle)?;
    let view = view(library, &entry)?;
    let link = library.tokens[entry.token].link()?;
    if view.attributes.state() == Some(State::Active) {
        let request = RevokeRequest {
            unique_identifier: Some(entry.uid.clone()),
            revocation_reason: RevocationReason {
                code: RevocationReasonCode::CessationOfOperation,
                message: Some("PKCS#11 C_DestroyObject".into()),
            },
            compromise_occurrence_date: None,
        };
        match link.call(request)? {
            ResponsePayload::Revoke(_) => {}
            other => return Err(unexpected(other)),
        }
    }
    let request = DestroyRequest {
        unique_identifier: Some(entry.uid.clone()),
    };
    match link.call(request)? {
        ResponsePayload::Destroy(_) => library.objects.forget(handle),
        other => Err(unexpected(other)),
    }
}

/// C_SetAttributeValue: CKA_LABEL and CKA_ID (Modify Attribute, or Add Attribute when absent).
pub fn set_attributes(
    library: &Library,
    handle: CK_OBJECT_HANDLE,
    template: &Template,
) -> Result<()> {
    let entry = library.objects.get(handle)?;
    let view = view(library, &entry)?;
    for (kind, _) in &template.0 {
        if !matches!(*kind, CKA_LABEL | CKA_ID) {
            return fail(
                CKR_ATTRIBUTE_READ_ONLY,
                "only CKA_LABEL and CKA_ID can be changed",
            );
        }
        if *kind == CKA_ID && view.class == CKO_DATA {
            return fail(CKR_ATTRIBUTE_TYPE_INVALID, "data objects have no CKA_ID");
        }
    }
    let link = library.tokens[entry.token].link()?;
    let result = (|| {
        if let Some(label) = template.text(CKA_LABEL)? {
            let current = view
                .attributes
                .iter()
                .find(|a| matches!(a, Attribute::Name(_)))
                .cloned();
            change(&link, &entry.uid, current, mapping::name_attribute(&label))?;
        }
        if let Some(id) = template.get(CKA_ID) {
            let current = mapping::id_of(&view.attributes).map(mapping::id_attribute);
            change(&link, &entry.uid, current, mapping::id_attribute(id))?;
        }
        Ok(())
    })();
    entry.invalidate();
    result
}

fn change(
    link: &crate::client::ServerLink,
    uid: &str,
    current: Option<Attribute>,
    new: Attribute,
) -> Result<()> {
    let answer = match current {
        Some(current) => link.call(ModifyAttributeRequest {
            unique_identifier: Some(uid.to_owned()),
            current_attribute: Some(current.into()),
            new_attribute: new.into(),
        })?,
        None => link.call(AddAttributeRequest {
            unique_identifier: Some(uid.to_owned()),
            new_attribute: new.into(),
        })?,
    };
    match answer {
        ResponsePayload::ModifyAttribute(_) | ResponsePayload::AddAttribute(_) => Ok(()),
        other => Err(unexpected(other)),
    }
}

pub(crate) fn unexpected(payload: ResponsePayload) -> Pkcs11Error {
    Pkcs11Error::Unexpected(format!("answer for {:?}", payload.operation()))
}
