//! Keys held in an HSM on a client's behalf (issue #16 part 3): a Create / Create Key Pair whose template
//! carries the custom attribute `x-qkms-hsm` (1.x; 2.x Vendor Attribute `x` / `qkms-hsm`) naming the token
//! label of the HSM `[hsm] hold_keys` allows makes the key from the entropy pool as usual, imports it into that
//! HSM (`hsm_bridge::held_object`: C_UnwrapKey under a one-time transport key, sensitive and non-extractable;
//! where the token refuses that, or `[hsm] generate_held_keys` says so, seed then generate: `generate`) and
//! stores no key value: the object keeps a reference instead (`x-qkms-hsm`, `x-qkms-hsm-key-id` = the
//! CKA_ID in hex, and the standard Key Value Present = false / Key Value Location = a PKCS#11 URI), plus
//! `x-qkms-key-origin` saying where the material came from.
//!
//! The handlers call in here at a few points: `take_request` (templates), `hold` (before storing),
//! `insert_or_roll_back` (storing: a write that fails destroys the HSM object again), `held`
//! (Encrypt / Decrypt / Sign / MAC route to the HSM), `refuse_get` (Get and Export), `destroy_in_hsm` (Destroy).
//! Access control is untouched: a held key is a stored object of its tenant like any other, so another tenant's
//! held key is the same "not found" as a missing one. Public keys of held pairs stay in the store in clear.

mod generate;
mod operations;

use std::sync::Arc;

use hsm_bridge::held_object::hex_id;
use hsm_bridge::{HeldKind, Hsm, HsmError};
use kmip::attributes::{Attribute, AttributeName, Attributes, KeyValueLocation};
use kmip::enums::{CryptographicAlgorithm as A, KeyValueLocationType, LinkType, ObjectType, State};
use kmip::objects::ManagedObject;
use kmip::ResultReason;

use super::attribute_policy::SERVER_VENDOR;
use super::key_codec::{crypto_error, public_key_of, stored_private_key_of, symmetric_bytes};
use super::provenance::server_custom;
use super::{entropy_error, load};
use crate::config::Config;
use crate::crypto::{EcCurve, KeyPairSpec, PublicKey};
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::StoredObject;

/// The attribute a client names the HSM with (vendor `x`); the server keeps it on the object.
pub const HSM_ATTRIBUTE: &str = "qkms-hsm";
/// The held key's CKA_ID in hex.
pub const HSM_KEY_ID_ATTRIBUTE: &str = "qkms-hsm-key-id";
/// Where the held key's material came from.
pub const KEY_ORIGIN_ATTRIBUTE: &str = "qkms-key-origin";

/// The HSM `[hsm] hold_keys` lets clients keep keys in: the `[root_key]` connection when there is one, else a
/// connection made on first use (the server starts while that HSM is away; its keys fail until it is back).
pub fn key_holding_hsm(
    config: &Config,
    connected: Option<&Arc<Hsm>>,
) -> Result<Option<Arc<Hsm>>, crate::server::ServerError> {
    if !config.hsm.hold_keys {
        return Ok(None);
    }
    if let Some(hsm) = connected {
        return Ok(Some(Arc::clone(hsm)));
    }
    Hsm::connect_when_needed(config.root_key.hsm_settings())
        .map(|hsm| Some(Arc::new(hsm)))
        .map_err(|error| crate::server::ServerError::File {
            path: config.root_key.pin_file.display().to_string(),
            message: format!("[hsm] hold_keys: {error}"),
        })
}

/// A held key: the HSM it lives in, its kind and CKA_ID.
#[derive(Debug)]
pub struct Held {
    hsm: Arc<Hsm>,
    kind: HeldKind,
    id: Vec<u8>,
    uid: String,
}

pub use operations::HeldSealed;

fn custom_text<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a str> {
    match attributes.custom(SERVER_VENDOR, name) {
        Some(ttlv::Value::TextString(text)) => Some(text),
        _ => None,
    }
}

/// Whether the object's key lives in an HSM now (not destroyed): such an object has a value, though not here.
pub fn is_held(object: &StoredObject) -> bool {
    let destroyed = matches!(
        object.attributes.state(),
        Some(State::Destroyed | State::DestroyedCompromised)
    );
    !destroyed && custom_text(&object.attributes, HSM_KEY_ID_ATTRIBUTE).is_some()
}

/// Whether the object still has its key value, in the store or in an HSM.
pub fn has_key_value(object: &StoredObject) -> bool {
    object.object.is_some() || is_held(object)
}

