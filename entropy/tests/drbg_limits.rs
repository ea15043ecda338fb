//! Behaviour of both DRBG mechanisms at their SP 800-90A limits: reseed counter and interval, request size,
//! input lengths, error atomicity, redacted Debug, and the properties the pool relies on (Send, determinism).

use entropy::drbg::{
    CtrDrbg, Drbg, DrbgError, DrbgMechanism, HmacDrbgSha256, HmacDrbgSha512,
    DEFAULT_RESEED_INTERVAL, MAX_BYTES_PER_REQUEST, MAX_INPUT_LEN, MAX_RESEED_INTERVAL,
    MIN_NONCE_LEN, SECURITY_STRENGTH_BYTES,
};

const ENTROPY: [u8; 32] = [0x11; 32];
const NONCE: [u8; 16] = [0x22; 16];

type Instantiate = fn(&[u8], &[u8], &[u8]) -> Result<Box<dyn Drbg>, DrbgError>;

fn ctr(e: &[u8], n: &[u8], p: &[u8]) -> Result<Box<dyn Drbg>, DrbgError> {
    Ok(Box::new(CtrDrbg::instantiate(e, n, p)?))
}
fn hmac256(e: &[u8], n: &[u8], p: &[u8]) -> Result<Box<dyn Drbg>, DrbgError> {
    Ok(Box::new(HmacDrbgSha256::instantiate(e, n, p)?))
}
fn hmac512(e: &[u8], n: &[u8], p: &[u8]) -> Result<Box<dyn Drbg>, DrbgError> {
    Ok(Box::new(HmacDrbgSha512::instantiate(e, n, p)?))
}

const ALL: [(&str, Instantiate, DrbgMechanism); 3] = [
    ("ctr", ctr, DrbgMechanism::CtrAes256),
    ("hmac-sha256", hmac256, DrbgMechanism::HmacSha256),
    ("hmac-sha512", hmac512, DrbgMechanism::HmacSha512),
];

fn with_interval(name: &str, interval: u64) -> Box<dyn Drbg> {
    match name {
        "ctr" => {
            let mut d = CtrDrbg::instantiate(&ENTROPY, &NONCE, b"").unwrap();
            d.set_reseed_interval(interval).unwrap();
            Box::new(d)
        }
        "hmac-sha256" => {
            let mut d = HmacDrbgSha256::instantiate(&ENTROPY, &NONCE, b"").unwrap();
            d.set_reseed_interval(interval).unwrap();
            Box::new(d)
        }
        _ => {
            let mut d = HmacDrbgSha512::instantiate(&ENTROPY, &NONCE, b"").unwrap();
            d.set_reseed_interval(interval).unwrap();
            Box::new(d)
        }
    }
}

#[test]
fn each_mechanism_reports_itself_and_starts_at_counter_one_with_default_interval() {
    for (name, instantiate, mechanism) in ALL {
        let drbg = instantiate(&ENTROPY, &NONCE, b"").unwrap();
        assert_eq!(drbg.mechanism(), mechanism, "{name}");
        assert_eq!(drbg.reseed_counter(), 1, "{name}");
        assert_eq!(drbg.reseed_interval(), DEFAULT_RESEED_INTERVAL, "{name}");
    }
    assert_eq!(DEFAULT_RESEED_INTERVAL, 1 << 48);
}

#[test]
fn reseed_is_required_exactly_after_interval_requests_and_reseed_resets_the_counter() {
    for (name, _, _) in ALL {
        let mut drbg = with_interval(name, 3);
        let mut out = [0u8; 16];
        for served in 1..=3u64 {
            assert_eq!(drbg.reseed_counter(), served, "{name}");
            drbg.generate(&mut out, b"")
                .unwrap_or_else(|e| panic!("{name}: request {served}: {e}"));
        }
        assert_eq!(drbg.reseed_counter(), 4, "{name}");
        let before = out;
        assert_eq!(
            drbg.generate(&mut out, b""),
            Err(DrbgError::ReseedRequired),
            "{name}"
        );
        assert_eq!(out, before, "{name}: a refused request writes nothing");
        assert_eq!(
            drbg.reseed_counter(),
            4,
            "{name}: a refused request does not count"
        );

        drbg.reseed(&[0x33; 32], b"").unwrap();
        assert_eq!(drbg.reseed_counter(), 1, "{name}");
        drbg.generate(&mut out, b"").unwrap();
        assert_eq!(drbg.reseed_counter(), 2, "{name}");
    }
}

