//! C_Encrypt* / C_Decrypt*: AES-ECB, AES-CBC, AES-CBC-PAD, AES-GCM, RSA-OAEP and RSA PKCS#1 v1.5 over KMIP
//! Encrypt / Decrypt.
//!
//! Block modes stream: each part's whole blocks go to the server at once (no padding), CBC chaining carried
//! here as the IV of the next request, and PKCS#7 padding applied on the last block only; a decryption holds
//! back its last block until C_DecryptFinal, since it may carry the padding. GCM and the RSA modes gather all
//! input and produce their output at the end (a GCM plaintext must not be released before its tag is checked).

use std::sync::Arc;

use cryptoki_sys::*;
use kmip::attributes::{CryptographicParameters, CryptographicUsageMask as Usage};
use kmip::enums::{BlockCipherMode, CryptographicAlgorithm, HashingAlgorithm, PaddingMethod};
use kmip::payloads::*;
use kmip::ResultReason;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::library::Library;
use crate::mechanism_params::{hash_of, Mechanism, Params};
use crate::objects::Entry;
use crate::ops::{unexpected, view};

mod rsa;

const BLOCK: usize = 16;

/// The encryption and decryption mechanisms this module performs.
pub const CIPHER_MECHANISMS: &[CK_MECHANISM_TYPE] = &[
    CKM_AES_ECB,
    CKM_AES_CBC,
    CKM_AES_CBC_PAD,
    CKM_AES_GCM,
    CKM_RSA_PKCS_OAEP,
    CKM_RSA_PKCS,
];

#[derive(Debug)]
enum Mode {
    Ecb,
    Cbc {
        pad: bool,
    },
    Gcm {
        iv: Vec<u8>,
        aad: Vec<u8>,
        tag_len: usize,
    },
    Oaep {
        hash: HashingAlgorithm,
        mgf1: HashingAlgorithm,
        hash_len: usize,
        label: Vec<u8>,
        modulus_len: usize,
    },
    /// CKM_RSA_PKCS: RSAES-PKCS1-v1_5.
    RsaPkcs {
        modulus_len: usize,
    },
}

/// One active encryption or decryption of a session.
#[derive(Debug)]
pub struct CipherOperation {
    mode: Mode,
    key: Arc<Entry>,
    encrypt: bool,
    /// CBC: the IV of the next request (the last ciphertext block so far).
    chain: Zeroizing<Vec<u8>>,
    /// Input not yet sent: a partial block, a held-back last block, or everything (GCM, OAEP).
    buffer: Zeroizing<Vec<u8>>,
    /// Output produced for a call whose buffer was too small.
    pending: Option<Pending>,
    /// Set once C_EncryptUpdate / C_DecryptUpdate gave a part: C_Encrypt / C_Decrypt may no longer end it.
    multi_part: bool,
}

/// What a call with a short buffer computed, kept for the call that repeats it.
#[derive(Debug)]
struct Pending {
    input: Zeroizing<Vec<u8>>,
    last: bool,
    output: Zeroizing<Vec<u8>>,
}

