//! Sign and verify with keys held by the server: C_SignInit/C_Sign(Update/Final) and C_VerifyInit/C_Verify
//! (Update/Final) map to KMIP Sign / Signature Verify. Parts are gathered here and sent in one request at the
//! end, so an abandoned operation leaves nothing open on the server.

use std::sync::Arc;

use cryptoki_sys::*;
use kmip::attributes::{CryptographicParameters, CryptographicUsageMask as Usage};
use kmip::enums::{CryptographicAlgorithm, HashingAlgorithm, PaddingMethod};
use kmip::payloads::*;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::library::Library;
use crate::mechanism_params::Mechanism;
use crate::objects::Entry;
use crate::ops::{unexpected, view};
pub use crate::signature_scheme::SIGNATURE_MECHANISMS;
use crate::signature_scheme::{scheme, Scheme, DIGEST_INFO_PREFIXES};
use crate::{key_codec, mac};

/// One active sign or verify operation of a session.
#[derive(Debug)]
pub struct SignatureOperation {
    scheme: Scheme,
    key: Arc<Entry>,
    /// Bytes of r (and of s) for ECDSA keys: PKCS#11 signatures are r||s of this size each.
    ec_field_len: Option<usize>,
    /// The data gathered by C_SignUpdate / C_VerifyUpdate.
    data: Zeroizing<Vec<u8>>,
    /// A signature computed for a length probe, with the data it signs: the following call returns it.
    pending: Option<(Zeroizing<Vec<u8>>, Vec<u8>)>,
    /// The length every signature of this key and mechanism has (the modulus, 2 x the field, the HMAC).
    signature_len: usize,
    /// Set by C_SignUpdate / C_VerifyUpdate: only C_SignFinal / C_VerifyFinal may end the operation now.
    multi_part: bool,
}

impl SignatureOperation {
    /// C_SignInit / C_VerifyInit: checks the mechanism and its parameters against the key (private for `sign`,
    /// public otherwise; a secret key for HMAC).
    pub fn new(
        library: &Library,
        key: Arc<Entry>,
        mechanism: &Mechanism,
        sign: bool,
    ) -> Result<Self> {
        let view = view(library, &key)?;
        let algorithm = view.attributes.cryptographic_algorithm();
        let bits = view.attributes.cryptographic_length().unwrap_or(0);
        let scheme = scheme(mechanism, bits)?;
        let is_ec = matches!(
            algorithm,
            Some(CryptographicAlgorithm::Ec | CryptographicAlgorithm::Ecdsa)
        );
        let (fits, wanted_class) = match scheme {
            Scheme::Hmac => (
                algorithm == Some(CryptographicAlgorithm::HmacSha256),
                CKO_SECRET_KEY,
            ),
            Scheme::EcdsaDigest | Scheme::Ecdsa(_) => (is_ec, key_class(sign)),
            _ => (
                algorithm == Some(CryptographicAlgorithm::Rsa),
                key_class(sign),
            ),
        };
        if view.class != wanted_class || !fits {
            return fail(
                CKR_KEY_TYPE_INCONSISTENT,
                "the mechanism does not fit the key (RSA/EC: private to sign, public to verify; HMAC: a SHA256-HMAC secret key)",
            );
        }
        let ec_field_len = if is_ec {
            if key_codec::ec_params_for_bits(bits).is_none() {
                return fail(CKR_KEY_TYPE_INCONSISTENT, "EC keys are P-256 or P-384");
            }
            Some(bits as usize / 8)
        } else {
            None
        };
        // CKA_SIGN / CKA_VERIFY are the usage mask's Sign / Verify bits (HMAC keys carry the MAC bits too).
        let wanted = if sign { Usage::SIGN } else { Usage::VERIFY };
        if view
            .attributes
            .cryptographic_usage_mask()
            .is_some_and(|mask| !mask.contains(wanted))
        {
            return fail(
                CKR_KEY_FUNCTION_NOT_PERMITTED,
                "the key's CKA_SIGN / CKA_VERIFY does not allow this",
            );
        }
        let signature_len = match (scheme, ec_field_len) {
            (Scheme::Hmac, _) => 32,
            (_, Some(field)) => 2 * field,
            _ => usize::try_from(bits).unwrap_or(0).div_ceil(8),
        };
        Ok(Self {
            scheme,
            key,
            ec_field_len,
            data: Zeroizing::new(Vec::new()),
            pending: None,
            signature_len,
            multi_part: false,
        })
    }

