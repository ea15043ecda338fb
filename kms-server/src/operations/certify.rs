//! Certify: an X.509 v3 certificate for a PKCS#10 request (DER or PEM, signature checked) or for a managed
//! public key, issued by the server's issuing CA.
//!
//! The issuing CA (a P-256 key from the pool and its self-signed certificate) is made on the first Certify and
//! kept as internal objects nobody can Get or Locate. Each tenant that certifies gets a copy of the CA
//! certificate as an ordinary Certificate object (identifier `qkms-issuing-ca-<tenant>`), so its clients can
//! Get it and verify the chain; issued certificates link to it (Certificate Link), to their public key (Public
//! Key Link), and the public key links back (Certificate Link).

use der::Decode;
use kmip::attributes::{Attribute, Attributes, KnownAttribute, Link};
use kmip::enums::{CertificateType, KeyFormatType, LinkType, ObjectType};
use kmip::objects::{Certificate, ManagedObject};
use kmip::payloads::{CertifyRequest, CertifyResponse};
use kmip::ResultReason;
use time::{Duration, OffsetDateTime};

use super::import_export::certificate_attributes;
use super::key_codec::{crypto_error, private_key_block, private_key_of, public_key_of};
use super::provenance::initial_attributes;
use super::{load, new_uid, policy, save, store_error, versioned};
use crate::crypto::certificate::{
    issue_certificate, issue_certificate_from_csr, parse_certificate, self_signed_certificate,
    BasicConstraints, CertificateProfile, DistinguishedName, Issuer, KeyUsage, NameAttribute,
};
use crate::crypto::keygen::generate_key_pair;
use crate::crypto::{EcCurve, KeyPairSpec, PrivateKey, PublicKey};
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::{StoreError, StoredObject};

const CA_KEY_UID: &str = "qkms-issuing-ca-key";
const CA_CERTIFICATE_UID: &str = "qkms-issuing-ca-certificate";
/// Certificate Request Type values.
const REQUEST_PKCS10: u32 = 2;
const REQUEST_PEM: u32 = 3;
/// Lifetime of issued certificates and of the issuing CA.
const CERTIFICATE_DAYS: i64 = 365;
const CA_DAYS: i64 = 3650;

fn owner() -> crate::tenant::TenantId {
    crate::tenant::TenantId("qkms-internal".into())
}

fn validity(
    ctx: &RequestContext<'_>,
    days: i64,
) -> Result<(OffsetDateTime, OffsetDateTime), KmipError> {
    let now = OffsetDateTime::from_unix_timestamp(ctx.now)
        .map_err(|e| KmipError::general(format!("clock out of range: {e}")))?;
    Ok((now - Duration::minutes(5), now + Duration::days(days)))
}

/// The issuing CA's key and certificate, made on first use.
fn issuing_ca(ctx: &RequestContext<'_>) -> Result<(PrivateKey, Vec<u8>), KmipError> {
    let store = &ctx.state.store;
    let existing = (
        store.get(CA_KEY_UID).map_err(store_error)?,
        store.get(CA_CERTIFICATE_UID).map_err(store_error)?,
    );
    if let (Some(key), Some(cert)) = existing {
        return ca_parts(ctx, &key, &cert);
    }
    let key = generate_key_pair(&ctx.state.entropy, KeyPairSpec::Ec(EcCurve::P256))
        .map_err(|e| crypto_error(ctx.version, e))?;
    let (not_before, not_after) = validity(ctx, CA_DAYS)?;
    let profile = CertificateProfile {
        subject: DistinguishedName::new()
            .with(NameAttribute::Organization, "qkms")
            .with(NameAttribute::CommonName, "qkms issuing CA"),
        not_before,
        not_after,
        key_usage: vec![
            KeyUsage::KeyCertSign,
            KeyUsage::CrlSign,
            KeyUsage::DigitalSignature,
        ],
        extended_key_usage: Vec::new(),
        subject_alt_names: Vec::new(),
        basic_constraints: BasicConstraints::Ca { path_len: Some(0) },
    };
    let der = self_signed_certificate(&ctx.state.entropy, &key, &profile)
        .map_err(|e| crypto_error(ctx.version, e))?;
    let internal = |uid: &str, object: ManagedObject| StoredObject {
        uid: uid.to_owned(),
        owner: owner(),
        attributes: initial_attributes(uid, &object, Attributes::new(), ctx.now),
        object: Some(object),
        internal: true,
    };
    let key_object = internal(
        CA_KEY_UID,
        ManagedObject::PrivateKey(private_key_block(ctx.version, &key, KeyFormatType::Pkcs8)?),
    );
    let cert_object = internal(
        CA_CERTIFICATE_UID,
        ManagedObject::Certificate(Certificate {
            certificate_type: CertificateType::X509,
            certificate_value: der,
        }),
    );
    for object in [&key_object, &cert_object] {
        match store.insert(object) {
            Ok(()) => {}
            // Another request made the CA at the same moment: use theirs.
            Err(StoreError::AlreadyExists(_)) => return issuing_ca(ctx),
            Err(e) => return Err(store_error(e)),
        }
    }
    ca_parts(ctx, &key_object, &cert_object)
}