/// Takes `x-qkms-hsm` out of the templates (the client may not set server attributes otherwise) and returns
/// the HSM it names, which must be the one this server holds keys in.
pub fn take_request(
    ctx: &RequestContext<'_>,
    templates: &mut [&mut Attributes],
) -> Result<Option<Arc<Hsm>>, KmipError> {
    let name = AttributeName::Vendor {
        vendor_identification: SERVER_VENDOR.to_owned(),
        attribute_name: HSM_ATTRIBUTE.to_owned(),
    };
    let mut requested: Option<String> = None;
    for template in templates.iter_mut() {
        for attribute in template.remove(&name, None) {
            let Attribute::Custom(custom) = attribute else {
                continue;
            };
            let ttlv::Value::TextString(label) = custom.value else {
                return Err(KmipError::invalid_field(
                    "x-qkms-hsm takes a Text String: the label of the HSM token to hold the key",
                ));
            };
            if requested.as_ref().is_some_and(|other| *other != label) {
                return Err(KmipError::invalid_field(
                    "x-qkms-hsm names two different HSMs for one key pair",
                ));
            }
            requested = Some(label);
        }
    }
    let Some(label) = requested else {
        return Ok(None);
    };
    match &ctx.state.settings.key_hsm {
        Some(hsm) if hsm.label() == label => Ok(Some(Arc::clone(hsm))),
        _ => Err(KmipError::invalid_field(format!(
            "x-qkms-hsm: no HSM token labelled {label:?} may hold keys on this server ([hsm] hold_keys with \
             [root_key] token_label)"
        ))),
    }
}

/// Puts the new object's key into `hsm` (imported, or seed then generate: `generate`) and replaces its value by
/// the reference. AES and HMAC keys, RSA and EC private keys can be held; anything else is refused before the
/// HSM is touched. Returns the HSM's public key when the HSM generated a pair: the caller stores it in place of
/// the public key it made in software ([`replace_public_key`]).
pub fn hold(
    ctx: &RequestContext<'_>,
    hsm: &Hsm,
    object: &mut StoredObject,
) -> Result<Option<PublicKey>, KmipError> {
    let version = ctx.version;
    let algorithm = object.attributes.cryptographic_algorithm();
    let (kind, pair, material) = match (&object.object, algorithm) {
        (Some(ManagedObject::SymmetricKey(block)), Some(A::Aes)) => (
            HeldKind::Aes,
            None,
            zeroize::Zeroizing::new(symmetric_bytes(block)?.to_vec()),
        ),
        (
            Some(ManagedObject::SymmetricKey(block)),
            Some(A::HmacSha1 | A::HmacSha224 | A::HmacSha256 | A::HmacSha384 | A::HmacSha512),
        ) => (
            HeldKind::Hmac,
            None,
            zeroize::Zeroizing::new(symmetric_bytes(block)?.to_vec()),
        ),
        (Some(ManagedObject::PrivateKey(block)), _) => {
            let key = stored_private_key_of(version, block)?;
            let kind = match key.spec() {
                KeyPairSpec::Rsa { .. } => HeldKind::Rsa,
                KeyPairSpec::Ec(_) => HeldKind::Ec,
                KeyPairSpec::Ed25519 => return Err(not_holdable("an Ed25519 key")),
                KeyPairSpec::MlKem(_) | KeyPairSpec::MlDsa(_) => {
                    return Err(not_holdable("a post-quantum key"))
                }
            };
            (
                kind,
                Some(key.spec()),
                key.to_pkcs8_der().map_err(|e| crypto_error(version, e))?,
            )
        }
        _ => {
            return Err(not_holdable(&format!(
                "a {} key",
                algorithm.map_or("typeless", |a| a.name())
            )))
        }
    };
    let placed = generate::place(ctx, hsm, object, kind, pair, &material)?;
    drop(material);
    object.object = None;
    if placed.origin != hsm_bridge::held::ORIGIN_POOL_UNWRAPPED {
        // The HSM's key is not the value the server drew: that value's digest describes nothing held.
        object
            .attributes
            .remove(&kmip::attributes::KnownAttribute::Digest.into(), None);
    }
    let id = placed.id;
    mark(&mut object.attributes, hsm.label());
    let attributes = &mut object.attributes;
    attributes.push(server_custom(
        &format!("x-{HSM_KEY_ID_ATTRIBUTE}"),
        hex_id(&id),
    ));
    attributes.push(server_custom(
        &format!("x-{KEY_ORIGIN_ATTRIBUTE}"),
        placed.origin.to_owned(),
    ));
    attributes.set(Attribute::KeyValuePresent(false));
    attributes.set(Attribute::KeyValueLocation(KeyValueLocation {
        value: format!(
            "pkcs11:token={};id={};object={}",
            percent(hsm.label().as_bytes()),
            percent(&id),
            percent(object.uid.as_bytes())
        ),
        location_type: KeyValueLocationType::Uri,
    }));
    Ok(placed.public)
}

