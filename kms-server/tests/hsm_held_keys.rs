//! Keys held in an HSM through KMIP (issue #16 part 3), against SoftHSM2 with a token directory per test and the
//! real `qkms-server` binary: PyKMIP creates, uses and destroys held keys at KMIP 1.2 and 2.0
//! (`tests/pykmip/hsm_held.py`); AES-GCM round trips inside the HSM with qkms's own client (PyKMIP cannot send a
//! tag); another tenant's held key is indistinguishable from a missing one; a restart with the HSM present keeps
//! every key usable; a restart with the HSM absent starts, fails held keys clearly and serves the others; a token
//! removed while running fails held keys and they work again once it is back.
//!
//! `hsm_held_rollback`: a Create / Create Key Pair whose store write fails destroys the key it made in the HSM.
//! `hsm_held_generated`: seed then generate (forced by `[hsm] generate_held_keys`) makes working keys and says so.
//!
//! The first test also runs the pool with the token's generator as an extra, uncredited source (`[hsm.rng]`).
//!
//! `SOFTHSM2_CONF` reaches the server through the environment it inherits when spawned, so the tests take turns.

mod e2e_support;
mod hsm_held_generated;
mod hsm_held_rollback;
mod operations_harness;

use std::path::Path;
use std::process::Command;

use e2e_support::*;
use hsm_bridge::softhsm::{SoftHsmToken, SOFTHSM2_MODULE};
use kmip::attributes::{
    Attribute, CryptographicParameters, CryptographicUsageMask, Name, RevocationReason,
};
use kmip::client::{Client, ClientError};
use kmip::enums::{BlockCipherMode, CryptographicAlgorithm, RevocationReasonCode};
use kmip::payloads::{CreateKeyPairRequest, DecryptRequest, EncryptRequest, RevokeRequest};
use kmip::{ProtocolVersion, ResultReason};

const LABEL: &str = "qkms-held";

/// Held across awaits, hence tokio's mutex (it does not poison: a failed test does not fail the next).
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A SoftHSM2 token and a passphrase set-up whose `[hsm] hold_keys` names it (custody stays with the passphrase,
/// so that the server can start without the HSM).
/// With `rng`, the token's generator also feeds the entropy pool (`[hsm.rng]`; the server then needs the token to
/// start).
fn held_set_up(rng: bool) -> (tempfile::TempDir, SoftHsmToken, SetUp) {
    let dir = tempfile::tempdir().unwrap();
    let token = SoftHsmToken::create(dir.path(), LABEL, "user-pin-1357").unwrap();
    token.activate();
    let setup = SetUp::init_with(|config| {
        config.root_key.module = SOFTHSM2_MODULE.into();
        config.root_key.token_label = LABEL.into();
        config.root_key.pin_file = token.pin_file.clone();
        config.hsm.hold_keys = true;
        config.hsm.rng.enabled = rng;
    });
    (dir, token, setup)
}

fn pykmip(setup: &SetUp, server: &ServerProcess, version: &str, phase: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/pykmip/hsm_held.py");
    let out = Command::new("python3")
        .arg(script)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &server.addr.port().to_string(),
        ])
        .arg("--ca")
        .arg(&setup.client.ca)
        .arg("--cert")
        .arg(&setup.client.certificate)
        .arg("--key")
        .arg(&setup.client.key)
        .args(["--version", version, "--hsm", LABEL, "--phase", phase])
        .arg("--state")
        .arg(setup.path().join("pykmip-keys.json"))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("PASS PyKMIP {version} hsm {phase}")),
        "PyKMIP {version} {phase} failed (pip install pykmip==0.11.0 cryptography if missing):\n{stdout}\n{}\n\
         --- server log ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
}

