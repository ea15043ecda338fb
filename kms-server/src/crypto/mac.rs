//! HMAC (RFC 2104) over SHA-1 and SHA-2, with a constant-time verify.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};

use super::hash::HashAlgorithm;
use super::CryptoError;

/// Runs `$body` with `$mac` bound to a keyed `Hmac<hash>` for `$algorithm`.
macro_rules! with_hmac {
    ($algorithm:expr, $key:expr, $mac:ident => $body:expr) => {
        match $algorithm {
            HashAlgorithm::Sha1 => {
                let $mac = keyed::<Hmac<Sha1>>($key)?;
                $body
            }
            HashAlgorithm::Sha224 => {
                let $mac = keyed::<Hmac<Sha224>>($key)?;
                $body
            }
            HashAlgorithm::Sha256 => {
                let $mac = keyed::<Hmac<Sha256>>($key)?;
                $body
            }
            HashAlgorithm::Sha384 => {
                let $mac = keyed::<Hmac<Sha384>>($key)?;
                $body
            }
            HashAlgorithm::Sha512 => {
                let $mac = keyed::<Hmac<Sha512>>($key)?;
                $body
            }
        }
    };
}

fn keyed<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> Result<M, CryptoError> {
    if key.is_empty() {
        return Err(CryptoError::InvalidKey(
            "an HMAC key must not be empty".into(),
        ));
    }
    <M as hmac::digest::KeyInit>::new_from_slice(key)
        .map_err(|_| CryptoError::InvalidKey("HMAC key rejected".into()))
}

/// HMAC of `data` under `key`.
pub fn hmac(algorithm: HashAlgorithm, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    with_hmac!(algorithm, key, mac => {
        let mut mac = mac;
        mac.update(data);
        Ok(mac.finalize().into_bytes().to_vec())
    })
}

/// Whether `tag` is the HMAC of `data` under `key`, compared in constant time. A tag of the wrong length does
/// not verify.
pub fn hmac_verify(
    algorithm: HashAlgorithm,
    key: &[u8],
    data: &[u8],
    tag: &[u8],
) -> Result<bool, CryptoError> {
    with_hmac!(algorithm, key, mac => {
        let mut mac = mac;
        mac.update(data);
        Ok(mac.verify_slice(tag).is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_key_is_refused() {
        assert!(matches!(
            hmac(HashAlgorithm::Sha256, b"", b"x"),
            Err(CryptoError::InvalidKey(_))
        ));
    }
}
