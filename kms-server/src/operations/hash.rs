//! Hash: SHA-1/2 digests of the request's data; one-shot or in parts (no key: the parts are bound to the tenant
//! and the algorithm).

use kmip::payloads::{HashRequest, HashResponse};
use kmip::Operation;

use crate::crypto::hash;
use crate::error::KmipError;
use crate::managed::key_use::hash_algorithm;
use crate::managed::streams::{gather, Gathered};
use crate::state::RequestContext;

pub fn hash(ctx: &RequestContext<'_>, request: HashRequest) -> Result<HashResponse, KmipError> {
    let algorithm = request
        .cryptographic_parameters
        .hashing_algorithm
        .ok_or_else(|| KmipError::invalid_field("Hash needs a Hashing Algorithm"))?;
    let algorithm = hash_algorithm(ctx.version, algorithm)?;
    let data = request.data.clone().unwrap_or_default();
    let mut response = HashResponse::default();
    // Hash has no key; its streams are bound to the tenant and the pseudo-identifier of the algorithm.
    let uid = format!("hash:{algorithm:?}");
    match gather(
        ctx,
        Operation::Hash,
        &uid,
        request.cryptographic_parameters.clone(),
        &request,
        &data,
    )? {
        Gathered::Complete(_, data) => response.data = Some(hash::digest(algorithm, &data)),
        Gathered::Open(correlation) => response.correlation_value = Some(correlation),
    }
    Ok(response)
}
