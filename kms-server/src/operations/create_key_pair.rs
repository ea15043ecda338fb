//! Create Key Pair and Re-Key Key Pair: RSA 1024-4096 (1024 only for KMIP conformance), EC P-256 / P-384 and
//! Ed25519 generated from the entropy pool; the private key in PKCS#1 (RSA) or PKCS#8, the public key in
//! PKCS#1 (RSA) or SubjectPublicKeyInfo; the two linked to each other (Public Key Link / Private Key Link) and
//! both carrying the provenance of the pool behind them. Also the quantum-safety check of `QuantumSafe`.
//!
//! Revoking one key of a pair (even for a compromise) changes that key only: KMIP's Revoke acts on the object
//! it names, and the OASIS AKLC-M-3 case expects the public key to stay Pre-Active after its private key is
//! compromised. A client that wants both compromised revokes both.

use kmip::attributes::{Attribute, Attributes, KnownAttribute, Link};
use kmip::enums::{CryptographicAlgorithm, LinkType, ObjectType, RecommendedCurve, State};
use kmip::objects::ManagedObject;
use kmip::payloads::{
    CreateKeyPairRequest, CreateKeyPairResponse, ReKeyKeyPairRequest, ReKeyKeyPairResponse,
};
use kmip::{ProtocolVersion, ResultReason};

use super::key_codec::{
    crypto_error, default_private_format, default_public_format, private_key_block,
    public_key_block,
};
use super::provenance::{initial_attributes, provenance_attributes};
use super::{
    entropy_error, load, new_uid, policy, save, store_error, target, versioned, wrong_state,
};
use crate::crypto::keygen::generate_key_pair;
use crate::crypto::{EcCurve, KeyPairSpec};
use crate::error::KmipError;
use crate::state::RequestContext;
use crate::store::StoredObject;

/// Attributes a Create Key Pair template may set although only the server sets them elsewhere.
const INPUTS: &[KnownAttribute] = &[
    KnownAttribute::CryptographicAlgorithm,
    KnownAttribute::CryptographicLength,
    KnownAttribute::ObjectType,
];

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
            "Create Key Pair makes RSA, EC and Ed25519 keys; {} is not supported",
            other.name()
        ))),
    }
}

/// Whether a key of this algorithm and length resists a quantum adversary (Grover halves symmetric strength;
/// Shor breaks RSA and elliptic curves): AES-256 and HMAC keys of at least 256 bits.
pub fn is_quantum_safe(algorithm: Option<CryptographicAlgorithm>, length: Option<i32>) -> bool {
    use CryptographicAlgorithm as A;
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

fn link(link_type: LinkType, uid: &str) -> Attribute {
    Attribute::Link(Link {
        link_type,
        linked_object_identifier: uid.to_owned(),
    })
}

/// The two stored objects of a new pair and their identifiers.
struct NewPair {
    private: StoredObject,
    public: StoredObject,
}

/// Generates a pair for `spec` and builds both stored objects with their attributes and links.
fn generate(
    ctx: &RequestContext<'_>,
    spec: KeyPairSpec,
    private_attributes: Attributes,
    public_attributes: Attributes,
) -> Result<NewPair, KmipError> {
    // The provenance of a draw taken from the pool just before the generation: the same sources, health state
    // and seed epoch the generator draws from (the RNG adapter the generators use reports no record itself).
    let provenance = ctx
        .state
        .entropy
        .fill(&mut [0u8; 1])
        .map_err(|e| entropy_error(&e))?;
    let key =
        generate_key_pair(&ctx.state.entropy, spec).map_err(|e| crypto_error(ctx.version, e))?;
    let private_uid = new_uid(ctx)?;
    let public_uid = new_uid(ctx)?;
    let private_object = ManagedObject::PrivateKey(private_key_block(
        ctx.version,
        &key,
        default_private_format(spec),
    )?);
    let public_object = ManagedObject::PublicKey(public_key_block(
        ctx.version,
        &key.public_key(),
        default_public_format(spec),
    )?);
    let mut private =
        initial_attributes(&private_uid, &private_object, private_attributes, ctx.now);
    private.extend(provenance_attributes(&provenance));
    private.push(link(LinkType::PublicKeyLink, &public_uid));
    let mut public = initial_attributes(&public_uid, &public_object, public_attributes, ctx.now);
    public.extend(provenance_attributes(&provenance));
    public.push(link(LinkType::PrivateKeyLink, &private_uid));
    let stored = |uid: String, object, attributes| StoredObject {
        uid,
        owner: ctx.caller.tenant.clone(),
        object: Some(object),
        attributes,
        internal: false,
    };
    Ok(NewPair {
        private: stored(private_uid, private_object, private),
        public: stored(public_uid, public_object, public),
    })
}

fn merged(common: &Attributes, own: &Attributes) -> Attributes {
    let mut out = common.clone();
    for attribute in own.iter() {
        out.set(attribute.clone());
    }
    out
}

fn refuse_masks(present: bool) -> Result<(), KmipError> {
    if present {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "Protection Storage Masks are not supported: every object is stored sealed in software",
        ));
    }
    Ok(())
}

