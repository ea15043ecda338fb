//! Encapsulate and Decapsulate (provisional operations, see `kmip::payloads::kem`): ML-KEM with a managed key.
//!
//! Each registers the shared secret as a new Secret Data object (type Seed, Raw, 256 bits, Active, usage mask
//! Derive Key so it can be the base of a Derive Key) with a Derivation Base Object link to the key, and answers
//! its identifier; Encapsulate also answers the ciphertext in Data. The
//! secret of an encapsulation is made from the 32-byte message `m` FIPS 203 draws, which comes from the pool:
//! that draw's provenance is recorded on the Secret Data like on every pool-made object. A decapsulated secret
//! is the key holder's computation over the peer's ciphertext and carries no pool provenance.
//!
//! Encapsulate uses an ML-KEM public key (or the private key of a pair, through its public half) allowed to
//! Encrypt; Decapsulate an ML-KEM private key allowed to Decrypt (it processes, so Deactivated and Compromised
//! keys may still decapsulate what was sent to them). A wrong key type, a ciphertext of the wrong length and a
//! missing ciphertext are refused with their own reasons; a tampered ciphertext of the right length
//! decapsulates to an unrelated secret (FIPS 203 implicit rejection), never to an error.

use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask, Link};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, LinkType, SecretDataType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject, SecretData};
use kmip::payloads::{
    DecapsulateRequest, DecapsulateResponse, EncapsulateRequest, EncapsulateResponse,
};
use kmip::ResultReason;
use zeroize::Zeroizing;

use crate::crypto::ml_kem::{MlKemPrivateKey, MlKemPublicKey, SHARED_SECRET_LEN};
use crate::crypto::{PrivateKey, PublicKey};
use crate::error::KmipError;
use crate::managed::key_codec::{crypto_error, public_key_of, stored_private_key_of};
use crate::managed::key_use::{self, KeyUse};
use crate::managed::provenance::{initial_attributes, provenance_attributes};
use crate::managed::{entropy_error, new_uid, store_error, target, versioned};
use crate::state::RequestContext;
use crate::store::StoredObject;

fn not_ml_kem(ctx: &RequestContext<'_>, uid: &str, what: &str) -> KmipError {
    versioned(
        ctx.version,
        ResultReason::InvalidObjectType,
        ResultReason::InvalidField,
        format!("{uid} is not an ML-KEM {what}"),
    )
}

/// The encapsulation key of `object` (an ML-KEM public key, or the private key of a pair).
fn encapsulation_key(
    ctx: &RequestContext<'_>,
    object: &StoredObject,
) -> Result<MlKemPublicKey, KmipError> {
    let key = match object.object.as_ref() {
        Some(ManagedObject::PublicKey(block)) => public_key_of(ctx.version, block).ok(),
        Some(ManagedObject::PrivateKey(block)) => stored_private_key_of(ctx.version, block)
            .ok()
            .map(|k| k.public_key()),
        _ => None,
    };
    match key {
        Some(PublicKey::MlKem(key)) => Ok(key),
        _ => Err(not_ml_kem(ctx, &object.uid, "public or private key")),
    }
}

fn decapsulation_key(
    ctx: &RequestContext<'_>,
    object: &StoredObject,
) -> Result<MlKemPrivateKey, KmipError> {
    match object.object.as_ref() {
        Some(ManagedObject::PrivateKey(block)) => {
            match stored_private_key_of(ctx.version, block)? {
                PrivateKey::MlKem(key) => Ok(*key),
                _ => Err(not_ml_kem(ctx, &object.uid, "private key")),
            }
        }
        _ => Err(not_ml_kem(ctx, &object.uid, "private key")),
    }
}

/// Stores `secret` as a new Active Secret Data linked to `key_uid`; returns its identifier.
fn store_secret(
    ctx: &RequestContext<'_>,
    key_uid: &str,
    secret: Zeroizing<Vec<u8>>,
    extra: Vec<Attribute>,
) -> Result<String, KmipError> {
    let uid = new_uid(ctx)?;
    let object = ManagedObject::SecretData(SecretData {
        secret_data_type: SecretDataType::Seed,
        key_block: KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(secret),
            None,
            Some(i32::try_from(SHARED_SECRET_LEN * 8).unwrap_or(256)),
        ),
    });
    let mut client = Attributes::new();
    client.push(Attribute::ActivationDate(ctx.now));
    client.push(Attribute::CryptographicUsageMask(
        CryptographicUsageMask::DERIVE_KEY,
    ));
    let mut attributes = initial_attributes(&uid, &object, client, ctx.now);
    attributes.extend(extra);
    attributes.push(Attribute::Link(Link {
        link_type: LinkType::DerivationBaseObjectLink,
        linked_object_identifier: key_uid.to_owned(),
    }));
    let stored = StoredObject {
        uid: uid.clone(),
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes,
        internal: false,
    };
    ctx.state.store.insert(&stored).map_err(store_error)?;
    Ok(uid)
}

fn is_ml_kem(object: &StoredObject) -> bool {
    matches!(
        object.attributes.cryptographic_algorithm(),
        Some(
            CryptographicAlgorithm::MlKem512
                | CryptographicAlgorithm::MlKem768
                | CryptographicAlgorithm::MlKem1024
        )
    )
}

pub fn encapsulate(
    ctx: &RequestContext<'_>,
    request: EncapsulateRequest,
) -> Result<EncapsulateResponse, KmipError> {
    let uid = target(&request.unique_identifier)?.to_owned();
    let mut object = crate::managed::load(ctx, &uid)?;
    if !is_ml_kem(&object) {
        return Err(not_ml_kem(ctx, &uid, "public or private key"));
    }
    key_use::check(
        ctx,
        &object,
        KeyUse::Protect(CryptographicUsageMask::ENCRYPT),
    )?;
    let key = encapsulation_key(ctx, &object)?;
    let mut message = Zeroizing::new([0u8; 32]);
    let provenance = ctx
        .state
        .entropy
        .fill(&mut message[..])
        .map_err(|e| entropy_error(&e))?;
    let (ciphertext, secret) = key
        .encapsulate_with(&message)
        .map_err(|e| crypto_error(ctx.version, e))?;
    key_use::consume(ctx, &mut object, SHARED_SECRET_LEN)?;
    let secret_uid = store_secret(ctx, &uid, secret, provenance_attributes(&provenance))?;
    Ok(EncapsulateResponse {
        unique_identifier: secret_uid,
        data: Some(ciphertext),
    })
}

pub fn decapsulate(
    ctx: &RequestContext<'_>,
    request: DecapsulateRequest,
) -> Result<DecapsulateResponse, KmipError> {
    let uid = target(&request.unique_identifier)?.to_owned();
    let mut object = crate::managed::load(ctx, &uid)?;
    if !is_ml_kem(&object) {
        return Err(not_ml_kem(ctx, &uid, "private key"));
    }
    key_use::check(
        ctx,
        &object,
        KeyUse::Process(CryptographicUsageMask::DECRYPT),
    )?;
    let key = decapsulation_key(ctx, &object)?;
    let ciphertext = request.data.as_deref().ok_or_else(|| {
        KmipError::new(
            ResultReason::MissingData,
            "Decapsulate needs the ciphertext in Data",
        )
    })?;
    let secret = key
        .decapsulate(ciphertext)
        .map_err(|e| crypto_error(ctx.version, e))?;
    key_use::consume(ctx, &mut object, SHARED_SECRET_LEN)?;
    let secret_uid = store_secret(ctx, &uid, secret, Vec::new())?;
    Ok(DecapsulateResponse {
        unique_identifier: secret_uid,
    })
}
