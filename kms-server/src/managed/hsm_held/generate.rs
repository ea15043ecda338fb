//! How a held key gets into its HSM: imported (the pool's key, C_UnwrapKey under a one-time transport key: the
//! HSM never chooses it), or, for a token that refuses C_UnwrapKey for the held-key template and whenever
//! `[hsm] generate_held_keys = true`, "seed then generate" (`hsm_bridge::held_generate`): pool bytes into the
//! HSM's RNG with C_SeedRandom, then C_GenerateKey / C_GenerateKeyPair inside it. `x-qkms-key-origin` records
//! which. A generated key is not the one the server drew: the software value is dropped, the object's Digest
//! (of that value) removed, and a pair's public key object replaced by the HSM's public key.

use hsm_bridge::held::ORIGIN_POOL_UNWRAPPED;
use hsm_bridge::{GeneratedPublic, GeneratedSpec, HeldCurve, HeldKind, Hsm};
use kmip::attributes::{Attribute, KnownAttribute};
use kmip::objects::ManagedObject;

use super::hsm_error;
use crate::crypto::key_formats::{TransparentEcPublicKey, TransparentRsaPublicKey};
use crate::crypto::{EcCurve, KeyPairSpec, PublicKey};
use crate::error::KmipError;
use crate::managed::key_codec::{crypto_error, public_key_block};
use crate::state::RequestContext;
use crate::store::StoredObject;

/// Where a held key came from: its CKA_ID, its provenance text, and the HSM's public key of a generated pair.
pub struct Placed {
    pub id: Vec<u8>,
    pub origin: &'static str,
    pub public: Option<PublicKey>,
}

/// Puts the key of `object` (`material`: raw secret bytes, or PKCS#8 DER of a private key of `pair`) into `hsm`.
pub fn place(
    ctx: &RequestContext<'_>,
    hsm: &Hsm,
    object: &StoredObject,
    kind: HeldKind,
    pair: Option<KeyPairSpec>,
    material: &[u8],
) -> Result<Placed, KmipError> {
    let uid = &object.uid;
    if !ctx.state.settings.generate_held_keys {
        match hsm.import_held_key(&ctx.state.entropy, kind, uid, material) {
            Ok(id) => {
                return Ok(Placed {
                    id,
                    origin: ORIGIN_POOL_UNWRAPPED,
                    public: None,
                })
            }
            Err(error) if error.refuses_unwrap() => {
                tracing::warn!(%uid, %error, "the HSM refuses C_UnwrapKey for this key: seeding it and having it generate the key");
            }
            Err(error) => return Err(hsm_error(uid, &error)),
        }
    }
    let spec = match (kind, pair) {
        (HeldKind::Aes, _) => GeneratedSpec::Aes {
            bytes: material.len(),
        },
        (HeldKind::Hmac, _) => GeneratedSpec::Hmac {
            bytes: material.len(),
        },
        (_, Some(KeyPairSpec::Rsa { bits })) => GeneratedSpec::Rsa { bits },
        (_, Some(KeyPairSpec::Ec(EcCurve::P256))) => GeneratedSpec::Ec(HeldCurve::P256),
        (_, Some(KeyPairSpec::Ec(EcCurve::P384))) => GeneratedSpec::Ec(HeldCurve::P384),
        _ => {
            return Err(KmipError::general(format!(
                "key {uid}: the HSM cannot generate a key of this kind"
            )))
        }
    };
    let generated = hsm
        .generate_held_key(&ctx.state.entropy, spec, uid)
        .map_err(|e| hsm_error(uid, &e))?;
    let crypto = |e| crypto_error(ctx.version, e);
    let public = match (generated.public, pair) {
        (None, _) => None,
        (Some(GeneratedPublic::Ec(q)), Some(KeyPairSpec::Ec(curve))) => Some(
            PublicKey::from_transparent_ec(&TransparentEcPublicKey { curve, q }).map_err(crypto)?,
        ),
        (Some(GeneratedPublic::Rsa { modulus, exponent }), _) => Some(
            PublicKey::from_transparent_rsa(&TransparentRsaPublicKey {
                modulus,
                public_exponent: exponent,
            })
            .map_err(crypto)?,
        ),
        (Some(GeneratedPublic::Ec(_)), _) => None,
    };
    Ok(Placed {
        id: generated.id,
        origin: generated.origin,
        public,
    })
}

/// After the HSM generated a pair: `public` (the pair's public key object) takes the HSM's public key, in the
/// format it already had, with its Digest recomputed.
pub fn replace_public_key(
    ctx: &RequestContext<'_>,
    public: &mut StoredObject,
    key: &PublicKey,
) -> Result<(), KmipError> {
    let Some(ManagedObject::PublicKey(block)) = &public.object else {
        return Err(KmipError::general(format!(
            "{}: a key pair's public key object holds no public key",
            public.uid
        )));
    };
    let replaced =
        ManagedObject::PublicKey(public_key_block(ctx.version, key, block.key_format_type)?);
    public
        .attributes
        .remove(&KnownAttribute::Digest.into(), None);
    if let Some(digest) = crate::managed::provenance::digest(&replaced) {
        public.attributes.push(Attribute::Digest(digest));
    }
    public.object = Some(replaced);
    Ok(())
}
