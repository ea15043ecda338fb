//! The store's root key in an HSM (SoftHSM2 from Debian, one token directory per test): `qkms-server --init
//! --root-key pkcs11` makes a set-up whose server starts; no file of the store holds the data key in clear; a copy
//! of the store without its HSM does not open, and start-up names why (module missing, wrong PIN, token gone, key
//! deleted); a token removed while running fails HSM calls clearly while the store keeps working, and comes back.
//!
//! The binary runs as a child process with its own `SOFTHSM2_CONF`. Tests that use SoftHSM2 in this process take
//! turns (`TURN`): SoftHSM2 is one instance per process, configured when it is initialised.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use entropy::{EntropyConfig, EntropyPool};
use hsm_bridge::softhsm::{SoftHsmToken, SOFTHSM2_MODULE};
use hsm_bridge::{Hsm, HsmError, WrapMechanism, WrappedDataKey};
use kmip::attributes::{Attribute, Attributes};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::config::Config;
use kms_server::store::{Namespace, ObjectStore, StoredObject};
use kms_server::tenant::TenantId;
use zeroize::Zeroizing;

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_qkms-server");

static TURN: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A SoftHSM2 token and a set-up made by `qkms-server --init DIR/setup --root-key pkcs11`.
struct HsmSetUp {
    dir: tempfile::TempDir,
    token: SoftHsmToken,
    config_file: PathBuf,
}

impl HsmSetUp {
    fn new(label: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let token = SoftHsmToken::create(dir.path(), label, "user-pin-2468").unwrap();
        let setup = dir.path().join("setup");
        let output = Command::new(SERVER_BIN)
            .arg("--init")
            .arg(&setup)
            .args(["--root-key", "pkcs11", "--hsm-module", SOFTHSM2_MODULE])
            .args(["--hsm-token-label", label, "--hsm-pin-file"])
            .arg(&token.pin_file)
            .env("SOFTHSM2_CONF", &token.conf)
            .output()
            .unwrap();
        assert!(output.status.success(), "--init: {}", text(&output));
        Self {
            config_file: setup.join("qkms.toml"),
            dir,
            token,
        }
    }

    fn setup_dir(&self) -> PathBuf {
        self.dir.path().join("setup")
    }

    fn config(&self) -> Config {
        Config::load(&self.config_file).unwrap()
    }

    /// Starts the server; returns its stderr up to "listening" (or panics with what it said before failing).
    fn start_and_stop(&self) -> String {
        let mut child = Command::new(SERVER_BIN)
            .arg("--config")
            .arg(&self.config_file)
            .args(["--listen", "127.0.0.1:0"])
            .env("SOFTHSM2_CONF", &self.token.conf)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut said = String::new();
        while Instant::now() < deadline {
            match receiver.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    said.push_str(&line);
                    said.push('\n');
                    if line.contains("listening for KMIP") {
                        child.kill().unwrap();
                        child.wait().unwrap();
                        return said;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let _ = child.kill();
        let status = child.wait().unwrap();
        panic!("the server did not start ({status}): {said}");
    }

    /// Runs the server expecting it to refuse to start; returns what it printed.
    fn refused_start(&self) -> String {
        let output = Command::new(SERVER_BIN)
            .arg("--config")
            .arg(&self.config_file)
            .args(["--listen", "127.0.0.1:0"])
            .env("SOFTHSM2_CONF", &self.token.conf)
            .output()
            .unwrap();
        assert!(!output.status.success(), "started: {}", text(&output));
        text(&output)
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The last line starting `qkms-server:` (the start-up error), for assertions that name it.
fn startup_error(said: &str) -> String {
    said.lines()
        .rev()
        .find(|l| l.starts_with("qkms-server:"))
        .unwrap_or(said)
        .to_owned()
}

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else {
            let content = std::fs::read(&path).unwrap();
            if content.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

fn symmetric_key(uid: &str, bytes: Vec<u8>) -> StoredObject {
    StoredObject {
        uid: uid.into(),
        owner: TenantId("alice".into()),
        object: Some(ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(bytes)),
            Some(CryptographicAlgorithm::Aes),
            Some(256),
        ))),
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(uid.into()),
            Attribute::ObjectType(ObjectType::SymmetricKey),
        ]),
        internal: false,
    }
}

