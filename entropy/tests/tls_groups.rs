//! The TLS key-exchange groups take every ephemeral secret from the provider's random source (`entropy::tls`):
//! a deterministic source gives the same key shares twice and exactly the shares the drawn bytes determine;
//! each group agrees with itself across client and server; malformed shares are refused; and with the pool
//! failed closed, `refuse` fails the key exchange while `os-fallback` completes it and counts the draws.

use std::sync::Mutex;

use entropy::drbg::{Drbg, HmacDrbgSha256};
use entropy::source::{EntropySource, SourceError, SourceInfo, SourceKind};
use entropy::tls::{provider_with_random, OnEntropyFailure};
use entropy::{EntropyConfig, EntropyPool};
use ml_kem::kem::{Decapsulate, KeyExport};
use ml_kem::ml_kem_768::DecapsulationKey;
use ml_kem::Seed;
use rustls::crypto::{GetRandomFailed, SecureRandom, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};

/// A replayable source: HMAC_DRBG from a fixed seed, recording what it handed out.
#[derive(Debug)]
struct Replay {
    drbg: Mutex<HmacDrbgSha256>,
    drawn: Mutex<Vec<u8>>,
}

impl Replay {
    fn leaked(seed: u8) -> &'static Self {
        let drbg = HmacDrbgSha256::instantiate(&[seed; 48], &[], b"tls_groups test").unwrap();
        Box::leak(Box::new(Self {
            drbg: Mutex::new(drbg),
            drawn: Mutex::new(Vec::new()),
        }))
    }

    fn drawn(&self) -> Vec<u8> {
        self.drawn.lock().unwrap().clone()
    }
}

impl SecureRandom for Replay {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.drbg
            .lock()
            .unwrap()
            .generate(buf, &[])
            .map_err(|_| GetRandomFailed)?;
        self.drawn.lock().unwrap().extend_from_slice(buf);
        Ok(())
    }
}

fn group(
    provider: &rustls::crypto::CryptoProvider,
    name: NamedGroup,
) -> &'static dyn SupportedKxGroup {
    *provider
        .kx_groups
        .iter()
        .find(|g| g.name() == name)
        .unwrap_or_else(|| panic!("{name:?} offered"))
}

const GROUPS: [NamedGroup; 4] = [
    NamedGroup::X25519MLKEM768,
    NamedGroup::X25519,
    NamedGroup::secp256r1,
    NamedGroup::secp384r1,
];

#[test]
fn groups_are_offered_hybrid_first() {
    let provider = provider_with_random(Replay::leaked(1));
    let names: Vec<_> = provider.kx_groups.iter().map(|g| g.name()).collect();
    assert_eq!(names, GROUPS);
    let hybrid = group(&provider, NamedGroup::X25519MLKEM768);
    assert!(hybrid.usable_for_version(rustls::ProtocolVersion::TLSv1_3));
    assert!(!hybrid.usable_for_version(rustls::ProtocolVersion::TLSv1_2));
}

#[test]
fn the_same_source_bytes_give_the_same_key_shares() {
    for name in GROUPS {
        let first = provider_with_random(Replay::leaked(7));
        let second = provider_with_random(Replay::leaked(7));
        let other = provider_with_random(Replay::leaked(8));
        let a = group(&first, name).start().unwrap();
        let b = group(&second, name).start().unwrap();
        let c = group(&other, name).start().unwrap();
        assert_eq!(
            a.pub_key(),
            b.pub_key(),
            "{name:?}: replayed source, same share"
        );
        assert_ne!(
            a.pub_key(),
            c.pub_key(),
            "{name:?}: other source, other share"
        );
    }
}

#[test]
fn x25519_share_is_the_drawn_scalar_times_the_base_point() {
    let random = Replay::leaked(3);
    let provider = provider_with_random(random);
    let share = group(&provider, NamedGroup::X25519).start().unwrap();
    let scalar: [u8; 32] = random.drawn()[..32].try_into().unwrap();
    assert_eq!(
        share.pub_key(),
        x25519_dalek::x25519(scalar, x25519_dalek::X25519_BASEPOINT_BYTES)
    );
}

