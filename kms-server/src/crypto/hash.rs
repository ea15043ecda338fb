//! Message digests: one-shot and incremental SHA-1 and SHA-2.

use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// The hash functions the server offers (KMIP Hashing Algorithm). SHA-1 is kept for OAEP/MGF1 and legacy
/// verification, as clients still ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    /// Length of the digest in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// Runs `$body` with the type alias `$digest` naming the hash type of `$algorithm` (the `rsa` crate's OAEP and
/// PSS paddings are generic over the hash since 0.10, while KMIP picks it per request).
macro_rules! with_digest {
    ($algorithm:expr, $digest:ident => $body:expr) => {
        match $algorithm {
            $crate::crypto::hash::HashAlgorithm::Sha1 => {
                type $digest = ::sha1::Sha1;
                $body
            }
            $crate::crypto::hash::HashAlgorithm::Sha224 => {
                type $digest = ::sha2::Sha224;
                $body
            }
            $crate::crypto::hash::HashAlgorithm::Sha256 => {
                type $digest = ::sha2::Sha256;
                $body
            }
            $crate::crypto::hash::HashAlgorithm::Sha384 => {
                type $digest = ::sha2::Sha384;
                $body
            }
            $crate::crypto::hash::HashAlgorithm::Sha512 => {
                type $digest = ::sha2::Sha512;
                $body
            }
        }
    };
}
pub(crate) use with_digest;

/// The digest of `data`.
pub fn digest(algorithm: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut hasher = Hasher::new(algorithm);
    hasher.update(data);
    hasher.finalize()
}

/// An incremental digest, for data that arrives in parts (KMIP Hash with Init/Final indicators).
#[derive(Clone)]
pub struct Hasher(State);

#[derive(Clone)]
enum State {
    Sha1(Sha1),
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(algorithm: HashAlgorithm) -> Self {
        Self(match algorithm {
            HashAlgorithm::Sha1 => State::Sha1(Sha1::new()),
            HashAlgorithm::Sha224 => State::Sha224(Sha224::new()),
            HashAlgorithm::Sha256 => State::Sha256(Sha256::new()),
            HashAlgorithm::Sha384 => State::Sha384(Sha384::new()),
            HashAlgorithm::Sha512 => State::Sha512(Sha512::new()),
        })
    }

    pub fn algorithm(&self) -> HashAlgorithm {
        match self.0 {
            State::Sha1(_) => HashAlgorithm::Sha1,
            State::Sha224(_) => HashAlgorithm::Sha224,
            State::Sha256(_) => HashAlgorithm::Sha256,
            State::Sha384(_) => HashAlgorithm::Sha384,
            State::Sha512(_) => HashAlgorithm::Sha512,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            State::Sha1(state) => state.update(data),
            State::Sha224(state) => state.update(data),
            State::Sha256(state) => state.update(data),
            State::Sha384(state) => state.update(data),
            State::Sha512(state) => state.update(data),
        }
    }

    pub fn finalize(self) -> Vec<u8> {
        match self.0 {
            State::Sha1(state) => state.finalize().to_vec(),
            State::Sha224(state) => state.finalize().to_vec(),
            State::Sha256(state) => state.finalize().to_vec(),
            State::Sha384(state) => state.finalize().to_vec(),
            State::Sha512(state) => state.finalize().to_vec(),
        }
    }
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_fips_180_example() {
        assert_eq!(
            hex::encode(digest(HashAlgorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn incremental_digest_equals_one_shot() {
        for algorithm in [
            HashAlgorithm::Sha1,
            HashAlgorithm::Sha224,
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            let mut hasher = Hasher::new(algorithm);
            hasher.update(b"hello ");
            hasher.update(b"world");
            let incremental = hasher.finalize();
            assert_eq!(incremental, digest(algorithm, b"hello world"));
            assert_eq!(incremental.len(), algorithm.output_len());
        }
    }
}
