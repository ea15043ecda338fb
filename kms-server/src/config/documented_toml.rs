//! The configuration file `--init` writes ([`Config::documented_toml`]): the template `config_template.toml` with
//! this configuration's values filled in, every option present with its default documented. Apart from loading and
//! validating (`config.rs`) because it is the one place that knows every option's written form.

use std::path::Path;

use entropy::EntropyConfig;

use super::{Config, ConfigError, LimitsConfig, TenantMapping};

impl Config {
    /// The configuration file `--init` writes: these values, every option present with its default documented.
    pub fn documented_toml(&self) -> Result<String, ConfigError> {
        let s = |v: &str| toml::Value::String(v.to_owned()).to_string();
        let p = |v: &Path| s(&v.display().to_string());
        let list = |items: Vec<String>| format!("[{}]", items.join(", "));
        let fingerprints: String = self
            .auth
            .fingerprints
            .iter()
            .map(|(k, v)| format!("{} = {}\n", s(k), s(v)))
            .collect();
        let d = LimitsConfig::default();
        Ok(format!(
            include_str!("../config_template.toml"),
            listen = s(&self.server.listen),
            vendor = s(&self.server.vendor_identification),
            max_rng = self.server.max_rng_retrieve,
            purge_delay = self.server.allocator_purge_delay_ms,
            transparent_huge_pages = self.server.allocator_transparent_huge_pages,
            ca_files = list(self.tls.ca_files.iter().map(|f| p(f)).collect()),
            ca_key = p(&self.tls.ca_key),
            certificate = p(&self.tls.certificate),
            key = p(&self.tls.key),
            host_names = list(self.tls.host_names.iter().map(|h| s(h)).collect()),
            tls_on_entropy_failure = s(self.tls.on_entropy_failure.name()),
            mapping = s(match self.auth.tenant_mapping {
                TenantMapping::SubjectCn => "subject-cn",
                TenantMapping::Fingerprint => "fingerprint",
            }),
            operators = list(self.auth.operators.iter().map(|o| s(o)).collect()),
            fingerprints = fingerprints,
            // Written only when set (unset, the default follows [store] path).
            user_pins = match &self.auth.user_pins {
                Some(file) => format!("user_pins = {}", p(file)),
                None => "# user_pins = \"user-pins.json\"".to_owned(),
            },
            max_message_size = self.limits.max_message_size,
            max_depth = self.limits.max_depth,
            max_items = self.limits.max_items,
            max_connections = self.limits.max_connections,
            max_handshakes = self.limits.max_handshakes,
            max_handshakes_per_address = self.limits.max_handshakes_per_address,
            max_pending_request_bytes = self.limits.max_pending_request_bytes,
            handshake = self.limits.handshake_timeout_secs,
            read = self.limits.read_timeout_secs,
            idle = self.limits.idle_timeout_secs,
            write = self.limits.write_timeout_secs,
            max_batch_items = self.limits.max_batch_items,
            max_response_bytes = self.limits.max_response_bytes,
            d_max_message_size = d.max_message_size,
            store_kind = s(self.store.kind.name()),
            store_path = p(&self.store.path),
            store_postgres = self.store.postgres_lines(),
            passphrase_file = p(&self.store.passphrase_file),
            store_cache_mb = self.store.cache_mb,
            audit_path = p(&self.audit.path),
            audit_max_file_bytes = self.audit.max_file_bytes,
            audit_node_id = match &self.audit.node_id {
                Some(id) => format!("node_id = {}", s(id)),
                None => "# node_id = \"node-1\"".to_owned(),
            },
            audit_answer_reads_after = s(self.audit.answer_reads_after.name()),
            argon2_memory = self.store.argon2.memory_kib,
            argon2_iterations = self.store.argon2.iterations,
            argon2_parallelism = self.store.argon2.parallelism,
            root_key_kind = s(self.root_key.kind.name()),
            hsm_module = p(&self.root_key.module),
            hsm_token_label = s(&self.root_key.token_label),
            hsm_pin_file = p(&self.root_key.pin_file),
            hsm_key_label = s(&self.root_key.key_label),
            hsm_mechanism = s(match self.root_key.mechanism {
                hsm_bridge::MechanismChoice::Auto => "auto",
                hsm_bridge::MechanismChoice::AesKeyWrapPad => "aes-key-wrap-pad",
                hsm_bridge::MechanismChoice::AesKeyWrap => "aes-key-wrap",
                hsm_bridge::MechanismChoice::AesGcm => "aes-gcm",
            }),
            hold_keys = self.hsm.hold_keys,
            generate_held_keys = self.hsm.generate_held_keys,
            rng_enabled = self.hsm.rng.enabled,
            rng_credited = self.hsm.rng.credited,
            rng_min_entropy = toml::Value::Float(self.hsm.rng.min_entropy_per_sample),
            seed_enabled = self.hsm.seed.enabled,
            seed_bytes = self.hsm.seed.bytes,
            seed_interval = self.hsm.seed.interval_secs,
            https_enabled = self.https.enabled,
            https_listen = s(&self.https.listen),
            eaas = section_toml("eaas", &self.eaas)?,
            entropy = entropy_toml(&self.entropy)?,
        ))
    }
}

/// One section as TOML, through its own serialisation (for sections with per-name sub-tables).
fn section_toml<T: serde::Serialize>(name: &str, section: &T) -> Result<String, ConfigError> {
    let mut table = toml::map::Map::new();
    table.insert(
        name.to_owned(),
        toml::Value::try_from(section)
            .map_err(|e| ConfigError::Invalid(format!("[{name}] cannot be written: {e}")))?,
    );
    toml::to_string(&table)
        .map_err(|e| ConfigError::Invalid(format!("[{name}] cannot be written: {e}")))
}

/// The `[entropy]` tables as TOML (the entropy crate's own serialisation).
fn entropy_toml(entropy: &EntropyConfig) -> Result<String, ConfigError> {
    #[derive(serde::Serialize)]
    struct Section<'a> {
        entropy: &'a EntropyConfig,
    }
    toml::to_string(&Section { entropy })
        .map_err(|e| ConfigError::Invalid(format!("entropy section cannot be written: {e}")))
}
