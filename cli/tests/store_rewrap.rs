//! `qkms store rewrap` between passphrase and HSM custody (SoftHSM2 from Debian): both ways with every object
//! readable after, and a kill -9 at any moment (SIGKILL after various delays, and exactly before and after the
//! metadata commit through the debug-build crash hook) leaves a store that opens with the old or the new custody.
//!
//! The store is opened in this process after each run to check it; SoftHSM2 is one instance per process, so the
//! tests take turns (`TURN`).
//!
//! SoftHSM2 runs inside the process being killed and rewrites its `token.object` file in place at every login; a
//! SIGKILL at that moment truncates the file and the emulated token is lost (`softhsm2-util --show-slots` shows it
//! uninitialised). A hardware HSM is not in the killed process and has no such window, so after each kill the test
//! puts the token's files back as they were before it (the root key already exists then, so a rewrap never adds
//! to the token) and counts how often SoftHSM2 had damaged them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use entropy::{EntropyConfig, EntropyPool};
use hsm_bridge::softhsm::{SoftHsmToken, SOFTHSM2_MODULE};
use kmip::attributes::{Attribute, Attributes};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::config::Config;
use kms_server::setup::{self, InitOptions};
use kms_server::store::{Argon2Params, CustodyKind, Namespace, ObjectStore, StoredObject};
use kms_server::tenant::TenantId;
use zeroize::Zeroizing;

const QKMS: &str = env!("CARGO_BIN_EXE_qkms");
const OBJECTS: u8 = 20;

static TURN: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn pool() -> EntropyPool {
    EntropyPool::new(EntropyConfig::default()).unwrap()
}

fn key(i: u8) -> Vec<u8> {
    (0..32u8).map(|b| b.wrapping_mul(13) ^ i).collect()
}

/// A passphrase set-up (cheap argon2) holding `OBJECTS` keys, and a SoftHSM2 token to move it to.
struct SetUp {
    _dir: tempfile::TempDir,
    config_file: PathBuf,
    token: SoftHsmToken,
}

impl SetUp {
    fn new(label: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let token = SoftHsmToken::create(&dir.path().join("hsm"), label, "pin-1357").unwrap();
        let mut base = Config::default();
        base.store.argon2 = Argon2Params::insecure_for_tests();
        let report = setup::init(
            &dir.path().join("setup"),
            &InitOptions {
                host_names: Vec::new(),
                base,
            },
        )
        .unwrap();
        let set_up = Self {
            _dir: dir,
            config_file: report.config_file,
            token,
        };
        let opened = set_up.open().unwrap();
        for i in 0..OBJECTS {
            let uid = format!("key-{i}");
            opened
                .store
                .insert(&StoredObject {
                    uid: uid.clone(),
                    owner: TenantId("alice".into()),
                    object: Some(ManagedObject::SymmetricKey(KeyBlock::new(
                        KeyFormatType::Raw,
                        KeyMaterial::Bytes(Zeroizing::new(key(i))),
                        Some(CryptographicAlgorithm::Aes),
                        Some(256),
                    ))),
                    attributes: Attributes::from(vec![
                        Attribute::UniqueIdentifier(uid),
                        Attribute::ObjectType(ObjectType::SymmetricKey),
                    ]),
                    internal: false,
                })
                .unwrap();
        }
        opened.store.wait_durable().unwrap();
        set_up
    }

    fn open(&self) -> Result<kms_server::root_custody::OpenedStore, String> {
        self.token.activate();
        let config = Config::load(&self.config_file).map_err(|e| e.to_string())?;
        kms_server::root_custody::open_store(&config, &pool()).map_err(|e| e.to_string())
    }