fn ca_parts(
    ctx: &RequestContext<'_>,
    key: &StoredObject,
    cert: &StoredObject,
) -> Result<(PrivateKey, Vec<u8>), KmipError> {
    match (&key.object, &cert.object) {
        (Some(ManagedObject::PrivateKey(block)), Some(ManagedObject::Certificate(c))) => Ok((
            private_key_of(ctx.version, block)?,
            c.certificate_value.clone(),
        )),
        _ => Err(KmipError::general("the issuing CA objects are damaged")),
    }
}

/// The tenant's copy of the CA certificate, registered on first use; returns its identifier.
fn tenant_ca_copy(ctx: &RequestContext<'_>, ca_der: &[u8]) -> Result<String, KmipError> {
    let uid = format!("qkms-issuing-ca-{}", ctx.caller.tenant.0);
    if load(ctx, &uid).is_ok() {
        return Ok(uid);
    }
    let object = ManagedObject::Certificate(Certificate {
        certificate_type: CertificateType::X509,
        certificate_value: ca_der.to_vec(),
    });
    let info = parse_certificate(ca_der).map_err(|e| crypto_error(ctx.version, e))?;
    let mut attributes = initial_attributes(&uid, &object, Attributes::new(), ctx.now);
    attributes.extend(certificate_attributes(&info));
    attributes.set(Attribute::State(kmip::enums::State::Active));
    let stored = StoredObject {
        uid: uid.clone(),
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes,
        internal: false,
    };
    match ctx.state.store.insert(&stored) {
        Ok(()) | Err(StoreError::AlreadyExists(_)) => Ok(uid),
        Err(e) => Err(store_error(e)),
    }
}