#[test]
fn reseed_interval_outside_one_to_2_pow_48_is_refused() {
    for bad in [0, MAX_RESEED_INTERVAL + 1, u64::MAX] {
        let mut c = CtrDrbg::instantiate(&ENTROPY, &NONCE, b"").unwrap();
        assert_eq!(
            c.set_reseed_interval(bad),
            Err(DrbgError::InvalidReseedInterval {
                requested: bad,
                max: MAX_RESEED_INTERVAL
            })
        );
        let mut h = HmacDrbgSha256::instantiate(&ENTROPY, &NONCE, b"").unwrap();
        assert_eq!(
            h.set_reseed_interval(bad),
            Err(DrbgError::InvalidReseedInterval {
                requested: bad,
                max: MAX_RESEED_INTERVAL
            })
        );
        assert_eq!(
            c.reseed_interval(),
            DEFAULT_RESEED_INTERVAL,
            "a refused setting leaves the old one"
        );
    }
    let mut c = CtrDrbg::instantiate(&ENTROPY, &NONCE, b"").unwrap();
    c.set_reseed_interval(1).unwrap();
    c.set_reseed_interval(MAX_RESEED_INTERVAL).unwrap();
    assert_eq!(c.reseed_interval(), MAX_RESEED_INTERVAL);
}

#[test]
fn requests_up_to_64_kib_are_served_and_larger_ones_refused_without_state_change() {
    assert_eq!(MAX_BYTES_PER_REQUEST, 1 << 16, "2^19 bits");
    for (name, instantiate, _) in ALL {
        let mut drbg = instantiate(&ENTROPY, &NONCE, b"").unwrap();
        let mut twin = instantiate(&ENTROPY, &NONCE, b"").unwrap();
        let mut big = vec![0u8; MAX_BYTES_PER_REQUEST + 1];
        assert_eq!(
            drbg.generate(&mut big, b""),
            Err(DrbgError::RequestTooLarge {
                requested: MAX_BYTES_PER_REQUEST + 1,
                max: MAX_BYTES_PER_REQUEST
            }),
            "{name}"
        );
        assert!(big.iter().all(|&b| b == 0), "{name}: nothing written");
        assert_eq!(drbg.reseed_counter(), 1, "{name}");
        // The refused request left the state as it was: both instances now produce the same bytes.
        let (mut a, mut b) = (
            vec![0u8; MAX_BYTES_PER_REQUEST],
            vec![0u8; MAX_BYTES_PER_REQUEST],
        );
        drbg.generate(&mut a, b"").unwrap();
        twin.generate(&mut b, b"").unwrap();
        assert_eq!(a, b, "{name}");
        assert!(a.iter().any(|&x| x != 0), "{name}: output is not all zero");
        drbg.generate(&mut [], b"")
            .unwrap_or_else(|e| panic!("{name}: empty request: {e}"));
    }
}

#[test]
fn short_entropy_and_nonce_are_refused_at_instantiate_and_reseed() {
    for (name, instantiate, _) in ALL {
        let short = [0u8; SECURITY_STRENGTH_BYTES - 1];
        assert_eq!(
            instantiate(&short, &NONCE, b"").unwrap_err(),
            DrbgError::EntropyTooShort { len: 31, min: 32 },
            "{name}"
        );
        assert_eq!(
            instantiate(&ENTROPY, &[0u8; MIN_NONCE_LEN - 1], b"").unwrap_err(),
            DrbgError::NonceTooShort { len: 15, min: 16 },
            "{name}"
        );
        // An entropy input carrying 3/2 of the security strength may come without a separate nonce.
        instantiate(&[0x44; 48], b"", b"").unwrap_or_else(|e| panic!("{name}: combined seed: {e}"));
        assert_eq!(
            instantiate(&[0x44; 47], b"", b"").unwrap_err(),
            DrbgError::NonceTooShort { len: 0, min: 16 }
        );

        let mut drbg = instantiate(&ENTROPY, &NONCE, b"").unwrap();
        assert_eq!(
            drbg.reseed(&short, b"").unwrap_err(),
            DrbgError::EntropyTooShort { len: 31, min: 32 },
            "{name}"
        );
    }
}

