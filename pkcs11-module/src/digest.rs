//! C_Digest*: message digests computed here, in the caller's process (SHA-1, SHA-2 and SHA-3), with no round
//! trip: a digest needs no key, so nothing is gained by sending the data to the server. C_DigestKey is the one
//! call that reaches the server, to read a secret key's value when that value may leave it.

use cryptoki_sys::*;
use sha2::digest::DynDigest;

use crate::error::{fail, Pkcs11Error, Result};
use crate::library::Library;
use crate::objects::Entry;
use crate::ops;

/// `(mechanism, digest length in bytes)`: the digest mechanisms this module performs.
pub const DIGEST_MECHANISMS: &[(CK_MECHANISM_TYPE, usize)] = &[
    (CKM_SHA_1, 20),
    (CKM_SHA224, 28),
    (CKM_SHA256, 32),
    (CKM_SHA384, 48),
    (CKM_SHA512, 64),
    (CKM_SHA3_224, 28),
    (CKM_SHA3_256, 32),
    (CKM_SHA3_384, 48),
    (CKM_SHA3_512, 64),
];

fn hasher(mechanism: CK_MECHANISM_TYPE) -> Option<Box<dyn DynDigest + Send>> {
    Some(match mechanism {
        CKM_SHA_1 => Box::new(sha1::Sha1::default()),
        CKM_SHA224 => Box::new(sha2::Sha224::default()),
        CKM_SHA256 => Box::new(sha2::Sha256::default()),
        CKM_SHA384 => Box::new(sha2::Sha384::default()),
        CKM_SHA512 => Box::new(sha2::Sha512::default()),
        CKM_SHA3_224 => Box::new(sha3::Sha3_224::default()),
        CKM_SHA3_256 => Box::new(sha3::Sha3_256::default()),
        CKM_SHA3_384 => Box::new(sha3::Sha3_384::default()),
        CKM_SHA3_512 => Box::new(sha3::Sha3_512::default()),
        _ => return None,
    })
}

/// One active digest of a session.
pub struct DigestOperation {
    mechanism: CK_MECHANISM_TYPE,
    hasher: Box<dyn DynDigest + Send>,
    /// Set by C_DigestUpdate / C_DigestKey: the operation is multi-part and only C_DigestFinal may end it.
    multi_part: bool,
}

impl std::fmt::Debug for DigestOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash state is derived from the caller's data (and perhaps a key's value): never shown.
        f.debug_struct("DigestOperation")
            .field("mechanism", &self.mechanism)
            .field("multi_part", &self.multi_part)
            .finish_non_exhaustive()
    }
}

impl DigestOperation {
    /// C_DigestInit: CKR_MECHANISM_INVALID for anything but the digests of [`DIGEST_MECHANISMS`].
    pub fn new(mechanism: CK_MECHANISM_TYPE) -> Result<Self> {
        let hasher = hasher(mechanism).ok_or(Pkcs11Error::rv(
            CKR_MECHANISM_INVALID,
            "digests: CKM_SHA_1, CKM_SHA224/256/384/512, CKM_SHA3_224/256/384/512",
        ))?;
        Ok(Self {
            mechanism,
            hasher,
            multi_part: false,
        })
    }

    /// The digest's length in bytes (the answer to a length probe).
    pub fn len(&self) -> usize {
        self.hasher.output_size()
    }

    /// Always false: a digest has a fixed, non-zero length (here for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// C_Digest's check: CKR_OPERATION_ACTIVE once C_DigestUpdate or C_DigestKey has run, since C_Digest "cannot
    /// be used to terminate a multi-part operation" (PKCS#11 v3.0 §5.11).
    pub fn require_single_part(&self) -> Result<()> {
        if self.multi_part {
            fail(
                CKR_OPERATION_ACTIVE,
                "C_Digest after C_DigestUpdate: a multi-part digest ends with C_DigestFinal",
            )
        } else {
            Ok(())
        }
    }

    /// C_DigestUpdate.
    pub fn update(&mut self, part: &[u8]) {
        self.multi_part = true;
        self.hasher.update(part);
    }

    /// C_DigestKey: digests the value of the secret key behind `key`. CKR_KEY_INDIGESTIBLE when the module cannot
    /// have that value: not a secret key, or a key whose value may not leave the server (sensitive or not
    /// extractable), or one the server refuses to export.
    pub fn update_with_key(&mut self, library: &Library, key: &Entry) -> Result<()> {
        let view = ops::view(library, key)?;
        if view.class != CKO_SECRET_KEY {
            return fail(CKR_KEY_INDIGESTIBLE, "C_DigestKey digests secret keys");
        }
        if !view.value_readable() {
            return fail(
                CKR_KEY_INDIGESTIBLE,
                "the key is sensitive or not extractable: its value never leaves the server",
            );
        }
        let value = match view.value(&|| ops::fetch_value(library, key)) {
            Ok(value) => value,
            // The server refused the export, or returned no plain value.
            Err(Pkcs11Error::Server { .. })
            | Err(Pkcs11Error::Rv {
                rv: CKR_ATTRIBUTE_SENSITIVE,
                ..
            }) => {
                return fail(
                    CKR_KEY_INDIGESTIBLE,
                    "the server did not give the key's value",
                )
            }
            Err(other) => return Err(other),
        };
        self.update(value);
        Ok(())
    }

    /// C_Digest / C_DigestFinal: the digest of everything given, `last` included (C_Digest's data). The caller
    /// then ends the operation.
    pub fn finish(&mut self, last: &[u8]) -> Vec<u8> {
        self.hasher.update(last);
        self.hasher.finalize_reset().into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// FIPS 180-4 / FIPS 202 example values for "abc".
    #[test]
    fn every_digest_matches_its_published_value_for_abc() {
        let expected = [
            (CKM_SHA_1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                CKM_SHA224,
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            ),
            (
                CKM_SHA256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                CKM_SHA3_256,
                "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
            ),
        ];
        for (mechanism, digest) in expected {
            let mut operation = DigestOperation::new(mechanism).unwrap();
            operation.update(b"ab");
            assert_eq!(hex(&operation.finish(b"c")), digest, "{mechanism:#x}");
        }
        for (mechanism, len) in DIGEST_MECHANISMS {
            let operation = DigestOperation::new(*mechanism).unwrap();
            assert_eq!(operation.len(), *len);
            operation.require_single_part().unwrap();
        }
        assert_eq!(
            DigestOperation::new(CKM_MD5).unwrap_err().to_rv(),
            CKR_MECHANISM_INVALID
        );
    }

    #[test]
    fn one_shot_is_refused_once_parts_were_given() {
        let mut operation = DigestOperation::new(CKM_SHA256).unwrap();
        operation.update(b"part");
        assert_eq!(
            operation.require_single_part().unwrap_err().to_rv(),
            CKR_OPERATION_ACTIVE
        );
    }
}
