//! What Create Key Pair, Re-key Key Pair, Create and Re-key share: the key pair a template asks for, whether a
//! key is quantum safe, the links between pair members and between an object and its replacement.

use kmip::attributes::{Attribute, Attributes, Link};
use kmip::enums::{CryptographicAlgorithm, LinkType, RecommendedCurve};
use kmip::{ProtocolVersion, ResultReason};

use super::{save, versioned};
use crate::crypto::{EcCurve, KeyPairSpec};
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::StoredObject;

fn domain_curve(attributes: &Attributes) -> Option<RecommendedCurve> {
    attributes.iter().find_map(|a| match a {
        Attribute::CryptographicDomainParameters(d) => d.recommended_curve,
        _ => None,
    })
}

/// The key pair a set of templates asks for.
pub fn key_pair_spec(
    version: ProtocolVersion,
    templates: &[&Attributes],
) -> Result<KeyPairSpec, KmipError> {
    let first = |f: &dyn Fn(&Attributes) -> Option<i64>| templates.iter().find_map(|t| f(t));
    let algorithms: Vec<CryptographicAlgorithm> = templates
        .iter()
        .filter_map(|t| t.cryptographic_algorithm())
        .collect();
    let Some(&algorithm) = algorithms.first() else {
        return Err(KmipError::invalid_field(
            "Create Key Pair needs a Cryptographic Algorithm attribute",
        ));
    };
    if algorithms.iter().any(|a| *a != algorithm) {
        return Err(KmipError::invalid_field(
            "the templates name different Cryptographic Algorithms",
        ));
    }
    let length = first(&|t| t.cryptographic_length().map(i64::from));
    let curve = templates.iter().find_map(|t| domain_curve(t));
    let unsupported = |message: String| {
        versioned(
            version,
            ResultReason::UnsupportedCryptographicParameters,
            ResultReason::InvalidField,
            message,
        )
    };
    if let Some(spec) = post_quantum_spec(algorithm) {
        let (_, expected) = crate::managed::key_codec::algorithm_and_length(spec);
        return match length {
            None => Ok(spec),
            Some(l) if l == i64::from(expected) => Ok(spec),
            Some(l) => Err(unsupported(format!(
                "an {} key pair has Cryptographic Length {expected} (its parameter set), not {l}",
                algorithm.name()
            ))),
        };
    }
    use CryptographicAlgorithm as A;
    match algorithm {
        A::Rsa => match length {
            Some(bits @ (1024 | 2048 | 3072 | 4096)) => Ok(KeyPairSpec::Rsa {
                bits: usize::try_from(bits).unwrap_or(2048),
            }),
            other => Err(unsupported(format!(
                "RSA key pairs are 2048, 3072 or 4096 bits (1024 for KMIP conformance only), not {}",
                other.map_or("unspecified".into(), |b| b.to_string())
            ))),
        },
        A::Ec | A::Ecdsa | A::Ecdh => match (curve, length) {
            (Some(RecommendedCurve::P256), _) | (None, Some(256)) => Ok(KeyPairSpec::Ec(EcCurve::P256)),
            (Some(RecommendedCurve::P384), _) | (None, Some(384)) => Ok(KeyPairSpec::Ec(EcCurve::P384)),
            _ => Err(unsupported(
                "EC key pairs are on P-256 or P-384 (Cryptographic Length 256 / 384 or a Recommended Curve)".into(),
            )),
        },
        A::Ed25519 => Ok(KeyPairSpec::Ed25519),
        other => Err(unsupported(format!(
            "Create Key Pair makes RSA, EC, Ed25519, ML-KEM and ML-DSA keys; {} is not supported",
            other.name()
        ))),
    }
}

/// The post-quantum key pair an algorithm names (the parameter set is part of the algorithm).
pub fn post_quantum_spec(algorithm: CryptographicAlgorithm) -> Option<KeyPairSpec> {
    use crate::crypto::ml_dsa::MlDsaLevel;
    use crate::crypto::ml_kem::MlKemLevel;
    use CryptographicAlgorithm as A;
    Some(match algorithm {
        A::MlKem512 => KeyPairSpec::MlKem(MlKemLevel::MlKem512),
        A::MlKem768 => KeyPairSpec::MlKem(MlKemLevel::MlKem768),
        A::MlKem1024 => KeyPairSpec::MlKem(MlKemLevel::MlKem1024),
        A::MlDsa44 => KeyPairSpec::MlDsa(MlDsaLevel::MlDsa44),
        A::MlDsa65 => KeyPairSpec::MlDsa(MlDsaLevel::MlDsa65),
        A::MlDsa87 => KeyPairSpec::MlDsa(MlDsaLevel::MlDsa87),
        _ => return None,
    })
}