#[test]
fn inputs_longer_than_the_limit_are_refused_and_the_limit_itself_is_accepted() {
    let at_limit = vec![0x55u8; MAX_INPUT_LEN];
    let over = vec![0x55u8; MAX_INPUT_LEN + 1];
    let too_long = |what| DrbgError::InputTooLong {
        what,
        len: MAX_INPUT_LEN + 1,
        max: MAX_INPUT_LEN,
    };
    for (name, instantiate, _) in ALL {
        assert_eq!(
            instantiate(&over, &NONCE, b"").unwrap_err(),
            too_long("entropy input"),
            "{name}"
        );
        assert_eq!(
            instantiate(&ENTROPY, &over, b"").unwrap_err(),
            too_long("nonce"),
            "{name}"
        );
        assert_eq!(
            instantiate(&ENTROPY, &NONCE, &over).unwrap_err(),
            too_long("personalization string"),
            "{name}"
        );
        let mut drbg =
            instantiate(&at_limit, &at_limit, &at_limit).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            drbg.reseed(&over, b"").unwrap_err(),
            too_long("entropy input"),
            "{name}"
        );
        assert_eq!(
            drbg.reseed(&ENTROPY, &over).unwrap_err(),
            too_long("additional input"),
            "{name}"
        );
        let mut out = [0u8; 32];
        assert_eq!(
            drbg.generate(&mut out, &over).unwrap_err(),
            too_long("additional input"),
            "{name}"
        );
        assert_eq!(out, [0u8; 32], "{name}");
        assert_eq!(drbg.reseed_counter(), 1, "{name}");
        drbg.reseed(&at_limit, &at_limit).unwrap();
        drbg.generate(&mut out, &at_limit).unwrap();
    }
}

#[test]
fn every_input_changes_the_output() {
    for (name, instantiate, _) in ALL {
        let first = |drbg: &mut Box<dyn Drbg>, ai: &[u8]| {
            let mut out = [0u8; 64];
            drbg.generate(&mut out, ai).unwrap();
            out
        };
        let base = first(&mut instantiate(&ENTROPY, &NONCE, b"").unwrap(), b"");
        assert_eq!(
            base,
            first(&mut instantiate(&ENTROPY, &NONCE, b"").unwrap(), b""),
            "{name}: deterministic"
        );
        assert_ne!(
            base,
            first(&mut instantiate(&[0x12; 32], &NONCE, b"").unwrap(), b""),
            "{name}: entropy"
        );
        assert_ne!(
            base,
            first(&mut instantiate(&ENTROPY, &[0x23; 16], b"").unwrap(), b""),
            "{name}: nonce"
        );
        assert_ne!(
            base,
            first(&mut instantiate(&ENTROPY, &NONCE, b"p").unwrap(), b""),
            "{name}: personalization"
        );
        assert_ne!(
            base,
            first(&mut instantiate(&ENTROPY, &NONCE, b"").unwrap(), b"a"),
            "{name}: additional input"
        );

        let mut drbg = instantiate(&ENTROPY, &NONCE, b"").unwrap();
        let (one, two) = (first(&mut drbg, b""), first(&mut drbg, b""));
        assert_ne!(one, two, "{name}: successive requests differ");
    }
}

#[test]
fn debug_output_redacts_the_working_state() {
    let ctr = CtrDrbg::instantiate(&ENTROPY, &NONCE, b"").unwrap();
    let hmac = HmacDrbgSha512::instantiate(&ENTROPY, &NONCE, b"").unwrap();
    for text in [
        format!("{ctr:?}"),
        format!("{hmac:?}"),
        format!("{:#?}", Box::new(ctr) as Box<dyn Drbg>),
    ] {
        assert!(text.contains("<redacted>"), "{text}");
        assert!(text.contains("reseed_counter"), "{text}");
        // No long run of hex digits or byte-array dump can hide in it.
        assert!(!text.contains('['), "{text}");
        let longest_hex_run = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest_hex_run < 16, "{text}");
    }
}

#[test]
fn drbgs_are_send_and_zeroize_on_drop() {
    fn assert_send_zeroize<T: Send + zeroize::ZeroizeOnDrop>() {}
    assert_send_zeroize::<CtrDrbg>();
    assert_send_zeroize::<HmacDrbgSha256>();
    assert_send_zeroize::<HmacDrbgSha512>();
    // One instance per worker thread: moving a DRBG to another thread works.
    let mut drbg = CtrDrbg::instantiate(&ENTROPY, &NONCE, b"").unwrap();
    let out = std::thread::spawn(move || {
        let mut out = [0u8; 32];
        drbg.generate(&mut out, b"").unwrap();
        out
    })
    .join()
    .unwrap();
    assert_ne!(out, [0u8; 32]);
}
