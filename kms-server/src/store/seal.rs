//! Sealing object blobs: AES-256-GCM under the store's data key, a fresh 96-bit nonce from the entropy pool per
//! seal, and the object's uid as associated data so a blob copied onto another record fails to open.
//!
//! Blob layout: `version (1) || nonce (12) || ciphertext || tag (16)`. With random nonces a data key must seal
//! fewer than 2^32 blobs (SP 800-38D 8.3); a store rewrites each object on update, so that bound is far away.

use std::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use entropy::EntropyPool;
use zeroize::{Zeroize, Zeroizing};

use super::root_key::KEY_LEN;
use super::StoreError;

const BLOB_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

/// Domain label prefixed to the uid in the associated data.
const AAD_LABEL: &[u8] = b"qkms sealed object v1\0";

/// Seals and opens object blobs under the data key.
pub(crate) struct Sealer {
    /// The expanded data key (zeroized on drop by `aes`/`aes-gcm`'s `zeroize` feature).
    cipher: Aes256Gcm,
    pool: EntropyPool,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer { data_key: <redacted> }")
    }
}

fn aad(uid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(AAD_LABEL.len() + uid.len());
    out.extend_from_slice(AAD_LABEL);
    out.extend_from_slice(uid.as_bytes());
    out
}

impl Sealer {
    pub(crate) fn new(data_key: &Zeroizing<[u8; KEY_LEN]>, pool: EntropyPool) -> Self {
        Self {
            cipher: Aes256Gcm::new((&**data_key).into()),
            pool,
        }
    }

    /// Encrypts `plaintext` for the record `uid`.
    pub(crate) fn seal(&self, uid: &str, plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.pool.try_fill(&mut nonce)?;
        let mut blob = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        blob.push(BLOB_VERSION);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(plaintext);
        let sealed = self.cipher.encrypt_inout_detached(
            &Nonce::from(nonce),
            &aad(uid),
            (&mut blob[HEADER_LEN..]).into(),
        );
        let Ok(tag) = sealed else {
            // Refused before encrypting: the buffer still holds the plaintext.
            blob.zeroize();
            return Err(StoreError::Corrupt(format!(
                "object {uid:?} is too large to seal"
            )));
        };
        blob.extend_from_slice(&tag);
        Ok(blob)
    }

    /// Decrypts the blob of record `uid`; fails if the blob was altered or belongs to another record.
    pub(crate) fn open(&self, uid: &str, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let unseal = |reason: String| StoreError::Unseal {
            uid: uid.to_owned(),
            reason,
        };
        if blob.len() < HEADER_LEN + TAG_LEN {
            return Err(unseal(format!("blob of {} bytes is truncated", blob.len())));
        }
        if blob[0] != BLOB_VERSION {
            return Err(unseal(format!("unknown blob version {}", blob[0])));
        }
        let nonce = Nonce::try_from(&blob[1..HEADER_LEN])
            .expect("HEADER_LEN is the version byte and a 12-byte nonce");
        let (body, tag) = blob[HEADER_LEN..].split_at(blob.len() - HEADER_LEN - TAG_LEN);
        let mut plain = Zeroizing::new(body.to_vec());
        self.cipher
            .decrypt_inout_detached(
                &nonce,
                &aad(uid),
                (&mut plain[..]).into(),
                &Tag::try_from(tag).expect("TAG_LEN bytes"),
            )
            .map_err(|_| {
                unseal("authentication failed (altered, or not this record's blob)".into())
            })?;
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        let pool = EntropyPool::new(entropy::EntropyConfig::default()).unwrap();
        Sealer::new(&Zeroizing::new([9; KEY_LEN]), pool)
    }

    #[test]
    fn sealed_blob_opens_for_its_uid_only() {
        let s = sealer();
        let blob = s.seal("uid-1", b"secret key bytes").unwrap();
        assert!(!blob.windows(16).any(|w| w == b"secret key bytes"));
        assert_eq!(&**s.open("uid-1", &blob).unwrap(), b"secret key bytes");
        assert!(matches!(
            s.open("uid-2", &blob),
            Err(StoreError::Unseal { .. })
        ));
    }

    #[test]
    fn altered_or_truncated_blobs_fail() {
        let s = sealer();
        let mut blob = s.seal("u", b"material").unwrap();
        let last = blob.len() - 1;
        blob[last] ^= 1;
        assert!(s.open("u", &blob).is_err());
        assert!(s.open("u", &blob[..10]).is_err());
        let mut versioned = s.seal("u", b"material").unwrap();
        versioned[0] = 2;
        assert!(s.open("u", &versioned).is_err());
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let s = sealer();
        let a = s.seal("u", b"same").unwrap();
        let b = s.seal("u", b"same").unwrap();
        assert_ne!(a[1..HEADER_LEN], b[1..HEADER_LEN]);
    }
}
