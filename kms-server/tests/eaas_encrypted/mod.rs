//! HPKE-encrypted envelopes end to end (part of `--test e2e_eaas`): the real server over mutual TLS, an X25519
//! key pair made by Python's `cryptography` (an independent HPKE implementation, which also decrypts what the
//! server sent), the public key registered through KMIP, the real `qkms eaas fetch|verify --decrypt-key`.

use std::process::Command;

use base64::Engine;
use kmip::attributes::{Attribute, CryptographicUsageMask};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::{ObjectField, RegisterRequest};
use zeroize::Zeroizing;

use super::e2e_support::*;
use super::{get, json, ok, qkms, refused, set_up};

/// Runs a Python program with `cryptography`; returns its stdout.
fn python(program: &str, args: &[&str]) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(program)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "python failed (the test needs `pip install 'cryptography>=48'`, whose hazmat.primitives.hpke \
         is the independent HPKE): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A fresh X25519 key pair from Python: the private key as PKCS#8 PEM in `pem_path`, the public key's
/// SubjectPublicKeyInfo DER returned.
fn python_key_pair(pem_path: &str) -> Vec<u8> {
    let spki_hex = python(
        "import sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
k = X25519PrivateKey.generate()
open(sys.argv[1], 'wb').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
print(k.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo).hex())",
        &[pem_path],
    );
    hex::decode(spki_hex).expect("hex from python")
}

/// Python `cryptography` opens `enc || ciphertext` (its single-shot form, empty AAD) with the key in `pem_path`.
fn python_open(pem_path: &str, enc: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let plaintext = python(
        "import sys
from cryptography.hazmat.primitives import hpke, serialization as s
k = s.load_pem_private_key(open(sys.argv[1], 'rb').read(), None)
suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
print(suite.decrypt(bytes.fromhex(sys.argv[2]), k, info=sys.argv[3].encode()).hex())",
        &[
            pem_path,
            &hex::encode([enc, ciphertext].concat()),
            std::str::from_utf8(eaas::hpke::HPKE_INFO).unwrap(),
        ],
    );
    hex::decode(plaintext).expect("hex from python")
}