/// The server's side (public value and shared secret computed together) also answers with the drawn scalar
/// times the base point, and its secret is that scalar times the client's point.
#[test]
fn x25519_server_share_is_the_drawn_scalar_times_the_base_point() {
    let random = Replay::leaked(5);
    let provider = provider_with_random(random);
    let client = [0x21u8; 32];
    let client_share = x25519_dalek::x25519(client, x25519_dalek::X25519_BASEPOINT_BYTES);
    let completed = group(&provider, NamedGroup::X25519)
        .start_and_complete(&client_share)
        .unwrap();
    let scalar: [u8; 32] = random.drawn()[..32].try_into().unwrap();
    assert_eq!(
        completed.pub_key,
        x25519_dalek::x25519(scalar, x25519_dalek::X25519_BASEPOINT_BYTES)
    );
    assert_eq!(
        completed.secret.secret_bytes(),
        x25519_dalek::x25519(scalar, client_share)
    );
}

#[test]
fn hybrid_client_share_is_the_mlkem_key_from_the_drawn_seed_then_x25519() {
    let random = Replay::leaked(4);
    let provider = provider_with_random(random);
    let share = group(&provider, NamedGroup::X25519MLKEM768)
        .start()
        .unwrap();
    let drawn = random.drawn();
    assert_eq!(
        drawn.len(),
        64 + 32,
        "ML-KEM seed d || z, then the X25519 scalar"
    );
    let seed: [u8; 64] = drawn[..64].try_into().unwrap();
    let expected_ek = DecapsulationKey::from_seed(Seed::from(seed))
        .encapsulation_key()
        .to_bytes();
    assert_eq!(share.pub_key().len(), 1184 + 32);
    assert_eq!(&share.pub_key()[..1184], &expected_ek[..]);
    let scalar: [u8; 32] = drawn[64..].try_into().unwrap();
    assert_eq!(
        &share.pub_key()[1184..],
        x25519_dalek::x25519(scalar, x25519_dalek::X25519_BASEPOINT_BYTES)
    );
    assert_eq!(
        share.hybrid_component(),
        Some((NamedGroup::X25519, &share.pub_key()[1184..]))
    );
}

#[test]
fn client_and_server_agree_in_every_group() {
    let client = provider_with_random(Replay::leaked(10));
    let server = provider_with_random(Replay::leaked(11));
    for name in GROUPS {
        let exchange = group(&client, name).start().unwrap();
        let completed = group(&server, name)
            .start_and_complete(exchange.pub_key())
            .unwrap();
        assert_eq!(completed.group, name);
        let client_secret = exchange.complete(&completed.pub_key).unwrap();
        assert_eq!(
            client_secret.secret_bytes(),
            completed.secret.secret_bytes(),
            "{name:?}"
        );
        let expected_len = match name {
            NamedGroup::X25519MLKEM768 => 64,
            NamedGroup::secp384r1 => 48,
            _ => 32,
        };
        assert_eq!(client_secret.secret_bytes().len(), expected_len, "{name:?}");
    }
}

#[test]
fn hybrid_server_share_is_ciphertext_first_and_the_secret_mlkem_first() {
    let client_random = Replay::leaked(20);
    let client = provider_with_random(client_random);
    let server = provider_with_random(Replay::leaked(21));
    let exchange = group(&client, NamedGroup::X25519MLKEM768).start().unwrap();
    let seed: [u8; 64] = client_random.drawn()[..64].try_into().unwrap();
    let completed = group(&server, NamedGroup::X25519MLKEM768)
        .start_and_complete(exchange.pub_key())
        .unwrap();
    assert_eq!(completed.pub_key.len(), 1088 + 32);
    let ciphertext = ml_kem::ml_kem_768::Ciphertext::try_from(&completed.pub_key[..1088]).unwrap();
    let mlkem_secret = DecapsulationKey::from_seed(Seed::from(seed)).decapsulate(&ciphertext);
    assert_eq!(&completed.secret.secret_bytes()[..32], &mlkem_secret[..]);
    // The classical half alone (a server that chose plain X25519 from the same ClientHello).
    let x25519_server = group(&server, NamedGroup::X25519)
        .start_and_complete(&exchange.pub_key()[1184..])
        .unwrap();
    let classical = exchange
        .complete_hybrid_component(&x25519_server.pub_key)
        .unwrap();
    assert_eq!(
        classical.secret_bytes(),
        x25519_server.secret.secret_bytes()
    );
}

