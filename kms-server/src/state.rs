//! What every request handler can reach: the store, the entropy pool, the audit log, the usage meter and the
//! server's settings.

use std::sync::Arc;

use entropy::EntropyPool;
use kmip::ProtocolVersion;

use crate::audit::AuditLog;
use crate::store::ObjectStore;
use crate::tenant::Caller;
use crate::usage::UsageMeter;

/// Long-lived server state, shared by every connection.
#[derive(Debug)]
pub struct ServerState {
    pub store: Arc<dyn ObjectStore>,
    pub entropy: EntropyPool,
    pub audit: Arc<AuditLog>,
    /// Per-tenant counters, recorded by the dispatcher, read by `/metrics`.
    pub usage: Arc<UsageMeter>,
    pub settings: ServerSettings,
}

/// Per-server settings handlers consult (filled from the configuration file).
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// Vendor Identification answered by Query.
    pub vendor_identification: String,
    /// The largest RNG Retrieve a client may ask for, in bytes.
    pub max_rng_retrieve: usize,
    /// The most batch items one request message may carry (`[limits] max_batch_items`).
    pub max_batch_items: usize,
    /// The most answer bytes one request message may make the server build (`[limits] max_response_bytes`);
    /// a request's Maximum Response Size may lower it.
    pub max_response_bytes: usize,
    /// The HSM KMIP clients may keep keys in (`[hsm] hold_keys`), see `managed::hsm_held`.
    pub key_hsm: Option<Arc<hsm_bridge::Hsm>>,
    /// `[hsm] generate_held_keys`: held keys are generated inside the HSM after seeding it, never imported.
    pub generate_held_keys: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            vendor_identification: format!("qkms {}", env!("CARGO_PKG_VERSION")),
            max_rng_retrieve: 16 * 1024 * 1024,
            max_batch_items: crate::config::LimitsConfig::DEFAULT_MAX_BATCH_ITEMS,
            max_response_bytes: crate::config::LimitsConfig::DEFAULT_MAX_RESPONSE_BYTES,
            key_hsm: None,
            generate_held_keys: false,
        }
    }
}

/// One batch item's view: who asks, in which protocol version, and when.
#[derive(Clone, Copy, Debug)]
pub struct RequestContext<'a> {
    pub state: &'a ServerState,
    pub caller: &'a Caller,
    pub version: ProtocolVersion,
    /// Seconds since the Unix epoch, fixed for the whole request message.
    pub now: i64,
    /// The operations the server answers (the registry's list, for Query). Passed in by the dispatcher so that
    /// handlers never depend on the dispatcher that depends on them.
    pub operations: &'static [kmip::Operation],
}
