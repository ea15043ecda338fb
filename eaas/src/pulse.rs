//! The public beacon's pulse (NIST Randomness Beacon 2.0 style): public random values, signed, chained, with a
//! precommitment to the next pulse's local random value.
//!
//! Signed bytes: the ASCII label `qkms-eaas-pulse-v1`, a zero byte, then each field as a 4-byte big-endian
//! length and its bytes: version, server, index (decimal), time (RFC 3339 text), period_secs (decimal),
//! local_random (hex), precommitment (hex), previous (hex), quantum (`true`/`false`), algorithm, certificate.
//! `output` is hex SHA-512 over the signed bytes and the signature; the next pulse's `previous` is this output,
//! and SHA-512 of the next pulse's local random value (the raw bytes) is this pulse's `precommitment`.
//! Pulses are public values: never use them as secrets (ask `/v1/random` for those).

use base64::Engine;
use sha2::{Digest, Sha512};

use crate::verify::{check_signature, VerifyOptions};
use crate::EaasError;

const LABEL: &[u8] = b"qkms-eaas-pulse-v1\0";

/// One pulse of `GET /v1/beacon/latest` or `/v1/beacon/{index}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pulse {
    pub version: u32,
    pub server: String,
    /// 0 for a node's first pulse, then +1 each pulse.
    pub index: u64,
    pub time: String,
    /// The configured interval between pulses.
    pub period_secs: u64,
    /// 64 bytes from the pool, hex.
    pub local_random: String,
    /// Hex SHA-512 of the next pulse's local random value.
    pub precommitment: String,
    /// The previous pulse's `output` (128 zeros for index 0).
    pub previous: String,
    /// Whether the pool drew `local_random` from a seed with healthy quantum input.
    pub quantum: bool,
    pub algorithm: String,
    pub certificate: String,
    pub signature: String,
    /// Hex SHA-512 over the signed bytes and the signature.
    pub output: String,
}

/// `previous` of a node's first pulse.
pub const GENESIS_PULSE: &str = "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

impl Pulse {
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LABEL.len() + self.certificate.len() + 512);
        out.extend_from_slice(LABEL);
        let mut field = |bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        field(self.version.to_string().as_bytes());
        field(self.server.as_bytes());
        field(self.index.to_string().as_bytes());
        field(self.time.as_bytes());
        field(self.period_secs.to_string().as_bytes());
        field(self.local_random.as_bytes());
        field(self.precommitment.as_bytes());
        field(self.previous.as_bytes());
        field(if self.quantum { b"true" } else { b"false" });
        field(self.algorithm.as_bytes());
        field(self.certificate.as_bytes());
        out
    }

    /// The output value for a signature over [`Pulse::signed_bytes`].
    pub fn output_for(signed_bytes: &[u8], signature: &[u8]) -> String {
        let mut hash = Sha512::new();
        hash.update(signed_bytes);
        hash.update(signature);
        hex::encode(hash.finalize())
    }

    /// Hex SHA-512 of a local random value (the precommitment the pulse before it carries).
    pub fn precommitment_of(local_random: &[u8]) -> String {
        hex::encode(Sha512::digest(local_random))
    }

    pub fn from_json(text: &[u8]) -> Result<Self, EaasError> {
        serde_json::from_slice(text).map_err(|e| EaasError::Malformed(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a pulse always serializes")
    }
}

/// Checks a pulse's certificate chain, signature and output and, with `previous` (the same node's pulse
/// before it), the chain link and the precommitment. Freshness is not checked: pulses are public records.
pub fn verify_pulse(
    pulse: &Pulse,
    previous: Option<&Pulse>,
    options: &VerifyOptions,
) -> Result<(), EaasError> {
    let signature = base64::engine::general_purpose::STANDARD
        .decode(&pulse.signature)
        .map_err(|e| EaasError::Malformed(format!("signature is not base64: {e}")))?;
    let signed = pulse.signed_bytes();
    check_signature(
        &pulse.algorithm,
        &pulse.certificate,
        &pulse.time,
        &signed,
        &signature,
        options,
    )?;
    if Pulse::output_for(&signed, &signature) != pulse.output {
        return Err(EaasError::Chain(format!(
            "pulse {}: output is not SHA-512 of its signed fields and signature",
            pulse.index
        )));
    }
    if let Some(previous) = previous {
        if previous.server != pulse.server || previous.index + 1 != pulse.index {
            return Err(EaasError::Chain(format!(
                "pulse {} of {} does not follow pulse {} of {}",
                pulse.index, pulse.server, previous.index, previous.server
            )));
        }
        if previous.output != pulse.previous {
            return Err(EaasError::Chain(format!(
                "pulse {}: previous is not pulse {}'s output",
                pulse.index, previous.index
            )));
        }
        let local = hex::decode(&pulse.local_random)
            .map_err(|e| EaasError::Malformed(format!("local_random is not hex: {e}")))?;
        if Pulse::precommitment_of(&local) != previous.precommitment {
            return Err(EaasError::Chain(format!(
                "pulse {}: its local random value is not the one pulse {} committed to",
                pulse.index, previous.index
            )));
        }
    }
    Ok(())
}
