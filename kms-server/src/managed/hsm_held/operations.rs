//! The operations a held key runs inside its HSM (`hsm_bridge::HeldOperation`), with the KMIP parameter rules
//! they share with the software paths: AES-GCM (the IV drawn from the pool when the client gives none), RSA
//! OAEP / PKCS#1 v1.5 decryption, HMAC, and signatures whose digest (or DigestInfo) is computed here while the
//! private-key operation runs in the HSM.

use hsm_bridge::{HeldHash, HeldKind, HeldOperation};
use kmip::attributes::CryptographicParameters;
use kmip::enums::BlockCipherMode;
use kmip::ResultReason;

use super::{hsm_error, Held};
use crate::crypto::signature::{ecdsa_fixed_to_der, SignInput, SignatureAlgorithm};
use crate::crypto::{hash, CryptoError, HashAlgorithm, KeyPairSpec};
use crate::error::KmipError;
use crate::managed::cipher_params::{
    aead_tag_len, check_aead_encryption, checked_tag, oaep_or_pkcs1,
};
use crate::managed::entropy_error;
use crate::managed::key_codec::crypto_error;
use crate::state::RequestContext;

/// What an encryption with a held AES key produced.
#[derive(Debug)]
pub struct HeldSealed {
    pub ciphertext: Vec<u8>,
    /// The IV the server drew (none when the client gave one).
    pub drawn_iv: Option<Vec<u8>>,
    pub tag: Vec<u8>,
}

/// The IV length the server draws for AES-GCM (96 bits, NIST SP 800-38D's recommendation).
const GCM_IV_LEN: usize = 12;

impl Held {
    fn run(&self, operation: HeldOperation<'_>) -> Result<zeroize::Zeroizing<Vec<u8>>, KmipError> {
        self.hsm
            .held_operation(self.kind, &self.id, operation)
            .map_err(|e| hsm_error(&self.uid, &e))
    }

    /// Encrypt with a held key: AES-GCM inside the HSM (the only mode offered for held keys; the IV is drawn
    /// from the pool when the client gives none).
    pub fn encrypt(
        &self,
        ctx: &RequestContext<'_>,
        p: &CryptographicParameters,
        iv: Option<&[u8]>,
        aad: &[u8],
        data: &[u8],
    ) -> Result<HeldSealed, KmipError> {
        if self.kind != HeldKind::Aes {
            return Err(KmipError::invalid_field(format!(
                "{} is held in an HSM and cannot encrypt (an RSA pair encrypts with its public key)",
                self.uid
            )));
        }
        self.gcm_only(ctx.version, p)?;
        check_aead_encryption(ctx.version)?;
        let tag_len = aead_tag_len(p)?;
        let drawn = match iv {
            Some(_) => None,
            None => {
                let mut fresh = vec![0u8; GCM_IV_LEN];
                ctx.state
                    .entropy
                    .try_fill(&mut fresh)
                    .map_err(|e| entropy_error(&e))?;
                Some(fresh)
            }
        };
        let used = iv.or(drawn.as_deref()).unwrap_or_default();
        let (ciphertext, tag) = self.gcm_encrypt(used, aad, tag_len, data)?;
        Ok(HeldSealed {
            ciphertext,
            drawn_iv: drawn,
            tag,
        })
    }

