//! Any kind of key the server keeps in the HSM on a client's behalf (issue #16 part 3, reached through KMIP by
//! `kms-server`'s `managed::hsm_held`): AES and HMAC secret keys, RSA and EC private keys, each found again by
//! its CKA_ID, and the operations run inside the HSM with them.
//!
//! Import: the key is made from qkms's entropy pool by the caller (raw bytes for a secret key, PKCS#8 DER for a
//! private key), wrapped here under a one-time transport key drawn from the pool (RFC 5649, or RFC 3394 where
//! the token lacks CKM_AES_KEY_WRAP_PAD and the length allows) and C_UnwrapKey'd into the token as a sensitive,
//! non-extractable token object; the transport object is destroyed at once. The HSM never chooses the key.
//! SoftHSM2 unwraps RSA and EC private keys from PKCS#8 this way; a token that refuses is reported as such
//! (`HsmError::Pkcs11` naming C_UnwrapKey, `HsmError::refuses_unwrap`), and the fallback "seed then generate"
//! is in `held_generate`.

use aes_kw::{KeyInit, KwAes256, KwpAes256};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use entropy::pool::EntropyPool;
use zeroize::Zeroizing;

use crate::error::{rv_name, rv_of, HsmError};
use crate::held::import_transport_key;
use crate::Hsm;
use cryptoki::error::RvError;

/// Length of the random CKA_ID every held key gets.
pub const HELD_ID_LEN: usize = 16;

/// The kinds of keys the server can hold in an HSM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldKind {
    /// AES secret key: encrypt / decrypt (AES-GCM).
    Aes,
    /// HMAC secret key (CKK_GENERIC_SECRET): sign (MAC) only.
    Hmac,
    /// RSA private key (PKCS#8): sign (PKCS#1 v1.5, PSS) and decrypt (OAEP, PKCS#1 v1.5).
    Rsa,
    /// EC private key (PKCS#8): sign (ECDSA).
    Ec,
}

impl HeldKind {
    fn class(self) -> ObjectClass {
        match self {
            Self::Aes | Self::Hmac => ObjectClass::SECRET_KEY,
            Self::Rsa | Self::Ec => ObjectClass::PRIVATE_KEY,
        }
    }

    pub(crate) fn template(self) -> Vec<Attribute> {
        let (key_type, encrypt, decrypt, sign) = match self {
            Self::Aes => (KeyType::AES, true, true, false),
            Self::Hmac => (KeyType::GENERIC_SECRET, false, false, true),
            Self::Rsa => (KeyType::RSA, false, true, true),
            Self::Ec => (KeyType::EC, false, false, true),
        };
        let mut template = vec![
            Attribute::Class(self.class()),
            Attribute::KeyType(key_type),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Decrypt(decrypt),
            Attribute::Sign(sign),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
        ];
        if self.class() == ObjectClass::SECRET_KEY {
            template.extend([
                Attribute::Encrypt(encrypt),
                Attribute::Verify(sign),
                Attribute::Wrap(false),
            ]);
        }
        template
    }
}

/// Hash functions of the held-key mechanisms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldHash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HeldHash {
    fn mechanism(self) -> MechanismType {
        match self {
            Self::Sha1 => MechanismType::SHA1,
            Self::Sha224 => MechanismType::SHA224,
            Self::Sha256 => MechanismType::SHA256,
            Self::Sha384 => MechanismType::SHA384,
            Self::Sha512 => MechanismType::SHA512,
        }
    }

    fn mgf(self) -> PkcsMgfType {
        match self {
            Self::Sha1 => PkcsMgfType::MGF1_SHA1,
            Self::Sha224 => PkcsMgfType::MGF1_SHA224,
            Self::Sha256 => PkcsMgfType::MGF1_SHA256,
            Self::Sha384 => PkcsMgfType::MGF1_SHA384,
            Self::Sha512 => PkcsMgfType::MGF1_SHA512,
        }
    }

    fn hmac(self) -> Mechanism<'static> {
        match self {
            Self::Sha1 => Mechanism::Sha1Hmac,
            Self::Sha224 => Mechanism::Sha224Hmac,
            Self::Sha256 => Mechanism::Sha256Hmac,
            Self::Sha384 => Mechanism::Sha384Hmac,
            Self::Sha512 => Mechanism::Sha512Hmac,
        }
    }
}

