//! `qkms store rewrap`: moves a stopped server's store between passphrase and HSM custody without touching its
//! objects (they stay sealed under the same data key; only the data key's wrapping changes).
//!
//! Order, so that a kill -9 anywhere leaves a store that opens: (1) everything the new custody needs is made first
//! (a passphrase file if there is none, the HSM root key) and the data key is wrapped for it and checked;
//! (2) `qkms.toml`'s `[root_key]` is rewritten (temporary file, fsync, rename) to name the new kind while keeping
//! the settings of both kinds; (3) the store's metadata changes in one atomic sled batch, flushed. Between (2) and (3) the store still records the old kind, and the
//! server opens a store the way it records, with the settings the file still has: the old custody works until (3)
//! completes and the new one from then on. Never neither.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use entropy::EntropyPool;

use crate::config::{Config, RootKeyKind};
use crate::pki::files;
use crate::root_custody;
use crate::store::{Custody, CustodyKind, SledStore, StoreError};

/// What to move to, with optional HSM settings that replace `[root_key]`'s.
#[derive(Clone, Debug, Default)]
pub struct RewrapRequest {
    pub to: RootKeyKind,
    pub module: Option<PathBuf>,
    pub token_label: Option<String>,
    pub pin_file: Option<PathBuf>,
    pub key_label: Option<String>,
}

/// What a rewrap did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewrapReport {
    pub from: CustodyKind,
    pub to: CustodyKind,
    /// HSM custody: the mechanism that wraps the data key now.
    pub mechanism: Option<&'static str>,
    /// A passphrase file written because none existed.
    pub new_passphrase_file: Option<PathBuf>,
}

/// A rewrap failed; nothing was changed unless the message says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum RewrapError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("store {path}: {error}")]
    Store { path: String, error: StoreError },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("entropy: {0}")]
    Entropy(#[from] entropy::EntropyError),
    #[error("the store is already in {0} custody: nothing to do")]
    AlreadyThere(CustodyKind),
}

