//! Register: a client-supplied Symmetric Key, Secret Data, Opaque Object, Certificate, Public Key, Private
//! Key or Split Key, stored as given (format included) with the server's attributes added. Wrapped keys are
//! unwrapped on the way in when the server holds the wrapping key, and stored as registered (with their Key
//! Wrapping Data) when it does not; keys and certificates must parse (`import_export::prepare_object`, DSA
//! keys `dsa_keys`, X25519 public keys `x25519_keys`). A 1.x Template is registered by `template`, and named
//! Templates' attributes are applied (`template`).

use kmip::attributes::{Attributes, KnownAttribute};
use kmip::enums::ObjectType;
use kmip::objects::ManagedObject;
use kmip::payloads::{RegisterRequest, RegisterResponse};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::managed::provenance::{check_object_type, initial_attributes};
use crate::managed::{attribute_policy as policy, new_uid, store_error, versioned};
use crate::state::RequestContext;
use crate::store::StoredObject;

const REGISTRABLE: &[ObjectType] = &[
    ObjectType::SymmetricKey,
    ObjectType::SecretData,
    ObjectType::OpaqueObject,
    ObjectType::Certificate,
    ObjectType::PublicKey,
    ObjectType::PrivateKey,
    ObjectType::SplitKey,
];

pub fn register(
    ctx: &RequestContext<'_>,
    request: RegisterRequest,
) -> Result<RegisterResponse, KmipError> {
    if request.object_type == ObjectType::Template {
        return crate::managed::template::register_template(ctx, request);
    }
    if !REGISTRABLE.contains(&request.object_type) {
        return Err(versioned(
            ctx.version,
            ResultReason::InvalidObjectType,
            ResultReason::FeatureNotSupported,
            format!(
                "registering a {} is not supported",
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
    let mut object = request.object.0.ok_or_else(|| {
        KmipError::new(
            ResultReason::InvalidField,
            "Register needs the managed object to register",
        )
    })?;
    if object.object_type() != request.object_type {
        return Err(KmipError::invalid_field(format!(
            "the request says {} but carries a {}",
            request.object_type.name(),
            object.object_type().name()
        )));
    }
    let attributes: Attributes =
        crate::managed::template::apply_templates(ctx, request.attributes)?;
    check_object_type(request.object_type, &attributes)?;
    policy::check_template(
        ctx.version,
        &attributes,
        &[
            KnownAttribute::CryptographicAlgorithm,
            KnownAttribute::CryptographicLength,
            KnownAttribute::CertificateType,
            KnownAttribute::ObjectType,
            KnownAttribute::Fresh,
        ],
    )?;
    let derived = if crate::managed::dsa_keys::is_dsa(&object) {
        crate::managed::dsa_keys::prepare(ctx, &mut object)?;
        Vec::new()
    } else if crate::managed::x25519_keys::is_x25519(&object) {
        crate::managed::x25519_keys::prepare(ctx, &mut object)?;
        Vec::new()
    } else {
        crate::managed::client_objects::prepare_object(ctx, &mut object)?
    };
    reconcile_key_block(&mut object, &attributes)?;
    if let (ManagedObject::Certificate(c), Some(kmip::attributes::Attribute::CertificateType(t))) = (
        &object,
        attributes.get(&KnownAttribute::CertificateType.into()),
    ) {
        if c.certificate_type != *t {
            return Err(KmipError::invalid_field(
                "the Certificate Type attribute contradicts the certificate's type",
            ));
        }
    }
    let uid = new_uid(ctx)?;
    let mut attributes = initial_attributes(&uid, &object, attributes, ctx.now);
    attributes.extend(derived);
    let stored = StoredObject {
        uid: uid.clone(),
        owner: ctx.caller.tenant.clone(),
        attributes,
        object: Some(object),
        internal: false,
    };
    ctx.state.store.insert(&stored).map_err(store_error)?;
    Ok(RegisterResponse {
        unique_identifier: uid,
        attributes: None,
    })
}

/// The Cryptographic Algorithm / Length of the template and of the Key Block must agree; where only the
/// template has them, the Key Block takes them.
fn reconcile_key_block(
    object: &mut ManagedObject,
    attributes: &Attributes,
) -> Result<(), KmipError> {
    let block = match object {
        ManagedObject::SymmetricKey(b)
        | ManagedObject::PublicKey(b)
        | ManagedObject::PrivateKey(b) => b,
        ManagedObject::SecretData(s) => &mut s.key_block,
        ManagedObject::SplitKey(s) => &mut s.key_block,
        _ => return Ok(()),
    };
    if let Some(algorithm) = attributes.cryptographic_algorithm() {
        match block.cryptographic_algorithm {
            Some(own) if own != algorithm => {
                return Err(KmipError::invalid_field(format!(
                    "Cryptographic Algorithm {} contradicts the Key Block's {}",
                    algorithm.name(),
                    own.name()
                )))
            }
            _ => block.cryptographic_algorithm = Some(algorithm),
        }
    }
    if let Some(length) = attributes.cryptographic_length() {
        match block.cryptographic_length {
            Some(own) if own != length => {
                return Err(KmipError::invalid_field(format!(
                    "Cryptographic Length {length} contradicts the Key Block's {own}"
                )))
            }
            _ => block.cryptographic_length = Some(length),
        }
    }
    // A key kept wrapped (under a key this server does not hold) has wrapped bytes, not the key, to measure.
    let clear = block.key_wrapping_data.is_none();
    if let (Some(value), Some(length), true) = (&block.key_value, block.cryptographic_length, clear)
    {
        let bytes = match &value.material {
            kmip::objects::KeyMaterial::Bytes(b) => Some(b.len()),
            kmip::objects::KeyMaterial::TransparentSymmetricKey { key } => Some(key.len()),
            _ => None,
        };
        let symmetric = matches!(object_kind(block.cryptographic_algorithm), Some(true));
        if let Some(bytes) = bytes.filter(|_| symmetric) {
            let expected = usize::try_from(length).unwrap_or(0).div_ceil(8);
            let des3 = block.cryptographic_algorithm
                == Some(kmip::enums::CryptographicAlgorithm::TripleDes);
            if bytes != expected && !(des3 && bytes == 24) {
                return Err(KmipError::invalid_field(format!(
                    "Cryptographic Length {length} does not match the {bytes}-byte key material"
                )));
            }
        }
    }
    Ok(())
}

/// Whether the algorithm is a symmetric cipher whose key length equals its Cryptographic Length.
fn object_kind(algorithm: Option<kmip::enums::CryptographicAlgorithm>) -> Option<bool> {
    use kmip::enums::CryptographicAlgorithm as A;
    algorithm.map(|a| matches!(a, A::Aes | A::TripleDes | A::Des))
}