/// Whether a key of this algorithm and length resists a quantum adversary (Grover halves symmetric strength;
/// Shor breaks RSA and elliptic curves): AES-256 and HMAC keys of at least 256 bits, and ML-KEM / ML-DSA keys.
pub fn is_quantum_safe(algorithm: Option<CryptographicAlgorithm>, length: Option<i32>) -> bool {
    use CryptographicAlgorithm as A;
    if algorithm.and_then(post_quantum_spec).is_some() {
        return true;
    }
    match algorithm {
        Some(A::Aes) => length.is_some_and(|l| l >= 256),
        Some(A::HmacSha256 | A::HmacSha384 | A::HmacSha512) => length.is_none_or(|l| l >= 256),
        _ => false,
    }
}

/// Refuses a request that asks for a Quantum Safe object the algorithm cannot give (OASIS QS-M: General
/// Failure).
pub fn refuse_unsafe(
    attributes: &Attributes,
    algorithm: Option<CryptographicAlgorithm>,
    length: Option<i32>,
) -> Result<(), KmipError> {
    let asked = attributes
        .iter()
        .any(|a| matches!(a, Attribute::QuantumSafe(true)));
    if asked && !is_quantum_safe(algorithm, length) {
        return Err(KmipError::general(format!(
            "a Quantum Safe object was asked for, but {} {} bits is not quantum safe (AES-256 is)",
            algorithm.map_or("this algorithm", |a| a.name()),
            length.map_or("?".into(), |l| l.to_string())
        )));
    }
    Ok(())
}

pub fn link(link_type: LinkType, uid: &str) -> Attribute {
    Attribute::Link(Link {
        link_type,
        linked_object_identifier: uid.to_owned(),
    })
}

/// Attributes a replacement (pair or, with more, a re-keyed symmetric key) inherits from what it replaces.
pub fn inherited(attribute: &Attribute) -> bool {
    matches!(
        attribute,
        Attribute::Name(_)
            | Attribute::CryptographicUsageMask(_)
            | Attribute::CryptographicParameters(_)
            | Attribute::ObjectGroup(_)
            | Attribute::ApplicationSpecificInformation(_)
            | Attribute::ContactInformation(_)
            | Attribute::Description(_)
            | Attribute::Comment(_)
            | Attribute::Sensitive(_)
            | Attribute::Extractable(_)
    )
}

/// Marks `old` as replaced by `new_uid` (superseding any earlier replacement link) and saves it.
pub fn link_replacement(
    ctx: &RequestContext<'_>,
    mut old: StoredObject,
    new_uid: &str,
) -> Result<(), KmipError> {
    let kept: Vec<Attribute> = std::mem::take(&mut old.attributes)
        .into_iter()
        .filter(
            |a| !matches!(a, Attribute::Link(l) if l.link_type == LinkType::ReplacementObjectLink),
        )
        .collect();
    old.attributes = kept.into();
    old.attributes
        .push(link(LinkType::ReplacementObjectLink, new_uid));
    old.attributes.set(Attribute::LastChangeDate(ctx.now));
    save(ctx, &old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_follow_the_templates() {
        let v = ProtocolVersion::V2_1;
        let rsa: Attributes = vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Rsa),
            Attribute::CryptographicLength(3072),
        ]
        .into();
        assert_eq!(
            key_pair_spec(v, &[&rsa]).unwrap(),
            KeyPairSpec::Rsa { bits: 3072 }
        );
        let ec: Attributes = vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Ec),
            Attribute::CryptographicLength(384),
        ]
        .into();
        assert_eq!(
            key_pair_spec(v, &[&ec]).unwrap(),
            KeyPairSpec::Ec(EcCurve::P384)
        );
        let odd: Attributes = vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Rsa),
            Attribute::CryptographicLength(1000),
        ]
        .into();
        assert_eq!(
            key_pair_spec(v, &[&odd]).unwrap_err().reason,
            ResultReason::UnsupportedCryptographicParameters
        );
        let contradicting: Attributes = vec![Attribute::CryptographicAlgorithm(
            CryptographicAlgorithm::Aes,
        )]
        .into();
        assert!(key_pair_spec(v, &[&rsa, &contradicting]).is_err());
    }

    #[test]
    fn only_long_symmetric_keys_are_quantum_safe() {
        assert!(is_quantum_safe(
            Some(CryptographicAlgorithm::Aes),
            Some(256)
        ));
        assert!(!is_quantum_safe(
            Some(CryptographicAlgorithm::Aes),
            Some(128)
        ));
        assert!(!is_quantum_safe(
            Some(CryptographicAlgorithm::Rsa),
            Some(4096)
        ));
    }
}
