//! SoftHSM2 tokens for tests and benchmarks: each in its own directory with its own `softhsm2.conf`, initialised
//! with Debian's `softhsm2-util`. SoftHSM2 emulates an HSM in software (same PKCS#11 interface, keys in files).
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when the module is initialised: child processes get it in their environment
//! ([`SoftHsmToken::env`]); in-process users call [`SoftHsmToken::activate`], which sets it for the whole process,
//! so in-process users of different tokens must take turns.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::settings::{HsmSettings, MechanismChoice, DEFAULT_KEY_LABEL};

/// Debian's SoftHSM2 PKCS#11 module.
pub const SOFTHSM2_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// One initialised SoftHSM2 token in a directory of its own.
#[derive(Clone, Debug)]
pub struct SoftHsmToken {
    /// `softhsm2.conf`.
    pub conf: PathBuf,
    /// `directories.tokendir`: move it away to make the token disappear.
    pub token_dir: PathBuf,
    pub label: String,
    pub pin: String,
    /// A file holding the user PIN (0600).
    pub pin_file: PathBuf,
}

impl SoftHsmToken {
    /// Writes `dir/softhsm2.conf` (file object store, tokens under `dir/tokens`) and initialises a token labelled
    /// `label` with user PIN `pin` in the first free slot.
    pub fn create(dir: &Path, label: &str, pin: &str) -> Result<Self, String> {
        let token_dir = dir.join("tokens");
        std::fs::create_dir_all(&token_dir).map_err(|e| format!("{}: {e}", token_dir.display()))?;
        let conf = dir.join("softhsm2.conf");
        let text = format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
            token_dir.display()
        );
        std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
        let pin_file = dir.join("hsm.pin");
        write_secret(&pin_file, pin)?;
        let token = Self {
            conf,
            token_dir,
            label: label.to_owned(),
            pin: pin.to_owned(),
            pin_file,
        };
        token.util(&[
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "so-pin-1234",
            "--pin",
            pin,
        ])?;
        Ok(token)
    }

    /// Bridge settings for this token (default key label, automatic mechanism).
    pub fn settings(&self) -> HsmSettings {
        HsmSettings {
            module: PathBuf::from(SOFTHSM2_MODULE),
            token_label: self.label.clone(),
            pin_file: self.pin_file.clone(),
            key_label: DEFAULT_KEY_LABEL.to_owned(),
            mechanism: MechanismChoice::Auto,
        }
    }

    /// The environment variable a child process needs to see this token.
    pub fn env(&self) -> (&'static str, &Path) {
        ("SOFTHSM2_CONF", &self.conf)
    }

    /// Points this process's SoftHSM2 at this token's configuration (read at the next C_Initialize).
    pub fn activate(&self) {
        std::env::set_var("SOFTHSM2_CONF", &self.conf);
    }

    /// Runs `softhsm2-util` with this token's configuration.
    pub fn util(&self, args: &[&str]) -> Result<String, String> {
        run(Command::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf))
    }

    /// Deletes the secret key labelled `key_label` with OpenSC's `pkcs11-tool` (another process, as an
    /// administrator would).
    pub fn delete_secret_key(&self, key_label: &str) -> Result<String, String> {
        run(Command::new("pkcs11-tool")
            .args(["--module", SOFTHSM2_MODULE, "--token-label", &self.label])
            .args(["--login", "--pin", &self.pin])
            .args(["--delete-object", "--type", "secrkey", "--label", key_label])
            .env("SOFTHSM2_CONF", &self.conf))
    }

    /// Moves the token directory aside (the token disappears) and returns where it went.
    pub fn remove(&self) -> Result<PathBuf, String> {
        let aside = self.token_dir.with_extension("removed");
        std::fs::rename(&self.token_dir, &aside).map_err(|e| e.to_string())?;
        std::fs::create_dir(&self.token_dir).map_err(|e| e.to_string())?;
        Ok(aside)
    }

    /// Puts back a token directory moved aside by [`SoftHsmToken::remove`].
    pub fn restore(&self, aside: &Path) -> Result<(), String> {
        std::fs::remove_dir(&self.token_dir).map_err(|e| e.to_string())?;
        std::fs::rename(aside, &self.token_dir).map_err(|e| e.to_string())
    }
}

fn run(command: &mut Command) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|e| format!("{:?}: {e}", command.get_program()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        Err(format!("{:?} failed: {text}", command.get_program()))
    }
}

fn write_secret(path: &Path, secret: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    writeln!(file, "{secret}").map_err(|e| format!("{}: {e}", path.display()))
}