pub use generate::replace_public_key;

/// Stores the objects of a new key (one, or a pair's two), of which one may hold its key in an HSM (`hold` made
/// the HSM object already). If a write fails, what was written is removed again and the HSM object is
/// destroyed, so a failed Create / Create Key Pair leaves its key neither in the store nor in the HSM; the
/// answer is the store's error, saying whether that rollback succeeded.
pub fn insert_or_roll_back(
    ctx: &RequestContext<'_>,
    objects: &[&StoredObject],
) -> Result<(), KmipError> {
    for (index, object) in objects.iter().enumerate() {
        let Err(error) = ctx.state.store.insert(object) else {
            continue;
        };
        let mut error = super::store_error(error);
        for written in &objects[..index] {
            if let Err(removal) = ctx.state.store.remove(
                crate::store::Namespace::Tenant(&written.owner),
                &written.uid,
            ) {
                tracing::error!(uid = %written.uid, %removal, "a failed Create left an object behind");
            }
        }
        for held_object in objects.iter().filter(|o| is_held(o)) {
            let rolled_back = destroy_in_hsm(ctx, held_object);
            error.message = match rolled_back {
                Ok(()) => format!(
                    "{}; the key made in the HSM for {} was destroyed again",
                    error.message, held_object.uid
                ),
                Err(failure) => {
                    tracing::error!(uid = %held_object.uid, message = %failure.message,
                        "a failed Create could not destroy the key it made in the HSM");
                    format!(
                        "{}; the key made in the HSM for {} (label {:?}) could not be destroyed: {}",
                        error.message, held_object.uid, held_object.uid, failure.message
                    )
                }
            };
        }
        return Err(error);
    }
    Ok(())
}

/// Names the HSM on an object of a held key (also the public key of a held pair, for Locate).
pub fn mark(attributes: &mut Attributes, label: &str) {
    attributes.push(server_custom(
        &format!("x-{HSM_ATTRIBUTE}"),
        label.to_owned(),
    ));
}

/// RFC 7512 percent-encoding of every byte outside the unreserved set.
fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02x}"),
        })
        .collect()
}

fn not_holdable(what: &str) -> KmipError {
    KmipError::new(
        ResultReason::FeatureNotSupported,
        format!("{what} cannot be held in an HSM: AES and HMAC keys, RSA and EC (P-256, P-384) private keys can"),
    )
}

/// An HSM failure as the client sees it: the HSM being away is a General Failure that says so; a refused
/// operation (bad tag, bad padding) is a Cryptographic Failure.
fn hsm_error(uid: &str, error: &HsmError) -> KmipError {
    match error {
        HsmError::Entropy(e) => entropy_error(e),
        HsmError::Pkcs11 { rv, .. }
            if ["CKR_MECHANISM_PARAM_INVALID", "CKR_ARGUMENTS_BAD", "CKR_MECHANISM_INVALID"]
                .iter()
                .any(|code| rv.contains(code)) =>
        {
            KmipError::new(
                ResultReason::FeatureNotSupported,
                format!(
                    "key {uid} is held in an HSM, which does not offer this mechanism with these parameters \
                     (SoftHSM2, for one, does RSA-OAEP with SHA-1 only): {error}"
                ),
            )
        }
        HsmError::Pkcs11 { .. } => KmipError::new(
            ResultReason::CryptographicFailure,
            format!("key {uid} is held in an HSM, which refused the operation: {error}"),
        ),
        _ => KmipError::general(format!(
            "key {uid} is held in an HSM that cannot serve it now: {error}"
        )),
    }
}

