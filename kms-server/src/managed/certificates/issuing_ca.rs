//! The server's issuing CA: a P-256 key from the pool and its self-signed certificate, kept as internal objects
//! nobody can Get or Locate. `qkms-server --init` creates it (and writes its certificate to
//! `DIR/pki/issuing-ca.pem`); a store initialised before `--init` did so gets it on its first Certify.
//!
//! Each tenant that certifies gets a copy of the CA certificate as an ordinary Certificate object (identifier
//! `qkms-issuing-ca-for-<tenant>`), so its clients can Get it and issued certificates can link to it.

use entropy::EntropyPool;
use kmip::attributes::{Attribute, Attributes};
use kmip::enums::{CertificateType, KeyFormatType, State};
use kmip::objects::{Certificate, ManagedObject};
use kmip::ProtocolVersion;
use time::{Duration, OffsetDateTime};

use super::super::client_objects::certificate_attributes;
use super::super::key_codec::{crypto_error, private_key_block, stored_private_key_of};
use super::super::provenance::initial_attributes;
use super::super::{load, store_error};
use crate::crypto::certificate::{
    parse_certificate, self_signed_certificate, BasicConstraints, CertificateProfile,
    DistinguishedName, KeyUsage, NameAttribute,
};
use crate::crypto::keygen::generate_key_pair;
use crate::crypto::{CryptoError, EcCurve, KeyPairSpec, PrivateKey};
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::{Namespace, ObjectStore, StoreError, StoredObject};
use crate::tenant::TenantId;

pub const CA_KEY_UID: &str = "qkms-issuing-ca-key";
pub const CA_CERTIFICATE_UID: &str = "qkms-issuing-ca-certificate";
/// The prefix of each tenant's copy of the CA certificate; the tenant id follows.
pub const TENANT_COPY_PREFIX: &str = "qkms-issuing-ca-for-";
const CA_DAYS: i64 = 3650;
/// One level of tenant CAs (Certify with Certificate Sign usage) may sit below the issuing CA.
const CA_PATH_LEN: u8 = 1;

/// The issuing CA's private key and certificate (DER).
#[derive(Debug, Clone)]
pub struct IssuingCa {
    pub key: PrivateKey,
    pub certificate_der: Vec<u8>,
}

fn owner() -> TenantId {
    TenantId("qkms-internal".into())
}

/// A new issuing CA: key from `pool`, valid from five minutes before `now` (Unix seconds) for ten years.
pub fn generate(pool: &EntropyPool, now: i64) -> Result<IssuingCa, CryptoError> {
    let key = generate_key_pair(pool, KeyPairSpec::Ec(EcCurve::P256))?;
    let now = OffsetDateTime::from_unix_timestamp(now)
        .map_err(|e| CryptoError::InvalidInput(format!("clock out of range: {e}")))?;
    let profile = CertificateProfile {
        subject: DistinguishedName::new()
            .with(NameAttribute::Organization, "qkms")
            .with(NameAttribute::CommonName, "qkms issuing CA"),
        not_before: now - Duration::minutes(5),
        not_after: now + Duration::days(CA_DAYS),
        key_usage: vec![
            KeyUsage::KeyCertSign,
            KeyUsage::CrlSign,
            KeyUsage::DigitalSignature,
        ],
        extended_key_usage: Vec::new(),
        subject_alt_names: Vec::new(),
        basic_constraints: BasicConstraints::Ca {
            path_len: Some(CA_PATH_LEN),
        },
    };
    let certificate_der = self_signed_certificate(pool, &key, &profile)?;
    Ok(IssuingCa {
        key,
        certificate_der,
    })
}

/// Stores `ca` as the server's issuing CA. Fails with `AlreadyExists` when the store has one.
pub fn install(store: &dyn ObjectStore, ca: &IssuingCa, now: i64) -> Result<(), KmipError> {
    let internal = |uid: &str, object: ManagedObject| StoredObject {
        uid: uid.to_owned(),
        owner: owner(),
        attributes: initial_attributes(uid, &object, Attributes::new(), now),
        object: Some(object),
        internal: true,
    };
    let key = internal(
        CA_KEY_UID,
        ManagedObject::PrivateKey(private_key_block(
            ProtocolVersion::V2_1,
            &ca.key,
            KeyFormatType::Pkcs8,
        )?),
    );
    let certificate = internal(
        CA_CERTIFICATE_UID,
        ManagedObject::Certificate(Certificate {
            certificate_type: CertificateType::X509,
            certificate_value: ca.certificate_der.clone(),
        }),
    );
    store.insert(&key).map_err(store_error)?;
    store.insert(&certificate).map_err(store_error)?;
    store.wait_durable().map_err(store_error)
}

/// The issuing CA; created here only for a store initialised before `--init` made it.
pub fn load_or_create(ctx: &RequestContext<'_>) -> Result<IssuingCa, KmipError> {
    let store = &ctx.state.store;
    let existing = (
        store
            .get(Namespace::Server, CA_KEY_UID)
            .map_err(store_error)?,
        store
            .get(Namespace::Server, CA_CERTIFICATE_UID)
            .map_err(store_error)?,
    );
    match existing {
        (Some(key), Some(certificate)) => parts(ctx.version, &key, &certificate),
        (None, None) => {
            let ca =
                generate(&ctx.state.entropy, ctx.now).map_err(|e| crypto_error(ctx.version, e))?;
            match install(store.as_ref(), &ca, ctx.now) {
                Ok(()) => Ok(ca),
                // Another request made the CA at the same moment: use theirs.
                Err(_)
                    if store
                        .get(Namespace::Server, CA_CERTIFICATE_UID)
                        .ok()
                        .flatten()
                        .is_some() =>
                {
                    load_or_create(ctx)
                }
                Err(e) => Err(e),
            }
        }
        _ => Err(KmipError::general(
            "the issuing CA is incomplete in the store (key or certificate missing)",
        )),
    }
}

/// Whether `der` is the issuing CA's certificate (never creates the CA).
pub fn is_issuing_ca_certificate(ctx: &RequestContext<'_>, der: &[u8]) -> Result<bool, KmipError> {
    let stored = ctx
        .state
        .store
        .get(Namespace::Server, CA_CERTIFICATE_UID)
        .map_err(store_error)?;
    Ok(matches!(
        stored.and_then(|s| s.object),
        Some(ManagedObject::Certificate(c)) if c.certificate_value == der
    ))
}

fn parts(
    version: ProtocolVersion,
    key: &StoredObject,
    certificate: &StoredObject,
) -> Result<IssuingCa, KmipError> {
    match (&key.object, &certificate.object) {
        (Some(ManagedObject::PrivateKey(block)), Some(ManagedObject::Certificate(c))) => {
            Ok(IssuingCa {
                key: stored_private_key_of(version, block)?,
                certificate_der: c.certificate_value.clone(),
            })
        }
        _ => Err(KmipError::general("the issuing CA objects are damaged")),
    }
}

/// The identifier of the caller's copy of the CA certificate.
pub fn tenant_copy_uid(ctx: &RequestContext<'_>) -> String {
    format!("{TENANT_COPY_PREFIX}{}", ctx.caller.tenant.0)
}

/// The caller's copy of the CA certificate, registered on first use; returns its identifier.
pub fn tenant_copy(ctx: &RequestContext<'_>, ca_der: &[u8]) -> Result<String, KmipError> {
    let uid = tenant_copy_uid(ctx);
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
    attributes.set(Attribute::State(State::Active));
    attributes.set(Attribute::ActivationDate(ctx.now));
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
