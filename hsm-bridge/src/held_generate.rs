//! "Seed then generate": the fallback for tokens that refuse to C_UnwrapKey a key into the held-key template (a
//! token without the unwrap mechanism, or one that will not unwrap private keys or give them that template).
//! The bridge pushes entropy-pool bytes into the HSM's RNG with C_SeedRandom, then has the HSM generate the key
//! itself (C_GenerateKey, C_GenerateKeyPair) with the same template an import would have used. The key is then
//! the HSM's choice, mixed with qkms entropy as far as the token's RNG design mixes seeds in, which the key's
//! provenance says (`ORIGIN_HSM_GENERATED_SEEDED`, or `..._UNSEEDED` when the token refused the seed).
//! A generated pair's public key comes back (EC point, RSA modulus and exponent) so that the server stores the
//! HSM's public key, not the one it made in software; the HSM's public key object is a session object, gone
//! with the session.

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType};
use entropy::pool::EntropyPool;

use crate::error::HsmError;
use crate::held_object::{HeldKind, HELD_ID_LEN};
use crate::settings::SeedSettings;
use crate::{HeldCurve, Hsm};

/// Provenance of a key the HSM generated right after C_SeedRandom took pool bytes.
pub const ORIGIN_HSM_GENERATED_SEEDED: &str =
    "generated inside the HSM (C_GenerateKey / C_GenerateKeyPair) right after C_SeedRandom with qkms \
     entropy-pool output; the token refused C_UnwrapKey for the template, or the server is set to generate";
/// Provenance of a key the HSM generated although it refused the seed (its own RNG alone).
pub const ORIGIN_HSM_GENERATED_UNSEEDED: &str =
    "generated inside the HSM (C_GenerateKey / C_GenerateKeyPair) by its own RNG alone: the token refused \
     C_SeedRandom";

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeneratedSpec {
    /// An AES key of this many bytes (16, 24, 32).
    Aes { bytes: usize },
    /// An HMAC key (CKK_GENERIC_SECRET) of this many bytes.
    Hmac { bytes: usize },
    /// An EC key pair on this curve.
    Ec(HeldCurve),
    /// An RSA key pair with this modulus size, public exponent 65537.
    Rsa { bits: usize },
}

impl GeneratedSpec {
    fn kind(self) -> HeldKind {
        match self {
            Self::Aes { .. } => HeldKind::Aes,
            Self::Hmac { .. } => HeldKind::Hmac,
            Self::Ec(_) => HeldKind::Ec,
            Self::Rsa { .. } => HeldKind::Rsa,
        }
    }
}

/// The public half of a generated pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GeneratedPublic {
    /// The uncompressed SEC1 point.
    Ec(Vec<u8>),
    Rsa {
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
}

/// A key the HSM generated: its CKA_ID, its public half (pairs), and its provenance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedHeld {
    pub id: Vec<u8>,
    pub public: Option<GeneratedPublic>,
    pub origin: &'static str,
}

impl HsmError {
    /// Whether this is the token refusing C_UnwrapKey for the held-key template or mechanism (so that seed then
    /// generate may serve instead), as opposed to the token being away or broken.
    pub fn refuses_unwrap(&self) -> bool {
        match self {
            Self::MechanismMissing { .. } => true,
            Self::Pkcs11 { operation, rv, .. } if *operation == "C_UnwrapKey" => [
                "CKR_MECHANISM_INVALID",
                "CKR_MECHANISM_PARAM_INVALID",
                "CKR_FUNCTION_NOT_SUPPORTED",
                "CKR_TEMPLATE_INCONSISTENT",
                "CKR_TEMPLATE_INCOMPLETE",
                "CKR_ATTRIBUTE_VALUE_INVALID",
                "CKR_ATTRIBUTE_TYPE_INVALID",
                "CKR_KEY_TYPE_INCONSISTENT",
                "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT",
                "CKR_WRAPPED_KEY_INVALID",
                "CKR_DOMAIN_PARAMS_INVALID",
            ]
            .iter()
            .any(|code| rv.contains(code)),
            _ => false,
        }
    }
}

