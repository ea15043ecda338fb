//! Sign and verify with keys held by the server: C_SignInit/C_Sign(Update/Final) and C_VerifyInit/C_Verify
//! (Update/Final) map to KMIP Sign / Signature Verify. Parts are gathered here and sent in one request at the
//! end, so an abandoned operation leaves nothing open on the server.

use std::sync::Arc;

use cryptoki_sys::*;
use kmip::attributes::CryptographicParameters;
use kmip::enums::{
    CryptographicAlgorithm, DigitalSignatureAlgorithm, HashingAlgorithm, PaddingMethod,
};
use kmip::payloads::*;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::key_codec;
use crate::library::Library;
use crate::objects::Entry;
use crate::ops::{unexpected, view};

/// The signature mechanisms this module performs.
pub const SIGNATURE_MECHANISMS: &[CK_MECHANISM_TYPE] = &[
    CKM_RSA_PKCS,
    CKM_SHA256_RSA_PKCS,
    CKM_ECDSA,
    CKM_ECDSA_SHA256,
];

/// DigestInfo prefixes (RFC 8017 §9.2 note 1) of the hashes CKM_RSA_PKCS input may carry.
const DIGEST_INFO_PREFIXES: &[(HashingAlgorithm, &[u8])] = &[
    (
        HashingAlgorithm::Sha1,
        &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
    ),
    (
        HashingAlgorithm::Sha224,
        &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x04, 0x05, 0x00, 0x04, 0x1c,
        ],
    ),
    (
        HashingAlgorithm::Sha256,
        &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
    ),
    (
        HashingAlgorithm::Sha384,
        &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
    ),
    (
        HashingAlgorithm::Sha512,
        &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    ),
];

/// One active sign or verify operation of a session.
#[derive(Debug)]
pub struct SignatureOperation {
    mechanism: CK_MECHANISM_TYPE,
    key: Arc<Entry>,
    /// Bytes of r (and of s) for ECDSA keys: PKCS#11 signatures are r||s of this size each.
    ec_field_len: Option<usize>,
    /// The data gathered by C_SignUpdate / C_VerifyUpdate.
    data: Zeroizing<Vec<u8>>,
    /// A signature computed for a length probe, with the data it signs: the following call returns it.
    pending: Option<(Zeroizing<Vec<u8>>, Vec<u8>)>,
}

impl SignatureOperation {
    /// C_SignInit / C_VerifyInit: checks the mechanism against the key (private for `sign`, public otherwise).
    pub fn new(
        library: &Library,
        key: Arc<Entry>,
        mechanism: CK_MECHANISM_TYPE,
        sign: bool,
    ) -> Result<Self> {
        let view = view(library, &key)?;
        let wanted_class = if sign {
            CKO_PRIVATE_KEY
        } else {
            CKO_PUBLIC_KEY
        };
        if view.class != wanted_class {
            return fail(
                CKR_KEY_TYPE_INCONSISTENT,
                "signing takes a private key, verifying a public key",
            );
        }
        let algorithm = view.attributes.cryptographic_algorithm();
        let is_ec = matches!(
            algorithm,
            Some(CryptographicAlgorithm::Ec | CryptographicAlgorithm::Ecdsa)
        );
        let ec_field_len =
            match mechanism {
                CKM_RSA_PKCS | CKM_SHA256_RSA_PKCS
                    if algorithm == Some(CryptographicAlgorithm::Rsa) =>
                {
                    None
                }
                CKM_ECDSA | CKM_ECDSA_SHA256 if is_ec => {
                    let bits = view.attributes.cryptographic_length().unwrap_or(0);
                    if key_codec::ec_params_for_bits(bits).is_none() {
                        return fail(CKR_KEY_TYPE_INCONSISTENT, "EC keys are P-256 or P-384");
                    }
                    Some(bits as usize / 8)
                }
                CKM_RSA_PKCS | CKM_SHA256_RSA_PKCS | CKM_ECDSA | CKM_ECDSA_SHA256 => {
                    return fail(
                        CKR_KEY_TYPE_INCONSISTENT,
                        "the mechanism does not fit the key type",
                    )
                }
                _ => return fail(
                    CKR_MECHANISM_INVALID,
                    "signatures: CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS, CKM_ECDSA, CKM_ECDSA_SHA256",
                ),
            };
        Ok(Self {
            mechanism,
            key,
            ec_field_len,
            data: Zeroizing::new(Vec::new()),
            pending: None,
        })
    }

    /// C_SignUpdate / C_VerifyUpdate. The raw mechanisms sign one digest, so they take no parts.
    pub fn update(&mut self, part: &[u8]) -> Result<()> {
        if matches!(self.mechanism, CKM_RSA_PKCS | CKM_ECDSA) {
            return fail(
                CKR_FUNCTION_NOT_SUPPORTED,
                "CKM_RSA_PKCS and CKM_ECDSA sign a digest in one call",
            );
        }
        self.data.extend_from_slice(part);
        Ok(())
    }

    /// The gathered data (after C_SignUpdate) followed by `data`.
    pub fn take_data(&mut self, data: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut all = std::mem::take(&mut self.data);
        all.extend_from_slice(data);
        all
    }

    /// The signature of `data`: the one a length probe computed for the same data, or a new one.
    pub fn sign(&mut self, library: &Library, data: &[u8]) -> Result<Vec<u8>> {
        if let Some((signed, signature)) = self.pending.take() {
            if signed.as_slice() == data {
                return Ok(signature);
            }
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
    pub fn verify(&self, library: &Library, data: &[u8], signature: &[u8]) -> Result<()> {
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
        Ok(match self.mechanism {
            CKM_SHA256_RSA_PKCS => {
                p.digital_signature_algorithm =
                    Some(DigitalSignatureAlgorithm::Sha256WithRsaEncryption);
                (p, Some(input.to_vec()), None)
            }
            CKM_ECDSA_SHA256 => {
                p.digital_signature_algorithm = Some(DigitalSignatureAlgorithm::EcdsaWithSha256);
                (p, Some(input.to_vec()), None)
            }
            CKM_RSA_PKCS => {
                let (hash, digest) = DIGEST_INFO_PREFIXES
                    .iter()
                    .find_map(|(hash, prefix)| {
                        input
                            .strip_prefix(*prefix)
                            .filter(|d| d.len() == usize::from(prefix[prefix.len() - 1]))
                            .map(|d| (*hash, d))
                    })
                    .ok_or(Pkcs11Error::rv(
                        CKR_DATA_INVALID,
                        "CKM_RSA_PKCS here signs a DigestInfo of SHA-1/224/256/384/512",
                    ))?;
                p.cryptographic_algorithm = Some(CryptographicAlgorithm::Rsa);
                p.padding_method = Some(PaddingMethod::Pkcs1v1_5);
                p.hashing_algorithm = Some(hash);
                (p, None, Some(digest.to_vec()))
            }
            _ => {
                // CKM_ECDSA: a digest the caller computed; its length names the hash.
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
        })
    }
}
