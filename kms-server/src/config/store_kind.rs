//! `[store] kind` and the PostgreSQL settings beside it (`url`, `password_file`, `pool_size`, `tls_ca_file`,
//! `object_cache_*`): which store a node uses, how it reaches a shared database, and its object cache.

use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

use super::{ConfigError, StoreConfig};
use crate::store::postgres::{ObjectCacheOptions, PostgresOptions, RetryPolicy};

/// Where objects live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The embedded sled database at `[store] path` (one node).
    #[default]
    Sled,
    /// A PostgreSQL database at `[store] url`, shared by every node started from the same set-up.
    Postgres,
}

impl StoreKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sled => "sled",
            Self::Postgres => "postgres",
        }
    }
}

/// The default `[store] pool_size`.
pub const DEFAULT_POOL_SIZE: usize = 16;

pub(super) fn default_pool_size() -> usize {
    DEFAULT_POOL_SIZE
}

/// The default `[store] object_cache_mb`, `object_cache_poll_ms` and `object_cache_lease_ms`.
pub const DEFAULT_OBJECT_CACHE_MB: u64 = 32;
pub const DEFAULT_OBJECT_CACHE_POLL_MS: u64 = 5;
pub const DEFAULT_OBJECT_CACHE_LEASE_MS: u64 = 5000;

impl StoreConfig {
    /// The PostgreSQL connection options of `[store]` (the password read from `password_file`).
    pub fn postgres_options(&self) -> Result<PostgresOptions, ConfigError> {
        if self.url.trim().is_empty() {
            return Err(ConfigError::Invalid(
                "[store] kind = \"postgres\" needs [store] url (postgresql://USER@HOST:PORT/DATABASE)".into(),
            ));
        }
        let password = match &self.password_file {
            None => None,
            Some(path) => Some(read_password(path)?),
        };
        Ok(PostgresOptions {
            url: self.url.clone(),
            password,
            pool_size: self.pool_size,
            tls_ca_file: self.tls_ca_file.clone(),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            object_cache: ObjectCacheOptions {
                bytes: self.object_cache_mb * 1024 * 1024,
                poll: Duration::from_millis(self.object_cache_poll_ms),
                lease: Duration::from_millis(self.object_cache_lease_ms),
            },
        })
    }

    /// The template's PostgreSQL lines: the settings when set, else commented examples.
    pub(super) fn postgres_lines(&self) -> String {
        let s = |v: &str| toml::Value::String(v.to_owned()).to_string();
        let p = |v: &std::path::Path| s(&v.display().to_string());
        let mut lines = Vec::new();
        match self.url.is_empty() {
            true => lines.push("# url = \"postgresql://qkms@db.example:5432/qkms\"".to_owned()),
            false => lines.push(format!("url = {}", s(&self.url))),
        }
        match &self.password_file {
            None => lines.push("# password_file = \"db.pass\"".to_owned()),
            Some(path) => lines.push(format!("password_file = {}", p(path))),
        }
        lines.push(format!("pool_size = {}", self.pool_size));
        match &self.tls_ca_file {
            None => lines.push("# tls_ca_file = \"db-ca.pem\"".to_owned()),
            Some(path) => lines.push(format!("tls_ca_file = {}", p(path))),
        }
        lines.push(format!("object_cache_mb = {}", self.object_cache_mb));
        lines.push(format!(
            "object_cache_poll_ms = {}",
            self.object_cache_poll_ms
        ));
        lines.push(format!(
            "object_cache_lease_ms = {}",
            self.object_cache_lease_ms
        ));
        lines.join("\n")
    }