/// The HSM reference of `object`, or `None` when its key is in the store. A held key whose HSM this server
/// does not (or no longer) hold keys in is an error that says so.
pub fn held(ctx: &RequestContext<'_>, object: &StoredObject) -> Result<Option<Held>, KmipError> {
    let Some(id_hex) = custom_text(&object.attributes, HSM_KEY_ID_ATTRIBUTE) else {
        return Ok(None);
    };
    let uid = &object.uid;
    let label = custom_text(&object.attributes, HSM_ATTRIBUTE).unwrap_or_default();
    let hsm = match &ctx.state.settings.key_hsm {
        Some(hsm) if hsm.label() == label => Arc::clone(hsm),
        _ => {
            return Err(KmipError::general(format!(
                "key {uid} is held in HSM token {label:?}, which this server is not configured to hold keys in \
                 ([hsm] hold_keys and [root_key] token_label)"
            )))
        }
    };
    let id = hex::decode(id_hex)
        .map_err(|_| KmipError::general(format!("key {uid}: its HSM key id is not hex")))?;
    let kind = match (
        object.attributes.object_type(),
        object.attributes.cryptographic_algorithm(),
    ) {
        (Some(ObjectType::SymmetricKey), Some(A::Aes)) => HeldKind::Aes,
        (Some(ObjectType::SymmetricKey), Some(_)) => HeldKind::Hmac,
        (Some(ObjectType::PrivateKey), Some(A::Rsa)) => HeldKind::Rsa,
        (Some(ObjectType::PrivateKey), Some(_)) => HeldKind::Ec,
        _ => {
            return Err(KmipError::general(format!(
                "key {uid}: an HSM reference on an object that cannot be held"
            )))
        }
    };
    Ok(Some(Held {
        hsm,
        kind,
        id,
        uid: uid.clone(),
    }))
}

/// The key-pair kind of a held private key, from its attributes (for choosing the signature scheme).
pub fn held_spec(object: &StoredObject) -> Result<KeyPairSpec, KmipError> {
    let length = object.attributes.cryptographic_length().unwrap_or(0);
    match (object.attributes.cryptographic_algorithm(), length) {
        (Some(A::Rsa), bits) => Ok(KeyPairSpec::Rsa {
            bits: usize::try_from(bits).unwrap_or(0),
        }),
        (Some(_), 256) => Ok(KeyPairSpec::Ec(EcCurve::P256)),
        (Some(_), 384) => Ok(KeyPairSpec::Ec(EcCurve::P384)),
        _ => Err(KmipError::general(format!(
            "key {}: held in an HSM with no algorithm and length it can sign with",
            object.uid
        ))),
    }
}

/// The public key of a held private key: its linked public key object (Signature Verify runs in software with
/// it: verifying needs nothing secret).
pub fn linked_public_key(
    ctx: &RequestContext<'_>,
    object: &StoredObject,
) -> Result<PublicKey, KmipError> {
    let public_uid = object
        .attributes
        .linked(LinkType::PublicKeyLink)
        .ok_or_else(|| {
            KmipError::invalid_field(format!(
                "{} is held in an HSM and has no Public Key Link to verify with",
                object.uid
            ))
        })?;
    match load(ctx, public_uid)?.object {
        Some(ManagedObject::PublicKey(block)) => public_key_of(ctx.version, &block),
        _ => Err(KmipError::invalid_field(format!(
            "{public_uid} (linked public key of {}) holds no public key",
            object.uid
        ))),
    }
}

/// Get / Export of a held private or secret key: its value is in the HSM and never leaves it.
pub fn refuse_get(object: &StoredObject) -> Result<(), KmipError> {
    if !is_held(object) {
        return Ok(());
    }
    let label = custom_text(&object.attributes, HSM_ATTRIBUTE).unwrap_or_default();
    Err(KmipError::new(
        ResultReason::NotExtractable,
        format!(
            "{} is held in HSM token {label:?} as a sensitive, non-extractable key: the server has no copy of \
             its value (Key Value Present is false) and cannot return it; use it through Encrypt, Decrypt, Sign \
             or MAC (a key pair's public key can be fetched)",
            object.uid
        ),
    ))
}

/// Destroy of a held key: the HSM object goes first, so that a Destroyed answer means it is gone from the HSM.
/// An HSM that no longer has the object (deleted there) does not block the Destroy.
pub fn destroy_in_hsm(ctx: &RequestContext<'_>, object: &StoredObject) -> Result<(), KmipError> {
    let Some(held) = held(ctx, object)? else {
        return Ok(());
    };
    match held.hsm.destroy_held_objects(&held.id) {
        Ok(0) => {
            tracing::warn!(uid = %object.uid, "the HSM no longer had the key being destroyed");
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(error) => Err(hsm_error(&object.uid, &error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs11_uri_parts_are_percent_encoded() {
        assert_eq!(percent(b"qkms-held_1.x~"), "qkms-held_1.x~");
        assert_eq!(percent(b"a b;c"), "a%20b%3bc");
        assert_eq!(percent(&[0x00, 0xff]), "%00%ff");
    }
}