    /// Opens the store the way the server does, checks every object, and says which custody opened it.
    fn check(&self) -> CustodyKind {
        let opened = self.open().expect("the store opens");
        for i in 0..OBJECTS {
            let object = opened
                .store
                .get(
                    Namespace::Tenant(&TenantId("alice".into())),
                    &format!("key-{i}"),
                )
                .unwrap()
                .unwrap();
            match object.object {
                Some(ManagedObject::SymmetricKey(block)) => {
                    match &block.key_value.as_ref().unwrap().material {
                        KeyMaterial::Bytes(bytes) => assert_eq!(bytes.to_vec(), key(i)),
                        other => panic!("{other:?}"),
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        if opened.hsm.is_some() {
            CustodyKind::Pkcs11
        } else {
            CustodyKind::Passphrase
        }
    }

    fn rewrap(&self, to: CustodyKind) -> Command {
        let mut command = Command::new(QKMS);
        command
            .args(["store", "rewrap", "--config"])
            .arg(&self.config_file)
            .env("SOFTHSM2_CONF", &self.token.conf);
        match to {
            CustodyKind::Pkcs11 => command
                .args(["--to", "pkcs11", "--hsm-module", SOFTHSM2_MODULE])
                .args(["--hsm-token-label", &self.token.label, "--hsm-pin-file"])
                .arg(&self.token.pin_file),
            _ => command.args(["--to", "passphrase"]),
        };
        command
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn opposite(kind: CustodyKind) -> CustodyKind {
    match kind {
        CustodyKind::Pkcs11 => CustodyKind::Passphrase,
        _ => CustodyKind::Pkcs11,
    }
}

fn config_kind(config_file: &Path) -> String {
    Config::load(config_file)
        .unwrap()
        .root_key
        .kind
        .name()
        .to_owned()
}

#[test]
fn rewrap_moves_to_the_hsm_and_back_with_every_object_readable() {
    let _turn = turn();
    let set_up = SetUp::new("rewrap-both");
    assert_eq!(set_up.check(), CustodyKind::Passphrase);

    let output = set_up.rewrap(CustodyKind::Pkcs11).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output)
            .contains("to pkcs11 hsm key custody (data key wrapped with CKM_AES_KEY_WRAP_PAD)"),
        "{}",
        text(&output)
    );
    assert_eq!(config_kind(&set_up.config_file), "pkcs11");
    assert_eq!(set_up.check(), CustodyKind::Pkcs11);
    // The passphrase no longer opens it: without the HSM the store stays shut.
    let aside = set_up.token.remove().unwrap();
    let error = set_up.open().unwrap_err();
    assert!(
        error.contains("no token labelled \"rewrap-both\""),
        "{error}"
    );
    set_up.token.restore(&aside).unwrap();

    // A configuration whose store does not exist: refused before anything is written.
    let elsewhere = tempfile::tempdir().unwrap();
    let copied = elsewhere.path().join("qkms.toml");
    std::fs::copy(&set_up.config_file, &copied).unwrap();
    let output = Command::new(QKMS)
        .args(["store", "rewrap", "--to", "passphrase", "--config"])
        .arg(&copied)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("is not a store"),
        "{}",
        text(&output)
    );
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 1);

    // Again to pkcs11: nothing to do, said so.
    let output = set_up.rewrap(CustodyKind::Pkcs11).output().unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("already in pkcs11 hsm key custody"),
        "{}",
        text(&output)
    );

    let output = set_up.rewrap(CustodyKind::Passphrase).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(config_kind(&set_up.config_file), "passphrase");
    assert_eq!(set_up.check(), CustodyKind::Passphrase);
    // The HSM key no longer opens it: deleting it changes nothing.
    set_up
        .token
        .delete_secret_key(hsm_bridge::DEFAULT_KEY_LABEL)
        .unwrap();
    assert_eq!(set_up.check(), CustodyKind::Passphrase);
}

/// Every file under `dir`, by path, with its contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else {
            files.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
    files
}

/// Puts `dir` back to `before` if it differs; says whether it did.
fn restore(dir: &Path, before: &BTreeMap<PathBuf, Vec<u8>>) -> bool {
    let now = snapshot(dir);
    if now == *before {
        return false;
    }
    for path in now.keys().filter(|p| !before.contains_key(*p)) {
        std::fs::remove_file(path).unwrap();
    }
    for (path, contents) in before {
        std::fs::write(path, contents).unwrap();
    }
    true
}

#[test]
fn a_rewrap_killed_at_any_moment_leaves_the_old_or_the_new_custody() {
    let _turn = turn();
    let set_up = SetUp::new("rewrap-kill");
    // Once to the HSM and back, so the token holds its root key before the kills.
    for to in [CustodyKind::Pkcs11, CustodyKind::Passphrase] {
        let output = set_up.rewrap(to).output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
    }
    let token_files = snapshot(&set_up.token.token_dir);
    let mut current = set_up.check();
    let mut completed = 0;
    let mut interrupted = 0;
    let mut token_damaged = 0;
    for delay_ms in [0u64, 1, 3, 6, 10, 15, 25, 40, 60, 90, 140, 220] {
        let target = opposite(current);
        let mut child = set_up.rewrap(target).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        if restore(&set_up.token.token_dir, &token_files) {
            token_damaged += 1;
        }
        let after = set_up.check();
        assert!(
            after == current || after == target,
            "after a kill at {delay_ms} ms: {after:?}"
        );
        if status.success() {
            completed += 1;
        } else {
            interrupted += 1;
        }
        current = after;
    }
    assert!(
        interrupted > 0,
        "no run was interrupted ({completed} completed)"
    );
    eprintln!(
        "{interrupted} rewraps killed, {completed} completed; SoftHSM2 token files differed and were put back {token_damaged} times"
    );

    // Exactly at the commit: just before it, the old custody; just after it, the new one.
    for (point, moves) in [("before-commit", false), ("after-commit", true)] {
        let target = opposite(current);
        let output = set_up
            .rewrap(target)
            .env("QKMS_TEST_CRASH_AT", point)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{point}: {}", text(&output));
        let after = set_up.check();
        assert_eq!(
            after,
            if moves { target } else { current },
            "{point}: {}",
            text(&output)
        );
        current = after;
    }
}
