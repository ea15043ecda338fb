//! Certify and Re-Certify: X.509 v3 certificates for a PKCS#10 request (DER or PEM, signature checked) or for a
//! managed public key, signed by the server's issuing CA ([`issuing_ca`]) or by a private key the tenant owns
//! ([`issuer`]).
//!
//! Links (what Get shows): an issued certificate has a Certificate Link to its issuer's certificate and a Public
//! Key Link to its public key when that key is managed; the public key has a Certificate Link back. A Cryptographic
//! Usage Mask in the template sets the key usage; with Certificate Sign it makes a CA certificate (path length
//! 0), which only the server's issuing CA issues. Alternative Names, extended key usages and the validity period
//! come from the template too ([`template_profile`]); a CSR's own extensions take precedence.

mod recertify;

use crate::managed::certificates::template_profile;
pub use recertify::recertify;

use der::Decode;
use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask, KnownAttribute, Link};
use kmip::enums::{CertificateType, LinkType, ObjectType};
use kmip::objects::{Certificate, ManagedObject};
use kmip::payloads::{CertifyRequest, CertifyResponse};
use kmip::ResultReason;
use time::{Duration, OffsetDateTime};

use crate::crypto::certificate::{
    issue_certificate, parse_and_verify_csr, parse_certificate, BasicConstraints,
    CertificateProfile, DistinguishedName, Issuer, KeyUsage, NameAttribute,
};
use crate::crypto::{CryptoError, PublicKey};
use crate::error::KmipError;
use crate::managed::certificates::issuer::SigningAuthority;
use crate::managed::client_objects::certificate_attributes;
use crate::managed::key_codec::{crypto_error, public_key_of};
use crate::managed::provenance::initial_attributes;
use crate::managed::{attribute_policy as policy, load, new_uid, save, store_error, versioned};
use crate::state::RequestContext;
use crate::store::StoredObject;

/// Certificate Request Type values.
const REQUEST_PKCS10: u32 = 2;
const REQUEST_PEM: u32 = 3;
/// Lifetime of issued certificates.
const CERTIFICATE_DAYS: i64 = 365;
/// Back-dating of `notBefore`, for relying parties whose clocks run a little slow.
const CLOCK_SKEW_MINUTES: i64 = 5;

fn timestamp(seconds: i64) -> Result<OffsetDateTime, KmipError> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|e| KmipError::general(format!("clock out of range: {e}")))
}

/// A DER PKCS#10 request from a request's value and type.
fn csr_der(
    ctx: &RequestContext<'_>,
    request_type: Option<u32>,
    value: &[u8],
) -> Result<Vec<u8>, KmipError> {
    match request_type {
        Some(REQUEST_PKCS10) | None => Ok(value.to_vec()),
        Some(REQUEST_PEM) => match rustls_pemfile::read_one(&mut &value[..]) {
            Ok(Some(rustls_pemfile::Item::Csr(der))) => Ok(der.as_ref().to_vec()),
            _ => Err(invalid_csr(
                ctx,
                "the PEM request holds no CERTIFICATE REQUEST".into(),
            )),
        },
        Some(other) => Err(versioned(
            ctx.version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::FeatureNotSupported,
            format!("Certificate Request Type {other} is not supported (PKCS#10 and PEM are)"),
        )),
    }
}

fn invalid_csr(ctx: &RequestContext<'_>, message: String) -> KmipError {
    versioned(
        ctx.version,
        ResultReason::InvalidCsr,
        ResultReason::InvalidField,
        message,
    )
}

/// A CSR parse or signature failure as Invalid CSR; other failures as crypto errors.
fn csr_error(ctx: &RequestContext<'_>, error: CryptoError) -> KmipError {
    match error {
        CryptoError::Malformed { .. } | CryptoError::CsrSignatureInvalid => {
            invalid_csr(ctx, error.to_string())
        }
        other => crypto_error(ctx.version, other),
    }
}

/// Takes the subject a template asks for out of it: an X.509 Certificate Subject (DER), else CN = the first
/// Name. `None` when the template names no subject.
fn take_template_subject(
    attributes: &mut Attributes,
) -> Result<Option<DistinguishedName>, KmipError> {
    let given = attributes.remove(&KnownAttribute::X509CertificateSubject.into(), None);
    if let Some(Attribute::X509CertificateSubject(names)) = given.first() {
        let name = x509_cert::name::Name::from_der(&names.distinguished_name).map_err(|e| {
            KmipError::invalid_field(format!("X.509 Certificate Subject is not a DER Name: {e}"))
        })?;
        return DistinguishedName::from_x509(&name)
            .map(Some)
            .map_err(|e| KmipError::invalid_field(e.to_string()));
    }
    Ok(attributes
        .names()
        .next()
        .map(|n| DistinguishedName::new().with(NameAttribute::CommonName, n.value.clone())))
}

