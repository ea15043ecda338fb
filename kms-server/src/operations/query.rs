//! Query: the operations this server dispatches (in the request's version), the object types it manages, who
//! it is, its entropy sources with their live health (the OS fallback labelled "not quantum"), and which of its
//! post-quantum wire choices are provisional.

use entropy::status::PoolStatus;
use kmip::attributes::StructuredValue;
use kmip::enums::ObjectType;
use kmip::payloads::{EnumValue, QueryFunction, QueryRequest, QueryResponse};
use kmip::{Operation, OperationCode, ProtocolVersion};
use ttlv::{tags, Item, Value};

use crate::error::KmipError;
use crate::managed::provenance::rng_description;
use crate::state::RequestContext;

/// The object types qkms stores (Create makes symmetric keys; Register takes all of these).
pub const MANAGED_OBJECT_TYPES: &[ObjectType] = &[
    ObjectType::SymmetricKey,
    ObjectType::SecretData,
    ObjectType::OpaqueObject,
    ObjectType::Certificate,
    ObjectType::PublicKey,
    ObjectType::PrivateKey,
];

pub fn query(ctx: &RequestContext<'_>, request: QueryRequest) -> Result<QueryResponse, KmipError> {
    let mut response = QueryResponse::default();
    for function in &request.query_functions {
        match function {
            QueryFunction::QueryOperations => {
                response.operations = operations(ctx.operations, ctx.version);
            }
            QueryFunction::QueryObjects => {
                response.object_types = object_types(ctx.version)
                    .map(|t| EnumValue(t.to_u32()))
                    .collect();
            }
            QueryFunction::QueryServerInformation => {
                response.vendor_identification =
                    Some(ctx.state.settings.vendor_identification.clone());
                response.server_information = Some(server_information(&ctx.state.entropy.status()));
            }
            QueryFunction::QueryRngs => {
                let mechanism = ctx.state.entropy.status().mechanism;
                response.rng_parameters = vec![Item::structure(
                    tags::RNG_PARAMETERS,
                    rng_description(mechanism).children(),
                )];
            }
            // Nothing to list: no application namespaces, extensions, attestation, validations, profiles or
            // capabilities beyond the above, no client registration, no defaults, no protection masks.
            _ => {}
        }
    }
    Ok(response)
}

/// The object types qkms manages in `version`: 1.x adds the Template (which 2.0 removed).
pub fn object_types(version: ProtocolVersion) -> impl Iterator<Item = ObjectType> {
    let template = (!version.is_v2()).then_some(ObjectType::Template);
    MANAGED_OBJECT_TYPES.iter().copied().chain(template)
}

/// The operations dispatched (`answered`, the registry's list), as defined in `version`.
pub fn operations(answered: &[Operation], version: ProtocolVersion) -> Vec<OperationCode> {
    answered
        .iter()
        .filter(|op| op.introduced_in() <= version)
        .map(|op| OperationCode::Known(*op))
        .collect()
}

/// The post-quantum wire choices no published KMIP version defines yet (issue #18), said in Query's Server
/// Information so a client can tell they may change when KMIP 3.0 is published.
pub const PROVISIONAL_POST_QUANTUM: &str = "provisional until KMIP 3.0: Cryptographic Algorithm \
     ML_KEM_512/768/1024 = 0x39-0x3B (Cosmian KMS's values), ML_DSA_44/65/87 = 0x3C-0x3E; operations \
     Encapsulate = 0x41, Decapsulate = 0x42 (shared secret returned as a Secret Data); ML-KEM/ML-DSA keys: \
     Raw = seed (private) or FIPS 203/204 encoding (public), Opaque = FIPS 203/204 expanded private key, \
     PKCS#8 / X.509 = RFC 9935 / RFC 9881";

fn text(tag: ttlv::Tag, value: impl Into<String>) -> Item {
    Item::new(tag, Value::TextString(value.into()))
}

/// Server Information: product and version, then the pool's state and whether it is quantum *now* (a healthy
/// quantum source feeding the seeds, not merely configured), then one line per entropy source with its kind,
/// what its kind claims, whether it is contributing, and its health right now.
pub fn server_information(status: &PoolStatus) -> Item {
    let mut children = vec![
        text(tags::SERVER_NAME, "qkms"),
        text(tags::SERVER_VERSION, env!("CARGO_PKG_VERSION")),
        text(tags::PRODUCT_NAME, "qkms key management server"),
    ];
    let pool_state = match serde_json::to_value(status.state) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{:?}", status.state),
    };
    let seeding = if status.quantum_now {
        "quantum-seeded now"
    } else {
        "not quantum-seeded now"
    };
    let mut pool = format!("entropy pool: {pool_state}; {seeding}; {}", status.summary);
    if status.os_fallback {
        pool.push_str("; running on the OS fallback source only (not quantum)");
    }
    if let Some(failure) = &status.failure {
        pool.push_str(&format!("; last failure: {failure}"));
    }
    children.push(text(tags::VENDOR_EXTENSION, pool));
    children.push(text(tags::VENDOR_EXTENSION, PROVISIONAL_POST_QUANTUM));
    for source in &status.sources {
        let kind = match serde_json::to_value(source.kind) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{:?}", source.kind),
        };
        children.push(text(
            tags::VENDOR_EXTENSION,
            format!(
                "entropy source {}: {kind}, {}, {}, {}, health {:?}",
                source.id,
                if source.quantum {
                    "quantum device"
                } else {
                    "not a quantum device"
                },
                if source.credited {
                    "credited"
                } else {
                    "uncredited"
                },
                if source.contributing {
                    "contributing"
                } else {
                    "not contributing"
                },
                source.state()
            ),
        ));
    }
    Item::structure(tags::SERVER_INFORMATION, children)
}