pub fn create_key_pair(
    ctx: &RequestContext<'_>,
    request: CreateKeyPairRequest,
) -> Result<CreateKeyPairResponse, KmipError> {
    refuse_masks(
        request.common_protection_storage_masks.is_some()
            || request.private_protection_storage_masks.is_some()
            || request.public_protection_storage_masks.is_some(),
    )?;
    let apply = |attributes: Option<Attributes>| {
        super::template::apply_templates(ctx, attributes.unwrap_or_default())
    };
    let common = apply(request.common_attributes)?;
    let private_template = apply(request.private_key_attributes)?;
    let public_template = apply(request.public_key_attributes)?;
    let spec = key_pair_spec(ctx.version, &[&common, &private_template, &public_template])?;
    for template in [&common, &private_template, &public_template] {
        let (algorithm, length) = super::key_codec::algorithm_and_length(spec);
        refuse_unsafe(template, Some(algorithm), Some(length))?;
        policy::check_template(ctx.version, template, INPUTS)?;
    }
    let pair = generate(
        ctx,
        spec,
        merged(&common, &private_template),
        merged(&common, &public_template),
    )?;
    ctx.state.store.insert(&pair.private).map_err(store_error)?;
    ctx.state.store.insert(&pair.public).map_err(store_error)?;
    Ok(CreateKeyPairResponse {
        private_key_unique_identifier: pair.private.uid,
        public_key_unique_identifier: pair.public.uid,
        private_key_attributes: None,
        public_key_attributes: None,
    })
}

/// Attributes a replacement (pair or, with more, a re-keyed symmetric key) inherits from what it replaces.
pub(super) fn inherited(attribute: &Attribute) -> bool {
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
pub(super) fn link_replacement(
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

pub fn rekey_key_pair(
    ctx: &RequestContext<'_>,
    request: ReKeyKeyPairRequest,
) -> Result<ReKeyKeyPairResponse, KmipError> {
    refuse_masks(
        request.common_protection_storage_masks.is_some()
            || request.private_protection_storage_masks.is_some()
            || request.public_protection_storage_masks.is_some(),
    )?;
    let uid = target(&request.private_key_unique_identifier)?;
    let old_private = load(ctx, uid)?;
    if old_private.attributes.object_type() != Some(ObjectType::PrivateKey) {
        return Err(versioned(
            ctx.version,
            ResultReason::InvalidObjectType,
            ResultReason::IllegalOperation,
            format!(
                "Re-Key Key Pair replaces a pair by its private key; {uid} is not a private key"
            ),
        ));
    }
    let state = old_private.attributes.state().unwrap_or(State::PreActive);
    if matches!(state, State::Destroyed | State::DestroyedCompromised)
        || old_private.object.is_none()
    {
        return Err(wrong_state(
            ctx.version,
            format!("{uid} is destroyed and cannot be re-keyed"),
        ));
    }
    let old_public = match old_private.attributes.linked(LinkType::PublicKeyLink) {
        Some(public_uid) => Some(load(ctx, public_uid)?),
        None => None,
    };
    let Some(ManagedObject::PrivateKey(block)) = &old_private.object else {
        return Err(KmipError::invalid_field(format!(
            "{uid} holds no private key"
        )));
    };
    let spec = super::key_codec::stored_private_key_of(ctx.version, block)?.spec();
    let pick = |old: &StoredObject, own: Option<Attributes>| -> Result<Attributes, KmipError> {
        let mut out: Attributes = old
            .attributes
            .iter()
            .filter(|a| inherited(a))
            .cloned()
            .collect();
        for extra in [request.common_attributes.clone(), own]
            .into_iter()
            .flatten()
        {
            policy::check_template(ctx.version, &extra, &[])?;
            for attribute in extra {
                out.set(attribute);
            }
        }
        if let Some(offset) = request.offset {
            out.set(Attribute::ActivationDate(
                ctx.now.saturating_add(i64::from(offset.0)),
            ));
        }
        Ok(out)
    };
    let private_attributes = pick(&old_private, request.private_key_attributes.clone())?;
    let public_attributes = match &old_public {
        Some(old) => pick(old, request.public_key_attributes.clone())?,
        None => pick(&old_private, request.public_key_attributes.clone())?
            .into_iter()
            .filter(|a| !matches!(a, Attribute::CryptographicUsageMask(_)))
            .collect(),
    };
    let mut pair = generate(ctx, spec, private_attributes, public_attributes)?;
    pair.private
        .attributes
        .push(link(LinkType::ReplacedObjectLink, &old_private.uid));
    if let Some(old) = &old_public {
        pair.public
            .attributes
            .push(link(LinkType::ReplacedObjectLink, &old.uid));
    }
    ctx.state.store.insert(&pair.private).map_err(store_error)?;
    ctx.state.store.insert(&pair.public).map_err(store_error)?;
    link_replacement(ctx, old_private, &pair.private.uid)?;
    if let Some(old) = old_public {
        link_replacement(ctx, old, &pair.public.uid)?;
    }
    Ok(ReKeyKeyPairResponse {
        private_key_unique_identifier: pair.private.uid,
        public_key_unique_identifier: pair.public.uid,
        private_key_attributes: None,
        public_key_attributes: None,
    })
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