impl CipherOperation {
    /// C_EncryptInit / C_DecryptInit.
    pub fn new(
        library: &Library,
        key: Arc<Entry>,
        mechanism: &Mechanism,
        encrypt: bool,
    ) -> Result<Self> {
        let view = view(library, &key)?;
        let algorithm = view.attributes.cryptographic_algorithm();
        let bits = view.attributes.cryptographic_length().unwrap_or(0);
        let mut chain = Zeroizing::new(Vec::new());
        let (mode, class, key_algorithm) = match (&mechanism.kind, &mechanism.params) {
            (&CKM_AES_ECB, Params::None) => {
                (Mode::Ecb, CKO_SECRET_KEY, CryptographicAlgorithm::Aes)
            }
            (&(CKM_AES_CBC | CKM_AES_CBC_PAD), Params::Iv(iv)) => {
                if iv.len() != BLOCK {
                    return fail(CKR_MECHANISM_PARAM_INVALID, "the AES-CBC IV is 16 bytes");
                }
                chain = iv.clone();
                let pad = mechanism.kind == CKM_AES_CBC_PAD;
                (
                    Mode::Cbc { pad },
                    CKO_SECRET_KEY,
                    CryptographicAlgorithm::Aes,
                )
            }
            (&CKM_AES_GCM, Params::Gcm { iv, aad, tag_bits }) => {
                if iv.is_empty() || iv.len() > 256 {
                    return fail(CKR_MECHANISM_PARAM_INVALID, "the GCM IV is 1 to 256 bytes");
                }
                if !matches!(tag_bits, 96 | 104 | 112 | 120 | 128) {
                    return fail(CKR_MECHANISM_PARAM_INVALID, "GCM tags are 96 to 128 bits");
                }
                let mode = Mode::Gcm {
                    iv: iv.clone(),
                    aad: aad.clone(),
                    tag_len: *tag_bits as usize / 8,
                };
                (mode, CKO_SECRET_KEY, CryptographicAlgorithm::Aes)
            }
            (&CKM_RSA_PKCS_OAEP, Params::Oaep { hash, mgf, label }) => {
                let (hash_kmip, hash_len) = hash_of(*hash)?;
                let mgf1 = match *mgf {
                    CKG_MGF1_SHA1 => CKM_SHA_1,
                    CKG_MGF1_SHA224 => CKM_SHA224,
                    CKG_MGF1_SHA256 => CKM_SHA256,
                    CKG_MGF1_SHA384 => CKM_SHA384,
                    CKG_MGF1_SHA512 => CKM_SHA512,
                    _ => return fail(CKR_MECHANISM_PARAM_INVALID, "OAEP uses an MGF1 generator"),
                };
                let mode = Mode::Oaep {
                    hash: hash_kmip,
                    mgf1: hash_of(mgf1)?.0,
                    hash_len,
                    label: label.clone(),
                    modulus_len: usize::try_from(bits).unwrap_or(0) / 8,
                };
                let class = if encrypt {
                    CKO_PUBLIC_KEY
                } else {
                    CKO_PRIVATE_KEY
                };
                (mode, class, CryptographicAlgorithm::Rsa)
            }
            (&CKM_RSA_PKCS, Params::None) => {
                let mode = Mode::RsaPkcs {
                    modulus_len: usize::try_from(bits).unwrap_or(0).div_ceil(8),
                };
                let class = if encrypt {
                    CKO_PUBLIC_KEY
                } else {
                    CKO_PRIVATE_KEY
                };
                (mode, class, CryptographicAlgorithm::Rsa)
            }
            (
                &(CKM_AES_ECB
                | CKM_AES_CBC
                | CKM_AES_CBC_PAD
                | CKM_AES_GCM
                | CKM_RSA_PKCS_OAEP
                | CKM_RSA_PKCS),
                _,
            ) => {
                return fail(
                    CKR_MECHANISM_PARAM_INVALID,
                    "the mechanism parameter is missing or wrong",
                )
            }
            _ => {
                return fail(
                    CKR_MECHANISM_INVALID,
                    "ciphers: CKM_AES_ECB, CKM_AES_CBC(_PAD), CKM_AES_GCM, CKM_RSA_PKCS_OAEP, CKM_RSA_PKCS",
                )
            }
        };
        if view.class != class || algorithm != Some(key_algorithm) {
            return fail(
                CKR_KEY_TYPE_INCONSISTENT,
                "AES modes take an AES key; RSA modes a public key to encrypt, a private key to decrypt",
            );
        }
        let wanted = if encrypt {
            Usage::ENCRYPT
        } else {
            Usage::DECRYPT
        };
        if view
            .attributes
            .cryptographic_usage_mask()
            .is_some_and(|mask| !mask.contains(wanted))
        {
            return fail(
                CKR_KEY_FUNCTION_NOT_PERMITTED,
                "the key's CKA_ENCRYPT / CKA_DECRYPT does not allow this",
            );
        }
        Ok(Self {
            mode,
            key,
            encrypt,
            chain,
            buffer: Zeroizing::new(Vec::new()),
            pending: None,
            multi_part: false,
        })
    }

