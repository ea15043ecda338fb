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
                refuse_negative_components(block)?;
                let spec = private_key_of(ctx.version, block)?.spec();
                fill_algorithm(block, spec);
            }
        }
        ManagedObject::PublicKey(block) => {
            let unwrapped = super::wrapping::unwrap_block(ctx, block)?;
            if unwrapped == Unwrapped::Clear {
                refuse_negative_components(block)?;
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

/// KMIP Big Integers are two's complement (1.4 §9.1.1.4): a key component whose top bit is set needs a
/// leading zero byte. One sent without it is negative, and reading it as unsigned would be a guess: sign
/// extension to a multiple of eight bytes has already added 0xFF bytes that no reader can tell from the
/// value's own (found through a PKCS#11 import whose components were 127 or 255 bytes long).
fn refuse_negative_components(block: &kmip::objects::KeyBlock) -> Result<(), KmipError> {
    use kmip::objects::KeyMaterial;
    let Some(value) = &block.key_value else {
        return Ok(());
    };
    let components: Vec<(&str, &[u8])> = match &value.material {
        KeyMaterial::TransparentRsaPrivateKey(parts) => [
            ("Modulus", Some(&parts.modulus[..])),
            (
                "Private Exponent",
                parts.private_exponent.as_deref().map(|v| &v[..]),
            ),
            ("Public Exponent", parts.public_exponent.as_deref()),
            ("P", parts.p.as_deref().map(|v| &v[..])),
            ("Q", parts.q.as_deref().map(|v| &v[..])),
            (
                "Prime Exponent P",
                parts.prime_exponent_p.as_deref().map(|v| &v[..]),
            ),
            (
                "Prime Exponent Q",
                parts.prime_exponent_q.as_deref().map(|v| &v[..]),
            ),
            (
                "CRT Coefficient",
                parts.crt_coefficient.as_deref().map(|v| &v[..]),
            ),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect(),
        KeyMaterial::TransparentRsaPublicKey {
            modulus,
            public_exponent,
        } => vec![("Modulus", modulus), ("Public Exponent", public_exponent)],
        KeyMaterial::TransparentEcPrivateKey { d, .. } => vec![("D", &d[..])],
        _ => Vec::new(),
    };
    match components
        .iter()
        .find(|(_, value)| value.first().is_some_and(|b| b & 0x80 != 0))
    {
        Some((name, _)) => Err(KmipError::invalid_field(format!(
            "the key's {name} is a negative Big Integer: key components are positive (a Big Integer is \
             two's complement, so a value whose top bit is set needs a leading zero byte)"
        ))),
        None => Ok(()),
    }
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
