//! Keys that live in the HSM (groundwork for issue #16 part 3; not yet reachable through KMIP): an AES key whose
//! material provably comes from qkms's entropy pool, imported into the HSM as a sensitive, non-extractable token
//! object, and AES-GCM run inside the HSM with it.
//!
//! Import path: the key bytes and a one-time 256-bit transport key are drawn from the pool; the transport key
//! enters the HSM as a session object (CKA_UNWRAP only); the key bytes are wrapped here with RFC 5649 (RFC 3394
//! where the token lacks CKM_AES_KEY_WRAP_PAD) under the transport key and C_UnwrapKey'd into the token with the
//! final template; the transport object is destroyed and both secrets are zeroized. So the HSM never chooses the
//! key, and its value never crosses the PKCS#11 interface in clear. The HSM marks such a key CKA_EXTRACTABLE false
//! but (truthfully) not CKA_NEVER_EXTRACTABLE: its value existed in qkms's memory when the pool made it.

use aes_kw::{KeyInit, KwAes256, KwpAes256};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use entropy::pool::EntropyPool;
use zeroize::{Zeroize, Zeroizing};

use crate::error::HsmError;
use crate::Hsm;

/// Where an HSM-held key's material came from (for the key's provenance attributes).
pub const ORIGIN_POOL_UNWRAPPED: &str =
    "qkms entropy pool; imported with C_UnwrapKey under a one-time transport key";

const ID_LEN: usize = 16;
const GCM_TAG_BITS: u64 = 128;

/// An AES key held in the HSM, found again by its CKA_ID (random, from the pool).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldKey {
    pub label: String,
    pub id: Vec<u8>,
    pub bits: usize,
    pub origin: &'static str,
}

impl Hsm {
    /// Draws an AES key of `bits` (128, 192 or 256) from the pool and imports it into the HSM as a token object
    /// that is sensitive, non-extractable, and usable for encryption and decryption only.
    pub fn create_held_aes_key(
        &self,
        pool: &EntropyPool,
        label: &str,
        bits: usize,
    ) -> Result<HeldKey, HsmError> {
        if ![128, 192, 256].contains(&bits) {
            return Err(HsmError::Settings(format!(
                "an AES key has 128, 192 or 256 bits, not {bits}"
            )));
        }
        let mut id = vec![0u8; ID_LEN];
        pool.try_fill(&mut id)?;
        let mut key = Zeroizing::new(vec![0u8; bits / 8]);
        pool.try_fill(&mut key)?;
        let mut transport = Zeroizing::new([0u8; 32]);
        pool.try_fill(transport.as_mut())?;
        let pad = self.with_connection("C_GetMechanismInfo", |c| {
            Ok(c.pkcs11()
                .get_mechanism_info(c.slot, MechanismType::AES_KEY_WRAP_PAD)
                .is_ok_and(|info| info.unwrap()))
        })?;
        // The key is 16, 24 or 32 bytes, a multiple of 8: both forms add one 8-byte integrity block.
        let mut wrapped = vec![0u8; key.len() + aes_kw::IV_LEN];
        let (mechanism, written) = if pad {
            let kek = KwpAes256::new((&*transport).into());
            (
                Mechanism::AesKeyWrapPad,
                kek.wrap_key(&key, &mut wrapped).map(<[u8]>::len),
            )
        } else {
            let kek = KwAes256::new((&*transport).into());
            (
                Mechanism::AesKeyWrap,
                kek.wrap_key(&key, &mut wrapped).map(<[u8]>::len),
            )
        };
        let written = written.map_err(|e| HsmError::Settings(format!("key wrap: {e}")))?;
        wrapped.truncate(written);
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(false),
            Attribute::Unwrap(false),
            Attribute::Sign(false),
            Attribute::Verify(false),
            Attribute::Derive(false),
        ];
        self.with_connection("C_UnwrapKey", |c| {
            let session = c.session();
            let transport_object = import_transport_key(session, &transport)
                .map_err(|e| self.call_error("C_CreateObject", e))?;
            let unwrapped = session.unwrap_key(&mechanism, transport_object, &wrapped, &template);
            let _ = session.destroy_object(transport_object);
            unwrapped.map_err(|e| self.call_error("C_UnwrapKey", e))
        })?;
        Ok(HeldKey {
            label: label.to_owned(),
            id,
            bits,
            origin: ORIGIN_POOL_UNWRAPPED,
        })
    }

    /// AES-GCM encryption inside the HSM: returns `ciphertext || tag` (128-bit tag).
    pub fn held_encrypt_gcm(
        &self,
        key: &HeldKey,
        iv: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        self.with_connection("C_Encrypt", |c| {
            let handle = self.find_held(c.session(), key)?;
            let mut iv = iv.to_vec();
            let params = GcmParams::new(&mut iv, aad, GCM_TAG_BITS.into())
                .map_err(|e| self.call_error("C_EncryptInit", e))?;
            c.session()
                .encrypt(&Mechanism::AesGcm(params), handle, plaintext)
                .map_err(|e| self.call_error("C_Encrypt", e))
        })
    }

    /// AES-GCM decryption inside the HSM of `ciphertext || tag`; an altered input fails.
    pub fn held_decrypt_gcm(
        &self,
        key: &HeldKey,
        iv: &[u8],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, HsmError> {
        self.with_connection("C_Decrypt", |c| {
            let handle = self.find_held(c.session(), key)?;
            let mut iv = iv.to_vec();
            let params = GcmParams::new(&mut iv, aad, GCM_TAG_BITS.into())
                .map_err(|e| self.call_error("C_DecryptInit", e))?;
            c.session()
                .decrypt(&Mechanism::AesGcm(params), handle, sealed)
                .map(Zeroizing::new)
                .map_err(|e| self.call_error("C_Decrypt", e))
        })
    }

    /// Destroys the key in the HSM.
    pub fn destroy_held_key(&self, key: &HeldKey) -> Result<(), HsmError> {
        self.with_connection("C_DestroyObject", |c| {
            let handle = self.find_held(c.session(), key)?;
            c.session()
                .destroy_object(handle)
                .map_err(|e| self.call_error("C_DestroyObject", e))
        })
    }

    fn find_held(&self, session: &Session, key: &HeldKey) -> Result<ObjectHandle, HsmError> {
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::Id(key.id.clone()),
            ])
            .map_err(|e| self.call_error("C_FindObjects", e))?;
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(HsmError::KeyNotFound {
                token: self.label().to_owned(),
                key_label: key.label.clone(),
            }),
            many => Err(HsmError::KeyNotUsable {
                token: self.label().to_owned(),
                key_label: key.label.clone(),
                reason: format!("{} keys carry its CKA_ID", many.len()),
            }),
        }
    }
}

/// The transport key as a session object that can only unwrap (its value is zeroized here after).
pub(crate) fn import_transport_key(
    session: &Session,
    transport: &[u8; 32],
) -> cryptoki::error::Result<ObjectHandle> {
    let mut template = vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(false),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Unwrap(true),
        Attribute::Value(transport.to_vec()),
    ];
    let result = session.create_object(&template);
    for attribute in template.iter_mut() {
        if let Attribute::Value(bytes) = attribute {
            bytes.zeroize();
        }
    }
    result
}
