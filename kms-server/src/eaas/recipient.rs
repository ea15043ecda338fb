//! The key an encrypted envelope goes to (`&encrypt=KEYID`): the caller's own X25519 public key, registered
//! through KMIP ([`crate::managed::x25519_keys`]), looked up with the same rules as a KMIP Encrypt.
//!
//! The lookup is the KMIP one ([`crate::managed::load`], [`crate::managed::key_use::check`]): in the caller's own namespace, so
//! another tenant's key answers exactly as a missing one does; the state must allow protecting (Active, within
//! its Protect Stop Date); the Cryptographic Usage Mask must allow Encrypt or Key Agreement (HPKE is a key
//! agreement to the recipient's key; clients mark X25519 keys either way). Usage Limits are checked, not
//! counted down (an envelope is no KMIP operation on the key). Every refusal is a 400 naming `encrypt`.

use kmip::attributes::CryptographicUsageMask;
use kmip::objects::ManagedObject;
use kmip::ProtocolVersion;

use super::Refusal;
use crate::managed::key_use::{check, KeyUse};
use crate::managed::{load, x25519_keys};
use crate::state::{RequestContext, ServerState};
use crate::tenant::Caller;

/// The longest key identifier looked up (qkms's own are 36 characters).
const MAX_KEY_ID: usize = 256;

/// A resolved recipient key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientKey {
    /// The KMIP Unique Identifier the request named.
    pub id: String,
    /// The X25519 public key.
    pub public: [u8; 32],
}

fn refused(message: String) -> Refusal {
    Refusal::BadRequest {
        field: "encrypt".into(),
        message: format!("encrypt: {message}"),
    }
}

/// The caller's X25519 public key `id`, checked for use, or a 400 naming `encrypt`.
pub fn resolve(state: &ServerState, caller: &Caller, id: &str) -> Result<RecipientKey, Refusal> {
    if id.is_empty() {
        return Err(refused(
            "encrypt=KEYID needs the Unique Identifier of a registered X25519 public key".into(),
        ));
    }
    if id.len() > MAX_KEY_ID {
        return Err(refused(format!(
            "the key identifier is {} bytes, more than {MAX_KEY_ID}",
            id.len()
        )));
    }
    let ctx = RequestContext {
        state,
        caller,
        version: ProtocolVersion::V2_1,
        now: time::OffsetDateTime::now_utc().unix_timestamp(),
        operations: &[],
    };
    let object = load(&ctx, id).map_err(|e| refused(e.message))?;
    let key = match &object.object {
        Some(key @ ManagedObject::PublicKey(_)) if x25519_keys::is_x25519(key) => key,
        Some(other) => {
            return Err(refused(format!(
                "{id} is a {}, not an X25519 public key (HPKE encrypts to X25519 keys only)",
                other.object_type().name()
            )))
        }
        None => return Err(refused(format!("{id} holds no key value"))),
    };
    // The use the key was registered for, named in the mask; the checks are those of every KMIP operation.
    let mask = object
        .attributes
        .cryptographic_usage_mask()
        .unwrap_or(CryptographicUsageMask::empty());
    let usage = if mask.contains(CryptographicUsageMask::KEY_AGREEMENT) {
        KeyUse::Protect(CryptographicUsageMask::KEY_AGREEMENT)
    } else {
        KeyUse::Protect(CryptographicUsageMask::ENCRYPT)
    };
    check(&ctx, &object, usage).map_err(|e| refused(e.message))?;
    let block = key.key_block().expect("a Public Key has a Key Block");
    let public = x25519_keys::public_bytes(block).map_err(|e| refused(e.message))?;
    Ok(RecipientKey {
        id: id.to_owned(),
        public,
    })
}

/// `data` HPKE-encrypted to `recipient` with an ephemeral key of 32 bytes drawn from `pool`: the ciphertext and
/// the envelope's `encryption`.
pub fn seal(
    pool: &entropy::EntropyPool,
    recipient: &RecipientKey,
    data: &[u8],
) -> Result<(Vec<u8>, eaas::EnvelopeEncryption), Refusal> {
    let mut ephemeral = zeroize::Zeroizing::new([0u8; eaas::hpke::X25519_KEY_LEN]);
    pool.fill(&mut ephemeral[..])
        .map_err(|error| Refusal::PoolFailed(error.to_string()))?;
    let sealed = eaas::hpke::seal(
        &recipient.public,
        ephemeral,
        eaas::hpke::HPKE_INFO,
        b"",
        data,
    )
    .map_err(|error| refused(format!("{}: {error}", recipient.id)))?;
    let encryption = eaas::EnvelopeEncryption {
        suite: eaas::hpke::HPKE_SUITE.into(),
        key: recipient.id.clone(),
        enc: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, sealed.enc),
    };
    Ok((sealed.ciphertext, encryption))
}
