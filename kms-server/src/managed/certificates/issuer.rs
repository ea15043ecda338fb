//! Who signs a certificate. A Certify (or Re-Certify) request names its issuer the KMIP way, with Link
//! attributes in its template: a Private Key Link to the signing key the tenant owns, and/or a Certificate
//! Link to the issuer's certificate (for a certificate, KMIP's Certificate Link is the issuer's certificate:
//! exactly the link the new certificate will carry). A Certificate Link alone finds the key through the
//! certificate's Public Key Link and that key's Private Key Link. No link: the server's issuing CA signs.
//!
//! A tenant signing key must be the tenant's, a Private Key, Active, and allow Sign. The issued certificate's
//! issuer name is the subject of that key's certificate when it has one; otherwise a name made from the key's
//! Name (or identifier), and the certificate then has no chain to the issuing CA.

use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask, KnownAttribute, Link};
use kmip::enums::LinkType;
use kmip::objects::ManagedObject;
use kmip::ResultReason;
use time::{Duration, OffsetDateTime};

use super::super::key_codec::{crypto_error, stored_private_key_of};
use super::super::key_use::{self, KeyUse};
use super::super::{load, versioned};
use super::issuing_ca;
use crate::crypto::certificate::{
    parse_certificate, self_signed_certificate, BasicConstraints, CertificateProfile,
    DistinguishedName, KeyUsage, NameAttribute,
};
use crate::crypto::{PrivateKey, PublicKey};
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::StoredObject;

/// The issuer links a request's template carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuerLinks {
    pub private_key: Option<String>,
    pub certificate: Option<String>,
}

impl IssuerLinks {
    pub fn is_empty(&self) -> bool {
        self.private_key.is_none() && self.certificate.is_none()
    }
}

/// The signing key and the certificate whose subject becomes the issuer name.
#[derive(Debug)]
pub struct SigningAuthority {
    pub key: PrivateKey,
    pub certificate_der: Vec<u8>,
    /// The issuer's certificate object in the tenant's view: the issued certificate's Certificate Link.
    pub certificate_uid: Option<String>,
    /// The server's issuing CA (the only issuer of CA certificates).
    pub is_server_ca: bool,
}

/// Removes the Private Key Link and Certificate Link from `template` and returns them.
pub fn take_issuer_links(template: &mut Attributes) -> Result<IssuerLinks, KmipError> {
    let mut links = IssuerLinks::default();
    let all = template.remove(&KnownAttribute::Link.into(), None);
    for attribute in all {
        let Attribute::Link(link) = &attribute else {
            template.push(attribute);
            continue;
        };
        let slot = match link.link_type {
            LinkType::PrivateKeyLink => &mut links.private_key,
            LinkType::CertificateLink => &mut links.certificate,
            _ => {
                template.push(attribute);
                continue;
            }
        };
        if slot.is_some() {
            return Err(KmipError::invalid_field(format!(
                "the request names two issuers ({:?} Link given twice)",
                link.link_type
            )));
        }
        *slot = Some(link.linked_object_identifier.clone());
    }
    Ok(links)
}

/// The authority `links` name.
pub fn resolve(
    ctx: &RequestContext<'_>,
    links: &IssuerLinks,
) -> Result<SigningAuthority, KmipError> {
    match (&links.private_key, &links.certificate) {
        (None, None) => server_ca(ctx),
        (None, Some(certificate)) if *certificate == issuing_ca::tenant_copy_uid(ctx) => {
            server_ca(ctx)
        }
        (None, Some(certificate_uid)) => {
            let certificate = load_certificate(ctx, certificate_uid)?;
            if issuing_ca::is_issuing_ca_certificate(ctx, &certificate.1)? {
                // Another copy of the CA certificate (one a tenant registered, or an older copy).
                return server_ca(ctx);
            }
            let key_uid = key_of_certificate(ctx, &certificate).ok_or_else(|| {
                KmipError::new(
                    ResultReason::InvalidField,
                    format!(
                        "issuer certificate {certificate_uid} has no linked private key of yours: name the \
                         signing key with a Private Key Link"
                    ),
                )
            })?;
            tenant_key(ctx, &key_uid, Some(certificate))
        }
        (Some(key_uid), certificate_uid) => {
            let certificate = match certificate_uid {
                Some(uid) => Some(load_certificate(ctx, uid)?),
                None => None,
            };
            tenant_key(ctx, key_uid, certificate)
        }
    }
}

fn server_ca(ctx: &RequestContext<'_>) -> Result<SigningAuthority, KmipError> {
    let ca = issuing_ca::load_or_create(ctx)?;
    let copy = issuing_ca::tenant_copy(ctx, &ca.certificate_der)?;
    Ok(SigningAuthority {
        key: ca.key,
        certificate_der: ca.certificate_der,
        certificate_uid: Some(copy),
        is_server_ca: true,
    })
}

/// `error` with the issuer's role in front of its message, so the client knows which identifier failed.
fn about(what: &str, uid: &str, error: KmipError) -> KmipError {
    KmipError::new(error.reason, format!("{what} {uid}: {}", error.message))
}

