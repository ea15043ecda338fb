//! HPKE (RFC 9180) for encrypted envelopes: base mode, single shot, one suite — DHKEM(X25519, HKDF-SHA256)
//! (KEM 0x0020), HKDF-SHA256 (KDF 0x0001), ChaCha20Poly1305 (AEAD 0x0003).
//!
//! Why this suite: it is the X25519 suite with an RFC 9180 test vector (A.2; the AES ones use AES-128), it is
//! constant time in software on any CPU, and Python's `cryptography`, Go's `crypto/hpke`, BoringSSL and
//! rozbb's `hpke` crate all speak it.
//!
//! Why not the `hpke` crate: it is built on the previous RustCrypto generation (rand_core 0.6/0.9, aead 0.5,
//! x25519-dalek 2), which would put a second copy of every primitive into the workspace, and its `seal` wants
//! an RNG object where the server has the entropy pool. Base-mode single shot is short: two labelled HKDF
//! steps for the KEM, three for the key schedule, one AEAD call, over the current `x25519-dalek`, `hkdf`,
//! `sha2` and `chacha20poly1305`. The ephemeral secret is a parameter (32 bytes the server draws from its
//! pool: RFC 9180 §7.1.3 lets an X25519 private key be any 32 random bytes), so this module touches no
//! randomness source. The RFC 9180 A.2.1 vector and Python `cryptography`'s HPKE (`tests/`) check it.
//!
//! Single shot means sequence number 0: the AEAD nonce is `base_nonce` itself, and one key encrypts one message.
//! An all-zero X25519 output (a low-order recipient or encapsulated key) is refused, as RFC 9180 §7.1.4 requires.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use hkdf::{Hkdf, HkdfExtract};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

/// The suite, as envelopes name it in `encryption.suite`.
pub const HPKE_SUITE: &str = "HPKE-base/DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/ChaCha20Poly1305";
/// The `info` every envelope encryption uses (RFC 9180 "application-supplied information").
pub const HPKE_INFO: &[u8] = b"qkms entropy-as-a-service envelope v1";
/// Length of `enc` (the encapsulated key: an X25519 public key) and of X25519 keys.
pub const X25519_KEY_LEN: usize = 32;
/// Bytes the AEAD adds to a plaintext (the Poly1305 tag).
pub const TAG_LEN: usize = 16;

const KEM_ID: u16 = 0x0020;
const KDF_ID: u16 = 0x0001;
const AEAD_ID: u16 = 0x0003;
const MODE_BASE: u8 = 0x00;
const VERSION_LABEL: &[u8] = b"HPKE-v1";
const NK: usize = 32;
const NN: usize = 12;
const NSECRET: usize = 32;

/// Why sealing or opening failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HpkeError {
    #[error("the X25519 exchange gave the all-zero value: the public key is of low order (RFC 9180 7.1.4)")]
    LowOrderKey,
    #[error("enc is {0} bytes; X25519 encapsulated keys are 32")]
    EncLength(usize),
    #[error("the ciphertext is {0} bytes, shorter than the 16-byte tag")]
    Truncated(usize),
    #[error("the ciphertext does not open under this key (wrong key, or altered)")]
    Open,
    #[error("the plaintext is too long for one ChaCha20Poly1305 message")]
    TooLong,
}

/// An X25519 private key (the recipient's), zeroized when dropped, never printed.
pub struct X25519SecretKey(StaticSecret);

impl std::fmt::Debug for X25519SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("X25519SecretKey(..)")
    }
}

impl X25519SecretKey {
    pub fn from_bytes(bytes: [u8; X25519_KEY_LEN]) -> Self {
        Self(StaticSecret::from(bytes))
    }

    /// A PKCS#8 id-X25519 private key, PEM (`-----BEGIN PRIVATE KEY-----`) or DER: what `openssl genpkey
    /// -algorithm X25519` and Python `cryptography` write.
    pub fn from_pkcs8(file: &[u8]) -> Result<Self, pkcs8::Error> {
        use pkcs8::DecodePrivateKey;
        match std::str::from_utf8(file) {
            Ok(text) if text.trim_start().starts_with("-----BEGIN") => {
                Self::from_pkcs8_pem(text.trim())
            }
            _ => Self::from_pkcs8_der(file),
        }
    }

    /// The public key (what the tenant registers with the server).
    pub fn public_key(&self) -> [u8; X25519_KEY_LEN] {
        PublicKey::from(&self.0).to_bytes()
    }
}