    /// Decrypt with a held key: AES-GCM, or RSA OAEP / PKCS#1 v1.5, inside the HSM.
    pub fn decrypt(
        &self,
        ctx: &RequestContext<'_>,
        p: &CryptographicParameters,
        iv: Option<&[u8]>,
        aad: &[u8],
        tag: Option<&[u8]>,
        data: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, KmipError> {
        match self.kind {
            HeldKind::Aes => {
                self.gcm_only(ctx.version, p)?;
                let iv = iv.ok_or_else(|| {
                    KmipError::new(
                        ResultReason::InvalidMessage,
                        "this mode needs the IV/Counter/Nonce the data was encrypted with",
                    )
                })?;
                let tag = checked_tag(p, tag)?;
                self.gcm_decrypt(iv, aad, data, tag)
            }
            HeldKind::Rsa => {
                let oaep = oaep_or_pkcs1(ctx.version, p)?;
                self.rsa_decrypt(oaep.as_ref(), data)
            }
            HeldKind::Hmac | HeldKind::Ec => Err(KmipError::invalid_field(format!(
                "{} is not a key that can decrypt",
                self.uid
            ))),
        }
    }

    fn gcm_only(
        &self,
        version: kmip::ProtocolVersion,
        p: &CryptographicParameters,
    ) -> Result<(), KmipError> {
        match p.block_cipher_mode {
            None | Some(BlockCipherMode::Gcm) => Ok(()),
            Some(other) => Err(crate::managed::versioned(
                version,
                ResultReason::UnsupportedCryptographicParameters,
                ResultReason::FeatureNotSupported,
                format!(
                    "{} is held in an HSM, where it encrypts with AES-GCM only, not {}",
                    self.uid,
                    other.name()
                ),
            )),
        }
    }

    /// Whether the held key is an HMAC key.
    pub fn is_mac_key(&self) -> bool {
        self.kind == HeldKind::Hmac
    }

    /// AES-GCM inside the HSM: `(ciphertext, tag)`.
    pub fn gcm_encrypt(
        &self,
        iv: &[u8],
        aad: &[u8],
        tag_len: usize,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), KmipError> {
        let mut sealed = self.run(HeldOperation::AesGcmEncrypt {
            iv,
            aad,
            tag_bits: bits(tag_len),
            plaintext,
        })?;
        let split = sealed.len().saturating_sub(tag_len);
        let tag = sealed.split_off(split);
        Ok((sealed.to_vec(), tag))
    }

    /// AES-GCM decryption inside the HSM; a wrong tag is a Cryptographic Failure.
    pub fn gcm_decrypt(
        &self,
        iv: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, KmipError> {
        let mut sealed = ciphertext.to_vec();
        sealed.extend_from_slice(tag);
        self.run(HeldOperation::AesGcmDecrypt {
            iv,
            aad,
            tag_bits: bits(tag.len()),
            sealed: &sealed,
        })
    }

    /// RSA decryption inside the HSM: OAEP with these parameters, else PKCS#1 v1.5.
    pub fn rsa_decrypt(
        &self,
        oaep: Option<&crate::crypto::rsa_params::OaepParams>,
        ciphertext: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, KmipError> {
        match oaep {
            Some(oaep) => self.run(HeldOperation::RsaOaepDecrypt {
                hash: held_hash(oaep.hash),
                mgf_hash: held_hash(oaep.mgf1_hash),
                label: &oaep.label,
                ciphertext,
            }),
            None => self.run(HeldOperation::RsaPkcs1Decrypt { ciphertext }),
        }
    }

    /// HMAC inside the HSM.
    pub fn hmac(&self, hash: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, KmipError> {
        Ok(self
            .run(HeldOperation::Hmac {
                hash: held_hash(hash),
                data,
            })?
            .to_vec())
    }

    /// MAC Verify with a held HMAC key: the MAC is computed in the HSM and compared in constant time.
    pub fn hmac_verify(
        &self,
        hash: HashAlgorithm,
        data: &[u8],
        tag: &[u8],
    ) -> Result<bool, KmipError> {
        if self.kind != HeldKind::Hmac {
            return Err(KmipError::invalid_field(format!(
                "{} is not an HMAC key",
                self.uid
            )));
        }
        let expected = self.hmac(hash, data)?;
        Ok(expected.len() == tag.len()
            && bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], tag)))
    }

    /// Signs inside the HSM: the digest is computed here (or given), the private-key operation runs in the HSM.
    /// ECDSA signatures come back DER-encoded like every other ECDSA signature of the server.
    pub fn sign(
        &self,
        version: kmip::ProtocolVersion,
        spec: KeyPairSpec,
        algorithm: SignatureAlgorithm,
        salt: Option<usize>,
        input: SignInput<'_>,
    ) -> Result<Vec<u8>, KmipError> {
        let error = |e| crypto_error(version, e);
        let signature = match (algorithm, spec) {
            (SignatureAlgorithm::RsaPkcs1v15(h), KeyPairSpec::Rsa { .. }) => {
                let mut encoded = digest_info_prefix(h).to_vec();
                encoded.extend(digest_of(input, h).map_err(error)?);
                self.run(HeldOperation::RsaPkcs1Sign { encoded: &encoded })?
            }
            (SignatureAlgorithm::RsaPkcs1v15Unprefixed, KeyPairSpec::Rsa { .. }) => match input {
                SignInput::Digest(encoded) if !encoded.is_empty() => {
                    self.run(HeldOperation::RsaPkcs1Sign { encoded })?
                }
                _ => {
                    return Err(error(CryptoError::InvalidInput(
                        "PKCS#1 v1.5 without a hash signs a non-empty Digested Data".into(),
                    )))
                }
            },
            (SignatureAlgorithm::RsaPss(h), KeyPairSpec::Rsa { .. }) => {
                let digest = digest_of(input, h).map_err(error)?;
                self.run(HeldOperation::RsaPssSign {
                    hash: held_hash(h),
                    salt_len: salt.unwrap_or(h.output_len()),
                    digest: &digest,
                })?
            }
            (SignatureAlgorithm::Ecdsa(h), KeyPairSpec::Ec(curve)) => {
                let digest = digest_of(input, h).map_err(error)?;
                let fixed = self.run(HeldOperation::EcdsaSign { digest: &digest })?;
                return ecdsa_fixed_to_der(curve, &fixed).map_err(error);
            }
            (algorithm, spec) => {
                return Err(error(CryptoError::InvalidKey(format!(
                    "{algorithm:?} cannot use a {spec:?} key held in an HSM"
                ))))
            }
        };
        Ok(signature.to_vec())
    }
}

fn bits(tag_len: usize) -> u32 {
    u32::try_from(tag_len * 8).unwrap_or(128)
}

fn held_hash(hash: HashAlgorithm) -> HeldHash {
    match hash {
        HashAlgorithm::Sha1 => HeldHash::Sha1,
        HashAlgorithm::Sha224 => HeldHash::Sha224,
        HashAlgorithm::Sha256 => HeldHash::Sha256,
        HashAlgorithm::Sha384 => HeldHash::Sha384,
        HashAlgorithm::Sha512 => HeldHash::Sha512,
    }
}

fn digest_of(input: SignInput<'_>, algorithm: HashAlgorithm) -> Result<Vec<u8>, CryptoError> {
    match input {
        SignInput::Data(data) => Ok(hash::digest(algorithm, data)),
        SignInput::Digest(digest) if digest.len() == algorithm.output_len() => Ok(digest.to_vec()),
        SignInput::Digest(digest) => Err(CryptoError::InvalidInput(format!(
            "a {algorithm:?} digest is {} bytes, got {}",
            algorithm.output_len(),
            digest.len()
        ))),
    }
}

/// The DER DigestInfo prefix of RSASSA-PKCS1-v1_5 (RFC 8017 §9.2 note 1).
fn digest_info_prefix(algorithm: HashAlgorithm) -> &'static [u8] {
    match algorithm {
        HashAlgorithm::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        HashAlgorithm::Sha224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x04, 0x05, 0x00, 0x04, 0x1c,
        ],
        HashAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_info_prefixes_announce_their_digest_lengths() {
        for algorithm in [
            HashAlgorithm::Sha1,
            HashAlgorithm::Sha224,
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            let prefix = digest_info_prefix(algorithm);
            // SEQUENCE length covers the rest; the final OCTET STRING length is the digest's.
            assert_eq!(
                usize::from(prefix[1]),
                prefix.len() - 2 + algorithm.output_len()
            );
            assert_eq!(
                usize::from(prefix[prefix.len() - 1]),
                algorithm.output_len()
            );
        }
    }

    #[test]
    fn a_given_digest_must_have_the_hash_length() {
        assert!(digest_of(SignInput::Digest(&[0; 31]), HashAlgorithm::Sha256).is_err());
        assert_eq!(
            digest_of(SignInput::Digest(&[1; 32]), HashAlgorithm::Sha256).unwrap(),
            vec![1; 32]
        );
        assert_eq!(
            digest_of(SignInput::Data(b"abc"), HashAlgorithm::Sha1)
                .unwrap()
                .len(),
            20
        );
    }
}