    /// C_Encrypt / C_Decrypt's check: CKR_OPERATION_ACTIVE once parts were given (PKCS#11 v3.0 §5.8: a
    /// multi-part operation ends with its Final call).
    pub fn require_single_part(&self) -> Result<()> {
        if self.multi_part {
            fail(
                CKR_OPERATION_ACTIVE,
                "C_Encrypt / C_Decrypt after an Update: the operation ends with its Final call",
            )
        } else {
            Ok(())
        }
    }

    /// Enough room for the output of `input` (the final output when `last`), asked without a round trip.
    pub fn output_bound(&self, input_len: usize, last: bool) -> usize {
        let total = self.buffer.len() + input_len;
        match &self.mode {
            Mode::Ecb | Mode::Cbc { pad: false } => total - total % BLOCK,
            Mode::Cbc { pad: true } if self.encrypt => {
                if last {
                    total - total % BLOCK + BLOCK
                } else {
                    total - total % BLOCK
                }
            }
            Mode::Cbc { pad: true } => {
                if last {
                    total
                } else {
                    (total - total % BLOCK).saturating_sub(BLOCK)
                }
            }
            Mode::Gcm { tag_len, .. } if last => {
                if self.encrypt {
                    total + tag_len
                } else {
                    total.saturating_sub(*tag_len)
                }
            }
            Mode::Oaep { modulus_len, .. } | Mode::RsaPkcs { modulus_len } if last => *modulus_len,
            Mode::Gcm { .. } | Mode::Oaep { .. } | Mode::RsaPkcs { .. } => 0,
        }
    }

    /// Processes `input` (the rest of the data when `last`): the output, or the output a previous call with the
    /// same input computed but could not deliver.
    pub fn process(
        &mut self,
        library: &Library,
        input: &[u8],
        last: bool,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if let Some(kept) = self.pending.take() {
            if kept.input.as_slice() == input && kept.last == last {
                return Ok(kept.output);
            }
            return fail(
                CKR_OPERATION_ACTIVE,
                "the call after a short buffer must repeat the same input",
            );
        }
        if !last {
            self.multi_part = true;
        }
        self.buffer.extend_from_slice(input);
        match &self.mode {
            Mode::Ecb | Mode::Cbc { .. } => self.block_step(library, last),
            Mode::Gcm { .. } | Mode::Oaep { .. } | Mode::RsaPkcs { .. } if !last => {
                Ok(Zeroizing::new(Vec::new()))
            }
            Mode::Gcm { .. } => self.gcm(library),
            Mode::Oaep { .. } => self.oaep(library),
            Mode::RsaPkcs { modulus_len } => self.rsa_pkcs(library, *modulus_len),
        }
    }

    /// Keeps `output` of the call with `input` for the call that repeats it with a larger buffer.
    pub fn keep(&mut self, input: &[u8], last: bool, output: Zeroizing<Vec<u8>>) {
        self.pending = Some(Pending {
            input: Zeroizing::new(input.to_vec()),
            last,
            output,
        });
    }

    fn length_error(&self) -> Pkcs11Error {
        if self.encrypt {
            Pkcs11Error::rv(
                CKR_DATA_LEN_RANGE,
                "the data is not a whole number of AES blocks",
            )
        } else {
            Pkcs11Error::rv(
                CKR_ENCRYPTED_DATA_LEN_RANGE,
                "the ciphertext is not a whole number of AES blocks",
            )
        }
    }