fn is_invalid_share(result: Result<impl Sized, Error>) -> bool {
    matches!(
        result.err(),
        Some(Error::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare))
    )
}

#[test]
fn malformed_peer_shares_are_refused() {
    let provider = provider_with_random(Replay::leaked(30));
    let x25519 = group(&provider, NamedGroup::X25519);
    assert!(is_invalid_share(x25519.start_and_complete(&[9u8; 31])));
    // A low-order point: the all-zero shared secret RFC 8446 §7.4.2 forbids.
    assert!(is_invalid_share(x25519.start_and_complete(&[0u8; 32])));

    let p256 = group(&provider, NamedGroup::secp256r1);
    let valid = p256.start().unwrap().pub_key().to_vec();
    let mut compressed = vec![0x02 | (valid[64] & 1)];
    compressed.extend_from_slice(&valid[1..33]);
    assert!(is_invalid_share(p256.start_and_complete(&compressed)));
    let mut off_curve = valid.clone();
    off_curve[64] ^= 1;
    assert!(is_invalid_share(p256.start_and_complete(&off_curve)));
    let p384 = group(&provider, NamedGroup::secp384r1);
    assert!(is_invalid_share(p384.start_and_complete(&valid)));

    let hybrid = group(&provider, NamedGroup::X25519MLKEM768);
    let client = hybrid.start().unwrap();
    assert!(is_invalid_share(
        hybrid.start_and_complete(&client.pub_key()[1..])
    ));
    // An encapsulation key with an unreduced coefficient (12 bits all set = 4095 >= q) fails FIPS 203's check.
    let mut unreduced = client.pub_key().to_vec();
    unreduced[0] = 0xff;
    unreduced[1] |= 0x0f;
    assert!(is_invalid_share(hybrid.start_and_complete(&unreduced)));
    assert!(is_invalid_share(client.complete(&[0u8; 1088 + 31])));
}

/// A credited source stuck on one value: the health tests latch it and the pool fails closed.
#[derive(Debug)]
struct Stuck(SourceInfo);

impl EntropySource for Stuck {
    fn info(&self) -> &SourceInfo {
        &self.0
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        out.fill(0x42);
        Ok(out.len())
    }
}

fn failed_pool() -> EntropyPool {
    let source = Stuck(SourceInfo {
        id: "stuck-qrng".into(),
        kind: SourceKind::CharDevice,
        quantum: true,
        sample_bits: 8,
        min_entropy_per_sample: 8.0,
        credited: true,
    });
    let pool = EntropyPool::with_sources(EntropyConfig::default(), vec![Box::new(source)]).unwrap();
    assert!(pool.fill(&mut [0u8; 16]).is_err(), "the pool fails closed");
    pool
}

#[test]
fn a_failed_pool_refuses_key_exchanges_under_refuse() {
    let pool = failed_pool();
    let provider = pool.rustls_provider_with(OnEntropyFailure::Refuse);
    for name in GROUPS {
        assert!(
            matches!(
                group(&provider, name).start().err(),
                Some(Error::FailedToGetRandomBytes)
            ),
            "{name:?}"
        );
    }
    let randomness = pool.tls_randomness(OnEntropyFailure::Refuse);
    assert!(randomness.refused_draws() >= GROUPS.len() as u64);
    assert_eq!(randomness.os_fallback_draws(), 0);
}

#[test]
fn a_failed_pool_falls_back_to_the_os_counted_under_os_fallback() {
    let pool = failed_pool();
    let provider = pool.rustls_provider_with(OnEntropyFailure::OsFallback);
    let server = provider_with_random(Replay::leaked(40));
    for name in GROUPS {
        let exchange = group(&provider, name).start().unwrap();
        let completed = group(&server, name)
            .start_and_complete(exchange.pub_key())
            .unwrap();
        assert_eq!(
            exchange
                .complete(&completed.pub_key)
                .unwrap()
                .secret_bytes(),
            completed.secret.secret_bytes()
        );
    }
    let randomness = pool.tls_randomness(OnEntropyFailure::OsFallback);
    assert!(randomness.os_fallback_draws() >= GROUPS.len() as u64);
    assert_eq!(randomness.refused_draws(), 0);
    assert!(std::sync::Arc::ptr_eq(&provider, &pool.rustls_provider()));
}