    /// C_Sign / C_Verify's check: CKR_OPERATION_ACTIVE once parts were given, since a multi-part operation ends
    /// with C_SignFinal / C_VerifyFinal (PKCS#11 v3.0 §5.12, §5.14), not with the one-shot call.
    pub fn require_single_part(&self) -> Result<()> {
        if self.multi_part {
            fail(
                CKR_OPERATION_ACTIVE,
                "C_Sign / C_Verify after C_SignUpdate / C_VerifyUpdate: the operation ends with its Final call",
            )
        } else {
            Ok(())
        }
    }

    /// C_SignUpdate / C_VerifyUpdate. The raw mechanisms sign one digest, so they take no parts.
    pub fn update(&mut self, part: &[u8]) -> Result<()> {
        if self.scheme.single_part() {
            return fail(
                CKR_FUNCTION_NOT_SUPPORTED,
                "CKM_RSA_PKCS, CKM_RSA_PKCS_PSS and CKM_ECDSA sign a digest in one call",
            );
        }
        self.multi_part = true;
        self.data.extend_from_slice(part);
        Ok(())
    }

    /// The gathered data (after C_SignUpdate) followed by `data`.
    pub fn take_data(&mut self, data: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut all = std::mem::take(&mut self.data);
        all.extend_from_slice(data);
        all
    }

    /// Puts gathered data back after a C_SignFinal length probe, so the C_SignFinal that follows signs the same
    /// data (and finds the probe's signature for it) rather than an empty message.
    pub fn restore_data(&mut self, data: Zeroizing<Vec<u8>>) {
        self.data = data;
    }

    /// The signature of `data`: the one a length probe computed for the same data, or a new one.
    pub fn sign(&mut self, library: &Library, data: &[u8]) -> Result<Vec<u8>> {
        if let Some((signed, signature)) = self.pending.take() {
            if signed.as_slice() == data {
                return Ok(signature);
            }
        }
        if self.scheme == Scheme::Hmac {
            return mac::mac(library, &self.key, data);
        }
        let (parameters, data, digested) = self.request_parts(data)?;
        let request = SignRequest {
            unique_identifier: Some(self.key.uid.clone()),
            cryptographic_parameters: Some(parameters),
            data,
            digested_data: digested,
            ..Default::default()
        };
        let signature = match library.tokens[self.key.token].link()?.call(request)? {
            ResponsePayload::Sign(response) => response
                .signature_data
                .ok_or(Pkcs11Error::Unexpected("Sign returned no signature".into()))?,
            other => return Err(unexpected(other)),
        };
        match self.ec_field_len {
            Some(len) => key_codec::ecdsa_der_to_raw(&signature, len),
            None => Ok(signature),
        }
    }

    /// Keeps `signature` of `data` for the call that follows a length probe.
    pub fn keep(&mut self, data: &[u8], signature: Vec<u8>) {
        self.pending = Some((Zeroizing::new(data.to_vec()), signature));
    }

    /// CKR_OK if `signature` is valid for `data`, CKR_SIGNATURE_INVALID otherwise.
    /// CKR_SIGNATURE_LEN_RANGE when the signature's length alone shows it cannot be valid.
    pub fn verify(&self, library: &Library, data: &[u8], signature: &[u8]) -> Result<()> {
        if signature.len() != self.signature_len {
            return fail(
                CKR_SIGNATURE_LEN_RANGE,
                "the signature's length is not this key's and mechanism's",
            );
        }
        if self.scheme == Scheme::Hmac {
            return mac::verify(library, &self.key, data, signature);
        }
        let signature = match self.ec_field_len {
            Some(len) => key_codec::ecdsa_raw_to_der(signature, len)?,
            None => signature.to_vec(),
        };
        let (parameters, data, digested) = self.request_parts(data)?;
        let request = SignatureVerifyRequest {
            unique_identifier: Some(self.key.uid.clone()),
            cryptographic_parameters: Some(parameters),
            data,
            digested_data: digested,
            signature_data: Some(signature),
            ..Default::default()
        };
        match library.tokens[self.key.token].link()?.call(request)? {
            ResponsePayload::SignatureVerify(response) => {
                match response.validity_indicator.map(|v| v.0) {
                    Some(validity::VALID) => Ok(()),
                    _ => fail(CKR_SIGNATURE_INVALID, "the signature does not verify"),
                }
            }
            other => Err(unexpected(other)),
        }
    }

