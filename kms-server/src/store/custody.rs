//! Who holds the root key that wraps the store's data key: the operator's passphrase (argon2id), a raw key handed
//! in (tests), or an HSM (`hsm-bridge`: the data key is wrapped and unwrapped inside the HSM, the root key never
//! leaves it). The store records the kind in its metadata; an existing store is always opened the way it records,
//! so the configuration's `[root_key] kind` only decides how a new store is created.

use std::fmt;
use std::sync::Arc;

use hsm_bridge::Hsm;
use zeroize::Zeroizing;

use super::root_key::RootKey;

/// How the root key is had, with what it takes.
pub enum Custody {
    /// The passphrase's bytes (argon2id derives the root key with the stored salt and parameters).
    Passphrase(Zeroizing<Vec<u8>>),
    /// A root key given directly (tests, tools).
    Raw(RootKey),
    /// A non-extractable AES-256 key in an HSM.
    Hsm(Arc<Hsm>),
}

impl fmt::Debug for Custody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Passphrase(_) => f.write_str("Custody::Passphrase(<redacted>)"),
            Self::Raw(_) => f.write_str("Custody::Raw(<redacted>)"),
            Self::Hsm(hsm) => write!(f, "Custody::Hsm({:?})", hsm.label()),
        }
    }
}

impl Custody {
    pub fn kind(&self) -> CustodyKind {
        match self {
            Self::Passphrase(_) => CustodyKind::Passphrase,
            Self::Raw(_) => CustodyKind::Raw,
            Self::Hsm(_) => CustodyKind::Pkcs11,
        }
    }
}

/// The kind of root key a store records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustodyKind {
    Passphrase,
    Raw,
    Pkcs11,
}

impl CustodyKind {
    /// The value of the meta tree's `root_key_kind`.
    pub fn stored_name(self) -> &'static str {
        match self {
            Self::Passphrase => "argon2id passphrase",
            Self::Raw => "raw root key",
            Self::Pkcs11 => "pkcs11 hsm key",
        }
    }

    pub fn from_stored_name(name: &str) -> Option<Self> {
        [Self::Passphrase, Self::Raw, Self::Pkcs11]
            .into_iter()
            .find(|k| k.stored_name() == name)
    }
}

impl fmt::Display for CustodyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stored_name())
    }
}
