//! The TLS groups' X25519 function (`entropy::tls::groups::x25519_function`: the Edwards form's multiplication,
//! the Montgomery ladder for twist points) gives exactly RFC 7748's X25519: its test vectors (single, with a
//! set top bit, and iterated), `x25519-dalek`'s ladder on every low-order input and their non-canonical
//! encodings, small curve and twist points, and random scalars and u-coordinates (about half of them twist
//! points); the server's combined computation (`public_and_shared`, one batched inversion) gives the same two
//! values as two separate calls on all of those inputs; and the X25519 group still refuses a low-order share
//! (all-zero shared secret).

use curve25519_dalek::constants::X25519_LOW_ORDER_POINTS;
use curve25519_dalek::montgomery::MontgomeryPoint;
use entropy::tls::groups::x25519_function::{public_and_shared, x25519};
use entropy::tls::provider_with_random;
use proptest::prelude::*;
use rustls::crypto::{GetRandomFailed, SecureRandom};
use rustls::{Error, NamedGroup, PeerMisbehaved};

fn bytes(text: &str) -> [u8; 32] {
    hex::decode(text).unwrap().try_into().unwrap()
}

/// The reference: `x25519-dalek`'s function (RFC 7748 §5's ladder).
fn ladder(scalar: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    x25519_dalek::x25519(scalar, u)
}

/// The server's combined computation against the ladder's public value (scalar times u = 9) and shared
/// secret; returns the shared secret.
fn check_public_and_shared(scalar: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    let (public, shared) = public_and_shared(scalar, u);
    let base = curve25519_dalek::constants::X25519_BASEPOINT.to_bytes();
    assert_eq!(
        public,
        ladder(scalar, base),
        "public value, u = {}",
        hex::encode(u)
    );
    assert_eq!(
        shared,
        ladder(scalar, u),
        "shared secret, u = {}",
        hex::encode(u)
    );
    shared
}

/// Whether `u` has a point on the curve itself (the Edwards path) rather than on its twist (the ladder).
fn on_curve(u: [u8; 32]) -> bool {
    MontgomeryPoint(u).to_edwards(0).is_some()
}

#[test]
fn rfc7748_section_5_2_vectors() {
    for (scalar, u, expected) in [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        // The u-coordinate's top bit is set: it must be masked.
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ] {
        assert_eq!(x25519(bytes(scalar), bytes(u)), bytes(expected), "{u}");
    }
}

