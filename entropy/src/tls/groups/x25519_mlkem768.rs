//! X25519MLKEM768 (IANA 0x11EC, draft-ietf-tls-ecdhe-mlkem): ML-KEM-768 (FIPS 203, RustCrypto `ml-kem`)
//! combined with X25519. In every field the ML-KEM part comes first: the client share is
//! `ek (1184) || x25519 public (32)`, the server share `ciphertext (1088) || x25519 public (32)`, the shared
//! secret `ML-KEM shared key (32) || X25519 shared secret (32)`. TLS 1.3 only.
//!
//! Randomness: the client's decapsulation key comes from a 64-byte seed `d || z` drawn from the source
//! (`DecapsulationKey::from_seed`, FIPS 203 ML-KEM.KeyGen_internal); the server's encapsulation from a 32-byte
//! message `m` drawn from the source (`encapsulate_deterministic`, ML-KEM.Encaps_internal; the `hazmat`
//! feature only documents it). Each side's X25519 scalar as in [`super::x25519`].
//!
//! As a client, the X25519 half is also offered as a separate X25519 share (`hybrid_component`), so a server
//! without the hybrid completes the handshake without a HelloRetryRequest, reusing the same X25519 key.

use ml_kem::array::Array;
use ml_kem::kem::{Decapsulate, KeyExport};
use ml_kem::ml_kem_768::{Ciphertext, DecapsulationKey, EncapsulationKey};
use ml_kem::{Key, Seed, B32};
use rustls::crypto::{
    ActiveKeyExchange, CompletedKeyExchange, SecureRandom, SharedSecret, SupportedKxGroup,
};
use rustls::{Error, NamedGroup, ProtocolVersion};
use zeroize::Zeroizing;

use super::x25519::{X25519Exchange, SHARE_LEN as X25519_LEN};
use super::{draw, invalid_share};

/// ML-KEM-768 encapsulation key length (FIPS 203 Table 3).
const EK_LEN: usize = 1184;
/// ML-KEM-768 ciphertext length.
const CT_LEN: usize = 1088;

/// The X25519MLKEM768 hybrid group.
#[derive(Debug)]
pub struct X25519MlKem768 {
    random: &'static dyn SecureRandom,
}

impl X25519MlKem768 {
    pub fn new(random: &'static dyn SecureRandom) -> Self {
        Self { random }
    }
}

impl SupportedKxGroup for X25519MlKem768 {
    /// Client side: a fresh ML-KEM-768 key pair and X25519 key pair.
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let mut seed = Zeroizing::new([0u8; 64]);
        draw(self.random, seed.as_mut())?;
        let decapsulation_key = DecapsulationKey::from_seed(Seed::from(*seed));
        let x25519 = X25519Exchange::generate(self.random)?;
        let mut share = Vec::with_capacity(EK_LEN + X25519_LEN);
        share.extend_from_slice(&decapsulation_key.encapsulation_key().to_bytes());
        share.extend_from_slice(x25519.public());
        Ok(Box::new(ClientExchange {
            decapsulation_key,
            x25519,
            share,
        }))
    }

    /// Server side: encapsulate to the client's key and answer with our X25519 public value.
    fn start_and_complete(&self, client_share: &[u8]) -> Result<CompletedKeyExchange, Error> {
        if client_share.len() != EK_LEN + X25519_LEN {
            return Err(invalid_share());
        }
        let (ek_bytes, x25519_peer) = client_share.split_at(EK_LEN);
        let ek_bytes: Key<EncapsulationKey> =
            Array::try_from(ek_bytes).map_err(|_| invalid_share())?;
        // FIPS 203 §7.2 input check: every coefficient of the key must be reduced modulo q.
        let encapsulation_key = EncapsulationKey::new(&ek_bytes).map_err(|_| invalid_share())?;
        let mut message = Zeroizing::new([0u8; 32]);
        draw(self.random, message.as_mut())?;
        let (ciphertext, mlkem_secret) =
            encapsulation_key.encapsulate_deterministic(&B32::from(*message));
        let mlkem_secret = Zeroizing::new(<[u8; 32]>::from(mlkem_secret));
        let (x25519_public, x25519_secret) = X25519Exchange::respond(self.random, x25519_peer)?;

        let mut pub_key = Vec::with_capacity(CT_LEN + X25519_LEN);
        pub_key.extend_from_slice(&ciphertext);
        pub_key.extend_from_slice(&x25519_public);
        Ok(CompletedKeyExchange {
            group: NamedGroup::X25519MLKEM768,
            pub_key,
            secret: combined_secret(&mlkem_secret, &x25519_secret),
        })
    }

    fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
        None
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519MLKEM768
    }

    fn usable_for_version(&self, version: ProtocolVersion) -> bool {
        version == ProtocolVersion::TLSv1_3
    }
}

/// `ML-KEM shared key || X25519 shared secret`.
fn combined_secret(mlkem: &[u8; 32], x25519: &[u8; 32]) -> SharedSecret {
    let mut both = Zeroizing::new([0u8; 64]);
    both[..32].copy_from_slice(mlkem);
    both[32..].copy_from_slice(x25519);
    SharedSecret::from(&both[..])
}

/// The client's half-done exchange: our decapsulation key and X25519 key, and the share we sent.
struct ClientExchange {
    decapsulation_key: DecapsulationKey,
    x25519: X25519Exchange,
    share: Vec<u8>,
}

impl ActiveKeyExchange for ClientExchange {
    fn complete(self: Box<Self>, server_share: &[u8]) -> Result<SharedSecret, Error> {
        if server_share.len() != CT_LEN + X25519_LEN {
            return Err(invalid_share());
        }
        let (ciphertext, x25519_peer) = server_share.split_at(CT_LEN);
        let ciphertext: Ciphertext = Array::try_from(ciphertext).map_err(|_| invalid_share())?;
        // Decapsulation never fails: a forged ciphertext gives the implicit-rejection key, and the handshake
        // then fails at Finished.
        let mlkem_secret = Zeroizing::new(<[u8; 32]>::from(
            self.decapsulation_key.decapsulate(&ciphertext),
        ));
        let x25519_secret = self.x25519.agree(x25519_peer)?;
        Ok(combined_secret(&mlkem_secret, &x25519_secret))
    }

    fn hybrid_component(&self) -> Option<(NamedGroup, &[u8])> {
        Some((NamedGroup::X25519, self.x25519.public()))
    }

    fn complete_hybrid_component(
        self: Box<Self>,
        peer_pub_key: &[u8],
    ) -> Result<SharedSecret, Error> {
        Ok(SharedSecret::from(&self.x25519.agree(peer_pub_key)?[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.share
    }

    fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
        None
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519MLKEM768
    }
}
