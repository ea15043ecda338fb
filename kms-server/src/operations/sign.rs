//! Sign and Signature Verify: RSA PKCS#1 v1.5 and PSS (any salt length), ECDSA, Ed25519, ML-DSA (pure, or
//! HashML-DSA when a Hashing Algorithm is named); over data or a digest
//! the client computed; one-shot or in parts (the parts' data is gathered, the result computed at the final part).

use kmip::attributes::{CryptographicParameters, CryptographicUsageMask};
use kmip::enums::{DigitalSignatureAlgorithm as D, HashingAlgorithm, PaddingMethod};
use kmip::objects::ManagedObject;
use kmip::payloads::validity;
use kmip::payloads::{SignRequest, SignResponse, SignatureVerifyRequest, SignatureVerifyResponse};
use kmip::{Operation, ProtocolVersion, ResultReason};
use zeroize::Zeroizing;

use crate::crypto::signature::{self, SignInput, SignatureAlgorithm};
use crate::crypto::{rsa_params, HashAlgorithm, KeyPairSpec, PublicKey};
use crate::error::KmipError;
use crate::managed::key_codec::{crypto_error, public_key_of, stored_private_key_of};
use crate::managed::key_use::{self, effective_parameters, hash_algorithm, KeyUse};
use crate::managed::streams::{gather, Gathered, PartedRequest};
use crate::managed::{target, versioned};
use crate::state::RequestContext;
use crate::store::StoredObject;

/// The signature scheme for `key` under `p`, and an explicit PSS salt length if one was asked for.
///
/// Digested Data under RSA PKCS#1 v1.5 with no hash named (neither in the request nor in the key's
/// Cryptographic Parameters) is signed as given, with no DigestInfo added: a digest of no named hash cannot be
/// prefixed, and this is how a PKCS#11 CKM_RSA_PKCS caller's own encoded value (a DigestInfo, or TLS 1.1's
/// MD5 ‖ SHA-1) is signed. Over Data the default hash stays SHA-256.
fn scheme(
    version: ProtocolVersion,
    key: KeyPairSpec,
    p: &CryptographicParameters,
    digested: bool,
) -> Result<(SignatureAlgorithm, Option<usize>), KmipError> {
    let hash_or = |default| hash_algorithm(version, p.hashing_algorithm.unwrap_or(default));
    let from_dsa = match p.digital_signature_algorithm {
        Some(D::Sha1WithRsaEncryption) => {
            Some(SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha1))
        }
        Some(D::Sha224WithRsaEncryption) => {
            Some(SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha224))
        }
        Some(D::Sha256WithRsaEncryption) => {
            Some(SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256))
        }
        Some(D::Sha384WithRsaEncryption) => {
            Some(SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha384))
        }
        Some(D::Sha512WithRsaEncryption) => {
            Some(SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha512))
        }
        Some(D::RsassaPss) => Some(SignatureAlgorithm::RsaPss(hash_or(
            HashingAlgorithm::Sha256,
        )?)),
        Some(D::EcdsaWithSha1) => Some(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha1)),
        Some(D::EcdsaWithSha224) => Some(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha224)),
        Some(D::EcdsaWithSha256) => Some(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256)),
        Some(D::EcdsaWithSha384) => Some(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384)),
        Some(D::EcdsaWithSha512) => Some(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512)),
        Some(other) => {
            return Err(versioned(
                version,
                ResultReason::UnsupportedCryptographicParameters,
                ResultReason::InvalidField,
                format!(
                    "Digital Signature Algorithm {} is not supported",
                    other.name()
                ),
            ))
        }
        None => None,
    };
    let algorithm = match (from_dsa, key) {
        (Some(a), _) => a,
        (None, KeyPairSpec::Rsa { .. }) => match p.padding_method {
            Some(PaddingMethod::Pss) => {
                SignatureAlgorithm::RsaPss(hash_or(HashingAlgorithm::Sha256)?)
            }
            None | Some(PaddingMethod::Pkcs1v1_5) if digested && p.hashing_algorithm.is_none() => {
                SignatureAlgorithm::RsaPkcs1v15Unprefixed
            }
            None | Some(PaddingMethod::Pkcs1v1_5) => {
                SignatureAlgorithm::RsaPkcs1v15(hash_or(HashingAlgorithm::Sha256)?)
            }
            Some(other) => {
                return Err(KmipError::invalid_field(format!(
                    "RSA signatures use PSS or PKCS1 v1.5 padding, not {}",
                    other.name()
                )))
            }
        },
        (None, KeyPairSpec::Ec(curve)) => SignatureAlgorithm::Ecdsa(hash_or(match curve {
            crate::crypto::EcCurve::P256 => HashingAlgorithm::Sha256,
            crate::crypto::EcCurve::P384 => HashingAlgorithm::Sha384,
        })?),
        (None, KeyPairSpec::Ed25519) => SignatureAlgorithm::Ed25519,
        // Pure ML-DSA unless a Hashing Algorithm names HashML-DSA's pre-hash.
        (None, KeyPairSpec::MlDsa(_)) => SignatureAlgorithm::MlDsa(
            p.hashing_algorithm
                .map(|h| hash_algorithm(version, h))
                .transpose()?,
        ),
        (None, KeyPairSpec::MlKem(_)) => {
            return Err(versioned(
                version,
                ResultReason::IncompatibleCryptographicUsageMask,
                ResultReason::InvalidField,
                "an ML-KEM key encapsulates and decapsulates; it does not sign",
            ))
        }
    };
    let salt = match (algorithm, p.salt_length) {
        (SignatureAlgorithm::RsaPss(_), Some(len)) => Some(
            usize::try_from(len)
                .map_err(|_| KmipError::invalid_field("Salt Length must not be negative"))?,
        ),
        _ => None,
    };
    Ok((algorithm, salt))
}