fn load_certificate(ctx: &RequestContext<'_>, uid: &str) -> Result<(String, Vec<u8>), KmipError> {
    let object = load(ctx, uid).map_err(|e| about("issuer certificate", uid, e))?;
    match object.object {
        Some(ManagedObject::Certificate(c)) => Ok((object.uid, c.certificate_value)),
        Some(_) => Err(versioned(
            ctx.version,
            ResultReason::InvalidObjectType,
            ResultReason::InvalidField,
            format!("issuer certificate {uid} is not a certificate"),
        )),
        None => Err(super::super::wrong_state(
            ctx.version,
            format!("issuer certificate {uid} is destroyed"),
        )),
    }
}

/// The private key behind a certificate: certificate -> Public Key Link -> Private Key Link, in the tenant.
fn key_of_certificate(ctx: &RequestContext<'_>, certificate: &(String, Vec<u8>)) -> Option<String> {
    let stored = load(ctx, &certificate.0).ok()?;
    let public_uid = stored.attributes.linked(LinkType::PublicKeyLink)?;
    let public = load(ctx, public_uid).ok()?;
    public
        .attributes
        .linked(LinkType::PrivateKeyLink)
        .map(str::to_owned)
}

/// A key's certificate: its own Certificate Link, else its public key's.
fn certificate_of_key(ctx: &RequestContext<'_>, key: &StoredObject) -> Option<(String, Vec<u8>)> {
    let direct = key.attributes.linked(LinkType::CertificateLink);
    let via_public = || {
        let public = load(ctx, key.attributes.linked(LinkType::PublicKeyLink)?).ok()?;
        public
            .attributes
            .linked(LinkType::CertificateLink)
            .map(str::to_owned)
    };
    let uid = direct.map(str::to_owned).or_else(via_public)?;
    load_certificate(ctx, &uid).ok()
}

fn tenant_key(
    ctx: &RequestContext<'_>,
    key_uid: &str,
    certificate: Option<(String, Vec<u8>)>,
) -> Result<SigningAuthority, KmipError> {
    let stored = load(ctx, key_uid).map_err(|e| about("issuer key", key_uid, e))?;
    let Some(ManagedObject::PrivateKey(block)) = &stored.object else {
        return Err(versioned(
            ctx.version,
            ResultReason::InvalidObjectType,
            ResultReason::InvalidField,
            format!("issuer key {key_uid} is not a private key"),
        ));
    };
    key_use::check(ctx, &stored, KeyUse::Protect(CryptographicUsageMask::SIGN))
        .map_err(|e| about("issuer key", key_uid, e))?;
    let key = stored_private_key_of(ctx.version, block)?;
    let certificate = certificate.or_else(|| certificate_of_key(ctx, &stored));
    let (certificate_uid, certificate_der) = match certificate {
        Some((uid, der)) => {
            let info = parse_certificate(&der).map_err(|e| crypto_error(ctx.version, e))?;
            let certified = PublicKey::from_spki_der(&info.subject_public_key_info)
                .map_err(|e| crypto_error(ctx.version, e))?;
            if certified != key.public_key() {
                return Err(KmipError::invalid_field(format!(
                    "issuer certificate {uid} does not certify issuer key {key_uid}"
                )));
            }
            (Some(uid), der)
        }
        None => (None, name_only_certificate(ctx, &stored, &key)?),
    };
    Ok(SigningAuthority {
        key,
        certificate_der,
        certificate_uid,
        is_server_ca: false,
    })
}

/// For a key without a certificate: a throwaway self-signed certificate whose only use is to give the issued
/// certificate its issuer name (CN = the key's first Name, else its identifier) and key identifier.
fn name_only_certificate(
    ctx: &RequestContext<'_>,
    stored: &StoredObject,
    key: &PrivateKey,
) -> Result<Vec<u8>, KmipError> {
    let common_name = stored
        .attributes
        .names()
        .next()
        .map_or_else(|| stored.uid.clone(), |n| n.value.clone());
    let now = OffsetDateTime::from_unix_timestamp(ctx.now)
        .map_err(|e| KmipError::general(format!("clock out of range: {e}")))?;
    let profile = CertificateProfile {
        subject: DistinguishedName::new().with(NameAttribute::CommonName, common_name),
        not_before: now - Duration::minutes(5),
        not_after: now + Duration::days(1),
        key_usage: vec![KeyUsage::KeyCertSign, KeyUsage::DigitalSignature],
        extended_key_usage: Vec::new(),
        subject_alt_names: Vec::new(),
        basic_constraints: BasicConstraints::Ca { path_len: Some(0) },
    };
    self_signed_certificate(&ctx.state.entropy, key, &profile)
        .map_err(|e| crypto_error(ctx.version, e))
}

/// The Link the new certificate carries to its issuer's certificate, if the issuer has one.
pub fn issuer_link(authority: &SigningAuthority) -> Option<Attribute> {
    authority.certificate_uid.as_ref().map(|uid| {
        Attribute::Link(Link {
            link_type: LinkType::CertificateLink,
            linked_object_identifier: uid.clone(),
        })
    })
}
