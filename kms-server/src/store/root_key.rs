//! The root key of passphrase (and raw) custody: argon2id over the operator's passphrase, and the one thing it
//! does, wrapping the store's data key with RFC 5649 (AES key wrap with padding). HSM custody never holds the
//! root key here: the HSM wraps and unwraps (see `custody`).

use std::fmt;

use crate::crypto::wrap::{kwp_unwrap, kwp_wrap};
use zeroize::Zeroizing;

use super::StoreError;

/// Root and data keys are AES-256 keys.
pub const KEY_LEN: usize = 32;

/// Length of the argon2 salt drawn from the entropy pool when a store is created.
pub const SALT_LEN: usize = 32;

/// The key that wraps the store's data key. Zeroized on drop, redacted in `Debug`.
#[derive(Clone)]
pub struct RootKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

impl RootKey {
    /// A root key from raw bytes (tests and tools).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Derives the root key from a passphrase with argon2id (version 0x13) over `salt`.
    pub fn derive(
        passphrase: &[u8],
        params: &Argon2Params,
        salt: &[u8],
    ) -> Result<Self, StoreError> {
        let argon = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params.to_argon2()?,
        );
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        argon
            .hash_password_into(passphrase, salt, key.as_mut())
            .map_err(|e| StoreError::Config(format!("argon2id key derivation failed: {e}")))?;
        Ok(Self(key))
    }

    /// Wraps `data_key` (RFC 5649).
    pub(crate) fn wrap(&self, data_key: &[u8; KEY_LEN]) -> Result<Vec<u8>, StoreError> {
        kwp_wrap::<aes::Aes256>(self.0.as_ref(), data_key)
            .map_err(|e| StoreError::Corrupt(format!("data key wrap failed: {e}")))
    }

    /// Unwraps the stored data key. An integrity-check failure means this is not the key that wrapped it.
    pub(crate) fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, StoreError> {
        let plain = kwp_unwrap::<aes::Aes256>(self.0.as_ref(), wrapped).map_err(|e| {
            StoreError::WrongRootKey(format!(
                "the wrapped data key fails its RFC 5649 integrity check ({e})"
            ))
        })?;
        let key: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| {
            StoreError::Corrupt(format!(
                "the unwrapped data key is {} bytes, not {KEY_LEN}",
                plain.len()
            ))
        })?;
        Ok(Zeroizing::new(key))
    }
}

/// argon2id cost parameters; stored with the store (with the salt) so that it can be reopened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Argon2Params {
    /// Memory in KiB. Default 65,536 (64 MiB, RFC 9106's second recommended option).
    pub memory_kib: u32,
    /// Passes over memory. Default 3.
    pub iterations: u32,
    /// Lanes. Default 1 (the derivation runs once at start-up; more lanes would only need more cores).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    /// Cheap parameters for tests only (8 MiB, 1 pass): never for a real store.
    pub fn insecure_for_tests() -> Self {
        Self {
            memory_kib: 8 * 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn to_argon2(self) -> Result<argon2::Params, StoreError> {
        argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(KEY_LEN),
        )
        .map_err(|e| StoreError::Config(format!("argon2 parameters {self:?}: {e}")))
    }

    /// 12 bytes: memory, iterations, parallelism (big-endian u32 each).
    pub(crate) fn to_bytes(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..4].copy_from_slice(&self.memory_kib.to_be_bytes());
        out[4..8].copy_from_slice(&self.iterations.to_be_bytes());
        out[8..].copy_from_slice(&self.parallelism.to_be_bytes());
        out
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let word = |i: usize| -> Result<u32, StoreError> {
            bytes
                .get(i..i + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "stored argon2 parameters are {} bytes, not 12",
                        bytes.len()
                    ))
                })
        };
        if bytes.len() != 12 {
            return Err(StoreError::Corrupt(format!(
                "stored argon2 parameters are {} bytes, not 12",
                bytes.len()
            )));
        }
        Ok(Self {
            memory_kib: word(0)?,
            iterations: word(4)?,
            parallelism: word(8)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_data_key_unwraps_only_with_the_same_root_key() {
        let root = RootKey::from_bytes([7; KEY_LEN]);
        let wrapped = root.wrap(&[42; KEY_LEN]).unwrap();
        assert_eq!(wrapped.len(), KEY_LEN + 8);
        assert_eq!(*root.unwrap(&wrapped).unwrap(), [42; KEY_LEN]);
        let other = RootKey::from_bytes([8; KEY_LEN]);
        assert!(matches!(
            other.unwrap(&wrapped),
            Err(StoreError::WrongRootKey(_))
        ));
    }

    #[test]
    fn derivation_depends_on_passphrase_and_salt() {
        let params = Argon2Params::insecure_for_tests();
        let a = RootKey::derive(b"correct horse", &params, &[1; SALT_LEN]).unwrap();
        let b = RootKey::derive(b"correct horse", &params, &[1; SALT_LEN]).unwrap();
        let c = RootKey::derive(b"correct horsf", &params, &[1; SALT_LEN]).unwrap();
        let d = RootKey::derive(b"correct horse", &params, &[2; SALT_LEN]).unwrap();
        assert_eq!(*a.0, *b.0);
        assert_ne!(*a.0, *c.0);
        assert_ne!(*a.0, *d.0);
    }

    #[test]
    fn invalid_argon2_parameters_are_a_config_error() {
        let params = Argon2Params {
            memory_kib: 1,
            iterations: 0,
            parallelism: 0,
        };
        assert!(matches!(
            RootKey::derive(b"x", &params, &[0; SALT_LEN]),
            Err(StoreError::Config(_))
        ));
    }

    #[test]
    fn params_round_trip_and_debug_is_redacted() {
        let p = Argon2Params::default();
        assert_eq!(Argon2Params::from_bytes(&p.to_bytes()).unwrap(), p);
        assert!(Argon2Params::from_bytes(&[0; 5]).is_err());
        let text = format!("{:?}", RootKey::from_bytes([0xAB; KEY_LEN]));
        assert!(!text.contains("171") && !text.to_lowercase().contains("ab,"));
    }
}
