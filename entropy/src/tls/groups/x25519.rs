//! X25519 (RFC 7748) on curve25519-dalek, the scalar being 32 bytes drawn from the source.
//!
//! Each exchange keeps its scalar in a `Zeroizing` buffer for one agreement. The public value is the clamped
//! scalar times the base point by curve25519-dalek's precomputed Edwards base-point table (what `x25519-dalek`'s
//! `PublicKey::from` computes); the shared secret by [`x25519`](super::x25519_function::x25519), the Edwards
//! form's vectorised multiplication where the CPU has AVX-512 IFMA or AVX2, equal to the Montgomery ladder's
//! result. A server, which knows the peer's value before it makes its own, computes both at once
//! ([`X25519Exchange::respond`], one inversion fewer).

use curve25519_dalek::montgomery::MontgomeryPoint;
use rustls::crypto::{
    ActiveKeyExchange, CompletedKeyExchange, SecureRandom, SharedSecret, SupportedKxGroup,
};
use rustls::{Error, NamedGroup};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::x25519_function::{public_and_shared, x25519};
use super::{draw, invalid_share};

/// An X25519 public value is 32 bytes.
pub(super) const SHARE_LEN: usize = 32;

/// The X25519 group.
#[derive(Debug)]
pub struct X25519 {
    random: &'static dyn SecureRandom,
}

impl X25519 {
    pub fn new(random: &'static dyn SecureRandom) -> Self {
        Self { random }
    }
}

impl SupportedKxGroup for X25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        Ok(Box::new(X25519Exchange::generate(self.random)?))
    }

    /// Server side: our public value and the shared secret together.
    fn start_and_complete(&self, peer_pub_key: &[u8]) -> Result<CompletedKeyExchange, Error> {
        let (public, shared) = X25519Exchange::respond(self.random, peer_pub_key)?;
        Ok(CompletedKeyExchange {
            group: NamedGroup::X25519,
            pub_key: public.to_vec(),
            secret: SharedSecret::from(&shared[..]),
        })
    }

    fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
        None
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

/// One ephemeral X25519 key pair.
pub(super) struct X25519Exchange {
    scalar: Zeroizing<[u8; 32]>,
    public: [u8; SHARE_LEN],
}

impl X25519Exchange {
    pub(super) fn generate(random: &dyn SecureRandom) -> Result<Self, Error> {
        let mut scalar = Zeroizing::new([0u8; 32]);
        draw(random, scalar.as_mut())?;
        let public = MontgomeryPoint::mul_base_clamped(*scalar).to_bytes();
        Ok(Self { scalar, public })
    }

    pub(super) fn public(&self) -> &[u8; SHARE_LEN] {
        &self.public
    }

    /// The shared secret with the peer's public value; a low-order point (all-zero result) is refused, as
    /// RFC 8446 §7.4.2 asks.
    pub(super) fn agree(&self, peer: &[u8]) -> Result<Zeroizing<[u8; 32]>, Error> {
        let peer: [u8; SHARE_LEN] = peer.try_into().map_err(|_| invalid_share())?;
        contributory(Zeroizing::new(x25519(*self.scalar, peer)))
    }

    /// A fresh scalar from `random`, answering the peer's public value: our public value and the shared
    /// secret, the same bytes as [`Self::generate`] then [`Self::agree`] give, computed together. The scalar
    /// lives only in this call.
    pub(super) fn respond(
        random: &dyn SecureRandom,
        peer: &[u8],
    ) -> Result<([u8; SHARE_LEN], Zeroizing<[u8; 32]>), Error> {
        let peer: [u8; SHARE_LEN] = peer.try_into().map_err(|_| invalid_share())?;
        let mut scalar = Zeroizing::new([0u8; 32]);
        draw(random, scalar.as_mut())?;
        let (public, shared) = public_and_shared(*scalar, peer);
        Ok((public, contributory(Zeroizing::new(shared))?))
    }
}

/// Refuses the all-zero shared secret (a low-order peer point), as RFC 8446 §7.4.2 asks; constant time in the
/// secret, as `x25519-dalek`'s `was_contributory`.
fn contributory(shared: Zeroizing<[u8; 32]>) -> Result<Zeroizing<[u8; 32]>, Error> {
    if bool::from(shared.ct_eq(&[0u8; 32])) {
        return Err(invalid_share());
    }
    Ok(shared)
}

impl ActiveKeyExchange for X25519Exchange {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, Error> {
        Ok(SharedSecret::from(&self.agree(peer_pub_key)?[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
        None
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}
