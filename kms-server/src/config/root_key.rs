//! `[root_key]` (who holds the root key that wraps the store's data key) and `[hsm]` (seeding that HSM): the
//! configuration side of `hsm-bridge`. See `root_custody` for how they are used.

use std::path::PathBuf;

/// The kinds of root key custody `[root_key] kind` names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootKeyKind {
    /// argon2id over the passphrase in `[store] passphrase_file`.
    #[default]
    Passphrase,
    /// A non-extractable AES-256 key in a PKCS#11 HSM wraps the data key.
    Pkcs11,
}

impl RootKeyKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Passphrase => "passphrase",
            Self::Pkcs11 => "pkcs11",
        }
    }
}

/// `[root_key]`
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RootKeyConfig {
    /// `passphrase` or `pkcs11`: how a NEW store is created. An existing store is opened the way it records
    /// (`qkms store rewrap` changes that), with the settings below or `[store] passphrase_file`. Default
    /// `passphrase`.
    pub kind: RootKeyKind,
    /// The HSM vendor's PKCS#11 library. Default "" (no HSM).
    pub module: PathBuf,
    /// The label of the token holding the root key. Default "".
    pub token_label: String,
    /// File whose first line is the token's user PIN (mode 0600). Default `hsm.pin`.
    pub pin_file: PathBuf,
    /// Label of the AES-256 root key in the token (created if absent). Default `qkms-root-key`.
    pub key_label: String,
    /// `auto` (CKM_AES_KEY_WRAP_PAD, else CKM_AES_KEY_WRAP, else CKM_AES_GCM), or one of `aes-key-wrap-pad`,
    /// `aes-key-wrap`, `aes-gcm`. Default `auto`.
    pub mechanism: hsm_bridge::MechanismChoice,
}

impl Default for RootKeyConfig {
    fn default() -> Self {
        Self {
            kind: RootKeyKind::Passphrase,
            module: PathBuf::new(),
            token_label: String::new(),
            pin_file: PathBuf::from("hsm.pin"),
            key_label: hsm_bridge::DEFAULT_KEY_LABEL.into(),
            mechanism: hsm_bridge::MechanismChoice::Auto,
        }
    }
}

impl RootKeyConfig {
    /// Whether an HSM is named (module and token label set).
    pub fn names_hsm(&self) -> bool {
        !self.module.as_os_str().is_empty() && !self.token_label.is_empty()
    }

    /// The bridge settings of the HSM named here.
    pub fn hsm_settings(&self) -> hsm_bridge::HsmSettings {
        hsm_bridge::HsmSettings {
            module: self.module.clone(),
            token_label: self.token_label.clone(),
            pin_file: self.pin_file.clone(),
            key_label: self.key_label.clone(),
            mechanism: self.mechanism,
        }
    }
}

/// `[hsm]`
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HsmConfig {
    /// Whether KMIP clients may ask for keys held in this HSM (`x-qkms-hsm` = its token label). Default false.
    pub hold_keys: bool,
    /// Held keys are always made by "seed then generate" inside the HSM (C_SeedRandom with pool bytes, then
    /// C_GenerateKey / C_GenerateKeyPair) instead of imported with C_UnwrapKey. Default false: imported, and
    /// generated only where the token refuses C_UnwrapKey for the held-key template.
    pub generate_held_keys: bool,
    /// `[hsm.seed]`: pool output pushed into the HSM's RNG with C_SeedRandom.
    pub seed: hsm_bridge::SeedSettings,
    /// `[hsm.rng]`: the HSM's own C_GenerateRandom as one more (by default uncredited) entropy source.
    pub rng: hsm_bridge::RngSourceSettings,
}