/// Moves the store of `config_file` to `request.to` custody (see the module comment for the order of steps).
pub fn rewrap(config_file: &Path, request: &RewrapRequest) -> Result<RewrapReport, RewrapError> {
    let config = Config::load(config_file)?;
    let store_error = |error: StoreError| RewrapError::Store {
        path: config.store.path.display().to_string(),
        error,
    };
    if !SledStore::exists(&config.store.path) {
        return Err(store_error(StoreError::Config(format!(
            "{} is not a store (no sled database there)",
            config.store.path.display()
        ))));
    }
    let mut target = config.clone();
    target.root_key.kind = request.to;
    let mut edits = vec![("kind", toml_string(request.to.name()))];
    if let Some(module) = &request.module {
        target.root_key.module = module.clone();
        edits.push(("module", toml_string(&module.display().to_string())));
    }
    if let Some(label) = &request.token_label {
        target.root_key.token_label = label.clone();
        edits.push(("token_label", toml_string(label)));
    }
    if let Some(pin_file) = &request.pin_file {
        target.root_key.pin_file = pin_file.clone();
        edits.push(("pin_file", toml_string(&pin_file.display().to_string())));
    }
    if let Some(label) = &request.key_label {
        target.root_key.key_label = label.clone();
        edits.push(("key_label", toml_string(label)));
    }
    target.validate()?;
    let pool = EntropyPool::new(config.entropy.clone())?;

    // (1) The new custody, made before anything changes.
    let mut new_passphrase_file = None;
    let to = match request.to {
        RootKeyKind::Passphrase => {
            let path = &config.store.passphrase_file;
            if !path.exists() {
                let secret = files::random_secret(&pool, 32).map_err(|e| RewrapError::File {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                files::write_new(path, format!("{}\n", secret.as_str()).as_bytes(), true).map_err(
                    |e| RewrapError::File {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    },
                )?;
                new_passphrase_file = Some(path.clone());
            }
            root_custody::custody_for(&config, CustodyKind::Passphrase).map_err(store_error)?
        }
        RootKeyKind::Pkcs11 => {
            let hsm = root_custody::connect(&target).map_err(store_error)?;
            hsm.ensure_root_key(&pool)
                .map_err(|e| store_error(StoreError::Hsm(e)))?;
            Custody::Hsm(Arc::new(hsm))
        }
    };
    let mechanism = match &to {
        Custody::Hsm(hsm) => Some(
            hsm.wrap_mechanism()
                .map_err(|e| store_error(StoreError::Hsm(e)))?
                .name(),
        ),
        _ => None,
    };

    // (2) The configuration names the new kind (and keeps the old kind's settings), once the new wrapping is
    // made and checked; (3) one atomic metadata update.
    let rewrite_config = || -> Result<(), StoreError> {
        let text = std::fs::read_to_string(config_file)
            .map_err(|e| StoreError::Config(format!("{}: {e}", config_file.display())))?;
        replace_file(config_file, &set_root_key_entries(&text, &edits))
            .map_err(|e| StoreError::Config(e.to_string()))
    };
    let mut already_there = false;
    let from = SledStore::rewrap(
        &config.store.path,
        |stored| {
            if stored == to.kind() {
                already_there = true;
                return Err(StoreError::Config(format!(
                    "the store is already in {stored} custody"
                )));
            }
            root_custody::custody_for(&config, stored)
        },
        &to,
        pool,
        &root_custody::store_options(&config),
        rewrite_config,
    )
    .map_err(|error| {
        if already_there {
            RewrapError::AlreadyThere(to.kind())
        } else {
            store_error(error)
        }
    })?;
    Ok(RewrapReport {
        from,
        to: to.kind(),
        mechanism,
        new_passphrase_file,
    })
}

fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

/// `text` with `key = value` set for each edit inside its `[root_key]` table (replacing the key's line, or added
/// right after the table header), the table appended if absent. Comments and every other line are kept.
pub fn set_root_key_entries(text: &str, edits: &[(&str, String)]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let header = lines.iter().position(|l| l.trim() == "[root_key]");
    let Some(header) = header else {
        let mut out = text.trim_end().to_owned();
        out.push_str("\n\n[root_key]\n");
        for (key, value) in edits {
            out.push_str(&format!("{key} = {value}\n"));
        }
        return out;
    };
    let end = lines[header + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| header + 1 + i);
    let mut section: Vec<String> = lines[header + 1..end]
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
    for (key, value) in edits {
        let entry = format!("{key} = {value}");
        let existing = section.iter().position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        match existing {
            Some(i) => section[i] = entry,
            None => section.insert(0, entry),
        }
    }
    let mut out: Vec<String> = lines[..=header].iter().map(|l| (*l).to_owned()).collect();
    out.extend(section);
    out.extend(lines[end..].iter().map(|l| (*l).to_owned()));
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// Replaces `path` atomically: a temporary file beside it, fsynced, renamed over it, the directory fsynced.
fn replace_file(path: &Path, contents: &str) -> Result<(), RewrapError> {
    let error = |message: String| RewrapError::File {
        path: path.display().to_string(),
        message,
    };
    let temporary = path.with_extension("toml.rewrap-tmp");
    let mut file = std::fs::File::create(&temporary).map_err(|e| error(e.to_string()))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| error(e.to_string()))?;
    std::fs::rename(&temporary, path).map_err(|e| error(e.to_string()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| error(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_key_entries_are_replaced_in_place_or_added() {
        let text = "[store]\npath = \"store\"\n\n[root_key]\n# how\nkind = \"passphrase\"\nmodule = \"\"\n\n[hsm.seed]\nbytes = 64\n";
        let edited = set_root_key_entries(
            text,
            &[
                ("kind", toml_string("pkcs11")),
                ("token_label", toml_string("t")),
            ],
        );
        assert_eq!(
            edited,
            "[store]\npath = \"store\"\n\n[root_key]\ntoken_label = \"t\"\n# how\nkind = \"pkcs11\"\nmodule = \"\"\n\n[hsm.seed]\nbytes = 64\n"
        );
        let appended = set_root_key_entries("[store]\n", &[("kind", toml_string("pkcs11"))]);
        assert_eq!(appended, "[store]\n\n[root_key]\nkind = \"pkcs11\"\n");
        // `kind_of_thing` is not `kind`.
        let other = set_root_key_entries(
            "[root_key]\nkind_x = 1\n",
            &[("kind", toml_string("pkcs11"))],
        );
        assert_eq!(other, "[root_key]\nkind = \"pkcs11\"\nkind_x = 1\n");
    }
}
