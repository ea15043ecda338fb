//! C_CreateObject by KMIP Register: certificates and data objects here, keys in [`crate::import_key`].

use cryptoki_sys::*;
use der::Decode;
use kmip::attributes::Attributes;
use kmip::enums::{CertificateType, ObjectType};
use kmip::objects::{Certificate, ManagedObject, OpaqueObject};
use kmip::payloads::*;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::keygen::common_attributes;
use crate::library::Library;
use crate::ops::{activate, discard, unexpected, PKCS11_DATA};
use crate::template::Template;
use crate::{import_key, mapping};

/// C_CreateObject. The class decides what the template must hold, so it is read first: a template for a class
/// this module stores gets the reason its own rules give (a missing CKA_VALUE only where the class needs one).
pub fn create_object(
    library: &Library,
    token: usize,
    template: &Template,
) -> Result<CK_OBJECT_HANDLE> {
    let class = template.ulong(CKA_CLASS)?.ok_or(Pkcs11Error::rv(
        CKR_TEMPLATE_INCOMPLETE,
        "CKA_CLASS is required",
    ))?;
    let imported = match class {
        CKO_CERTIFICATE => certificate(template)?,
        CKO_DATA => data_object(template)?,
        CKO_SECRET_KEY => import_key::secret_key(template)?,
        CKO_PUBLIC_KEY => import_key::public_key(template)?,
        CKO_PRIVATE_KEY => import_key::private_key(template)?,
        _ => {
            return fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "this module creates certificates, data objects, secret keys, public keys and RSA private keys",
            )
        }
    };
    let mut imported = imported;
    let session_object =
        crate::keygen::add_session_lease(library, token, template, &mut imported.attributes)?;
    register(library, token, imported, session_object)
}

/// What C_CreateObject registers: the object, its attributes (the template's common ones included) and
/// whether it is activated at once (keys are; certificates and data have no lifecycle to start).
pub(crate) struct Import {
    pub object_type: ObjectType,
    pub object: ManagedObject,
    pub attributes: Attributes,
    pub activate: bool,
}

/// The template's CKA_VALUE, required.
pub(crate) fn value(template: &Template, what: &'static str) -> Result<Zeroizing<Vec<u8>>> {
    template
        .get(CKA_VALUE)
        .map(|v| Zeroizing::new(v.to_vec()))
        .ok_or(Pkcs11Error::rv(CKR_TEMPLATE_INCOMPLETE, what))
}

/// CKO_CERTIFICATE: an X.509 certificate (CKA_VALUE, DER). CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER,
/// when given, must be the certificate's own; the serial number may come DER-encoded (the standard) or as the
/// bare integer bytes (Java's SunPKCS11 after `keytool -genkeypair`).
fn certificate(template: &Template) -> Result<Import> {
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
    if template.bool(CKA_PRIVATE)? == Some(true) || template.bool(CKA_TRUSTED)? == Some(true) {
        return fail(
            CKR_ATTRIBUTE_VALUE_INVALID,
            "certificates here are public and untrusted",
        );
    }
    let value = value(template, "a certificate needs CKA_VALUE")?;
    for kind in [CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER] {
        let own = crate::objects::certificate_field(&value, kind)?;
        let Some(given) = template.get(kind) else {
            continue;
        };
        let same =
            given == own.as_slice() || (kind == CKA_SERIAL_NUMBER && same_integer(given, &own));
        if !same {
            return fail(
                CKR_TEMPLATE_INCONSISTENT,
                "a certificate field differs from CKA_VALUE",
            );
        }
    }
    let mut attributes = Attributes::new();
    common_attributes(template, &mut attributes)?;
    Ok(Import {
        object_type: ObjectType::Certificate,
        object: ManagedObject::Certificate(Certificate {
            certificate_type: CertificateType::X509,
            certificate_value: value.to_vec(),
        }),
        attributes,
        activate: false,
    })
}

/// Whether `given` is the content octets of the DER INTEGER `der_integer` (a serial number without its tag and
/// length), leading zero bytes aside.
fn same_integer(given: &[u8], der_integer: &[u8]) -> bool {
    let Ok(integer) = der::asn1::Int::from_der(der_integer) else {
        return false;
    };
    fn trimmed(bytes: &[u8]) -> &[u8] {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        &bytes[start..]
    }
    !given.is_empty() && trimmed(given) == trimmed(integer.as_bytes())
}

/// CKO_DATA: CKA_VALUE (default empty), CKA_APPLICATION (a description of the application that manages the
/// object) and CKA_OBJECT_ID (an OID naming the data's type, kept as given: see [`mapping::object_id_attribute`]),
/// stored as an Opaque Object with the latter two as vendor attributes, so that C_FindObjects can match them.
fn data_object(template: &Template) -> Result<Import> {
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
    let mut attributes = Attributes::new();
    common_attributes(template, &mut attributes)?;
    if let Some(application) = template.get(CKA_APPLICATION).filter(|a| !a.is_empty()) {
        attributes.push(mapping::application_attribute(application));
    }
    if let Some(oid) = template.get(CKA_OBJECT_ID).filter(|o| !o.is_empty()) {
        attributes.push(mapping::object_id_attribute(oid));
    }
    let value = template.get(CKA_VALUE).unwrap_or_default().to_vec();
    Ok(Import {
        object_type: ObjectType::OpaqueObject,
        object: ManagedObject::OpaqueObject(OpaqueObject {
            opaque_data_type: PKCS11_DATA,
            opaque_data_value: Zeroizing::new(value),
        }),
        attributes,
        activate: false,
    })
}

/// Registers the object (activated when it is a key) and returns its handle. An object registered but not
/// activated is destroyed again, so a failed C_CreateObject leaves nothing behind.
fn register(
    library: &Library,
    token: usize,
    imported: Import,
    session_object: bool,
) -> Result<CK_OBJECT_HANDLE> {
    let request = RegisterRequest {
        object_type: imported.object_type,
        attributes: imported.attributes,
        object: ObjectField(Some(imported.object)),
        protection_storage_masks: None,
    };
    let uid = match library.tokens[token].create_call(request, session_object)? {
        ResponsePayload::Register(response) => response.unique_identifier,
        other => return Err(unexpected(other)),
    };
    if imported.activate {
        if let Err(error) = activate(library, token, &uid) {
            discard(library, token, &uid);
            return Err(error);
        }
    }
    library.objects.handle_for(token, &uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serial_number_matches_as_der_or_as_bare_integer_bytes() {
        // DER INTEGER 0x80112233 (a leading zero keeps it positive).
        let der_serial = [0x02, 0x05, 0x00, 0x80, 0x11, 0x22, 0x33];
        assert!(same_integer(&der_serial[2..], &der_serial));
        assert!(same_integer(&der_serial[3..], &der_serial));
        assert!(!same_integer(&[0x80, 0x11, 0x22, 0x34], &der_serial));
        assert!(!same_integer(&[], &der_serial));
        assert!(!same_integer(&der_serial[3..], b"not DER"));
    }
}