/// The input of a Sign / Signature Verify: the digest the client computed as is, else the data once all its
/// parts are in (`Open` while parts are still to come).
fn signing_input(
    ctx: &RequestContext<'_>,
    operation: Operation,
    uid: &str,
    p: CryptographicParameters,
    request: &impl PartedRequest,
    digested_data: Option<&Vec<u8>>,
    data: &[u8],
) -> Result<Gathered, KmipError> {
    match digested_data {
        Some(digest) => Ok(Gathered::Complete(p, Zeroizing::new(digest.clone()))),
        None => gather(ctx, operation, uid, p, request, data),
    }
}

/// The most bytes a Sign answered on the connection's own task may carry (Data or Digested Data).
pub const INLINE_SIGN_BYTES: usize = 16 * 1024;

/// Whether a Sign runs on the connection's own task (the registry's `runs` column): a one-shot elliptic-curve
/// signature over a small input. An ECDSA or Ed25519 signature costs tens of microseconds, less than handing the
/// message to a blocking thread and back (two thread wake-ups: measured, most of a P-256 C_Sign's round trip
/// through the PKCS#11 module). RSA signatures (milliseconds) and anything that names no EC scheme go to the
/// blocking pool. The request's word is checked against the key before any key is parsed ([`claimed_scheme_fits`]),
/// so naming ECDSA for an RSA key gets an error, not an RSA signature on an async worker; an HSM-held key's
/// round trip leaves the async worker first.
pub fn is_quick(request: &SignRequest) -> bool {
    let one_shot = request.correlation_value.is_none()
        && request.init_indicator.is_none()
        && request.final_indicator.is_none();
    let size = request.data.as_ref().map_or(0, Vec::len)
        + request.digested_data.as_ref().map_or(0, Vec::len);
    one_shot
        && size <= INLINE_SIGN_BYTES
        && names_ec_scheme(request.cryptographic_parameters.as_ref())
}

/// Whether Cryptographic Parameters name an elliptic-curve signature (ECDSA or EdDSA) and nothing RSA.
fn names_ec_scheme(p: Option<&CryptographicParameters>) -> bool {
    use kmip::enums::CryptographicAlgorithm as A;
    let Some(p) = p else { return false };
    let by_dsa = p.digital_signature_algorithm.map(|d| {
        matches!(
            d,
            D::EcdsaWithSha1
                | D::EcdsaWithSha224
                | D::EcdsaWithSha256
                | D::EcdsaWithSha384
                | D::EcdsaWithSha512
        )
    });
    let by_algorithm = p
        .cryptographic_algorithm
        .map(|a| matches!(a, A::Ec | A::Ecdsa | A::Ed25519));
    match (by_dsa, by_algorithm) {
        (Some(dsa), Some(algorithm)) => dsa && algorithm,
        (Some(ec), None) | (None, Some(ec)) => ec,
        (None, None) => false,
    }
}