/// X.509 key usage for a KMIP Cryptographic Usage Mask.
fn key_usage_for(mask: CryptographicUsageMask) -> Vec<KeyUsage> {
    use CryptographicUsageMask as M;
    let any = |bits: &[M]| bits.iter().any(|b| mask.contains(*b));
    let mut usage = Vec::new();
    let mapping: [(&[M], KeyUsage); 7] = [
        (&[M::SIGN, M::VERIFY], KeyUsage::DigitalSignature),
        (&[M::CONTENT_COMMITMENT], KeyUsage::ContentCommitment),
        (&[M::WRAP_KEY, M::UNWRAP_KEY], KeyUsage::KeyEncipherment),
        (&[M::ENCRYPT, M::DECRYPT], KeyUsage::DataEncipherment),
        (&[M::KEY_AGREEMENT], KeyUsage::KeyAgreement),
        (&[M::CERTIFICATE_SIGN], KeyUsage::KeyCertSign),
        (&[M::CRL_SIGN], KeyUsage::CrlSign),
    ];
    for (bits, key_usage) in mapping {
        if any(bits) {
            usage.push(key_usage);
        }
    }
    usage
}

/// Whether the template asks for a CA certificate (Certificate Sign usage); refused unless the server's
/// issuing CA signs (its path length allows one level of tenant CAs, and no more).
fn wants_ca(template: &Attributes, authority: &SigningAuthority) -> Result<bool, KmipError> {
    let ca = template
        .cryptographic_usage_mask()
        .is_some_and(|m| m.contains(CryptographicUsageMask::CERTIFICATE_SIGN));
    if ca && !authority.is_server_ca {
        return Err(KmipError::invalid_field(
            "a CA certificate (Certificate Sign usage) is issued only by the server's issuing CA",
        ));
    }
    Ok(ca)
}

fn end_entity_or_ca(ca: bool) -> BasicConstraints {
    if ca {
        BasicConstraints::Ca { path_len: Some(0) }
    } else {
        BasicConstraints::EndEntity
    }
}

pub fn certify(
    ctx: &RequestContext<'_>,
    request: CertifyRequest,
) -> Result<CertifyResponse, KmipError> {
    if request.protection_storage_masks.is_some() {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "Protection Storage Masks are not supported",
        ));
    }
    let mut template = request.attributes.clone().unwrap_or_default();
    // The subject and the issuer are inputs here, although only the server sets them on stored certificates.
    let template_subject = take_template_subject(&mut template)?;
    let links = crate::managed::certificates::issuer::take_issuer_links(&mut template)?;
    policy::check_template(ctx.version, &template, &[KnownAttribute::ObjectType])?;
    let authority = crate::managed::certificates::issuer::resolve(ctx, &links)?;
    let ca = wants_ca(&template, &authority)?;
    let mask_usage = template
        .cryptographic_usage_mask()
        .map(key_usage_for)
        .unwrap_or_default();
    let now = timestamp(ctx.now)?;
    let (not_before, not_after) = template_profile::validity(
        &template,
        now - Duration::minutes(CLOCK_SKEW_MINUTES),
        now + Duration::days(CERTIFICATE_DAYS),
    )?;
    let mut profile = CertificateProfile {
        subject: template_subject.clone().unwrap_or_default(),
        not_before,
        not_after,
        key_usage: mask_usage,
        extended_key_usage: template_profile::extended_key_usages(&template)?,
        subject_alt_names: template_profile::subject_alt_names(&template)?,
        basic_constraints: end_entity_or_ca(ca),
    };
    let (subject_key, public) = match (
        &request.certificate_request_value,
        &request.unique_identifier,
    ) {
        (Some(value), uid) => {
            let csr = csr_der(ctx, request.certificate_request_type.map(|t| t.0), value)?;
            let csr = parse_and_verify_csr(&csr).map_err(|e| csr_error(ctx, e))?;
            // The request's own values take precedence over the template's (KMIP Certify).
            if !csr.subject.is_empty() {
                profile.subject = csr.subject;
            }
            if !csr.key_usage.is_empty() {
                profile.key_usage = csr.key_usage;
            }
            if !csr.subject_alt_names.is_empty() {
                profile.subject_alt_names = csr.subject_alt_names;
            }
            if !csr.extended_key_usage.is_empty() {
                profile.extended_key_usage = csr.extended_key_usage;
            }
            let public = match uid {
                Some(uid) => Some(managed_public_key(ctx, uid, Some(&csr.public_key))?),
                None => None,
            };
            (csr.public_key, public)
        }
        (None, Some(uid)) => {
            let public = managed_public_key(ctx, uid, None)?;
            let Some(ManagedObject::PublicKey(block)) = &public.object else {
                return Err(KmipError::general(format!("{uid} lost its key material")));
            };
            let key = public_key_of(ctx.version, block)?;
            if profile.subject.is_empty() {
                profile.subject =
                    DistinguishedName::new().with(NameAttribute::CommonName, uid.clone());
            }
            if profile.key_usage.is_empty() {
                profile.key_usage = match key {
                    PublicKey::Rsa(_) => {
                        vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]
                    }
                    _ => vec![KeyUsage::DigitalSignature],
                };
            }
            (key, Some(public))
        }
        (None, None) => {
            return Err(KmipError::new(
                ResultReason::MissingData,
                "Certify needs a Certificate Request or the Unique Identifier of a public key",
            ))
        }
    };
    if ca && !profile.key_usage.contains(&KeyUsage::KeyCertSign) {
        profile.key_usage.push(KeyUsage::KeyCertSign);
    }
    let der = sign(ctx, &subject_key, &profile, &authority)?;
    let uid = store_certificate(ctx, der, template, &authority, public, Vec::new())?;
    Ok(CertifyResponse {
        unique_identifier: uid,
        attributes: None,
    })
}