impl Hsm {
    /// Seeds the HSM from the pool, then has it generate the key of `spec` as a held key labelled `label` with a
    /// fresh random CKA_ID (the same template as an imported key).
    pub fn generate_held_key(
        &self,
        pool: &EntropyPool,
        spec: GeneratedSpec,
        label: &str,
    ) -> Result<GeneratedHeld, HsmError> {
        let mut id = vec![0u8; HELD_ID_LEN];
        pool.try_fill(&mut id)?;
        let origin = match self.seed(pool, SeedSettings::default().bytes) {
            Ok(()) => ORIGIN_HSM_GENERATED_SEEDED,
            Err(HsmError::SeedNotSupported { .. }) => ORIGIN_HSM_GENERATED_UNSEEDED,
            Err(error) => return Err(error),
        };
        let mut template = spec.kind().template();
        template.extend([
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ]);
        let public = match spec {
            GeneratedSpec::Aes { bytes } | GeneratedSpec::Hmac { bytes } => {
                template.push(Attribute::ValueLen(ulong(bytes)?));
                let mechanism = if matches!(spec, GeneratedSpec::Aes { .. }) {
                    Mechanism::AesKeyGen
                } else {
                    Mechanism::GenericSecretKeyGen
                };
                self.with_connection("C_GenerateKey", |c| {
                    c.session()
                        .generate_key(&mechanism, &template)
                        .map_err(|e| self.call_error("C_GenerateKey", e))
                })?;
                None
            }
            GeneratedSpec::Ec(curve) => {
                let public_template = [
                    Attribute::Token(false),
                    Attribute::EcParams(curve.ec_params()),
                    Attribute::Verify(true),
                ];
                let point = self.generate_pair(
                    &Mechanism::EccKeyPairGen,
                    &public_template,
                    &template,
                    &[AttributeType::EcPoint],
                )?;
                let point = match point.into_iter().next() {
                    Some(Attribute::EcPoint(point)) => point,
                    _ => return Err(self.no_public(label, "CKA_EC_POINT")),
                };
                let point = crate::held_pair::sec1_point(&point, curve.point_len())
                    .ok_or_else(|| self.no_public(label, "a CKA_EC_POINT that is a point"))?;
                Some(GeneratedPublic::Ec(point))
            }
            GeneratedSpec::Rsa { bits } => {
                let public_template = [
                    Attribute::Token(false),
                    Attribute::ModulusBits(ulong(bits)?),
                    Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                    Attribute::Verify(true),
                    Attribute::Encrypt(true),
                ];
                let parts = self.generate_pair(
                    &Mechanism::RsaPkcsKeyPairGen,
                    &public_template,
                    &template,
                    &[AttributeType::Modulus, AttributeType::PublicExponent],
                )?;
                let (mut modulus, mut exponent) = (None, None);
                for part in parts {
                    match part {
                        Attribute::Modulus(m) => modulus = Some(m),
                        Attribute::PublicExponent(e) => exponent = Some(e),
                        _ => {}
                    }
                }
                match (modulus, exponent) {
                    (Some(modulus), Some(exponent)) => {
                        Some(GeneratedPublic::Rsa { modulus, exponent })
                    }
                    _ => return Err(self.no_public(label, "CKA_MODULUS and CKA_PUBLIC_EXPONENT")),
                }
            }
        };
        Ok(GeneratedHeld { id, public, origin })
    }

    /// C_GenerateKeyPair; returns the public key's `read` attributes and destroys the public key object.
    fn generate_pair(
        &self,
        mechanism: &Mechanism<'_>,
        public_template: &[Attribute],
        private_template: &[Attribute],
        read: &[AttributeType],
    ) -> Result<Vec<Attribute>, HsmError> {
        self.with_connection("C_GenerateKeyPair", |c| {
            let session = c.session();
            let (public, _private) = session
                .generate_key_pair(mechanism, public_template, private_template)
                .map_err(|e| self.call_error("C_GenerateKeyPair", e))?;
            let attributes = session.get_attributes(public, read);
            let _ = session.destroy_object(public);
            attributes.map_err(|e| self.call_error("C_GetAttributeValue", e))
        })
    }

    fn no_public(&self, label: &str, what: &str) -> HsmError {
        HsmError::KeyNotUsable {
            token: self.label().to_owned(),
            key_label: label.to_owned(),
            reason: format!("the generated public key has no usable {what}"),
        }
    }
}

fn ulong(value: usize) -> Result<cryptoki::types::Ulong, HsmError> {
    cryptoki::types::Ulong::try_from(value)
        .map_err(|_| HsmError::Settings(format!("{value} does not fit a CK_ULONG")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkcs11(operation: &'static str, rv: &str) -> HsmError {
        HsmError::Pkcs11 {
            token: "t".into(),
            operation,
            rv: rv.into(),
        }
    }

    #[test]
    fn only_a_refused_unwrap_falls_back_to_generation() {
        assert!(pkcs11("C_UnwrapKey", "CKR_MECHANISM_INVALID").refuses_unwrap());
        assert!(pkcs11("C_UnwrapKey", "CKR_TEMPLATE_INCONSISTENT").refuses_unwrap());
        assert!(HsmError::MechanismMissing {
            token: "t".into(),
            mechanism: "CKM_AES_KEY_WRAP_PAD",
            purpose: "importing",
        }
        .refuses_unwrap());
        // A token that is away, or another call failing, is no reason to generate instead.
        assert!(!pkcs11("C_UnwrapKey", "CKR_DEVICE_REMOVED").refuses_unwrap());
        assert!(!pkcs11("C_UnwrapKey", "CKR_SESSION_HANDLE_INVALID").refuses_unwrap());
        assert!(!pkcs11("C_Sign", "CKR_MECHANISM_INVALID").refuses_unwrap());
    }
}