fn register_public(format: KeyFormatType, bytes: Vec<u8>, active: bool) -> RegisterRequest {
    let mut attributes = vec![Attribute::CryptographicUsageMask(
        CryptographicUsageMask::ENCRYPT,
    )];
    if active {
        attributes.push(Attribute::ActivationDate(0));
    }
    RegisterRequest {
        object_type: ObjectType::PublicKey,
        attributes: attributes.into(),
        object: ObjectField(Some(ManagedObject::PublicKey(KeyBlock::new(
            format,
            KeyMaterial::Bytes(Zeroizing::new(bytes)),
            match format {
                KeyFormatType::Raw => Some(CryptographicAlgorithm::Ecdh),
                _ => None,
            },
            None,
        )))),
        protection_storage_masks: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_envelopes_open_with_the_registered_key_and_only_it() {
    let setup = set_up(|config| config.eaas.beacon_interval_secs = 0);
    let server = ServerProcess::start(&setup).expect("server starts");
    let dir = setup.path();
    let path = |name: &str| dir.join(name).display().to_string();
    let spki = python_key_pair(&path("x25519.pem"));
    let mut client = server.connect(&setup.client).await;
    let uid = client
        .register(register_public(KeyFormatType::X509, spki.clone(), true))
        .await
        .expect("an X25519 SubjectPublicKeyInfo registers")
        .unique_identifier;

    // qkms fetches, verifies and decrypts; Python's HPKE opens the same ciphertext to the same bytes.
    let fetched = ok(&qkms(
        &[
            "fetch",
            "--bytes",
            "64",
            "--out",
            &path("d1"),
            "--envelope",
            &path("e1.json"),
            "--encrypt",
            &uid,
            "--decrypt-key",
            &path("x25519.pem"),
        ],
        &setup.config_file,
    ));
    assert!(fetched.contains("HPKE-decrypted"), "{fetched}");
    let plaintext = std::fs::read(path("d1")).unwrap();
    assert_eq!(plaintext.len(), 64);
    let envelope =
        eaas::Envelope::from_json(&std::fs::read(path("e1.json")).unwrap()).expect("envelope");
    let encryption = envelope.encryption.clone().expect("an encrypted envelope");
    assert_eq!(encryption.suite, eaas::hpke::HPKE_SUITE);
    assert_eq!(encryption.key, uid);
    let b64 = base64::engine::general_purpose::STANDARD;
    let enc = b64.decode(&encryption.enc).unwrap();
    let ciphertext = envelope.data_bytes().unwrap();
    assert_eq!(ciphertext.len(), 64 + eaas::hpke::TAG_LEN);
    assert_ne!(&ciphertext[..64], &plaintext[..]);
    assert_eq!(
        python_open(&path("x25519.pem"), &enc, &ciphertext),
        plaintext
    );

    // The saved envelope verifies with the key against the bytes; without the key, --data cannot be checked
    // but the signature still can; a changed `enc` breaks the signature.
    let ca = setup.client.ca.display().to_string();
    let verify = |envelope: &str, extra: &[&str]| {
        let mut args = vec!["verify", "--envelope", envelope, "--ca", &ca];
        args.extend_from_slice(extra);
        qkms(&args, &setup.config_file)
    };
    let valid = ok(&verify(
        &path("e1.json"),
        &["--data", &path("d1"), "--decrypt-key", &path("x25519.pem")],
    ));
    assert!(valid.contains("HPKE-decrypted"), "{valid}");
    refused(
        &verify(&path("e1.json"), &["--data", &path("d1")]),
        "needs its decryption key",
    );
    let sealed = ok(&verify(&path("e1.json"), &[]));
    assert!(sealed.contains("not decrypted"), "{sealed}");
    let mut forged = envelope.clone();
    forged.encryption.as_mut().unwrap().enc = b64.encode([9u8; 32]);
    std::fs::write(path("forged.json"), forged.to_json()).unwrap();
    refused(&verify(&path("forged.json"), &[]), "signature");

    // Another X25519 key of the tenant cannot open it.
    let _ = python_key_pair(&path("other.pem"));
    refused(
        &verify(&path("e1.json"), &["--decrypt-key", &path("other.pem")]),
        "does not open",
    );

    // Octet stream: the body is the ciphertext, the header carries `encryption`.
    let raw = octet_stream(&setup, &format!("/v1/random?bytes=1000&encrypt={uid}")).await;
    let (header, body) = raw;
    let envelope = eaas::Envelope::from_octet_stream(&header, &body).unwrap();
    assert_eq!(body.len(), 1000 + eaas::hpke::TAG_LEN);
    let cas = kmip::client::certificates_from_file(&setup.client.ca).unwrap();
    let mut options = eaas::VerifyOptions::new(cas);
    options.decryption_key = Some(std::sync::Arc::new(
        eaas::hpke::X25519SecretKey::from_pkcs8(&std::fs::read(path("x25519.pem")).unwrap())
            .unwrap(),
    ));
    let verified = eaas::verify(&envelope, &options).unwrap();
    assert!(!verified.sealed);
    let enc = b64
        .decode(&envelope.encryption.as_ref().unwrap().enc)
        .unwrap();
    assert_eq!(python_open(&path("x25519.pem"), &enc, &body), verified.data);
}

/// `GET path` with `Accept: application/octet-stream`: the envelope header and the body.
async fn octet_stream(setup: &SetUp, path: &str) -> (String, Vec<u8>) {
    let addr: std::net::SocketAddr = setup.config.https.listen.parse().unwrap();
    let config = process::client_config(addr, &setup.client, kmip::ProtocolVersion::V2_1)
        .rustls_config()
        .unwrap();
    let mut connection =
        super::https_client::HttpsConnection::connect(addr, std::sync::Arc::new(config))
            .await
            .unwrap();
    let response = connection
        .request_with_headers(
            "GET",
            path,
            None,
            &[("Accept", "application/octet-stream")],
            b"",
            false,
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    let header = response
        .header(eaas::ENVELOPE_HEADER)
        .expect("the envelope header")
        .to_owned();
    (header, response.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_cannot_be_encrypted_to_are_400_naming_encrypt() {
    let setup = set_up(|config| config.eaas.beacon_interval_secs = 0);
    let server = ServerProcess::start(&setup).expect("server starts");
    let other = setup.issue_client("other");
    let dir = setup.path();
    let spki = python_key_pair(&dir.join("k.pem").display().to_string());
    let raw = spki[spki.len() - 32..].to_vec();

    let mut mine = server.connect(&setup.client).await;
    let mut theirs = server.connect(&other).await;
    let raw_uid = mine
        .register(register_public(KeyFormatType::Raw, raw.clone(), true))
        .await
        .expect("a Raw X25519 key with ECDH registers")
        .unique_identifier;
    let pre_active = mine
        .register(register_public(KeyFormatType::X509, spki.clone(), false))
        .await
        .unwrap()
        .unique_identifier;
    let their_uid = theirs
        .register(register_public(KeyFormatType::X509, spki.clone(), true))
        .await
        .unwrap()
        .unique_identifier;
    let aes = mine
        .register(requests::register_aes(&[7; 32], "aes", vec![]))
        .await
        .unwrap()
        .unique_identifier;
    // A low-order key never gets in.
    let low_order = mine
        .register(register_public(KeyFormatType::Raw, vec![0; 32], true))
        .await;
    assert!(low_order.is_err(), "a low-order X25519 key was registered");

    // The Raw key works.
    let response = get(
        &setup,
        &setup.client,
        &format!("/v1/random?bytes=16&encrypt={raw_uid}"),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(json(&response)["encryption"]["enc"].is_string());

    let refusal = |uid: String| {
        let setup = &setup;
        async move {
            let response = get(
                setup,
                &setup.client,
                &format!("/v1/random?bytes=16&encrypt={uid}"),
            )
            .await;
            assert_eq!(response.status, 400, "{uid}: {}", response.text());
            let body = json(&response);
            assert_eq!(body["field"], "encrypt", "{body}");
            let message = body["error"].as_str().unwrap().to_owned();
            if uid.is_empty() {
                message
            } else {
                message.replace(&uid, "UID")
            }
        }
    };
    // Another tenant's key answers exactly as a key that does not exist.
    let foreign = refusal(their_uid).await;
    let missing = refusal("00000000-0000-4000-8000-000000000000".into()).await;
    assert_eq!(foreign, missing);
    assert!(refusal(aes).await.contains("not an X25519 public key"));
    assert!(refusal(pre_active).await.contains("PreActive"));
    assert!(refusal(String::new())
        .await
        .contains("needs the Unique Identifier"));

    // Refused requests were not metered: one 16-byte envelope so far.
    let usage = json(&get(&setup, &setup.client, "/v1/usage").await);
    assert_eq!(usage["usage"]["total_bytes"], 16, "{usage}");
}