/// The token's key objects as OpenSC's `pkcs11-tool --list-objects` shows them (another process, as an
/// administrator would look).
fn token_objects(token: &SoftHsmToken) -> String {
    let out = Command::new("pkcs11-tool")
        .args(["--module", SOFTHSM2_MODULE, "--token-label", LABEL])
        .args(["--login", "--pin", &token.pin, "--list-objects"])
        .env("SOFTHSM2_CONF", &token.conf)
        .output()
        .expect("pkcs11-tool runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn gcm() -> CryptographicParameters {
    CryptographicParameters {
        block_cipher_mode: Some(BlockCipherMode::Gcm),
        ..CryptographicParameters::default()
    }
}

/// Encrypts with AES-GCM: (ciphertext, IV, tag).
async fn seal(client: &mut Client, uid: &str, plaintext: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let sealed = client
        .encrypt(EncryptRequest {
            unique_identifier: Some(uid.into()),
            cryptographic_parameters: Some(gcm()),
            data: Some(plaintext.to_vec().into()),
            authenticated_encryption_additional_data: Some(b"header".to_vec()),
            ..EncryptRequest::default()
        })
        .await
        .unwrap();
    (
        sealed.data.unwrap(),
        sealed.iv_counter_nonce.unwrap(),
        sealed.authenticated_encryption_tag.unwrap(),
    )
}

async fn open(
    client: &mut Client,
    uid: &str,
    (ciphertext, iv, tag): &(Vec<u8>, Vec<u8>, Vec<u8>),
) -> Result<Vec<u8>, ClientError> {
    client
        .decrypt(DecryptRequest {
            unique_identifier: Some(uid.into()),
            cryptographic_parameters: Some(gcm()),
            data: Some(ciphertext.clone()),
            iv_counter_nonce: Some(iv.clone()),
            authenticated_encryption_additional_data: Some(b"header".to_vec()),
            authenticated_encryption_tag: Some(tag.clone()),
            ..DecryptRequest::default()
        })
        .await
        .map(|opened| opened.data.unwrap().expose().to_vec())
}

fn reason(error: &ClientError) -> (ResultReason, String) {
    match error {
        ClientError::Operation {
            reason, message, ..
        } => (*reason, message.clone()),
        other => panic!("not an operation failure: {other}"),
    }
}

async fn held_aes(client: &mut Client) -> String {
    let uid = client
        .create(create_aes(256, "held-gcm", vec![vendor("qkms-hsm", LABEL)]))
        .await
        .unwrap()
        .unique_identifier;
    client.activate(&uid).await.unwrap();
    uid
}

#[tokio::test]
async fn pykmip_creates_uses_and_destroys_held_keys_and_aes_gcm_round_trips_in_the_hsm() {
    let _turn = TURN.lock().await;
    let (_dir, token, setup) = held_set_up(true);
    let server = ServerProcess::start(&setup).unwrap();
    assert!(
        server
            .log()
            .contains("entropy source: the HSM's generator (C_GenerateRandom)")
            && server.log().contains("pkcs11:SoftHSM"),
        "{}",
        server.log()
    );
    pykmip(&setup, &server, "1.2", "full");
    pykmip(&setup, &server, "2.0", "full");
    // Every key the scripts made (and destroyed) is gone from the HSM, not just marked destroyed in the store.
    let left = token_objects(&token);
    assert!(
        !left.contains("Private Key Object") && !left.contains("Secret Key Object"),
        "{left}"
    );

    let mut client = server.connect(&setup.client).await;
    let uid = held_aes(&mut client).await;
    let sealed = seal(&mut client, &uid, b"attack at dawn").await;
    assert_eq!(sealed.0.len(), 14);
    assert_eq!(
        open(&mut client, &uid, &sealed).await.unwrap(),
        b"attack at dawn"
    );
    let mut altered = sealed.clone();
    altered.2[0] ^= 1;
    let (why, message) = reason(&open(&mut client, &uid, &altered).await.unwrap_err());
    assert_eq!(why, ResultReason::CryptographicFailure, "{message}");
    let (why, message) = reason(&client.get(get(&uid)).await.unwrap_err());
    assert_eq!(why, ResultReason::NotExtractable, "{message}");
    let attributes = attributes_of(client.get_attributes(get_attributes(&uid)).await.unwrap());
    let listed = format!("{attributes:?}");
    for expected in [
        "qkms-hsm",
        "qkms-hsm-key-id",
        "qkms-key-origin",
        "pkcs11:token=qkms-held",
    ] {
        assert!(
            listed.contains(expected),
            "{expected} missing from {listed}"
        );
    }

    assert!(
        token_objects(&token).contains(&uid),
        "the HSM object is labelled with the uid"
    );
    let other = setup.issue_client("tenant-b");
    let mut bob = server
        .connect_as_version(&other, ProtocolVersion::V2_1)
        .await
        .unwrap();
    let missing = "00000000-0000-4000-8000-000000000000";
    for target in [uid.as_str(), missing] {
        let (why, message) = reason(&open(&mut bob, target, &sealed).await.unwrap_err());
        assert_eq!(why, ResultReason::ObjectNotFound, "{message}");
        assert_eq!(
            message.replace(target, "<uid>"),
            format!("no object with Unique Identifier \"<uid>\"")
        );
    }
    drop(bob);

    // Destroy removes the object from the HSM.
    client
        .revoke(RevokeRequest {
            unique_identifier: Some(uid.clone()),
            revocation_reason: RevocationReason {
                code: RevocationReasonCode::CessationOfOperation,
                message: None,
            },
            compromise_occurrence_date: None,
        })
        .await
        .unwrap();
    client.destroy(&uid).await.unwrap();
    assert!(
        !token_objects(&token).contains(&uid),
        "destroyed in the HSM"
    );
}

#[tokio::test]
async fn held_keys_survive_restarts_fail_clearly_without_the_hsm_and_recover_when_it_returns() {
    let _turn = TURN.lock().await;
    let (_dir, token, setup) = held_set_up(false);
    let server = ServerProcess::start(&setup).unwrap();
    pykmip(&setup, &server, "2.0", "create");
    let mut client = server.connect(&setup.client).await;
    let aes = held_aes(&mut client).await;
    let sealed = seal(&mut client, &aes, b"kept across restarts").await;
    drop(client);
    assert!(server.stop(), "clean stop");

    // Restart with the HSM present: every held key still works.
    let server = ServerProcess::start(&setup).unwrap();
    pykmip(&setup, &server, "1.2", "use");
    let mut client = server.connect(&setup.client).await;
    assert_eq!(
        open(&mut client, &aes, &sealed).await.unwrap(),
        b"kept across restarts"
    );
    drop(client);
    assert!(server.stop(), "clean stop");

    // Restart with the HSM absent: the server starts, held keys fail naming the HSM, other keys work.
    let aside = token.remove().unwrap();
    let server = ServerProcess::start(&setup).unwrap();
    pykmip(&setup, &server, "2.0", "absent");
    let mut client = server.connect(&setup.client).await;
    let (why, message) = reason(&open(&mut client, &aes, &sealed).await.unwrap_err());
    assert_eq!(why, ResultReason::GeneralFailure, "{message}");
    assert!(
        message.contains("HSM") && message.contains(LABEL),
        "{message}"
    );

    // The token comes back while the server runs: held keys work again without a restart.
    token.restore(&aside).unwrap();
    assert_eq!(
        open(&mut client, &aes, &sealed).await.unwrap(),
        b"kept across restarts"
    );
    pykmip(&setup, &server, "2.0", "use");

    // Removed mid-run: held keys fail clearly, the rest keeps working; back again, they work.
    let aside = token.remove().unwrap();
    let (why, message) = reason(&open(&mut client, &aes, &sealed).await.unwrap_err());
    assert_eq!(why, ResultReason::GeneralFailure, "{message}");
    assert!(
        message.contains("unavailable") || message.contains("no key"),
        "{message}"
    );
    pykmip(&setup, &server, "1.2", "absent");
    token.restore(&aside).unwrap();
    assert_eq!(
        open(&mut client, &aes, &sealed).await.unwrap(),
        b"kept across restarts"
    );
}

/// qkms's own PKCS#11 module (`libqkms_pkcs11.so`, built here if stale) in front of the server: the held key
/// pair signs through it with OpenSC's `pkcs11-tool` (KMIP Sign, so inside the HSM), and OpenSSL verifies the
/// signature with the public key from Get.
#[tokio::test]
async fn a_held_key_signs_through_qkms_pkcs11_module() {
    let _turn = TURN.lock().await;
    let (_dir, _token, setup) = held_set_up(false);
    let server = ServerProcess::start(&setup).unwrap();
    let profile = Path::new(e2e_support::process::SERVER_BIN)
        .parent()
        .unwrap();
    let built = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "-p",
            "pkcs11-module",
            "--lib",
            "--target-dir",
        ])
        .arg(profile.parent().unwrap())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(built.success(), "cargo build -p pkcs11-module --lib");
    let module = profile.join("libqkms_pkcs11.so");
    // pkcs11.toml (written by --init) names the configured listen address: point it at this server.
    let p11_config = setup.path().join("pkcs11.toml");
    let text = std::fs::read_to_string(&p11_config).unwrap();
    let text: String = text
        .lines()
        .map(|line| match line.starts_with("server = ") {
            true => format!("server = \"{}\"\n", server.addr),
            false => format!("{line}\n"),
        })
        .collect();
    std::fs::write(&p11_config, text).unwrap();
    let pin = std::fs::read_to_string(setup.path().join("pkcs11.pin")).unwrap();

    // The token's tenant is its machine identity (pki/pkcs11.pem, tenant "pkcs11"), whose private objects the
    // server opens only to requests carrying the user PIN: make the held pair as that tenant, with the PIN.
    let pki = setup.path().join("pki");
    let token_bundle = kms_server::pki::files::ClientBundle {
        certificate: pki.join("pkcs11.pem"),
        key: pki.join("pkcs11.key"),
        ..setup.client.clone()
    };
    let mut client = server.connect(&token_bundle).await;
    let with_pin = |payload: kmip::payloads::RequestPayload| {
        let mut message = kmip::message::RequestMessage::new(
            ProtocolVersion::V2_1,
            vec![kmip::message::RequestBatchItem::new(payload)],
        );
        message.header.authentication = Some(kmip::message::Authentication {
            credentials: vec![kmip::message::Credential::UsernamePassword(
                kmip::message::UsernamePassword {
                    username: "user".to_owned(),
                    password: Some(kmip::payloads::SecretText::new(pin.trim())),
                },
            )],
        });
        message
    };
    let answer = client
        .send(&with_pin(
            CreateKeyPairRequest {
                common_attributes: Some(
                    vec![
                        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Ec),
                        Attribute::CryptographicLength(256),
                        Attribute::Name(Name::text("held-p11")),
                        vendor("qkms-hsm", LABEL),
                    ]
                    .into(),
                ),
                private_key_attributes: Some(
                    vec![Attribute::CryptographicUsageMask(
                        CryptographicUsageMask::SIGN,
                    )]
                    .into(),
                ),
                public_key_attributes: Some(
                    vec![Attribute::CryptographicUsageMask(
                        CryptographicUsageMask::VERIFY,
                    )]
                    .into(),
                ),
                ..CreateKeyPairRequest::default()
            }
            .into(),
        ))
        .await
        .unwrap();
    let item = answer.items.into_iter().next().unwrap();
    assert_eq!(
        item.result_status,
        kmip::ResultStatus::Success,
        "{:?}",
        item.result_message
    );
    let pair = match item.payload {
        Some(kmip::payloads::ResponsePayload::CreateKeyPair(pair)) => pair,
        other => panic!("not a Create Key Pair answer: {other:?}"),
    };
    for uid in [
        &pair.private_key_unique_identifier,
        &pair.public_key_unique_identifier,
    ] {
        let activated = client
            .send(&with_pin(
                kmip::payloads::ActivateRequest {
                    unique_identifier: Some(uid.clone()),
                }
                .into(),
            ))
            .await
            .unwrap();
        assert_eq!(
            activated.items[0].result_status,
            kmip::ResultStatus::Success
        );
    }
    let work = setup.path();
    std::fs::write(
        work.join("pub.der"),
        material_of_public(
            &client
                .get(get(&pair.public_key_unique_identifier))
                .await
                .unwrap(),
        ),
    )
    .unwrap();
    std::fs::write(
        work.join("msg.bin"),
        b"signed through libqkms_pkcs11.so, inside the HSM",
    )
    .unwrap();
    let run = |program: &str, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .current_dir(work)
            .env("QKMS_PKCS11_CONFIG", &p11_config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}\n--- server log ---\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            server.log()
        );
    };
    run(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-binary",
            "-out",
            "msg.sha256",
            "msg.bin",
        ],
    );
    run(
        "openssl",
        &[
            "pkey", "-pubin", "-inform", "DER", "-in", "pub.der", "-out", "pub.pem",
        ],
    );
    let module = module.to_str().unwrap();
    run(
        "pkcs11-tool",
        &[
            "--module",
            module,
            "--login",
            "--pin",
            pin.trim(),
            "--sign",
            "-m",
            "ECDSA",
            "--label",
            "held-p11",
            "--signature-format",
            "openssl",
            "-i",
            "msg.sha256",
            "-o",
            "ec.sig",
        ],
    );
    run(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            "pub.pem",
            "-signature",
            "ec.sig",
            "msg.bin",
        ],
    );
}

/// The SubjectPublicKeyInfo bytes of a Get of a public key.
fn material_of_public(response: &kmip::payloads::GetResponse) -> Vec<u8> {
    let block = response.object.0.as_ref().unwrap().key_block().unwrap();
    match &block.key_value.as_ref().unwrap().material {
        kmip::objects::KeyMaterial::Bytes(bytes) => bytes.to_vec(),
        other => panic!("a public key as bytes, not {other:?}"),
    }
}