/// A request that names an elliptic-curve scheme must be for an elliptic-curve key: checked on the stored
/// algorithm before the key is parsed (parsing an RSA key is itself costly work for an async worker).
fn claimed_scheme_fits(request: &SignRequest, object: &StoredObject) -> Result<(), KmipError> {
    use kmip::enums::CryptographicAlgorithm as A;
    let key_algorithm = match object.object.as_ref() {
        Some(ManagedObject::PrivateKey(block)) => block.cryptographic_algorithm,
        _ => None,
    };
    if names_ec_scheme(request.cryptographic_parameters.as_ref())
        && matches!(key_algorithm, Some(A::Rsa | A::Dsa))
    {
        return Err(KmipError::invalid_field(format!(
            "{} is an RSA or DSA key; the request names an elliptic-curve signature",
            object.uid
        )));
    }
    Ok(())
}

pub fn sign(ctx: &RequestContext<'_>, request: SignRequest) -> Result<SignResponse, KmipError> {
    let uid = target(&request.unique_identifier)?.to_owned();
    let mut object = key_use::load_for(ctx, &uid, KeyUse::Protect(CryptographicUsageMask::SIGN))?;
    claimed_scheme_fits(&request, &object)?;
    // A key held in an HSM signs there (`hsm_held`); any other private key here.
    let held = crate::managed::hsm_held::held(ctx, &object)?;
    let (key, spec) = match (&held, object.object.as_ref()) {
        (Some(_), _) => (None, crate::managed::hsm_held::held_spec(&object)?),
        (None, Some(ManagedObject::PrivateKey(block))) => {
            let key = stored_private_key_of(ctx.version, block)?;
            let spec = key.spec();
            (Some(key), spec)
        }
        (None, _) => {
            return Err(KmipError::invalid_field(format!(
                "{uid} is not a private key"
            )))
        }
    };
    let p = effective_parameters(&object, request.cryptographic_parameters.as_ref());
    let mut response = SignResponse {
        unique_identifier: uid.clone(),
        ..SignResponse::default()
    };
    let Some((p, input)) = signing_input(
        ctx,
        Operation::Sign,
        &uid,
        p,
        &request,
        request.digested_data.as_ref(),
        request.data.as_deref().unwrap_or_default(),
    )?
    .complete(&mut response.correlation_value) else {
        return Ok(response);
    };
    let sign_input = if request.digested_data.is_some() {
        SignInput::Digest(&input)
    } else {
        SignInput::Data(&input)
    };
    let (algorithm, salt) = scheme(ctx.version, spec, &p, request.digested_data.is_some())?;
    let pool = &ctx.state.entropy;
    let signature = match (&held, &key, algorithm, salt) {
        // The HSM round trip may be slow: off the async worker if this Sign was answered inline.
        (Some(held), _, _, _) => crate::dispatch::off_the_async_workers(|| {
            held.sign(ctx.version, spec, algorithm, salt, sign_input)
        })?,
        (None, Some(key), SignatureAlgorithm::RsaPss(hash), Some(salt)) => {
            rsa_params::pss_sign(pool, key, hash, salt, sign_input)
                .map_err(|e| crypto_error(ctx.version, e))?
        }
        (None, Some(key), _, _) => signature::sign(pool, key, algorithm, sign_input)
            .map_err(|e| crypto_error(ctx.version, e))?,
        (None, None, _, _) => {
            return Err(KmipError::invalid_field(format!(
                "{uid} is not a private key"
            )))
        }
    };
    key_use::consume(ctx, &mut object, input.len())?;
    response.signature_data = Some(signature);
    Ok(response)
}

fn verifying_key(ctx: &RequestContext<'_>, object: &StoredObject) -> Result<PublicKey, KmipError> {
    match object.object.as_ref() {
        Some(ManagedObject::PublicKey(block)) => public_key_of(ctx.version, block),
        Some(ManagedObject::PrivateKey(block)) => {
            Ok(stored_private_key_of(ctx.version, block)?.public_key())
        }
        Some(ManagedObject::Certificate(c)) => {
            let info = crate::crypto::certificate::parse_certificate(&c.certificate_value)
                .map_err(|e| crypto_error(ctx.version, e))?;
            PublicKey::from_spki_der(&info.subject_public_key_info)
                .map_err(|e| crypto_error(ctx.version, e))
        }
        None if crate::managed::hsm_held::is_held(object) => {
            crate::managed::hsm_held::linked_public_key(ctx, object)
        }
        _ => Err(KmipError::invalid_field(format!(
            "{} holds no public key",
            object.uid
        ))),
    }
}

