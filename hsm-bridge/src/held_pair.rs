//! EC key pairs that live in the HSM (groundwork for issue #16 part 3; not yet reachable through KMIP). A private
//! key cannot be unwrapped into every HSM in a portable way, so the pair is generated inside the HSM right after
//! the bridge seeds the HSM's RNG with entropy-pool output (C_SeedRandom): "seed then generate". The private key
//! is sensitive and never extractable; the public point is read out for Get; ECDSA runs inside the HSM.

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use entropy::pool::EntropyPool;

use crate::error::HsmError;
use crate::Hsm;

/// Where an HSM-generated pair's material came from (for the key's provenance attributes).
pub const ORIGIN_HSM_SEEDED: &str =
    "generated inside the HSM right after seeding its RNG with qkms entropy-pool output (C_SeedRandom)";

const ID_LEN: usize = 16;

/// The curves the bridge asks HSMs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldCurve {
    P256,
    P384,
}

impl HeldCurve {
    /// CKA_EC_PARAMS: the DER-encoded named-curve OID.
    pub(crate) fn ec_params(self) -> Vec<u8> {
        match self {
            // 1.2.840.10045.3.1.7
            Self::P256 => vec![0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07],
            // 1.3.132.0.34
            Self::P384 => vec![0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22],
        }
    }

    /// Length of an uncompressed SEC1 point.
    pub(crate) fn point_len(self) -> usize {
        match self {
            Self::P256 => 65,
            Self::P384 => 97,
        }
    }
}

/// An EC key pair held in the HSM, found again by its CKA_ID (random, from the pool).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldKeyPair {
    pub label: String,
    pub id: Vec<u8>,
    pub curve: HeldCurve,
    /// The public key as an uncompressed SEC1 point (0x04 || X || Y).
    pub public_point: Vec<u8>,
    pub origin: &'static str,
}

impl Hsm {
    /// Seeds the HSM from the pool, then has it generate an EC key pair: private key sensitive, never
    /// extractable, signing only; public key verifying only.
    pub fn create_held_ec_key_pair(
        &self,
        pool: &EntropyPool,
        label: &str,
        curve: HeldCurve,
    ) -> Result<HeldKeyPair, HsmError> {
        let mut id = vec![0u8; ID_LEN];
        pool.try_fill(&mut id)?;
        self.seed_before_generation(pool);
        let common = |private: bool| {
            vec![
                Attribute::Token(true),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(id.clone()),
                Attribute::Private(private),
            ]
        };
        let mut public_template = common(false);
        public_template.extend([
            Attribute::EcParams(curve.ec_params()),
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
        ]);
        let mut private_template = common(true);
        private_template.extend([
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
        ]);
        let point = self.with_connection("C_GenerateKeyPair", |c| {
            let session = c.session();
            let (public, _private) = session
                .generate_key_pair(
                    &Mechanism::EccKeyPairGen,
                    &public_template,
                    &private_template,
                )
                .map_err(|e| self.call_error("C_GenerateKeyPair", e))?;
            let attributes = session
                .get_attributes(public, &[AttributeType::EcPoint])
                .map_err(|e| self.call_error("C_GetAttributeValue", e))?;
            match attributes.into_iter().next() {
                Some(Attribute::EcPoint(point)) => Ok(point),
                _ => Err(HsmError::KeyNotUsable {
                    token: self.label().to_owned(),
                    key_label: label.to_owned(),
                    reason: "the public key has no CKA_EC_POINT".into(),
                }),
            }
        })?;
        let public_point =
            sec1_point(&point, curve.point_len()).ok_or_else(|| HsmError::KeyNotUsable {
                token: self.label().to_owned(),
                key_label: label.to_owned(),
                reason: format!("CKA_EC_POINT of {} bytes is not a point", point.len()),
            })?;
        Ok(HeldKeyPair {
            label: label.to_owned(),
            id,
            curve,
            public_point,
            origin: ORIGIN_HSM_SEEDED,
        })
    }

    /// ECDSA inside the HSM over a digest the caller computed: the signature as `r || s`.
    pub fn held_sign_ecdsa(&self, pair: &HeldKeyPair, digest: &[u8]) -> Result<Vec<u8>, HsmError> {
        self.with_connection("C_Sign", |c| {
            let private = self.find_pair_part(c.session(), pair, ObjectClass::PRIVATE_KEY)?;
            c.session()
                .sign(&Mechanism::Ecdsa, private, digest)
                .map_err(|e| self.call_error("C_Sign", e))
        })
    }

    /// Destroys both halves of the pair in the HSM.
    pub fn destroy_held_key_pair(&self, pair: &HeldKeyPair) -> Result<(), HsmError> {
        self.with_connection("C_DestroyObject", |c| {
            for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
                let handle = self.find_pair_part(c.session(), pair, class)?;
                c.session()
                    .destroy_object(handle)
                    .map_err(|e| self.call_error("C_DestroyObject", e))?;
            }
            Ok(())
        })
    }

    fn find_pair_part(
        &self,
        session: &Session,
        pair: &HeldKeyPair,
        class: ObjectClass,
    ) -> Result<ObjectHandle, HsmError> {
        let found = session
            .find_objects(&[Attribute::Class(class), Attribute::Id(pair.id.clone())])
            .map_err(|e| self.call_error("C_FindObjects", e))?;
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(HsmError::KeyNotFound {
                token: self.label().to_owned(),
                key_label: pair.label.clone(),
            }),
            many => Err(HsmError::KeyNotUsable {
                token: self.label().to_owned(),
                key_label: pair.label.clone(),
                reason: format!("{} objects of one class carry its CKA_ID", many.len()),
            }),
        }
    }
}

/// The uncompressed point from CKA_EC_POINT, which PKCS#11 specifies as a DER OCTET STRING (some tokens give
/// the raw point): `04 len 04 X Y` or `04 X Y`.
pub(crate) fn sec1_point(value: &[u8], point_len: usize) -> Option<Vec<u8>> {
    if value.len() == point_len && value.first() == Some(&0x04) {
        return Some(value.to_vec());
    }
    let body = match value {
        [0x04, len, rest @ ..] if usize::from(*len) == rest.len() && rest.len() < 128 => rest,
        [0x04, 0x81, len, rest @ ..] if usize::from(*len) == rest.len() => rest,
        _ => return None,
    };
    (body.len() == point_len && body.first() == Some(&0x04)).then(|| body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_points_are_taken_from_der_or_raw() {
        let raw: Vec<u8> = std::iter::once(0x04).chain([7u8; 64]).collect();
        let mut der = vec![0x04, 65];
        der.extend(&raw);
        assert_eq!(sec1_point(&der, 65).unwrap(), raw);
        assert_eq!(sec1_point(&raw, 65).unwrap(), raw);
        let raw384: Vec<u8> = std::iter::once(0x04).chain([7u8; 96]).collect();
        let mut der384 = vec![0x04, 0x81, 97];
        der384.extend(&raw384);
        assert_eq!(sec1_point(&der384, 97).unwrap(), raw384);
        assert!(sec1_point(&der[..40], 65).is_none());
    }
}
