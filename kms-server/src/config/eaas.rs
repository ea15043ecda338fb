//! `[eaas]`: entropy as a service on the HTTPS listener (`GET /v1/random`, `GET /v1/usage`): the signing key,
//! the state file, and per-tenant limits and quotas with a default.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// `[eaas]`
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EaasConfig {
    /// Serve `/v1/random` and `/v1/usage` on the HTTPS listener (which must be enabled). Default true.
    pub enabled: bool,
    /// The envelope signing certificate, issued by the qkms CA (`--init` writes it). Default
    /// `pki/eaas-signing.pem`.
    pub signing_certificate: PathBuf,
    /// Its Ed25519 private key, PKCS#8 PEM, mode 0600. Default `pki/eaas-signing.key`.
    pub signing_key: PathBuf,
    /// The node's chain head, sequence reservation and usage counters. Default `eaas.state`.
    pub state_file: PathBuf,
    /// Seconds between writes of the usage counters to the state file: a kill -9 loses at most this much
    /// metering. Default 5.
    pub usage_flush_secs: u64,
    /// Seconds between public beacon pulses (`/v1/beacon/latest`); 0 turns the beacon off. Default 60.
    pub beacon_interval_secs: u64,
    /// Where pulses are kept, one file per pulse. Default `beacon`.
    pub beacon_dir: PathBuf,
    /// The limits of every tenant without its own entry.
    #[serde(flatten)]
    pub default_limits: EaasLimits,
    /// Per-tenant limits: `[eaas.tenants.NAME]`, any field omitted takes the default above.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tenants: BTreeMap<String, EaasTenantLimits>,
}

/// A tenant's limits; 0 means unlimited for the quotas (never for the request size).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EaasLimits {
    /// Largest `bytes=` of one request. Default 1048576 (1 MiB); at most 16 MiB.
    pub max_bytes_per_request: u64,
    /// Requests per second (a token bucket with one second of burst). Default 1000; 0 = unlimited.
    pub requests_per_second: u64,
    /// Bytes per UTC day. Default 0 (unlimited).
    pub bytes_per_day: u64,
    /// Bytes per UTC calendar month. Default 0 (unlimited).
    pub bytes_per_month: u64,
}

/// `[eaas.tenants.NAME]`: what differs from the default limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EaasTenantLimits {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes_per_request: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_day: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_month: Option<u64>,
}

/// The hard ceiling on one request (the envelope is built in memory).
pub const EAAS_MAX_BYTES_PER_REQUEST: u64 = 16 << 20;

impl Default for EaasLimits {
    fn default() -> Self {
        Self {
            max_bytes_per_request: 1 << 20,
            requests_per_second: 1000,
            bytes_per_day: 0,
            bytes_per_month: 0,
        }
    }
}

impl Default for EaasConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            signing_certificate: PathBuf::from("pki/eaas-signing.pem"),
            signing_key: PathBuf::from("pki/eaas-signing.key"),
            state_file: PathBuf::from("eaas.state"),
            usage_flush_secs: 5,
            beacon_interval_secs: 60,
            beacon_dir: PathBuf::from("beacon"),
            default_limits: EaasLimits::default(),
            tenants: BTreeMap::new(),
        }
    }
}

impl EaasConfig {
    /// The limits that apply to `tenant`.
    pub fn limits_for(&self, tenant: &str) -> EaasLimits {
        let d = self.default_limits;
        match self.tenants.get(tenant) {
            None => d,
            Some(t) => EaasLimits {
                max_bytes_per_request: t.max_bytes_per_request.unwrap_or(d.max_bytes_per_request),
                requests_per_second: t.requests_per_second.unwrap_or(d.requests_per_second),
                bytes_per_day: t.bytes_per_day.unwrap_or(d.bytes_per_day),
                bytes_per_month: t.bytes_per_month.unwrap_or(d.bytes_per_month),
            },
        }
    }

    /// What serde cannot check.
    pub fn validate(&self) -> Result<(), String> {
        let check = |who: &str, limits: EaasLimits| {
            if limits.max_bytes_per_request == 0
                || limits.max_bytes_per_request > EAAS_MAX_BYTES_PER_REQUEST
            {
                return Err(format!(
                    "{who}: max_bytes_per_request must be 1..={EAAS_MAX_BYTES_PER_REQUEST}, got {}",
                    limits.max_bytes_per_request
                ));
            }
            Ok(())
        };
        check("eaas", self.default_limits)?;
        for tenant in self.tenants.keys() {
            check(&format!("eaas.tenants.{tenant}"), self.limits_for(tenant))?;
        }
        if self.usage_flush_secs == 0 {
            return Err("eaas.usage_flush_secs must be at least 1".into());
        }
        Ok(())
    }
}