    fn block_step(&mut self, library: &Library, last: bool) -> Result<Zeroizing<Vec<u8>>> {
        let pad = matches!(self.mode, Mode::Cbc { pad: true });
        let whole = self.buffer.len() - self.buffer.len() % BLOCK;
        // What goes to the server now, and whether it carries the padding.
        let (take, padded) = match (pad, self.encrypt, last) {
            (false, _, true) if whole != self.buffer.len() => return Err(self.length_error()),
            (true, false, true) if whole != self.buffer.len() || whole == 0 => {
                return Err(self.length_error())
            }
            (_, _, false) if pad && !self.encrypt => (whole.saturating_sub(BLOCK), false),
            (_, _, false) => (whole, false),
            (true, _, true) => (self.buffer.len(), true),
            (false, _, true) => (whole, false),
        };
        if take == 0 && !padded {
            return Ok(Zeroizing::new(Vec::new()));
        }
        let input: Zeroizing<Vec<u8>> = Zeroizing::new(self.buffer[..take].to_vec());
        let mut p = CryptographicParameters {
            cryptographic_algorithm: Some(CryptographicAlgorithm::Aes),
            padding_method: Some(if padded {
                PaddingMethod::Pkcs5
            } else {
                PaddingMethod::None
            }),
            ..Default::default()
        };
        let iv = match self.mode {
            Mode::Ecb => {
                p.block_cipher_mode = Some(BlockCipherMode::Ecb);
                None
            }
            _ => {
                p.block_cipher_mode = Some(BlockCipherMode::Cbc);
                Some(self.chain.to_vec())
            }
        };
        let output = self.call(library, p, &input, iv, None, None)?;
        if matches!(self.mode, Mode::Cbc { .. }) {
            let ciphertext: &[u8] = if self.encrypt { &output } else { &input };
            if ciphertext.len() >= BLOCK {
                self.chain = Zeroizing::new(ciphertext[ciphertext.len() - BLOCK..].to_vec());
            }
        }
        self.buffer.drain(..take);
        Ok(output)
    }

    fn gcm(&mut self, library: &Library) -> Result<Zeroizing<Vec<u8>>> {
        let Mode::Gcm { iv, aad, tag_len } = &self.mode else {
            return Err(Pkcs11Error::Unexpected("not a GCM operation".into()));
        };
        let p = CryptographicParameters {
            cryptographic_algorithm: Some(CryptographicAlgorithm::Aes),
            block_cipher_mode: Some(BlockCipherMode::Gcm),
            tag_length: Some(*tag_len as i32),
            ..Default::default()
        };
        let data = std::mem::take(&mut self.buffer);
        if self.encrypt {
            return self.call(library, p, &data, Some(iv.clone()), Some(aad.clone()), None);
        }
        if data.len() < *tag_len {
            return fail(
                CKR_ENCRYPTED_DATA_LEN_RANGE,
                "a GCM ciphertext ends with its tag",
            );
        }
        let (ciphertext, tag) = data.split_at(data.len() - tag_len);
        let tag = tag.to_vec();
        self.call(
            library,
            p,
            ciphertext,
            Some(iv.clone()),
            Some(aad.clone()),
            Some(tag),
        )
    }

    /// One KMIP Encrypt or Decrypt.
    pub(super) fn call(
        &self,
        library: &Library,
        p: CryptographicParameters,
        data: &[u8],
        iv: Option<Vec<u8>>,
        aad: Option<Vec<u8>>,
        tag: Option<Vec<u8>>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let link = library.tokens[self.key.token].link()?;
        if self.encrypt {
            let request = EncryptRequest {
                unique_identifier: Some(self.key.uid.clone()),
                cryptographic_parameters: Some(p),
                data: Some(data.into()),
                iv_counter_nonce: iv,
                authenticated_encryption_additional_data: aad,
                ..Default::default()
            };
            match link.call(request)? {
                ResponsePayload::Encrypt(response) => {
                    let mut out = response.data.unwrap_or_default();
                    out.extend(response.authenticated_encryption_tag.unwrap_or_default());
                    Ok(Zeroizing::new(out))
                }
                other => Err(unexpected(other)),
            }
        } else {
            let request = DecryptRequest {
                unique_identifier: Some(self.key.uid.clone()),
                cryptographic_parameters: Some(p),
                data: Some(data.to_vec()),
                iv_counter_nonce: iv,
                authenticated_encryption_additional_data: aad,
                authenticated_encryption_tag: tag,
                ..Default::default()
            };
            match link.call(request) {
                Ok(ResponsePayload::Decrypt(response)) => Ok(Zeroizing::new(
                    response
                        .data
                        .map(|d| d.expose().to_vec())
                        .unwrap_or_default(),
                )),
                Ok(other) => Err(unexpected(other)),
                // A wrong tag, padding or OAEP encoding.
                Err(Pkcs11Error::Server {
                    reason: ResultReason::CryptographicFailure,
                    ..
                }) => fail(
                    CKR_ENCRYPTED_DATA_INVALID,
                    "the ciphertext does not decrypt",
                ),
                Err(e) => Err(e),
            }
        }
    }
}