    /// What serde cannot check about the store settings.
    pub(super) fn validate_kind(&self) -> Result<(), ConfigError> {
        if self.kind == StoreKind::Postgres {
            if self.url.trim().is_empty() {
                return Err(ConfigError::Invalid(
                    "[store] kind = \"postgres\" needs [store] url".into(),
                ));
            }
            if self.pool_size == 0 || self.pool_size > 1024 {
                return Err(ConfigError::Invalid(
                    "[store] pool_size must be between 1 and 1024".into(),
                ));
            }
        }
        if self.object_cache_mb > StoreConfig::MAX_CACHE_MB {
            return Err(ConfigError::Invalid(format!(
                "[store] object_cache_mb must be between 0 and {}",
                StoreConfig::MAX_CACHE_MB
            )));
        }
        if !(1..=1000).contains(&self.object_cache_poll_ms) {
            return Err(ConfigError::Invalid(
                "[store] object_cache_poll_ms must be between 1 and 1000".into(),
            ));
        }
        if !(1000..=600_000).contains(&self.object_cache_lease_ms)
            || self.object_cache_lease_ms < 20 * self.object_cache_poll_ms
        {
            return Err(ConfigError::Invalid(
                "[store] object_cache_lease_ms must be between 1000 and 600000 and at least 20 times \
                 object_cache_poll_ms"
                    .into(),
            ));
        }
        Ok(())
    }
}

fn read_password(path: &PathBuf) -> Result<Zeroizing<String>, ConfigError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: format!("[store] password_file: {e}"),
        })?,
    );
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "[store] password_file {} is empty",
            path.display()
        )));
    }
    Ok(Zeroizing::new(line.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    #[test]
    fn postgres_settings_survive_the_documented_template_and_a_missing_url_is_refused() {
        let mut config = Config::default();
        config.store.kind = StoreKind::Postgres;
        config.store.url = "postgresql://qkms@db.example:5432/qkms".into();
        config.store.password_file = Some("db.pass".into());
        config.store.pool_size = 32;
        config.store.tls_ca_file = Some("db-ca.pem".into());
        let text = config.documented_toml().unwrap();
        assert!(text.contains("\npassphrase_file = "), "{text}");
        let mut expected = config.clone();
        expected.resolve_paths(Path::new("/d"));
        assert_eq!(Config::from_toml(&text, Path::new("/d")).unwrap(), expected);

        let defaults = Config::default().documented_toml().unwrap();
        assert!(
            defaults.contains("\n# tls_ca_file = \"db-ca.pem\"\nobject_cache_mb = 32\n"),
            "{defaults}"
        );

        config.store.url.clear();
        let refused = config.validate().unwrap_err().to_string();
        assert!(refused.contains("needs [store] url"), "{refused}");
    }

    #[test]
    fn object_cache_settings_reach_the_store_options_and_bad_values_are_refused() {
        let defaults = Config::default().documented_toml().unwrap();
        assert!(defaults.contains("\nobject_cache_mb = 32\n"), "{defaults}");
        let mut config = Config::default();
        config.store.kind = StoreKind::Postgres;
        config.store.url = "postgresql://qkms@db.example:5432/qkms".into();
        config.store.object_cache_mb = 0;
        config.store.object_cache_poll_ms = 10;
        config.store.object_cache_lease_ms = 3000;
        config.validate().unwrap();
        let options = config.store.postgres_options().unwrap();
        assert_eq!(options.object_cache.bytes, 0, "0 turns the cache off");
        assert_eq!(options.object_cache.poll, Duration::from_millis(10));
        assert_eq!(options.object_cache.lease, Duration::from_secs(3));
        for (mb, poll, lease, named) in [
            (65537, 5, 5000, "object_cache_mb"),
            (32, 0, 5000, "object_cache_poll_ms"),
            (32, 1001, 600_000, "object_cache_poll_ms"),
            (32, 5, 999, "object_cache_lease_ms"),
            (32, 100, 1999, "object_cache_lease_ms"),
        ] {
            let mut bad = config.clone();
            bad.store.object_cache_mb = mb;
            bad.store.object_cache_poll_ms = poll;
            bad.store.object_cache_lease_ms = lease;
            let refused = bad.validate().unwrap_err().to_string();
            assert!(refused.contains(named), "{refused}");
        }
    }
}
