//! The checks every client-supplied object goes through before it is stored (Register, Import): wrapped keys
//! are unwrapped, public and private keys must parse, certificates must parse and get their X.509 identifying
//! attributes (`certificate_attributes`, also given to the certificates the server issues).

use kmip::attributes::{Attribute, UnknownAttribute, X509CertificateIdentifier, X509Names};
use kmip::objects::ManagedObject;
use ttlv::{tags, Tag, Value};

use crate::crypto::certificate::{parse_certificate, DistinguishedName, NameAttribute};
use crate::error::KmipError;
use crate::managed::key_codec::{
    algorithm_and_length, crypto_error, private_key_of, public_key_of,
};
use crate::managed::wrapping::Unwrapped;
use crate::state::RequestContext;

/// Readies a client-supplied object for storage; returns the attributes the server derives from it.
pub fn prepare_object(
    ctx: &RequestContext<'_>,
    object: &mut ManagedObject,
) -> Result<Vec<Attribute>, KmipError> {
    match object {
        ManagedObject::SymmetricKey(block) => {
            super::wrapping::unwrap_block(ctx, block)?;
        }
        ManagedObject::SecretData(secret) => {
            super::wrapping::unwrap_block(ctx, &mut secret.key_block)?;
        }
        // A key kept wrapped (under a key this server does not hold) cannot be parsed: it is stored as given.
        ManagedObject::PrivateKey(block) => {
            let unwrapped = super::wrapping::unwrap_block(ctx, block)?;
            if unwrapped == Unwrapped::Clear {
                let spec = private_key_of(ctx.version, block)?.spec();
                fill_algorithm(block, spec);
            }
        }
        ManagedObject::PublicKey(block) => {
            let unwrapped = super::wrapping::unwrap_block(ctx, block)?;
            if unwrapped == Unwrapped::Clear {
                let spec = public_key_of(ctx.version, block)?.spec();
                fill_algorithm(block, spec);
            }
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