/// RFC 8410 id-X25519.
pub const OID_X25519: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.3.101.110");

/// A PKCS#8 `PrivateKeyInfo` of id-X25519 (what `openssl genpkey -algorithm X25519` and Python's
/// `cryptography` write): the private key is an OCTET STRING holding the 32 key bytes.
impl TryFrom<pkcs8::PrivateKeyInfoRef<'_>> for X25519SecretKey {
    type Error = pkcs8::Error;

    fn try_from(info: pkcs8::PrivateKeyInfoRef<'_>) -> Result<Self, Self::Error> {
        use pkcs8::der::Decode;
        info.algorithm.assert_algorithm_oid(OID_X25519)?;
        let inner = <&pkcs8::der::asn1::OctetStringRef>::from_der(info.private_key.as_bytes())?;
        let bytes: [u8; X25519_KEY_LEN] = inner
            .as_bytes()
            .try_into()
            .map_err(|_| pkcs8::Error::KeyMalformed(pkcs8::KeyError::Invalid))?;
        Ok(Self::from_bytes(bytes))
    }
}

/// Whether an X25519 public key is of low order: every exchange with it gives the all-zero value, which
/// [`seal`] refuses; a server checks keys with this when they are registered.
pub fn is_low_order(public: &[u8; X25519_KEY_LEN]) -> bool {
    // Clamped scalars are multiples of the cofactor 8, so any of them sends a point of order dividing 8 (on
    // the curve or its twist) to zero; the fixed scalar is no secret.
    !StaticSecret::from([0x5a; X25519_KEY_LEN])
        .diffie_hellman(&PublicKey::from(*public))
        .was_contributory()
}

/// An encrypted message: the encapsulated key and the ciphertext (plaintext length + [`TAG_LEN`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub enc: [u8; X25519_KEY_LEN],
    pub ciphertext: Vec<u8>,
}

