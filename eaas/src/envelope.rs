//! The envelope and its canonical signed encoding.
//!
//! The signature covers a canonical byte string, not the JSON text (JSON has many spellings of one value):
//! the ASCII label `qkms-eaas-envelope-v1`, a zero byte, then every field below in this order, each as a 4-byte
//! big-endian length and its bytes: version, server, tenant, sequence (decimal), time (the RFC 3339 text as
//! sent), nonce (the hex text as sent), the 32-byte SHA-256 of the delivered data (see below; a server signs a
//! 1 MiB envelope without hashing it twice, and a verifier holding the bytes elsewhere checks the digest),
//! previous (hex), provenance.quantum (`true`/`false`), the number of provenance.sources (decimal) and each
//! source id, provenance.seed_epoch (decimal), provenance.health, algorithm, certificate (base64 DER). An
//! encrypted envelope appends four more: the ASCII word `encryption`, encryption.suite, encryption.key and
//! encryption.enc (the base64 text as sent), so the signature covers the ciphertext (through the digest) and
//! `enc`, and an envelope without `encryption` signs exactly what it signed before encryption existed. The chain
//! hash of an envelope is SHA-256 over that byte string followed by the signature bytes; the next envelope's
//! `previous` is its hex.
//!
//! The delivered data is what `data` holds once base64-decoded (or the body of an `application/octet-stream`
//! answer): the random bytes themselves, or for an encrypted envelope the HPKE ciphertext of them (the random
//! bytes followed by the 16-byte Poly1305 tag, [`crate::hpke`]). The digest is always over those delivered
//! bytes, never over the plaintext of an encrypted envelope: a digest of a few secret bytes would give them
//! away to anyone who tries every value.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::EaasError;

/// The envelope format this crate reads and writes.
pub const ENVELOPE_VERSION: u32 = 1;
/// The only signature algorithm so far (a post-quantum one can be added beside it).
pub const ALGORITHM_ED25519: &str = "Ed25519";
/// `previous` of a server's first envelope.
pub const GENESIS_PREVIOUS: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

const LABEL: &[u8] = b"qkms-eaas-envelope-v1\0";

/// The header of an `application/octet-stream` answer holding the envelope (base64 of its JSON, data empty).
pub const ENVELOPE_HEADER: &str = "x-qkms-envelope";

/// Where the bytes' entropy came from, as the server's entropy pool recorded it for this draw.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnvelopeProvenance {
    /// True only when a credited quantum source that passed its health tests seeded the generator that made
    /// these bytes.
    pub quantum: bool,
    /// The credited sources of that seed.
    pub sources: Vec<String>,
    /// The pool's seed epoch behind the draw.
    pub seed_epoch: u64,
    /// The pool's health when the bytes were drawn: `ok` (a draw never succeeds from a failed-closed pool).
    pub health: String,
}

/// How an encrypted envelope's data was encrypted: HPKE base mode to an X25519 public key the tenant registered.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeEncryption {
    /// The HPKE suite: [`crate::hpke::HPKE_SUITE`].
    pub suite: String,
    /// The KMIP Unique Identifier of the recipient's X25519 public key (the request's `encrypt`).
    pub key: String,
    /// The HPKE encapsulated key (the ephemeral X25519 public key), base64 (standard alphabet, padded).
    pub enc: String,
}

/// One answer of `GET /v1/random`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub version: u32,
    /// The server node that signed (each node has its own key and chain).
    pub server: String,
    /// The tenant the client certificate named.
    pub tenant: String,
    /// This server's envelope counter: strictly increasing, never reused (also across restarts).
    pub sequence: u64,
    /// When the server drew the bytes: RFC 3339, UTC, sub-second.
    pub time: String,
    /// The client's nonce, hex, exactly as sent (may be empty when the client sent none).
    pub nonce: String,
    /// The delivered data, base64 (standard alphabet, padded): the random bytes, or their HPKE ciphertext when
    /// `encryption` is present.
    pub data: String,
    /// Hex SHA-256 chain hash of this server's previous envelope ([`GENESIS_PREVIOUS`] for the first).
    pub previous: String,
    pub provenance: EnvelopeProvenance,
    /// The signature algorithm: [`ALGORITHM_ED25519`].
    pub algorithm: String,
    /// The signing certificate, base64 DER, issued by the qkms CA.
    pub certificate: String,
    /// The signature over [`Envelope::signed_bytes`], base64.
    pub signature: String,
    /// Present when `data` is encrypted (`&encrypt=KEYID`); absent from the JSON otherwise. A client that does
    /// not know this field refuses the envelope (unknown fields are refused) rather than taking ciphertext for
    /// random bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<EnvelopeEncryption>,
}

