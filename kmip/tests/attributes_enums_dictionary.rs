//! The typed enumerations, usage mask bits and attribute versions agree with the `ttlv` dictionary (built
//! independently from the specifications): same values, same text-encoding names.

use kmip::attributes::{CryptographicUsageMask, KnownAttribute};
use kmip::enums::*;
use ttlv::{tags, Tag};

fn assert_same<E: Copy + std::fmt::Debug>(
    tag: Tag,
    all: &[E],
    value: fn(E) -> u32,
    name: fn(E) -> &'static str,
) {
    let dictionary = ttlv::dictionary::enum_values(tag)
        .unwrap_or_else(|| panic!("no dictionary entry for {tag}"));
    let ours: Vec<(u32, &str)> = all.iter().map(|e| (value(*e), name(*e))).collect();
    let mut mismatches = Vec::new();
    for (v, n) in &ours {
        let theirs = ttlv::dictionary::enum_name(tag, *v);
        if theirs != Some(*n) {
            mismatches.push(format!("0x{v:X}: ours {n}, dictionary {theirs:?}"));
        }
    }
    for (v, n) in dictionary {
        if !ours.iter().any(|(ov, _)| ov == v) {
            mismatches.push(format!("0x{v:X}: dictionary {n}, missing from ours"));
        }
    }
    assert!(mismatches.is_empty(), "{tag}: {mismatches:#?}");
}

macro_rules! check {
    ($($tag:expr => $ty:ty),+ $(,)?) => {{
        let mut failures = Vec::new();
        $(
            if let Err(e) = std::panic::catch_unwind(|| assert_same::<$ty>($tag, <$ty>::ALL, <$ty>::to_u32, <$ty>::name)) {
                failures.push(e.downcast_ref::<String>().cloned().unwrap_or_default());
            }
        )+
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }};
}

#[test]
fn enumerations_match_the_dictionary() {
    check! {
        tags::OBJECT_TYPE => ObjectType,
        tags::CRYPTOGRAPHIC_ALGORITHM => CryptographicAlgorithm,
        tags::KEY_FORMAT_TYPE => KeyFormatType,
        tags::KEY_COMPRESSION_TYPE => KeyCompressionType,
        tags::NAME_TYPE => NameType,
        tags::STATE => State,
        tags::LINK_TYPE => LinkType,
        tags::REVOCATION_REASON_CODE => RevocationReasonCode,
        tags::BLOCK_CIPHER_MODE => BlockCipherMode,
        tags::PADDING_METHOD => PaddingMethod,
        tags::HASHING_ALGORITHM => HashingAlgorithm,
        tags::KEY_ROLE_TYPE => KeyRoleType,
        tags::DIGITAL_SIGNATURE_ALGORITHM => DigitalSignatureAlgorithm,
        tags::MASK_GENERATOR => MaskGenerator,
        tags::WRAPPING_METHOD => WrappingMethod,
        tags::ENCODING_OPTION => EncodingOption,
        tags::CERTIFICATE_TYPE => CertificateType,
        tags::SECRET_DATA_TYPE => SecretDataType,
        tags::RECOMMENDED_CURVE => RecommendedCurve,
        tags::SPLIT_KEY_METHOD => SplitKeyMethod,
        tags::DERIVATION_METHOD => DerivationMethod,
        tags::ALTERNATIVE_NAME_TYPE => AlternativeNameType,
        tags::KEY_VALUE_LOCATION_TYPE => KeyValueLocationType,
        tags::USAGE_LIMITS_UNIT => UsageLimitsUnit,
        tags::RNG_ALGORITHM => RngAlgorithm,
        tags::DRBG_ALGORITHM => DrbgAlgorithm,
        tags::FIPS186_VARIATION => Fips186Variation,
    }
}

#[test]
fn usage_mask_bits_match_the_dictionary() {
    let bits =
        ttlv::dictionary::mask_bits(tags::CRYPTOGRAPHIC_USAGE_MASK).expect("usage mask bits");
    for (bit, name) in bits {
        assert_eq!(
            CryptographicUsageMask::from_name(name),
            Some(CryptographicUsageMask(*bit)),
            "{name}"
        );
    }
}

#[test]
fn attribute_versions_match_the_dictionary() {
    let mismatches: Vec<String> = KnownAttribute::ALL
        .iter()
        // Key Format Type was a Key Block field (tag 1.0) long before it became an attribute in 2.0.
        .filter(|&&known| known != KnownAttribute::KeyFormatType)
        .filter_map(|&known| {
            let since = known.since();
            let theirs = ttlv::dictionary::tag_since(known.tag());
            (theirs != Some((since.major, since.minor)))
                .then(|| format!("{known:?}: ours {since}, dictionary {theirs:?}"))
        })
        .collect();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