/// A DER PKCS#10 request from the request's value and type.
fn csr_der(
    ctx: &RequestContext<'_>,
    request: &CertifyRequest,
    value: &[u8],
) -> Result<Vec<u8>, KmipError> {
    let invalid = |m: String| {
        versioned(
            ctx.version,
            ResultReason::InvalidCsr,
            ResultReason::InvalidField,
            m,
        )
    };
    match request.certificate_request_type.map(|t| t.0) {
        Some(REQUEST_PKCS10) | None => Ok(value.to_vec()),
        Some(REQUEST_PEM) => match rustls_pemfile::read_one(&mut &value[..]) {
            Ok(Some(rustls_pemfile::Item::Csr(der))) => Ok(der.as_ref().to_vec()),
            _ => Err(invalid(
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

/// The subject a template asks for: an X.509 Certificate Subject (DER), else CN = the first Name.
fn template_subject(attributes: &Attributes) -> Result<DistinguishedName, KmipError> {
    for attribute in attributes {
        if let Attribute::X509CertificateSubject(names) = attribute {
            let name = x509_cert::name::Name::from_der(&names.distinguished_name).map_err(|e| {
                KmipError::invalid_field(format!(
                    "X.509 Certificate Subject is not a DER Name: {e}"
                ))
            })?;
            return DistinguishedName::from_x509(&name)
                .map_err(|e| KmipError::invalid_field(e.to_string()));
        }
    }
    Ok(attributes
        .names()
        .next()
        .map(|n| DistinguishedName::new().with(NameAttribute::CommonName, n.value.clone()))
        .unwrap_or_default())
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
    // The subject is an input here, although only the server sets it on stored certificates.
    let subject = template_subject(&template)?;
    let _ = template.remove(&KnownAttribute::X509CertificateSubject.into(), None);
    policy::check_template(ctx.version, &template, &[KnownAttribute::ObjectType])?;
    let (ca_key, ca_der) = issuing_ca(ctx)?;
    let issuer = Issuer {
        certificate_der: &ca_der,
        private_key: &ca_key,
    };
    let (not_before, not_after) = validity(ctx, CERTIFICATE_DAYS)?;
    let mut profile = CertificateProfile {
        subject,
        not_before,
        not_after,
        key_usage: Vec::new(),
        extended_key_usage: Vec::new(),
        subject_alt_names: Vec::new(),
        basic_constraints: BasicConstraints::EndEntity,
    };
    let pool = &ctx.state.entropy;
    let error = |e| crypto_error(ctx.version, e);
    let (der, mut public) = match (
        &request.certificate_request_value,
        &request.unique_identifier,
    ) {
        (Some(value), _) => {
            let csr = csr_der(ctx, &request, value)?;
            let der =
                issue_certificate_from_csr(pool, &csr, &profile, &issuer).map_err(|e| match e {
                    crate::crypto::CryptoError::Malformed { .. } => versioned(
                        ctx.version,
                        ResultReason::InvalidCsr,
                        ResultReason::InvalidField,
                        e.to_string(),
                    ),
                    other => error(other),
                })?;
            let public = match &request.unique_identifier {
                Some(uid) => Some(load(ctx, uid)?),
                None => None,
            };
            (der, public)
        }
        (None, Some(uid)) => {
            let public = load(ctx, uid)?;
            let Some(ManagedObject::PublicKey(block)) = &public.object else {
                return Err(versioned(
                    ctx.version,
                    ResultReason::InvalidObjectType,
                    ResultReason::InvalidField,
                    format!("Certify needs a public key or a certificate request; {uid} is not a public key"),
                ));
            };
            let key: PublicKey = public_key_of(ctx.version, block)?;
            if profile.subject.is_empty() {
                profile.subject =
                    DistinguishedName::new().with(NameAttribute::CommonName, uid.clone());
            }
            profile.key_usage = match key {
                PublicKey::Rsa(_) => vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
                _ => vec![KeyUsage::DigitalSignature],
            };
            (
                issue_certificate(pool, &key, &profile, &issuer).map_err(error)?,
                Some(public),
            )
        }
        (None, None) => {
            return Err(KmipError::new(
                ResultReason::MissingData,
                "Certify needs a Certificate Request or the Unique Identifier of a public key",
            ))
        }
    };
    let ca_copy = tenant_ca_copy(ctx, &ca_der)?;
    let info = parse_certificate(&der).map_err(error)?;
    let uid = new_uid(ctx)?;
    let object = ManagedObject::Certificate(Certificate {
        certificate_type: CertificateType::X509,
        certificate_value: der,
    });
    let mut attributes = initial_attributes(&uid, &object, template, ctx.now);
    attributes.extend(certificate_attributes(&info));
    attributes.push(Attribute::Link(Link {
        link_type: LinkType::CertificateLink,
        linked_object_identifier: ca_copy,
    }));
    if let Some(public) = &public {
        attributes.push(Attribute::Link(Link {
            link_type: LinkType::PublicKeyLink,
            linked_object_identifier: public.uid.clone(),
        }));
    }
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
        let kept: Vec<Attribute> = std::mem::take(&mut public.attributes)
            .into_iter()
            .filter(
                |a| !matches!(a, Attribute::Link(l) if l.link_type == LinkType::CertificateLink),
            )
            .collect();
        public.attributes = kept.into();
        public.attributes.push(Attribute::Link(Link {
            link_type: LinkType::CertificateLink,
            linked_object_identifier: uid.clone(),
        }));
        public.attributes.set(Attribute::LastChangeDate(ctx.now));
        save(ctx, public)?;
    }
    Ok(CertifyResponse {
        unique_identifier: uid,
        attributes: None,
    })
}
