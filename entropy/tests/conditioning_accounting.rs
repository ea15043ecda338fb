//! The conditioner's min-entropy ledger: only credited input counts, and an n-bit seed needs n + 64 bits.

use entropy::conditioning::{
    required_credit_bits, Conditioner, ConditioningError, FULL_ENTROPY_MARGIN_BITS,
};

#[test]
fn a_256_bit_seed_needs_320_credited_bits() {
    assert_eq!(FULL_ENTROPY_MARGIN_BITS, 64);
    assert_eq!(required_credit_bits(256), 320);
    assert_eq!(required_credit_bits(384), 448);
}

#[test]
fn refuses_a_seed_one_bit_short_and_accepts_at_the_threshold() {
    // H = 1 bit per sample: 319 samples are worth 319 bits, one short of 320.
    let mut conditioner = Conditioner::new();
    conditioner.absorb_credited(&[1u8; 319], 1.0).unwrap();
    let mut seed = [0u8; 32];
    assert_eq!(
        conditioner.extract(&mut seed),
        Err(ConditioningError::InsufficientEntropy {
            credited_bits: 319,
            required_bits: 320,
            output_bits: 256
        })
    );
    assert_eq!(seed, [0u8; 32], "a refused extraction writes nothing");
    conditioner.absorb_credited(&[0u8; 1], 1.0).unwrap();
    conditioner.extract(&mut seed).unwrap();
    assert_ne!(seed, [0u8; 32]);
}

#[test]
fn counts_46_bytes_at_7_bits_as_enough_for_256_bits_and_45_as_not() {
    let mut short = Conditioner::new();
    short.absorb_credited(&[0x5a; 45], 7.0).unwrap();
    assert_eq!(short.credited_bits(), 315);
    assert!(!short.can_extract(32));
    assert_eq!(short.missing_bits(32), 5);

    let mut enough = Conditioner::new();
    enough.absorb_credited(&[0x5a; 46], 7.0).unwrap();
    assert_eq!(enough.credited_bits(), 322);
    assert!(enough.can_extract(32));
}

#[test]
fn uncredited_input_never_counts_towards_a_seed() {
    let mut conditioner = Conditioner::new();
    conditioner.absorb_uncredited(&[0xa5; 100_000]);
    assert_eq!(conditioner.credited_bits(), 0);
    let mut seed = [0u8; 32];
    assert!(matches!(
        conditioner.extract(&mut seed),
        Err(ConditioningError::InsufficientEntropy { .. })
    ));
}

#[test]
fn instantiation_seed_of_384_bits_needs_448_credited_bits() {
    let mut conditioner = Conditioner::new();
    // 0.8297 bits per sample (truerand_1bit's assessment): 540 samples are worth 448.038 bits.
    conditioner.absorb_credited(&[1u8; 539], 0.8297).unwrap();
    assert_eq!(conditioner.credited_bits(), 447);
    let mut seed = [0u8; 48];
    assert!(conditioner.extract(&mut seed).is_err());
    conditioner.absorb_credited(&[0u8; 1], 0.8297).unwrap();
    assert_eq!(conditioner.credited_bits(), 448);
    conditioner.extract(&mut seed).unwrap();
}

#[test]
fn fractional_credit_rounds_down_never_up() {
    let mut conditioner = Conditioner::new();
    // 3 samples at 0.3333333 bits: 0.9999999 bits, which must count as 0, not 1.
    conditioner
        .absorb_credited(&[1, 2, 3], 0.333_333_3)
        .unwrap();
    assert_eq!(conditioner.credited_bits(), 0);
}

#[test]
fn extraction_consumes_the_credit() {
    let mut conditioner = Conditioner::new();
    conditioner.absorb_credited(&[9u8; 64], 8.0).unwrap();
    let mut seed = [0u8; 32];
    conditioner.extract(&mut seed).unwrap();
    assert_eq!(conditioner.credited_bits(), 0);
    assert!(
        conditioner.extract(&mut seed).is_err(),
        "the same input must not back a second seed"
    );
}

#[test]
fn rejects_impossible_assessments() {
    let mut conditioner = Conditioner::new();
    for bad in [0.0, -1.0, 8.5, f64::NAN, f64::INFINITY] {
        let error = conditioner.absorb_credited(&[1], bad).unwrap_err();
        assert!(
            matches!(error, ConditioningError::InvalidMinEntropy(_)),
            "{bad}: {error}"
        );
    }
    assert_eq!(
        conditioner.credited_samples(),
        0,
        "a refused piece is not absorbed"
    );
}

#[test]
fn output_depends_on_uncredited_input_and_on_the_credited_samples() {
    let derive = |credited: &[u8], extra: &[u8]| {
        let mut c = Conditioner::new();
        c.absorb_credited(credited, 8.0).unwrap();
        c.absorb_uncredited(extra);
        let mut out = [0u8; 32];
        c.extract(&mut out).unwrap();
        out
    };
    let base = derive(&[7u8; 40], b"");
    assert_eq!(base, derive(&[7u8; 40], b""), "deterministic in its input");
    assert_ne!(base, derive(&[7u8; 40], b"kmip rng seed"));
    assert_ne!(base, derive(&[8u8; 40], b""));
}

#[test]
fn credited_and_uncredited_pieces_are_domain_separated() {
    // The same bytes absorbed as credited vs. uncredited must give different outputs.
    let mut a = Conditioner::new();
    a.absorb_credited(&[3u8; 40], 8.0).unwrap();
    a.absorb_credited(&[4u8; 8], 8.0).unwrap();
    let mut b = Conditioner::new();
    b.absorb_credited(&[3u8; 40], 8.0).unwrap();
    b.absorb_uncredited(&[4u8; 8]);
    let (mut out_a, mut out_b) = ([0u8; 32], [0u8; 32]);
    a.extract(&mut out_a).unwrap();
    b.extract(&mut out_b).unwrap();
    assert_ne!(out_a, out_b);
}
