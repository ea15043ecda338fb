//! Checking an envelope: certificate chain, signature, nonce, freshness, chain link, data, and opening an
//! encrypted envelope's data with the recipient's X25519 key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use rustls::pki_types::{CertificateDer, UnixTime};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use webpki::{anchor_from_trusted_cert, EndEntityCert, KeyUsage};

use crate::envelope::{Envelope, ALGORITHM_ED25519, ENVELOPE_VERSION};
use crate::hpke::{X25519SecretKey, HPKE_INFO, HPKE_SUITE};
use crate::EaasError;

/// OID 1.3.6.1.5.5.7.3.2 (id-kp-clientAuth), DER contents: the signing certificate carries no extended key
/// usage; a certificate that names some other usage is refused by webpki's "required if present" rule.
const EKU_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

/// What [`verify`] checks beyond the signature and certificate chain, which it always checks.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Trust anchors: the qkms CA certificate(s).
    pub ca_certificates: Vec<CertificateDer<'static>>,
    /// The nonce the request sent; `None` skips the check (an envelope read from a file whose request is gone).
    pub expected_nonce: Option<String>,
    /// The largest distance between the envelope's time and `now`. Default 300 s.
    pub max_skew: Duration,
    /// The clock to compare with; default the system clock at verification.
    pub now: Option<SystemTime>,
    /// The same server's envelope just before this one: `previous` must be its chain hash.
    pub previous: Option<Envelope>,
    /// Bytes the caller holds (say, a file written from an earlier fetch): they must equal the envelope's random
    /// bytes (for an encrypted envelope, the plaintext: `decryption_key` is then needed).
    pub data: Option<Vec<u8>>,
    /// The X25519 private key an encrypted envelope's data is opened with. An encrypted envelope verified
    /// without it is checked (signature, chain, nonce, time) but its [`Verified::data`] is the ciphertext.
    pub decryption_key: Option<std::sync::Arc<X25519SecretKey>>,
}

impl VerifyOptions {
    pub fn new(ca_certificates: Vec<CertificateDer<'static>>) -> Self {
        Self {
            ca_certificates,
            expected_nonce: None,
            max_skew: Duration::from_secs(300),
            now: None,
            previous: None,
            data: None,
            decryption_key: None,
        }
    }

    pub fn expect_nonce(mut self, nonce: &str) -> Self {
        self.expected_nonce = Some(nonce.to_owned());
        self
    }
}

/// A verified envelope's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The random bytes: the envelope's data, decrypted when it was encrypted and a decryption key was given.
    /// When `sealed` is true this is still the HPKE ciphertext, not random bytes to use.
    pub data: Vec<u8>,
    /// The envelope is encrypted and was not opened (no decryption key given).
    pub sealed: bool,
    /// The envelope's chain hash: the next envelope's `previous`.
    pub chain_hash: String,
    pub time: OffsetDateTime,
}

/// Checks `envelope` against `options`; the first failure is the error.
pub fn verify(envelope: &Envelope, options: &VerifyOptions) -> Result<Verified, EaasError> {
    if envelope.version != ENVELOPE_VERSION {
        return Err(EaasError::Malformed(format!(
            "envelope version {} (this client reads {ENVELOPE_VERSION})",
            envelope.version
        )));
    }
    let time = OffsetDateTime::parse(&envelope.time, &Rfc3339)
        .map_err(|e| EaasError::Malformed(format!("time {:?}: {e}", envelope.time)))?;
    let now = options.now.unwrap_or_else(SystemTime::now);
    let signature = envelope.signature_bytes()?;
    check_signature(
        &envelope.algorithm,
        &envelope.certificate,
        &envelope.time,
        &envelope.signed_bytes()?,
        &signature,
        options,
    )?;

    // Only now, with the contents authentic, compare them with what the caller expects.
    if let Some(expected) = &options.expected_nonce {
        if !expected.eq_ignore_ascii_case(&envelope.nonce) {
            return Err(EaasError::Nonce {
                expected: expected.clone(),
                found: envelope.nonce.clone(),
            });
        }
    }
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let skew = now_secs - time.unix_timestamp();
    if skew.unsigned_abs() > options.max_skew.as_secs() {
        return Err(EaasError::Stale {
            time: envelope.time.clone(),
            skew_secs: skew,
            allowed_secs: options.max_skew.as_secs(),
        });
    }
    if let Some(previous) = &options.previous {
        if previous.server != envelope.server {
            return Err(EaasError::Chain(format!(
                "the previous envelope is from server {:?}, this one from {:?}: chains are per server",
                previous.server, envelope.server
            )));
        }
        if previous.sequence >= envelope.sequence {
            return Err(EaasError::Chain(format!(
                "sequence {} does not follow {}",
                envelope.sequence, previous.sequence
            )));
        }
        let expected = previous.chain_hash()?;
        if expected != envelope.previous {
            return Err(EaasError::Chain(format!(
                "previous is {}, the given envelope {} hashes to {expected}",
                envelope.previous, previous.sequence
            )));
        }
    }
    let delivered = envelope.data_bytes()?;
    let (data, sealed) = match (&envelope.encryption, &options.decryption_key) {
        (None, _) => (delivered, false),
        (Some(encryption), Some(key)) => (open_data(envelope, encryption, key, &delivered)?, false),
        (Some(encryption), None) if options.data.is_some() => {
            return Err(EaasError::Data(format!(
                "the envelope is encrypted to key {:?}: comparing the bytes held needs its decryption key",
                encryption.key
            )))
        }
        (Some(_), None) => (delivered, true),
    };
    if let Some(held) = &options.data {
        if held != &data {
            return Err(EaasError::Data(format!(
                "{} bytes held, {} in the envelope, first difference at byte {}",
                held.len(),
                data.len(),
                held.iter()
                    .zip(&data)
                    .position(|(a, b)| a != b)
                    .unwrap_or(held.len().min(data.len()))
            )));
        }
    }
    Ok(Verified {
        data,
        sealed,
        chain_hash: envelope.chain_hash()?,
        time,
    })
}

