//! ML-DSA's message representative (FIPS 204 Algorithms 2, 4 and 7): `mu = SHAKE256(tr || M', 64)` with
//! `tr = SHAKE256(pk, 64)` and `M'` the domain byte (0 pure ML-DSA, 1 HashML-DSA), the context's length and the
//! context, then the message, or the pre-hash's OID and the digest. `ml_dsa` signs and verifies `mu`, so both
//! interfaces share one code path there.

use sha3::digest::{ExtendableOutput, Update};

use super::hash::HashAlgorithm;
use super::ml_dsa::MAX_CONTEXT_LEN;
use super::CryptoError;

/// What is signed: the message itself (pure ML-DSA) or, for HashML-DSA, the message to hash here or the digest
/// the client computed.
#[derive(Debug, Clone, Copy)]
pub enum MlDsaInput<'a> {
    Pure(&'a [u8]),
    PreHashData(HashAlgorithm, &'a [u8]),
    PreHashDigest(HashAlgorithm, &'a [u8]),
}

/// The DER of a hash's OID, as HashML-DSA prefixes it (FIPS 204 §5.4.1; NIST arc 2.16.840.1.101.3.4.2.x).
fn hash_oid_der(hash: HashAlgorithm) -> Result<[u8; 11], CryptoError> {
    let last = match hash {
        HashAlgorithm::Sha256 => 0x01,
        HashAlgorithm::Sha384 => 0x02,
        HashAlgorithm::Sha512 => 0x03,
        HashAlgorithm::Sha224 => 0x04,
        HashAlgorithm::Sha1 => {
            return Err(CryptoError::Unsupported(
                "HashML-DSA with SHA-1 (FIPS 204 needs a hash of at least the parameter set's strength)"
                    .into(),
            ))
        }
    };
    Ok([
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, last,
    ])
}

/// `mu` for `input` under context `context` and the public key's hash `tr`.
pub(super) fn message_representative(
    tr: &[u8; 64],
    context: &[u8],
    input: MlDsaInput<'_>,
) -> Result<[u8; 64], CryptoError> {
    let context_len = u8::try_from(context.len()).map_err(|_| {
        CryptoError::InvalidInput(format!(
            "an ML-DSA context string is at most {MAX_CONTEXT_LEN} bytes, not {}",
            context.len()
        ))
    })?;
    let mut shake = sha3::Shake256::default();
    shake.update(tr);
    match input {
        MlDsaInput::Pure(message) => {
            shake.update(&[0, context_len]);
            shake.update(context);
            shake.update(message);
        }
        MlDsaInput::PreHashData(hash, data) => {
            let oid = hash_oid_der(hash)?;
            shake.update(&[1, context_len]);
            shake.update(context);
            shake.update(&oid);
            shake.update(&super::hash::digest(hash, data));
        }
        MlDsaInput::PreHashDigest(hash, digest) => {
            let oid = hash_oid_der(hash)?;
            if digest.len() != hash.output_len() {
                return Err(CryptoError::InvalidInput(format!(
                    "a {hash:?} digest is {} bytes, not {}",
                    hash.output_len(),
                    digest.len()
                )));
            }
            shake.update(&[1, context_len]);
            shake.update(context);
            shake.update(&oid);
            shake.update(digest);
        }
    }
    let mut mu = [0u8; 64];
    shake.finalize_xof_into(&mut mu);
    Ok(mu)
}

/// `tr`: the hash of an encoded public key.
pub(super) fn public_key_hash(encoded: &[u8]) -> [u8; 64] {
    let mut tr = [0u8; 64];
    let mut shake = sha3::Shake256::default();
    shake.update(encoded);
    shake.finalize_xof_into(&mut tr);
    tr
}
