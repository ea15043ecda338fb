//! Which HSM to use and how: the PKCS#11 module, the token, the PIN file, the root key's label, the wrapping
//! mechanism, and the seeding cadence. The server's `[root_key]` and `[hsm.seed]` tables map onto these.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::HsmError;

/// The default label of the root key object in the token.
pub const DEFAULT_KEY_LABEL: &str = "qkms-root-key";

/// How to reach one HSM token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HsmSettings {
    /// The vendor's PKCS#11 library (SoftHSM2: `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// The token's label (CK_TOKEN_INFO.label, trailing blanks ignored).
    pub token_label: String,
    /// A file whose first line is the user PIN (mode 0600).
    pub pin_file: PathBuf,
    /// The label of the AES-256 root key object.
    pub key_label: String,
    /// Which wrapping mechanism to use; `Auto` picks the best the token offers.
    pub mechanism: MechanismChoice,
}

/// The data-key wrapping mechanism: chosen automatically or forced (to test the fallbacks on one token).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MechanismChoice {
    /// CKM_AES_KEY_WRAP_PAD if offered, else CKM_AES_KEY_WRAP, else CKM_AES_GCM encryption.
    #[default]
    Auto,
    AesKeyWrapPad,
    AesKeyWrap,
    AesGcm,
}

/// The user PIN, read from the PIN file. Zeroized on drop, redacted in `Debug`.
pub(crate) struct Pin(Zeroizing<String>);

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

impl Pin {
    /// The first line of `path`, trimmed; an empty or unreadable file is an error naming the file.
    pub(crate) fn read(path: &Path) -> Result<Self, HsmError> {
        let error = |reason: String| HsmError::PinFile {
            path: path.to_owned(),
            reason,
        };
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?);
        let line = Zeroizing::new(text.lines().next().unwrap_or("").trim().to_owned());
        if line.is_empty() {
            return Err(error("the file is empty".into()));
        }
        Ok(Self(line))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// `[hsm.seed]`: how often and how much pool output is pushed into the HSM with C_SeedRandom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedSettings {
    /// Whether the periodic seeding runs (seeding before key generation always happens). Default true.
    pub enabled: bool,
    /// Bytes of pool output per C_SeedRandom. Default 64 (512 bits, twice the strength of an AES-256 key).
    pub bytes: usize,
    /// Seconds between periodic seedings. Default 300.
    pub interval_secs: u64,
}

impl Default for SeedSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            bytes: 64,
            interval_secs: 300,
        }
    }
}

impl SeedSettings {
    /// Bounds: 16..=4096 bytes, at least one second between seedings.
    pub fn validate(&self) -> Result<(), HsmError> {
        if !(16..=4096).contains(&self.bytes) {
            return Err(HsmError::Settings(format!(
                "hsm.seed.bytes = {} is outside 16..=4096",
                self.bytes
            )));
        }
        if self.interval_secs == 0 {
            return Err(HsmError::Settings(
                "hsm.seed.interval_secs must be at least 1".into(),
            ));
        }
        Ok(())
    }
}