/// `SealBase(pkR, info, aad, pt)` with the ephemeral key `ephemeral_secret` (32 random bytes).
pub fn seal(
    recipient: &[u8; X25519_KEY_LEN],
    ephemeral_secret: Zeroizing<[u8; X25519_KEY_LEN]>,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Sealed, HpkeError> {
    let ephemeral = StaticSecret::from(*ephemeral_secret);
    drop(ephemeral_secret);
    let enc = PublicKey::from(&ephemeral).to_bytes();
    let dh = ephemeral.diffie_hellman(&PublicKey::from(*recipient));
    if !dh.was_contributory() {
        return Err(HpkeError::LowOrderKey);
    }
    let shared_secret = kem_shared_secret(dh.as_bytes(), &enc, recipient);
    let (key, nonce) = key_schedule(&shared_secret, info);
    let mut ciphertext = Vec::with_capacity(plaintext.len() + TAG_LEN);
    ciphertext.extend_from_slice(plaintext);
    let tag = aead(&key)
        .encrypt_inout_detached(&nonce, aad, (&mut ciphertext[..]).into())
        .map_err(|_| HpkeError::TooLong)?;
    ciphertext.extend_from_slice(&tag);
    Ok(Sealed { enc, ciphertext })
}

/// `OpenBase(enc, skR, info, aad, ct)`.
pub fn open(
    recipient: &X25519SecretKey,
    enc: &[u8],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, HpkeError> {
    let enc: [u8; X25519_KEY_LEN] = enc
        .try_into()
        .map_err(|_| HpkeError::EncLength(enc.len()))?;
    let body_len = ciphertext
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(HpkeError::Truncated(ciphertext.len()))?;
    let dh = recipient.0.diffie_hellman(&PublicKey::from(enc));
    if !dh.was_contributory() {
        return Err(HpkeError::LowOrderKey);
    }
    let shared_secret = kem_shared_secret(dh.as_bytes(), &enc, &recipient.public_key());
    let (key, nonce) = key_schedule(&shared_secret, info);
    let (body, tag) = ciphertext.split_at(body_len);
    let tag = Tag::try_from(tag).expect("split at TAG_LEN from the end");
    let mut plaintext = Zeroizing::new(body.to_vec());
    aead(&key)
        .decrypt_inout_detached(&nonce, aad, (&mut plaintext[..]).into(), &tag)
        .map_err(|_| HpkeError::Open)?;
    Ok(plaintext)
}

fn aead(key: &[u8; NK]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new_from_slice(key).expect("ChaCha20Poly1305 keys are 32 bytes")
}

/// `LabeledExtract(salt, label, ikm)`: HKDF-Extract over "HPKE-v1" || suite_id || label || ikm.
fn labeled_extract(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> Hkdf<Sha256> {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    for part in [VERSION_LABEL, suite_id, label, ikm] {
        extract.input_ikm(part);
    }
    extract.finalize().1
}

/// `LabeledExpand(prk, label, info, L)`: HKDF-Expand with I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info.
fn labeled_expand<const L: usize>(
    prk: &Hkdf<Sha256>,
    suite_id: &[u8],
    label: &[u8],
    info: &[&[u8]],
) -> Zeroizing<[u8; L]> {
    let length = u16::try_from(L).expect("HPKE output lengths are small");
    let length = length.to_be_bytes();
    let mut parts: Vec<&[u8]> = vec![&length, VERSION_LABEL, suite_id, label];
    parts.extend_from_slice(info);
    let mut out = Zeroizing::new([0u8; L]);
    prk.expand_multi_info(&parts, &mut out[..])
        .expect("at most 255 hash lengths");
    out
}

/// DHKEM `ExtractAndExpand(dh, enc || pkRm)` (RFC 9180 §4.1).
fn kem_shared_secret(
    dh: &[u8; X25519_KEY_LEN],
    enc: &[u8; X25519_KEY_LEN],
    recipient: &[u8; X25519_KEY_LEN],
) -> Zeroizing<[u8; NSECRET]> {
    let mut suite_id = *b"KEM\0\0";
    suite_id[3..].copy_from_slice(&KEM_ID.to_be_bytes());
    let prk = labeled_extract(&suite_id, b"", b"eae_prk", dh);
    labeled_expand::<NSECRET>(&prk, &suite_id, b"shared_secret", &[enc, recipient])
}

fn hpke_suite_id() -> [u8; 10] {
    let mut id = *b"HPKE\0\0\0\0\0\0";
    id[4..6].copy_from_slice(&KEM_ID.to_be_bytes());
    id[6..8].copy_from_slice(&KDF_ID.to_be_bytes());
    id[8..10].copy_from_slice(&AEAD_ID.to_be_bytes());
    id
}

/// `KeyScheduleS/R(mode_base, shared_secret, info, "", "")` (RFC 9180 §5.1): the AEAD key and base nonce.
fn key_schedule(shared_secret: &[u8; NSECRET], info: &[u8]) -> (Zeroizing<[u8; NK]>, Nonce) {
    let suite_id = hpke_suite_id();
    let digest = |label: &[u8], ikm: &[u8]| {
        let mut extract = HkdfExtract::<Sha256>::new(Some(b""));
        for part in [VERSION_LABEL, &suite_id, label, ikm] {
            extract.input_ikm(part);
        }
        extract.finalize().0
    };
    let psk_id_hash = digest(b"psk_id_hash", b"");
    let info_hash = digest(b"info_hash", info);
    let context: Vec<&[u8]> = vec![&[MODE_BASE], &psk_id_hash, &info_hash];
    let secret = labeled_extract(&suite_id, shared_secret, b"secret", b"");
    let key = labeled_expand::<NK>(&secret, &suite_id, b"key", &context);
    let base_nonce = labeled_expand::<NN>(&secret, &suite_id, b"base_nonce", &context);
    let nonce = Nonce::try_from(&base_nonce[..]).expect("12 bytes");
    (key, nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes<const N: usize>(text: &str) -> [u8; N] {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    // RFC 9180 A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode, sequence 0.
    const INFO: &str = "4f6465206f6e2061204772656369616e2055726e";
    const SK_EM: &str = "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600";
    const PK_EM: &str = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
    const PK_RM: &str = "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a";
    const SK_RM: &str = "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb";
    const SHARED_SECRET: &str = "0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7";
    const KEY: &str = "ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91";
    const BASE_NONCE: &str = "5c4d98150661b848853b547f";
    const PT: &str = "4265617574792069732074727574682c20747275746820626561757479";
    const AAD: &str = "436f756e742d30";
    const CT: &str = "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28";

    #[test]
    fn rfc_9180_a21_key_schedule() {
        let recipient = X25519SecretKey::from_bytes(bytes(SK_RM));
        assert_eq!(hex::encode(recipient.public_key()), PK_RM);
        let ephemeral = StaticSecret::from(bytes::<32>(SK_EM));
        let dh = ephemeral.diffie_hellman(&PublicKey::from(bytes::<32>(PK_RM)));
        let shared = kem_shared_secret(dh.as_bytes(), &bytes(PK_EM), &bytes(PK_RM));
        assert_eq!(hex::encode(&shared[..]), SHARED_SECRET);
        let (key, nonce) = key_schedule(&shared, &hex::decode(INFO).unwrap());
        assert_eq!(hex::encode(&key[..]), KEY);
        assert_eq!(hex::encode(nonce), BASE_NONCE);
    }

    #[test]
    fn rfc_9180_a21_seal_and_open() {
        let info = hex::decode(INFO).unwrap();
        let aad = hex::decode(AAD).unwrap();
        let sealed = seal(
            &bytes(PK_RM),
            Zeroizing::new(bytes(SK_EM)),
            &info,
            &aad,
            &hex::decode(PT).unwrap(),
        )
        .unwrap();
        assert_eq!(hex::encode(sealed.enc), PK_EM);
        assert_eq!(hex::encode(&sealed.ciphertext), CT);
        let recipient = X25519SecretKey::from_bytes(bytes(SK_RM));
        let opened = open(&recipient, &sealed.enc, &info, &aad, &sealed.ciphertext).unwrap();
        assert_eq!(hex::encode(&opened[..]), PT);
    }

    #[test]
    fn altered_or_misdirected_ciphertexts_do_not_open() {
        let info = hex::decode(INFO).unwrap();
        let recipient = X25519SecretKey::from_bytes(bytes(SK_RM));
        let ct = hex::decode(CT).unwrap();
        let aad = hex::decode(AAD).unwrap();
        let mut flipped = ct.clone();
        flipped[3] ^= 1;
        assert_eq!(
            open(&recipient, &bytes::<32>(PK_EM), &info, &aad, &flipped),
            Err(HpkeError::Open)
        );
        assert_eq!(
            open(&recipient, &bytes::<32>(PK_EM), b"other info", &aad, &ct),
            Err(HpkeError::Open)
        );
        let other = X25519SecretKey::from_bytes([7; 32]);
        assert_eq!(
            open(&other, &bytes::<32>(PK_EM), &info, &aad, &ct),
            Err(HpkeError::Open)
        );
        assert_eq!(
            open(&recipient, &[1; 31], &info, &aad, &ct),
            Err(HpkeError::EncLength(31))
        );
        assert_eq!(
            open(&recipient, &bytes::<32>(PK_EM), &info, &aad, &ct[..15]),
            Err(HpkeError::Truncated(15))
        );
    }

    #[test]
    fn low_order_keys_are_refused() {
        // The u-coordinates 0 and 1 have order dividing 8: every clamped scalar maps them to zero.
        for low in [[0u8; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }] {
            assert_eq!(
                seal(&low, Zeroizing::new([9; 32]), b"", b"", b"x"),
                Err(HpkeError::LowOrderKey)
            );
            let recipient = X25519SecretKey::from_bytes([9; 32]);
            assert_eq!(
                open(&recipient, &low, b"", b"", &[0; 17]),
                Err(HpkeError::LowOrderKey)
            );
            assert!(is_low_order(&low));
        }
        assert!(!is_low_order(&bytes(PK_RM)));
    }

    #[test]
    fn pkcs8_x25519_keys_are_read() {
        use pkcs8::DecodePrivateKey;
        // `openssl genpkey -algorithm X25519 -outform DER` layout around the RFC key.
        let mut der = hex::decode("302e020100300506032b656e04220420").unwrap();
        der.extend_from_slice(&bytes::<32>(SK_RM));
        let key = X25519SecretKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(hex::encode(key.public_key()), PK_RM);
        let pem =
            pkcs8::der::pem::encode_string("PRIVATE KEY", pkcs8::der::pem::LineEnding::LF, &der)
                .unwrap();
        let from_pem = X25519SecretKey::from_pkcs8(pem.as_bytes()).unwrap();
        assert_eq!(from_pem.public_key(), key.public_key());
        assert_eq!(
            X25519SecretKey::from_pkcs8(&der).unwrap().public_key(),
            key.public_key()
        );
        // Ed25519's OID (1.3.101.112) is not X25519's.
        der[9 + 2] = 0x70;
        assert!(X25519SecretKey::from_pkcs8_der(&der).is_err());
        assert_eq!(format!("{key:?}"), "X25519SecretKey(..)");
    }
}