pub fn signature_verify(
    ctx: &RequestContext<'_>,
    request: SignatureVerifyRequest,
) -> Result<SignatureVerifyResponse, KmipError> {
    let uid = target(&request.unique_identifier)?.to_owned();
    let object = key_use::load_for(ctx, &uid, KeyUse::Process(CryptographicUsageMask::VERIFY))?;
    let key = verifying_key(ctx, &object)?;
    let p = effective_parameters(&object, request.cryptographic_parameters.as_ref());
    let mut response = SignatureVerifyResponse {
        unique_identifier: uid.clone(),
        ..Default::default()
    };
    let Some((p, input)) = signing_input(
        ctx,
        Operation::SignatureVerify,
        &uid,
        p,
        &request,
        request.digested_data.as_ref(),
        request.data.as_deref().unwrap_or_default(),
    )?
    .complete(&mut response.correlation_value) else {
        return Ok(response);
    };
    let signature_data = request.signature_data.as_deref().ok_or_else(|| {
        KmipError::new(
            ResultReason::MissingData,
            "Signature Verify needs the Signature Data",
        )
    })?;
    let verify_input = if request.digested_data.is_some() {
        SignInput::Digest(&input)
    } else {
        SignInput::Data(&input)
    };
    let (algorithm, salt) = scheme(ctx.version, key.spec(), &p, request.digested_data.is_some())?;
    let valid = match (algorithm, salt) {
        (SignatureAlgorithm::RsaPss(hash), Some(salt)) => {
            rsa_params::pss_verify(&key, hash, salt, verify_input, signature_data)
        }
        _ => signature::verify(&key, algorithm, verify_input, signature_data),
    }
    .map_err(|e| crypto_error(ctx.version, e))?;
    response.validity_indicator = Some(validity::indicator(valid));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use kmip::enums::CryptographicAlgorithm as A;

    use super::*;

    fn ecdsa(data: usize) -> SignRequest {
        SignRequest {
            cryptographic_parameters: Some(CryptographicParameters {
                digital_signature_algorithm: Some(D::EcdsaWithSha256),
                ..CryptographicParameters::default()
            }),
            digested_data: Some(vec![7; data]),
            ..SignRequest::default()
        }
    }

    #[test]
    fn only_one_shot_elliptic_curve_signatures_of_small_inputs_run_inline() {
        assert!(is_quick(&ecdsa(32)));
        assert!(is_quick(&ecdsa(INLINE_SIGN_BYTES)));
        assert!(!is_quick(&ecdsa(INLINE_SIGN_BYTES + 1)));
        let by_algorithm = |a| SignRequest {
            cryptographic_parameters: Some(CryptographicParameters {
                cryptographic_algorithm: Some(a),
                ..CryptographicParameters::default()
            }),
            ..ecdsa(32)
        };
        assert!(is_quick(&by_algorithm(A::Ed25519)));
        assert!(is_quick(&by_algorithm(A::Ecdsa)));
        assert!(!is_quick(&by_algorithm(A::Rsa)));
        // Naming ECDSA and RSA at once is not a claim of a quick signature.
        let mixed = SignRequest {
            cryptographic_parameters: Some(CryptographicParameters {
                cryptographic_algorithm: Some(A::Rsa),
                digital_signature_algorithm: Some(D::EcdsaWithSha256),
                ..CryptographicParameters::default()
            }),
            ..ecdsa(32)
        };
        assert!(!is_quick(&mixed));
        let rsa = SignRequest {
            cryptographic_parameters: Some(CryptographicParameters {
                digital_signature_algorithm: Some(D::Sha256WithRsaEncryption),
                ..CryptographicParameters::default()
            }),
            ..ecdsa(32)
        };
        assert!(!is_quick(&rsa));
        // Nothing named: the key decides, so the blocking pool.
        assert!(!is_quick(&SignRequest {
            cryptographic_parameters: None,
            ..ecdsa(32)
        }));
        // Parts of a stream wait for their final part: the blocking pool.
        assert!(!is_quick(&SignRequest {
            init_indicator: Some(true),
            ..ecdsa(32)
        }));
        assert!(!is_quick(&SignRequest {
            correlation_value: Some(vec![1]),
            ..ecdsa(32)
        }));
    }
}