    /// The KMIP parameters, data and digested data for this mechanism and input.
    #[allow(clippy::type_complexity)]
    fn request_parts(
        &self,
        input: &[u8],
    ) -> Result<(CryptographicParameters, Option<Vec<u8>>, Option<Vec<u8>>)> {
        let mut p = CryptographicParameters::default();
        Ok(match self.scheme {
            Scheme::RsaPkcs1(algorithm) | Scheme::Ecdsa(algorithm) => {
                p.digital_signature_algorithm = Some(algorithm);
                (p, Some(input.to_vec()), None)
            }
            Scheme::Pss {
                hash,
                digest_len,
                salt_len,
                prehashed,
            } => {
                p.cryptographic_algorithm = Some(CryptographicAlgorithm::Rsa);
                p.padding_method = Some(PaddingMethod::Pss);
                p.hashing_algorithm = Some(hash);
                p.salt_length = Some(salt_len);
                if !prehashed {
                    (p, Some(input.to_vec()), None)
                } else if input.len() == digest_len {
                    (p, None, Some(input.to_vec()))
                } else {
                    return fail(
                        CKR_DATA_LEN_RANGE,
                        "CKM_RSA_PKCS_PSS signs a digest of the hashAlg's length",
                    );
                }
            }
            Scheme::RsaPkcs { max_len } => {
                if input.is_empty() || input.len() > max_len {
                    return fail(
                        CKR_DATA_LEN_RANGE,
                        "CKM_RSA_PKCS signs 1 to k - 11 bytes (k: the modulus length in bytes)",
                    );
                }
                p.cryptographic_algorithm = Some(CryptographicAlgorithm::Rsa);
                p.padding_method = Some(PaddingMethod::Pkcs1v1_5);
                // A DigestInfo names its hash, which the server then checks against the digest's length; any
                // other input goes with no hash, which the server signs as given (no DigestInfo added).
                let digest_info = DIGEST_INFO_PREFIXES.iter().find_map(|(hash, prefix)| {
                    input
                        .strip_prefix(*prefix)
                        .filter(|d| d.len() == usize::from(prefix[prefix.len() - 1]))
                        .map(|d| (*hash, d))
                });
                match digest_info {
                    Some((hash, digest)) => {
                        p.hashing_algorithm = Some(hash);
                        (p, None, Some(digest.to_vec()))
                    }
                    None => (p, None, Some(input.to_vec())),
                }
            }
            Scheme::EcdsaDigest => {
                // A digest the caller computed; its length names the hash.
                let hash = match input.len() {
                    20 => HashingAlgorithm::Sha1,
                    28 => HashingAlgorithm::Sha224,
                    32 => HashingAlgorithm::Sha256,
                    48 => HashingAlgorithm::Sha384,
                    64 => HashingAlgorithm::Sha512,
                    _ => {
                        return fail(
                            CKR_DATA_LEN_RANGE,
                            "CKM_ECDSA signs a SHA-1/224/256/384/512 digest",
                        )
                    }
                };
                p.cryptographic_algorithm = Some(CryptographicAlgorithm::Ec);
                p.hashing_algorithm = Some(hash);
                (p, None, Some(input.to_vec()))
            }
            Scheme::Hmac => {
                return Err(Pkcs11Error::Unexpected(
                    "HMAC goes through KMIP MAC, not Sign".into(),
                ))
            }
        })
    }
}

fn key_class(sign: bool) -> CK_OBJECT_CLASS {
    if sign {
        CKO_PRIVATE_KEY
    } else {
        CKO_PUBLIC_KEY
    }
}