/// One operation run inside the HSM with a held key.
#[derive(Clone, Copy, Debug)]
pub enum HeldOperation<'a> {
    /// AES-GCM encryption: returns `ciphertext || tag`.
    AesGcmEncrypt {
        iv: &'a [u8],
        aad: &'a [u8],
        tag_bits: u32,
        plaintext: &'a [u8],
    },
    /// AES-GCM decryption of `ciphertext || tag`.
    AesGcmDecrypt {
        iv: &'a [u8],
        aad: &'a [u8],
        tag_bits: u32,
        sealed: &'a [u8],
    },
    /// RSA-OAEP decryption (MGF1 with `mgf_hash`).
    RsaOaepDecrypt {
        hash: HeldHash,
        mgf_hash: HeldHash,
        label: &'a [u8],
        ciphertext: &'a [u8],
    },
    /// RSA PKCS#1 v1.5 decryption.
    RsaPkcs1Decrypt { ciphertext: &'a [u8] },
    /// CKM_ECDSA over a digest: the signature as `r || s`.
    EcdsaSign { digest: &'a [u8] },
    /// CKM_RSA_PKCS over an encoded value (a DigestInfo): RSASSA-PKCS1-v1_5.
    RsaPkcs1Sign { encoded: &'a [u8] },
    /// CKM_RSA_PKCS_PSS over a digest.
    RsaPssSign {
        hash: HeldHash,
        salt_len: usize,
        digest: &'a [u8],
    },
    /// HMAC over data.
    Hmac { hash: HeldHash, data: &'a [u8] },
}

impl HeldOperation<'_> {
    fn name(&self) -> &'static str {
        match self {
            Self::AesGcmEncrypt { .. } => "C_Encrypt",
            Self::AesGcmDecrypt { .. }
            | Self::RsaOaepDecrypt { .. }
            | Self::RsaPkcs1Decrypt { .. } => "C_Decrypt",
            _ => "C_Sign",
        }
    }
}

impl Hsm {
    /// Imports `material` (the raw key of an AES or HMAC key; the PKCS#8 DER of an RSA or EC private key) into
    /// the token under a one-time transport key, as a sensitive, non-extractable token object labelled `label`
    /// with a fresh random CKA_ID, which is returned.
    pub fn import_held_key(
        &self,
        pool: &EntropyPool,
        kind: HeldKind,
        label: &str,
        material: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        let mut id = vec![0u8; HELD_ID_LEN];
        pool.try_fill(&mut id)?;
        let mut transport = Zeroizing::new([0u8; 32]);
        pool.try_fill(transport.as_mut())?;
        let pad = self.with_connection("C_GetMechanismInfo", |c| {
            Ok(c.pkcs11()
                .get_mechanism_info(c.slot, MechanismType::AES_KEY_WRAP_PAD)
                .is_ok_and(|info| info.unwrap()))
        })?;
        // Both forms add one 8-byte integrity block; the padded form first pads to whole 8-byte blocks.
        let mut buffer = vec![0u8; material.len().div_ceil(8) * 8 + aes_kw::IV_LEN];
        let (mechanism, wrapped) = if pad {
            let kek = KwpAes256::new((&*transport).into());
            (
                Mechanism::AesKeyWrapPad,
                kek.wrap_key(material, &mut buffer).map(<[u8]>::to_vec),
            )
        } else if material.len().is_multiple_of(8) {
            let kek = KwAes256::new((&*transport).into());
            (
                Mechanism::AesKeyWrap,
                kek.wrap_key(material, &mut buffer).map(<[u8]>::to_vec),
            )
        } else {
            return Err(HsmError::MechanismMissing {
                token: self.label().to_owned(),
                mechanism: "CKM_AES_KEY_WRAP_PAD",
                purpose: "importing a key whose length is not a multiple of 8 bytes",
            });
        };
        let wrapped = wrapped.map_err(|e| HsmError::Settings(format!("key wrap: {e}")))?;
        let mut template = kind.template();
        template.extend([
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ]);
        self.with_connection("C_UnwrapKey", |c| {
            let session = c.session();
            let transport_object = import_transport_key(session, &transport)
                .map_err(|e| self.call_error("C_CreateObject", e))?;
            let unwrapped = session.unwrap_key(&mechanism, transport_object, &wrapped, &template);
            let _ = session.destroy_object(transport_object);
            unwrapped.map_err(|e| self.call_error("C_UnwrapKey", e))
        })?;
        Ok(id)
    }

    /// Runs `operation` inside the HSM with the held key of `kind` whose CKA_ID is `id`.
    pub fn held_operation(
        &self,
        kind: HeldKind,
        id: &[u8],
        operation: HeldOperation<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, HsmError> {
        let name = operation.name();
        self.with_connection(name, |c| {
            let session = c.session();
            let key = self.cached_held_object(c, kind.class(), id)?;
            // The token answered C_FindObjects on this session just now: a CKR_GENERAL_ERROR from the operation
            // itself is the operation failing (SoftHSM2 answers a bad OAEP block that way), not the token going.
            let fail = |e: cryptoki::error::Error| match rv_of(&e) {
                Some(RvError::GeneralError) => HsmError::Pkcs11 {
                    token: self.label().to_owned(),
                    operation: name,
                    rv: rv_name(&e),
                },
                _ => self.call_error(name, e),
            };
            let output = match operation {
                HeldOperation::AesGcmEncrypt {
                    iv,
                    aad,
                    tag_bits,
                    plaintext,
                } => {
                    let mut iv = iv.to_vec();
                    let params = GcmParams::new(&mut iv, aad, u64::from(tag_bits).into())
                        .map_err(|e| self.call_error("C_EncryptInit", e))?;
                    session.encrypt(&Mechanism::AesGcm(params), key, plaintext)
                }
                HeldOperation::AesGcmDecrypt {
                    iv,
                    aad,
                    tag_bits,
                    sealed,
                } => {
                    let mut iv = iv.to_vec();
                    let params = GcmParams::new(&mut iv, aad, u64::from(tag_bits).into())
                        .map_err(|e| self.call_error("C_DecryptInit", e))?;
                    session.decrypt(&Mechanism::AesGcm(params), key, sealed)
                }
                HeldOperation::RsaOaepDecrypt {
                    hash,
                    mgf_hash,
                    label,
                    ciphertext,
                } => {
                    let source = if label.is_empty() {
                        PkcsOaepSource::empty()
                    } else {
                        PkcsOaepSource::data_specified(label)
                    };
                    let params = PkcsOaepParams::new(hash.mechanism(), mgf_hash.mgf(), source);
                    session.decrypt(&Mechanism::RsaPkcsOaep(params), key, ciphertext)
                }
                HeldOperation::RsaPkcs1Decrypt { ciphertext } => {
                    session.decrypt(&Mechanism::RsaPkcs, key, ciphertext)
                }
                HeldOperation::EcdsaSign { digest } => session.sign(&Mechanism::Ecdsa, key, digest),
                HeldOperation::RsaPkcs1Sign { encoded } => {
                    session.sign(&Mechanism::RsaPkcs, key, encoded)
                }
                HeldOperation::RsaPssSign {
                    hash,
                    salt_len,
                    digest,
                } => {
                    let params = PkcsPssParams {
                        hash_alg: hash.mechanism(),
                        mgf: hash.mgf(),
                        s_len: (salt_len as u64).into(),
                    };
                    session.sign(&Mechanism::RsaPkcsPss(params), key, digest)
                }
                HeldOperation::Hmac { hash, data } => session.sign(&hash.hmac(), key, data),
            };
            output.map(Zeroizing::new).map_err(fail)
        })
    }

    /// Destroys every object of the token carrying CKA_ID `id` (a held key); returns how many there were.
    pub fn destroy_held_objects(&self, id: &[u8]) -> Result<usize, HsmError> {
        self.with_connection("C_DestroyObject", |c| {
            let session = c.session();
            c.held_handles
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .retain(|(_, cached), _| cached != id);
            let found = session
                .find_objects(&[Attribute::Id(id.to_vec())])
                .map_err(|e| self.call_error("C_FindObjects", e))?;
            for handle in &found {
                session
                    .destroy_object(*handle)
                    .map_err(|e| self.call_error("C_DestroyObject", e))?;
            }
            Ok(found.len())
        })
    }

    /// The handle of a held key on this connection: from its cache, else found (and cached).
    fn cached_held_object(
        &self,
        c: &crate::connection::Connection,
        class: ObjectClass,
        id: &[u8],
    ) -> Result<ObjectHandle, HsmError> {
        let key = (class == ObjectClass::PRIVATE_KEY, id.to_vec());
        let mut cache = c
            .held_handles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(handle) = cache.get(&key) {
            return Ok(*handle);
        }
        let handle = self.find_held_object(c.session(), class, id)?;
        cache.insert(key, handle);
        Ok(handle)
    }

    fn find_held_object(
        &self,
        session: &Session,
        class: ObjectClass,
        id: &[u8],
    ) -> Result<ObjectHandle, HsmError> {
        let found = session
            .find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])
            .map_err(|e| self.call_error("C_FindObjects", e))?;
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(HsmError::HeldKeyMissing {
                token: self.label().to_owned(),
                id: hex_id(id),
            }),
            many => Err(HsmError::KeyNotUsable {
                token: self.label().to_owned(),
                key_label: hex_id(id),
                reason: format!("{} keys carry this CKA_ID", many.len()),
            }),
        }
    }
}

/// A CKA_ID in hex, for messages and references.
pub fn hex_id(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}