fn material(object: &StoredObject) -> Vec<u8> {
    match &object.object {
        Some(ManagedObject::SymmetricKey(block)) => {
            match &block.key_value.as_ref().unwrap().material {
                KeyMaterial::Bytes(bytes) => bytes.to_vec(),
                other => panic!("unexpected material {other:?}"),
            }
        }
        other => panic!("unexpected object {other:?}"),
    }
}

#[test]
fn init_with_the_root_key_in_softhsm2_serves_and_leaves_no_data_key_in_clear() {
    let _turn = turn();
    let setup = HsmSetUp::new("custody-scan");
    assert!(
        !setup.setup_dir().join("root.pass").exists(),
        "no passphrase in HSM custody"
    );
    let config = setup.config();
    assert_eq!(config.root_key.kind.name(), "pkcs11");
    assert_eq!(config.root_key.token_label, "custody-scan");
    let said = setup.start_and_stop();
    assert!(said.contains("seeding the HSM"), "{said}");

    // The store's metadata: HSM custody, the mechanism, the wrapped data key.
    let db = sled::open(&config.store.path).unwrap();
    let meta = db.open_tree("meta").unwrap();
    let field = |k: &str| meta.get(k).unwrap().unwrap().to_vec();
    assert_eq!(field("root_key_kind"), b"pkcs11 hsm key");
    assert_eq!(field("hsm_wrap_mechanism"), b"CKM_AES_KEY_WRAP_PAD");
    assert!(meta.get("argon2_salt").unwrap().is_none());
    let wrapped = WrappedDataKey {
        mechanism: WrapMechanism::AesKeyWrapPad,
        bytes: field("wrapped_data_key"),
    };
    drop(meta);
    drop(db);
    // Unwrapped here only to know what to look for: no file of the store or the set-up holds it.
    setup.token.activate();
    let hsm = Hsm::connect(config.root_key.hsm_settings()).unwrap();
    let data_key = hsm.unwrap_data_key(&wrapped).unwrap();
    drop(hsm);
    assert!(files_containing(&setup.setup_dir(), &data_key[..]).is_empty());
    assert!(files_containing(&setup.token.token_dir, &data_key[..]).is_empty());
    assert!(files_containing(&setup.setup_dir(), &data_key[..16]).is_empty());
}

#[test]
fn a_store_without_its_hsm_does_not_open_and_start_up_says_why() {
    let setup = HsmSetUp::new("custody-errors");
    let config_text = std::fs::read_to_string(&setup.config_file).unwrap();

    // The PKCS#11 module is not installed.
    std::fs::write(
        &setup.config_file,
        config_text.replace(SOFTHSM2_MODULE, "/usr/lib/no-such-hsm/libvendor-pkcs11.so"),
    )
    .unwrap();
    let said = setup.refused_start();
    let error = startup_error(&said);
    assert!(
        error.contains("PKCS#11 module /usr/lib/no-such-hsm/libvendor-pkcs11.so does not exist"),
        "{said}"
    );
    std::fs::write(&setup.config_file, &config_text).unwrap();

    // The PIN is wrong.
    let pin = std::fs::read_to_string(&setup.token.pin_file).unwrap();
    std::fs::write(&setup.token.pin_file, "0000-wrong\n").unwrap();
    let error = startup_error(&setup.refused_start());
    assert!(error.contains("CKR_PIN_INCORRECT"), "{error}");
    assert!(
        error.contains("is wrong for HSM token \"custody-errors\""),
        "{error}"
    );
    std::fs::write(&setup.token.pin_file, pin).unwrap();

    // The token is gone.
    let aside = setup.token.remove().unwrap();
    let error = startup_error(&setup.refused_start());
    assert!(
        error.contains("no token labelled \"custody-errors\""),
        "{error}"
    );
    assert!(error.contains("gone or not plugged in"), "{error}");
    setup.token.restore(&aside).unwrap();
    setup.start_and_stop();

    // The root key was deleted.
    setup
        .token
        .delete_secret_key(hsm_bridge::DEFAULT_KEY_LABEL)
        .unwrap();
    let error = startup_error(&setup.refused_start());
    assert!(
        error.contains("holds no AES key labelled \"qkms-root-key\": the root key was deleted"),
        "{error}"
    );
    // A passphrase does not open it either: the store records HSM custody.
    let mut passphrase = std::fs::read_to_string(&setup.config_file).unwrap();
    passphrase = passphrase.replace("kind = \"pkcs11\"", "kind = \"passphrase\"");
    std::fs::write(&setup.config_file, passphrase).unwrap();
    std::fs::write(setup.setup_dir().join("root.pass"), "guess\n").unwrap();
    let error = startup_error(&setup.refused_start());
    assert!(error.contains("holds no AES key labelled"), "{error}");
}