#[test]
fn rfc7748_section_6_1_diffie_hellman() {
    let alice = bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let alice_public = bytes("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    let bob = bytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let bob_public = bytes("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let shared = bytes("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    let base = curve25519_dalek::constants::X25519_BASEPOINT.to_bytes();
    assert_eq!(x25519(alice, base), alice_public);
    assert_eq!(x25519(bob, base), bob_public);
    assert_eq!(x25519(alice, bob_public), shared);
    assert_eq!(x25519(bob, alice_public), shared);
    assert_eq!(public_and_shared(alice, bob_public), (alice_public, shared));
    assert_eq!(public_and_shared(bob, alice_public), (bob_public, shared));
}

/// RFC 7748 §5.2's iteration (k, u) <- (X25519(k, u), k), 1,000 times (every u is an earlier output, so a
/// point on the curve: the Edwards path); each step also equals the ladder's.
#[test]
fn rfc7748_iterated_vectors() {
    let mut k = curve25519_dalek::constants::X25519_BASEPOINT.to_bytes();
    let mut u = k;
    for step in 1..=1000 {
        assert!(on_curve(u), "step {step}");
        let result = x25519(k, u);
        assert_eq!(result, ladder(k, u), "step {step}");
        if step % 50 == 0 {
            assert_eq!(check_public_and_shared(k, u), result, "step {step}");
        }
        u = k;
        k = result;
        if step == 1 {
            assert_eq!(
                k,
                bytes("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
            );
        }
    }
    assert_eq!(
        k,
        bytes("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    );
}

/// `u + p` when it still fits in 255 bits: another encoding of the same field element.
fn plus_p(u: [u8; 32]) -> Option<[u8; 32]> {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    let mut sum = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(u[i]) + u16::from(p[i]) + carry;
        sum[i] = s as u8;
        carry = s >> 8;
    }
    (carry == 0 && sum[31] < 0x80).then_some(sum)
}

/// Every low-order u-coordinate, also with its top bit set and as `u + p`, gives the all-zero output, as the
/// ladder does, for several scalars.
#[test]
fn low_order_inputs_give_zero_as_the_ladder_does() {
    let mut inputs = Vec::new();
    for point in &X25519_LOW_ORDER_POINTS {
        let u = point.to_bytes();
        inputs.push(u);
        let mut high = u;
        high[31] |= 0x80;
        inputs.push(high);
        inputs.extend(plus_p(u));
    }
    assert!(inputs.len() >= 16, "{}", inputs.len());
    for scalar in [[0u8; 32], [0xff; 32], [0x5a; 32], [0x13; 32]] {
        for &u in &inputs {
            assert_eq!(x25519(scalar, u), [0u8; 32], "{}", hex::encode(u));
            assert_eq!(ladder(scalar, u), [0u8; 32]);
            // The identity's zero denominator must not spoil the public value batched with it.
            assert_eq!(check_public_and_shared(scalar, u), [0u8; 32]);
        }
    }
}

/// Small u-coordinates (both curve and twist points, and u = p - 1 = -1, which is on the twist) agree.
#[test]
fn small_and_twist_inputs_agree_with_the_ladder() {
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    assert!(!on_curve(minus_one));
    let mut inputs = vec![minus_one];
    for n in 2u8..=64 {
        let mut u = [0u8; 32];
        u[0] = n;
        inputs.push(u);
    }
    let twist = inputs.iter().filter(|u| !on_curve(**u)).count();
    assert!(twist > 10 && twist < inputs.len() - 10, "{twist}");
    for scalar in [[0x77u8; 32], [0x01; 32], [0xfe; 32]] {
        for &u in &inputs {
            assert_eq!(x25519(scalar, u), ladder(scalar, u), "{}", hex::encode(u));
            check_public_and_shared(scalar, u);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random scalars and random 32-byte u-coordinates (curve or twist, any top bit, canonical or not).
    #[test]
    fn random_inputs_agree_with_the_ladder(scalar in any::<[u8; 32]>(), u in any::<[u8; 32]>()) {
        prop_assert_eq!(x25519(scalar, u), ladder(scalar, u));
        let base = curve25519_dalek::constants::X25519_BASEPOINT.to_bytes();
        prop_assert_eq!(public_and_shared(scalar, u), (ladder(scalar, base), ladder(scalar, u)));
    }
}

#[derive(Debug)]
struct Counter(std::sync::atomic::AtomicU8);

impl SecureRandom for Counter {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        let next = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        buf.fill(next);
        Ok(())
    }
}

/// The group refuses every low-order share, whatever its encoding (RFC 8446 §7.4.2: all-zero secret).
#[test]
fn the_x25519_group_refuses_every_low_order_share() {
    let random: &'static Counter = Box::leak(Box::new(Counter(0.into())));
    let provider = provider_with_random(random);
    let group = provider
        .kx_groups
        .iter()
        .find(|g| g.name() == NamedGroup::X25519)
        .unwrap();
    for point in &X25519_LOW_ORDER_POINTS {
        let mut high = point.to_bytes();
        high[31] |= 0x80;
        for share in [point.to_bytes(), high] {
            assert!(matches!(
                group.start_and_complete(&share),
                Err(Error::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare))
            ));
        }
    }
    // An honest share completes.
    let honest = ladder(
        [9u8; 32],
        curve25519_dalek::constants::X25519_BASEPOINT.to_bytes(),
    );
    let completed = group.start_and_complete(&honest).unwrap();
    // The server path (public value and secret computed together) agrees with the client's ladder.
    let public: [u8; 32] = completed.pub_key.as_slice().try_into().unwrap();
    assert_eq!(completed.secret.secret_bytes(), ladder([9u8; 32], public));
}