impl Envelope {
    /// The canonical byte string the signature covers (see the module comment).
    pub fn signed_bytes(&self) -> Result<Vec<u8>, EaasError> {
        let digest = Sha256::digest(self.data_bytes()?);
        Ok(self.signed_bytes_with_data_digest(&digest))
    }

    /// [`Envelope::signed_bytes`] with the SHA-256 of the data already computed.
    pub fn signed_bytes_with_data_digest(&self, data_sha256: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(LABEL.len() + self.certificate.len() + 512);
        out.extend_from_slice(LABEL);
        let mut field = |bytes: &[u8]| {
            // Fields are bounded by the server's request limit (a few MiB); u32 lengths cannot overflow.
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        field(self.version.to_string().as_bytes());
        field(self.server.as_bytes());
        field(self.tenant.as_bytes());
        field(self.sequence.to_string().as_bytes());
        field(self.time.as_bytes());
        field(self.nonce.as_bytes());
        field(data_sha256);
        field(self.previous.as_bytes());
        field(if self.provenance.quantum {
            b"true"
        } else {
            b"false"
        });
        field(self.provenance.sources.len().to_string().as_bytes());
        for source in &self.provenance.sources {
            field(source.as_bytes());
        }
        field(self.provenance.seed_epoch.to_string().as_bytes());
        field(self.provenance.health.as_bytes());
        field(self.algorithm.as_bytes());
        field(self.certificate.as_bytes());
        if let Some(encryption) = &self.encryption {
            field(b"encryption");
            field(encryption.suite.as_bytes());
            field(encryption.key.as_bytes());
            field(encryption.enc.as_bytes());
        }
        out
    }

    /// The chain hash: hex SHA-256 over the signed bytes and the signature; the next envelope's `previous`.
    pub fn chain_hash(&self) -> Result<String, EaasError> {
        Ok(chain_hash(&self.signed_bytes()?, &self.signature_bytes()?))
    }

    /// The delivered data (the random bytes, or their ciphertext when `encryption` is present).
    pub fn data_bytes(&self) -> Result<Vec<u8>, EaasError> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.data)
            .map_err(|e| EaasError::Malformed(format!("data is not base64: {e}")))
    }

    pub fn signature_bytes(&self) -> Result<Vec<u8>, EaasError> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.signature)
            .map_err(|e| EaasError::Malformed(format!("signature is not base64: {e}")))
    }

    pub fn certificate_der(&self) -> Result<Vec<u8>, EaasError> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.certificate)
            .map_err(|e| EaasError::Malformed(format!("certificate is not base64: {e}")))
    }

    /// The `application/octet-stream` form: the envelope with `data` empty, as base64 of its JSON (the value
    /// of the [`ENVELOPE_HEADER`] header), and the data bytes (the body).
    pub fn split_for_octet_stream(&self) -> Result<(String, Vec<u8>), EaasError> {
        Ok((self.octet_stream_header(), self.data_bytes()?))
    }

    /// The [`ENVELOPE_HEADER`] value of the `application/octet-stream` form: base64 of the JSON with `data` empty.
    pub fn octet_stream_header(&self) -> String {
        let json = if self.data.is_empty() {
            self.to_json()
        } else {
            let mut header = self.clone();
            header.data = String::new();
            header.to_json()
        };
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    /// The envelope back from the [`ENVELOPE_HEADER`] value and the body of an `application/octet-stream`
    /// answer; verify it like any other.
    pub fn from_octet_stream(header: &str, body: &[u8]) -> Result<Self, EaasError> {
        let json = base64::engine::general_purpose::STANDARD
            .decode(header.trim())
            .map_err(|e| EaasError::Malformed(format!("{ENVELOPE_HEADER} is not base64: {e}")))?;
        let mut envelope = Self::from_json(&json)?;
        if !envelope.data.is_empty() {
            return Err(EaasError::Malformed(format!(
                "{ENVELOPE_HEADER} carries data: the bytes belong in the body"
            )));
        }
        envelope.data = base64::engine::general_purpose::STANDARD.encode(body);
        Ok(envelope)
    }

    /// Reads an envelope from its JSON text, refusing unknown fields.
    pub fn from_json(text: &[u8]) -> Result<Self, EaasError> {
        serde_json::from_slice(text).map_err(|e| EaasError::Malformed(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serializes")
    }
}

/// The chain hash of an envelope from its signed bytes and signature.
pub fn chain_hash(signed_bytes: &[u8], signature: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(signed_bytes);
    hash.update(signature);
    hex::encode(hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Envelope {
        Envelope {
            version: ENVELOPE_VERSION,
            server: "node-a".into(),
            tenant: "default".into(),
            sequence: 7,
            time: "2026-12-06T11:00:00.123456Z".into(),
            nonce: "00ff".into(),
            data: "AAECAw==".into(),
            previous: GENESIS_PREVIOUS.into(),
            provenance: EnvelopeProvenance {
                quantum: false,
                sources: vec!["os:getrandom".into()],
                seed_epoch: 3,
                health: "ok".into(),
            },
            algorithm: ALGORITHM_ED25519.into(),
            certificate: "AA==".into(),
            signature: "AA==".into(),
            encryption: None,
        }
    }

    fn encrypted_sample() -> Envelope {
        let mut envelope = sample();
        envelope.encryption = Some(EnvelopeEncryption {
            suite: crate::hpke::HPKE_SUITE.into(),
            key: "key-1".into(),
            enc: "AAAA".into(),
        });
        envelope
    }

    #[test]
    fn every_field_but_the_signature_changes_the_signed_bytes() {
        let base = sample();
        type Change = Box<dyn Fn(&mut Envelope)>;
        let variants: Vec<Change> = vec![
            Box::new(|e| e.version = 2),
            Box::new(|e| e.server.push('x')),
            Box::new(|e| e.tenant.push('x')),
            Box::new(|e| e.sequence += 1),
            Box::new(|e| e.time.push('x')),
            Box::new(|e| e.nonce.push('0')),
            Box::new(|e| e.data = "AAECAA==".into()),
            Box::new(|e| e.previous.replace_range(0..1, "1")),
            Box::new(|e| e.provenance.quantum = true),
            Box::new(|e| e.provenance.sources.push("x".into())),
            Box::new(|e| e.provenance.sources[0].push('x')),
            Box::new(|e| e.provenance.seed_epoch += 1),
            Box::new(|e| e.provenance.health = "degraded".into()),
            Box::new(|e| e.algorithm = "ML-DSA-65".into()),
            Box::new(|e| e.certificate = "AQ==".into()),
            Box::new(|e| e.encryption = encrypted_sample().encryption),
        ];
        for (i, change) in variants.iter().enumerate() {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(
                changed.signed_bytes().unwrap(),
                base.signed_bytes().unwrap(),
                "variant {i}"
            );
        }
        let mut resigned = base.clone();
        resigned.signature = "AQ==".into();
        assert_eq!(
            resigned.signed_bytes().unwrap(),
            base.signed_bytes().unwrap()
        );
    }

    #[test]
    fn every_encryption_field_changes_the_signed_bytes() {
        let base = encrypted_sample();
        type Change = Box<dyn Fn(&mut EnvelopeEncryption)>;
        let variants: Vec<Change> = vec![
            Box::new(|e| e.suite.push('x')),
            Box::new(|e| e.key.push('x')),
            Box::new(|e| e.enc = "AAAB".into()),
        ];
        for (i, change) in variants.iter().enumerate() {
            let mut changed = base.clone();
            change(changed.encryption.as_mut().unwrap());
            assert_ne!(
                changed.signed_bytes().unwrap(),
                base.signed_bytes().unwrap(),
                "variant {i}"
            );
        }
        // Without encryption, the signed bytes are those of the first envelope format.
        let plain = sample().signed_bytes().unwrap();
        assert!(base.signed_bytes().unwrap().starts_with(&plain));
        assert!(!sample().to_json().contains("encryption"));
        let json = base.to_json();
        assert_eq!(Envelope::from_json(json.as_bytes()).unwrap(), base);
    }

    #[test]
    fn fields_cannot_slide_into_each_other() {
        // Length prefixes: moving a character from one field to the next gives different bytes.
        let mut a = sample();
        a.server = "ab".into();
        a.tenant = "c".into();
        let mut b = sample();
        b.server = "a".into();
        b.tenant = "bc".into();
        assert_ne!(a.signed_bytes().unwrap(), b.signed_bytes().unwrap());
    }

    #[test]
    fn the_octet_stream_form_rebuilds_the_same_envelope() {
        let envelope = sample();
        let (header, body) = envelope.split_for_octet_stream().unwrap();
        assert_eq!(body, vec![0, 1, 2, 3]);
        assert_eq!(
            Envelope::from_octet_stream(&header, &body).unwrap(),
            envelope
        );
        let carrying = base64::engine::general_purpose::STANDARD.encode(envelope.to_json());
        assert!(Envelope::from_octet_stream(&carrying, &body).is_err());
    }

    #[test]
    fn json_round_trip_and_unknown_fields_refused() {
        let envelope = sample();
        assert_eq!(
            Envelope::from_json(envelope.to_json().as_bytes()).unwrap(),
            envelope
        );
        let mut value: serde_json::Value = serde_json::from_str(&envelope.to_json()).unwrap();
        value["extra"] = serde_json::json!(1);
        assert!(matches!(
            Envelope::from_json(value.to_string().as_bytes()),
            Err(EaasError::Malformed(_))
        ));
    }
}