#[test]
fn a_token_removed_mid_run_fails_hsm_calls_clearly_while_the_store_keeps_working() {
    let _turn = turn();
    let setup = HsmSetUp::new("custody-wander");
    setup.token.activate();
    let config = setup.config();
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let opened = kms_server::root_custody::open_store(&config, &pool).unwrap();
    let (store, hsm) = (opened.store, opened.hsm.expect("HSM custody"));
    let metrics = kms_server::https::Metrics::default();
    metrics.watch_hsm(std::sync::Arc::clone(&hsm));
    store.insert(&symmetric_key("before", vec![1; 32])).unwrap();
    hsm.seed(&pool, 64).unwrap();

    let aside = setup.token.remove().unwrap();
    // Everything already unwrapped keeps working: the data key is in memory.
    assert_eq!(
        material(
            &store
                .get(Namespace::Tenant(&TenantId("alice".into())), "before")
                .unwrap()
                .unwrap()
        ),
        vec![1; 32]
    );
    store.insert(&symmetric_key("during", vec![2; 32])).unwrap();
    store.wait_durable().unwrap();
    assert_eq!(
        material(
            &store
                .get(Namespace::Tenant(&TenantId("alice".into())), "during")
                .unwrap()
                .unwrap()
        ),
        vec![2; 32]
    );
    // What needs the HSM fails, saying the token is unavailable.
    let error = hsm.ensure_root_key(&pool).unwrap_err();
    assert!(matches!(error, HsmError::Unavailable { .. }), "{error}");
    assert!(error.to_string().contains("unavailable"), "{error}");
    assert!(hsm.seed(&pool, 64).is_err());
    let rendered = metrics.render(&pool.status(), &Default::default());
    assert!(
        rendered.contains("qkms_hsm_seeded_bytes_total{hsm=\"custody-wander\"} 64"),
        "{rendered}"
    );
    assert!(
        rendered.contains("qkms_hsm_seed_failures_total{hsm=\"custody-wander\"} 1"),
        "{rendered}"
    );
    let mut health = serde_json::json!({});
    kms_server::https::health::add_hsm(&mut health, &metrics.hsm_status());
    assert!(health["hsm"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("unavailable"));

    // The token comes back: the bridge reconnects by itself.
    setup.token.restore(&aside).unwrap();
    hsm.seed(&pool, 64).unwrap();
    assert!(!hsm.ensure_root_key(&pool).unwrap().created);
    let status = &metrics.hsm_status()[0];
    assert_eq!(status.bytes_seeded, 128);
    assert!(status.last_error.is_none() && status.last_success_unix.is_some());
    drop(store);
    drop(hsm);
    // And the store, closed and reopened, still opens through the HSM with both objects.
    let reopened = kms_server::root_custody::open_store(&config, &pool).unwrap();
    assert_eq!(
        material(
            &reopened
                .store
                .get(Namespace::Tenant(&TenantId("alice".into())), "during")
                .unwrap()
                .unwrap()
        ),
        vec![2; 32]
    );
}

#[test]
fn init_with_an_unusable_hsm_writes_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let token = SoftHsmToken::create(dir.path(), "custody-init", "user-pin-1111").unwrap();
    let wrong_pin = dir.path().join("wrong.pin");
    std::fs::write(&wrong_pin, "0000\n").unwrap();
    let setup = dir.path().join("setup");
    let output = Command::new(SERVER_BIN)
        .arg("--init")
        .arg(&setup)
        .args(["--root-key", "pkcs11", "--hsm-module", SOFTHSM2_MODULE])
        .args(["--hsm-token-label", "custody-init", "--hsm-pin-file"])
        .arg(&wrong_pin)
        .env("SOFTHSM2_CONF", &token.conf)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("CKR_PIN_INCORRECT"),
        "{}",
        text(&output)
    );
    assert!(
        !setup.join("qkms.toml").exists() && !setup.join("pki").exists(),
        "a failed --init leaves no half set-up"
    );

    // --root-key pkcs11 without the HSM's coordinates is a usage error.
    let output = Command::new(SERVER_BIN)
        .arg("--init")
        .arg(&setup)
        .args(["--root-key", "pkcs11"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(text(&output).contains("--hsm-module"), "{}", text(&output));
}