/// The plaintext of an encrypted envelope's (already authenticated) data.
fn open_data(
    envelope: &Envelope,
    encryption: &crate::envelope::EnvelopeEncryption,
    key: &X25519SecretKey,
    delivered: &[u8],
) -> Result<Vec<u8>, EaasError> {
    if encryption.suite != HPKE_SUITE {
        return Err(EaasError::Malformed(format!(
            "encryption suite {:?} (this client opens {HPKE_SUITE})",
            encryption.suite
        )));
    }
    let enc = base64::engine::general_purpose::STANDARD
        .decode(&encryption.enc)
        .map_err(|e| EaasError::Malformed(format!("encryption.enc is not base64: {e}")))?;
    let plaintext = crate::hpke::open(key, &enc, HPKE_INFO, b"", delivered).map_err(|e| {
        EaasError::Decryption(format!(
            "envelope {} of {}, key {:?}: {e}",
            envelope.sequence, envelope.server, encryption.key
        ))
    })?;
    // The caller takes the bytes as a plain Vec (like an unencrypted envelope's); the copy under the
    // Zeroizing guard is wiped here.
    Ok(plaintext.to_vec())
}

/// The signing certificate (base64 DER) chains to the CA and was valid at `time` (RFC 3339), and `signature` by
/// its key over `signed` verifies.
pub(crate) fn check_signature(
    algorithm: &str,
    certificate_base64: &str,
    time: &str,
    signed: &[u8],
    signature: &[u8],
    options: &VerifyOptions,
) -> Result<(), EaasError> {
    if algorithm != ALGORITHM_ED25519 {
        return Err(EaasError::Malformed(format!(
            "signature algorithm {algorithm:?} (this client checks {ALGORITHM_ED25519})"
        )));
    }
    let time = OffsetDateTime::parse(time, &Rfc3339)
        .map_err(|e| EaasError::Malformed(format!("time {time:?}: {e}")))?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(certificate_base64)
        .map_err(|e| EaasError::Malformed(format!("certificate is not base64: {e}")))?;
    let certificate = CertificateDer::from(der);
    let anchors = options
        .ca_certificates
        .iter()
        .map(|ca| anchor_from_trusted_cert(ca).map(|anchor| anchor.to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EaasError::Certificate(format!("the CA certificate cannot be read: {e}")))?;
    let end_entity = EndEntityCert::try_from(&certificate).map_err(|e| {
        EaasError::Certificate(format!("the signing certificate cannot be read: {e}"))
    })?;
    let at = UnixTime::since_unix_epoch(Duration::from_secs(
        u64::try_from(time.unix_timestamp()).unwrap_or(0),
    ));
    end_entity
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &[],
            at,
            KeyUsage::required_if_present(EKU_CLIENT_AUTH),
            None,
            None,
        )
        .map_err(|e| EaasError::Certificate(format!("{e:?}")))?;
    end_entity
        .verify_signature(webpki::ring::ED25519, signed, signature)
        .map_err(|_| EaasError::Signature)
}
