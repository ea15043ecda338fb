//! ECDHE on secp256r1 and secp384r1 over the `p256` and `p384` crates (RFC 8446 §4.2.8.2: uncompressed points
//! only; the shared secret is the x-coordinate).
//!
//! The secret scalar is a field-sized string drawn from the source and accepted when it lies in [1, n-1]
//! (rejection sampling, FIPS 186-5 A.2.2): for both curves a retry happens with probability below 2^-32, and
//! after 16 rejections in a row the source is treated as broken. One macro makes both curves' types, as the
//! two crates share no trait that carries every bound the code needs.

use rustls::crypto::{ActiveKeyExchange, SecureRandom, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup};
use zeroize::Zeroizing;

use super::{draw, invalid_share};

/// Draws before giving up on a source whose output is never a valid scalar.
const MAX_SCALAR_DRAWS: usize = 16;

macro_rules! nist_group {
    ($group:ident, $exchange:ident, $curve:ident, $name:expr, $field_len:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $group {
            random: &'static dyn SecureRandom,
        }

        impl $group {
            pub fn new(random: &'static dyn SecureRandom) -> Self {
                Self { random }
            }
        }

        impl SupportedKxGroup for $group {
            fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
                let mut bytes = Zeroizing::new($curve::FieldBytes::default());
                for _ in 0..MAX_SCALAR_DRAWS {
                    draw(self.random, &mut bytes)?;
                    if let Ok(secret) = $curve::SecretKey::from_bytes(&bytes) {
                        let public = secret.public_key().to_sec1_bytes();
                        return Ok(Box::new($exchange { secret, public }));
                    }
                }
                tracing::error!(
                    "TLS {:?}: {MAX_SCALAR_DRAWS} draws in a row were no valid scalar",
                    $name
                );
                Err(Error::FailedToGetRandomBytes)
            }

            fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
                None
            }

            fn name(&self) -> NamedGroup {
                $name
            }
        }

        struct $exchange {
            secret: $curve::SecretKey,
            public: Box<[u8]>,
        }

        impl ActiveKeyExchange for $exchange {
            fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, Error> {
                // Uncompressed form only (0x04 || x || y); `from_sec1_bytes` checks the point is on the curve
                // and not the identity.
                if peer_pub_key.len() != 1 + 2 * $field_len || peer_pub_key[0] != 0x04 {
                    return Err(invalid_share());
                }
                let peer = $curve::PublicKey::from_sec1_bytes(peer_pub_key)
                    .map_err(|_| invalid_share())?;
                let shared = self.secret.diffie_hellman(&peer);
                Ok(SharedSecret::from(&shared.raw_secret_bytes()[..]))
            }

            fn pub_key(&self) -> &[u8] {
                &self.public
            }

            fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
                None
            }

            fn group(&self) -> NamedGroup {
                $name
            }
        }
    };
}

nist_group!(
    Secp256r1,
    Secp256r1Exchange,
    p256,
    NamedGroup::secp256r1,
    32,
    "ECDHE on secp256r1 (P-256)."
);
nist_group!(
    Secp384r1,
    Secp384r1Exchange,
    p384,
    NamedGroup::secp384r1,
    48,
    "ECDHE on secp384r1 (P-384)."
);