/// The managed public key `uid` (the tenant's, a Public Key), equal to `expected` when one is given.
fn managed_public_key(
    ctx: &RequestContext<'_>,
    uid: &str,
    expected: Option<&PublicKey>,
) -> Result<StoredObject, KmipError> {
    let public = load(ctx, uid)?;
    let Some(ManagedObject::PublicKey(block)) = &public.object else {
        return Err(versioned(
            ctx.version,
            ResultReason::InvalidObjectType,
            ResultReason::InvalidField,
            format!(
                "Certify needs a public key or a certificate request; {uid} is not a public key"
            ),
        ));
    };
    if let Some(expected) = expected {
        if public_key_of(ctx.version, block)? != *expected {
            return Err(invalid_csr(
                ctx,
                format!("the certificate request's public key is not public key {uid}"),
            ));
        }
    }
    Ok(public)
}

/// Issues the certificate for `subject_key` under `authority`.
fn sign(
    ctx: &RequestContext<'_>,
    subject_key: &PublicKey,
    profile: &CertificateProfile,
    authority: &SigningAuthority,
) -> Result<Vec<u8>, KmipError> {
    let issuer = Issuer {
        certificate_der: &authority.certificate_der,
        private_key: &authority.key,
    };
    issue_certificate(&ctx.state.entropy, subject_key, profile, &issuer).map_err(|e| match e {
        CryptoError::InvalidInput(message) => KmipError::invalid_field(message),
        other => crypto_error(ctx.version, other),
    })
}

/// Stores an issued certificate with its links (issuer certificate, public key, `extra_links`) and points the
/// public key's Certificate Link at it; returns its identifier.
fn store_certificate(
    ctx: &RequestContext<'_>,
    der: Vec<u8>,
    template: Attributes,
    authority: &SigningAuthority,
    mut public: Option<StoredObject>,
    extra_links: Vec<Link>,
) -> Result<String, KmipError> {
    let info = parse_certificate(&der).map_err(|e| crypto_error(ctx.version, e))?;
    let uid = new_uid(ctx)?;
    let object = ManagedObject::Certificate(Certificate {
        certificate_type: CertificateType::X509,
        certificate_value: der,
    });
    let mut attributes = initial_attributes(&uid, &object, template, ctx.now);
    attributes.extend(certificate_attributes(&info));
    attributes.extend(crate::managed::certificates::issuer::issuer_link(authority));
    if let Some(public) = &public {
        attributes.push(link(LinkType::PublicKeyLink, &public.uid));
    }
    attributes.extend(extra_links.into_iter().map(Attribute::Link));
    let stored = StoredObject {
        uid: uid.clone(),
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes,
        internal: false,
    };
    ctx.state.store.insert(&stored).map_err(store_error)?;
    if let Some(public) = public
        .as_mut()
        .filter(|p| p.attributes.object_type() == Some(ObjectType::PublicKey))
    {
        set_link(public, LinkType::CertificateLink, &uid, ctx.now);
        save(ctx, public)?;
    }
    Ok(uid)
}

fn link(link_type: LinkType, uid: &str) -> Attribute {
    Attribute::Link(Link {
        link_type,
        linked_object_identifier: uid.to_owned(),
    })
}

/// Replaces `object`'s links of `link_type` by one to `uid`.
fn set_link(object: &mut StoredObject, link_type: LinkType, uid: &str, now: i64) {
    let kept: Vec<Attribute> = std::mem::take(&mut object.attributes)
        .into_iter()
        .filter(|a| !matches!(a, Attribute::Link(l) if l.link_type == link_type))
        .collect();
    object.attributes = kept.into();
    object.attributes.push(link(link_type, uid));
    object.attributes.set(Attribute::LastChangeDate(now));
}
