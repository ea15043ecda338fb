//! Entropy as a service: pool bytes in signed, timestamped, chained envelopes, metered and limited per tenant
//! (`GET /v1/random`, `GET /v1/usage` on the HTTPS listener; the envelope format is the `eaas` crate's).
//!
//! Every envelope is signed before it leaves (nothing is served unsigned) by the node's Ed25519 key
//! ([`crate::pki::eaas_signing`]), carries the next number of the node's sequence and the chain hash of the
//! node's previous envelope, and says where the bytes' entropy came from (the pool's provenance of that draw).
//! Sequence numbers are reserved durably in blocks ([`state_file`]), so none is ever served twice; the chain
//! head and the usage counters reach the state file every `usage_flush_secs` and at shutdown. After a kill -9
//! the next envelope's sequence jumps past the reserved block and its `previous` names the last recorded head:
//! a client following the chain sees the gap (documented in the README).
//!
//! Nodes sharing a PostgreSQL database meter through it ([`usage::QuotaLedger`]): each request is charged to
//! the tenant's day and month rows in one transaction before any byte is drawn, so quotas hold across nodes;
//! the chain, its sequence and the beacon stay the node's own (in its state file).
//!
//! With `&encrypt=KEYID` the bytes are HPKE-encrypted ([`eaas::hpke`]) to the caller's registered X25519 public
//! key ([`recipient`]) before signing: the envelope's data is the ciphertext, its `encryption` names the suite,
//! the key and `enc`, and the ephemeral HPKE key is 32 bytes drawn from the pool like the data.

pub mod beacon;
mod beacon_pulses;
mod metering;
mod metrics;
pub mod recipient;
pub mod state_file;
pub mod usage;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::watch;
use zeroize::Zeroizing;

use entropy::EntropyPool;

use crate::config::EaasConfig;
use crate::pki::eaas_signing::EaasSigningKey;
use beacon::PulseFiles;
use state_file::{PersistedState, StateFile, StateFileError};
use usage::{Meter, OverLimit, QuotaLedger};

/// Sequence numbers reserved per durable write of the state file.
const SEQUENCE_BLOCK: u64 = 4096;
/// The longest nonce accepted, in bytes (hex text twice as long).
pub const MAX_NONCE_BYTES: usize = 64;

/// Why an envelope was not served.
#[derive(Debug)]
pub enum Refusal {
    /// A bad request parameter (HTTP 400): the field and why.
    BadRequest { field: String, message: String },
    /// A limit or quota (HTTP 429).
    OverLimit(OverLimit),
    /// The entropy pool failed closed (HTTP 503), naming the failure.
    PoolFailed(String),
    /// The state file could not be written (HTTP 503): no envelope goes out unrecorded.
    State(String),
}

/// The service could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EaasSetupError {
    #[error("entropy as a service: signing key: {0}")]
    Key(#[from] crate::pki::PkiError),
    #[error("entropy as a service: state file {0}")]
    State(#[from] StateFileError),
    #[error("entropy as a service: the state file {path} belongs to node {found}, this node is {node}: a copied state file would fork the chain")]
    WrongNode {
        path: String,
        found: String,
        node: String,
    },
}

/// The node's chain position.
#[derive(Debug)]
struct Chain {
    next_sequence: u64,
    reserved_until: u64,
    previous: String,
}

/// The beacon's position: the last pulse and the next pulse's local random value (secret until published).
#[derive(Debug, Default)]
struct BeaconState {
    last: Option<eaas::Pulse>,
    pending: Zeroizing<Vec<u8>>,
    /// Whether `pending` was drawn from a seed with healthy quantum input.
    pending_quantum: bool,
}

/// Bytes of a pulse's local random value.
const PULSE_RANDOM_BYTES: usize = 64;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
struct Counters {
    envelopes: AtomicU64,
    bytes: AtomicU64,
    refused_over_limit: AtomicU64,
    refused_pool: AtomicU64,
}

/// The service the HTTPS routes call.
#[derive(Debug)]
pub struct EaasService {
    key: EaasSigningKey,
    node: String,
    certificate_base64: String,
    config: EaasConfig,
    pool: EntropyPool,
    state_file: StateFile,
    chain: Mutex<Chain>,
    meter: Mutex<Meter>,
    /// The shared day and month counters (nodes on one database); `None`: `meter`'s, in the state file.
    ledger: Option<Box<dyn QuotaLedger>>,
    beacon: Mutex<BeaconState>,
    pulse_files: PulseFiles,
    counters: Counters,
    /// The KMIP objects (recipient keys of encrypted envelopes).
    keys: Arc<crate::state::ServerState>,
}

impl EaasService {
    /// Loads the signing key and the state file (refusing a state file of another node). `state` gives the pool
    /// and the KMIP objects (an encrypted envelope's recipient key); `ledger`, the counters nodes share (else
    /// they are the state file's).
    pub fn open(
        config: &EaasConfig,
        keys: Arc<crate::state::ServerState>,
        ledger: Option<Box<dyn QuotaLedger>>,
    ) -> Result<Self, EaasSetupError> {
        let pool = keys.entropy.clone();
        let key = EaasSigningKey::from_files(&config.signing_certificate, &config.signing_key)?;
        let node = key.node_id();
        let state_file = StateFile::new(&config.state_file);
        let state = state_file.load()?;
        if !state.server.is_empty() && state.server != node {
            return Err(EaasSetupError::WrongNode {
                path: config.state_file.display().to_string(),
                found: state.server,
                node,
            });
        }
        let previous = if state.previous.is_empty() {
            eaas::GENESIS_PREVIOUS.to_owned()
        } else {
            state.previous.clone()
        };
        let certificate_base64 =
            base64::engine::general_purpose::STANDARD.encode(key.certificate_der());
        let service = Self {
            node,
            certificate_base64,
            config: config.clone(),
            pool,
            chain: Mutex::new(Chain {
                next_sequence: state.sequence_reserved_until,
                reserved_until: state.sequence_reserved_until,
                previous,
            }),
            // With a ledger the state file's counters (from before the database) are not used.
            meter: Mutex::new(match ledger {
                None => Meter::from_records(state.usage),
                Some(_) => Meter::default(),
            }),
            ledger,
            beacon: Mutex::new(BeaconState {
                pending: Zeroizing::new(hex::decode(&state.beacon_pending).unwrap_or_default()),
                pending_quantum: state.beacon_pending_quantum,
                last: state.beacon_last,
            }),
            pulse_files: PulseFiles::new(&config.beacon_dir),
            state_file,
            key,
            counters: Counters::default(),
            keys,
        };
        // A pulse recorded in the state but whose file a crash prevented: write it now.
        if let Some(last) = &service.lock_beacon().last {
            if matches!(service.pulse_files.read(last.index), Ok(None)) {
                service.pulse_files.write(last).map_err(|e| {
                    EaasSetupError::State(StateFileError {
                        path: config.beacon_dir.display().to_string(),
                        message: e.to_string(),
                    })
                })?;
            }
        }
        Ok(service)
    }

    /// The node id envelopes carry in `server`.
    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn config(&self) -> &EaasConfig {
        &self.config
    }

    /// Checks the request, draws `bytes` from the pool, encrypts them to the caller's key `encrypt` when one
    /// is named, and returns the signed envelope.
    pub fn issue(
        &self,
        caller: &crate::tenant::Caller,
        bytes: u64,
        nonce: &str,
        encrypt: Option<&str>,
    ) -> Result<eaas::Envelope, Refusal> {
        let (mut envelope, delivered) = self.issue_unencoded(caller, bytes, nonce, encrypt)?;
        envelope.data = base64::engine::general_purpose::STANDARD.encode(&delivered[..]);
        Ok(envelope)
    }

    /// [`Self::issue`] with the delivered bytes apart and `data` left empty: the `application/octet-stream`
    /// form, which sends the bytes as they are (no base64 round trip).
    pub fn issue_unencoded(
        &self,
        caller: &crate::tenant::Caller,
        bytes: u64,
        nonce: &str,
        encrypt: Option<&str>,
    ) -> Result<(eaas::Envelope, Zeroizing<Vec<u8>>), Refusal> {
        let tenant = &caller.tenant.to_string();
        check_nonce(nonce)?;
        if bytes == 0 {
            return Err(Refusal::BadRequest {
                field: "bytes".into(),
                message: "bytes must be at least 1".into(),
            });
        }
        // Before anything is metered: a bad key costs the tenant nothing.
        let recipient = encrypt
            .map(|id| recipient::resolve(&self.keys, caller, id))
            .transpose()?;
        let limits = self.config.limits_for(tenant);
        let now = OffsetDateTime::now_utc();
        self.charge(tenant, limits, bytes, now)?;
        // admit() refused anything over max_bytes_per_request (at most 16 MiB): the allocation is bounded.
        let mut data = Zeroizing::new(vec![0u8; bytes as usize]);
        let provenance = match self.pool.fill(&mut data) {
            Ok(provenance) => provenance,
            Err(error) => {
                self.refund(tenant, bytes, now);
                self.counters.refused_pool.fetch_add(1, Ordering::Relaxed);
                return Err(Refusal::PoolFailed(error.to_string()));
            }
        };
        // The digest is over what is delivered: the ciphertext of an encrypted envelope (eaas/src/envelope.rs).
        let (delivered, digest, encryption) = match &recipient {
            None => {
                let digest = Sha256::digest(&data[..]);
                (data, digest, None)
            }
            Some(recipient) => match recipient::seal(&self.pool, recipient, &data) {
                Ok((ciphertext, encryption)) => {
                    let digest = Sha256::digest(&ciphertext);
                    (Zeroizing::new(ciphertext), digest, Some(encryption))
                }
                Err(refusal) => {
                    if matches!(refusal, Refusal::PoolFailed(_)) {
                        self.counters.refused_pool.fetch_add(1, Ordering::Relaxed);
                    }
                    self.refund(tenant, bytes, now);
                    return Err(refusal);
                }
            },
        };
        let mut envelope = eaas::Envelope {
            version: eaas::ENVELOPE_VERSION,
            server: self.node.clone(),
            tenant: tenant.to_owned(),
            sequence: 0,
            time: String::new(),
            nonce: nonce.to_owned(),
            data: String::new(),
            previous: String::new(),
            provenance: eaas::EnvelopeProvenance {
                quantum: provenance.quantum,
                sources: provenance
                    .sources
                    .iter()
                    .filter(|source| source.credited)
                    .map(|source| source.id.clone())
                    .collect(),
                seed_epoch: provenance.seed_epoch,
                health: "ok".into(),
            },
            algorithm: eaas::ALGORITHM_ED25519.into(),
            certificate: self.certificate_base64.clone(),
            signature: String::new(),
            encryption,
        };
        // Sequence, time, link and signature under one lock: the chain is a line.
        let mut chain = self.lock_chain();
        if chain.next_sequence >= chain.reserved_until {
            let reserved_until = chain.next_sequence + SEQUENCE_BLOCK;
            if let Err(error) = self.persist(reserved_until, &chain.previous) {
                drop(chain);
                self.refund(tenant, bytes, now);
                return Err(Refusal::State(error.to_string()));
            }
            chain.reserved_until = reserved_until;
        }
        envelope.sequence = chain.next_sequence;
        envelope.time = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_else(|_| now.unix_timestamp().to_string());
        envelope.previous = chain.previous.clone();
        let signed = envelope.signed_bytes_with_data_digest(&digest);
        let signature = self.key.sign(&signed);
        chain.previous = eaas::chain_hash(&signed, &signature);
        chain.next_sequence += 1;
        drop(chain);
        envelope.signature = base64::engine::general_purpose::STANDARD.encode(signature);
        self.counters.envelopes.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok((envelope, delivered))
    }

    /// Writes the chain head and usage counters now.
    pub fn flush(&self) -> Result<(), StateFileError> {
        let chain = self.lock_chain();
        self.persist(chain.reserved_until, &chain.previous)
    }

    /// Flushes every `usage_flush_secs` until shutdown, then once more.
    pub async fn flush_periodically(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut ticks =
            tokio::time::interval(Duration::from_secs(self.config.usage_flush_secs.max(1)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.changed() => break,
            }
            if !self.lock_meter().dirty {
                continue;
            }
            let service = Arc::clone(&self);
            let flushed = tokio::task::spawn_blocking(move || service.flush()).await;
            if let Ok(Err(error)) = flushed {
                tracing::error!(%error, "entropy as a service: the usage counters could not be written");
            }
        }
        let service = Arc::clone(&self);
        if let Ok(Err(error)) = tokio::task::spawn_blocking(move || service.flush()).await {
            tracing::error!(%error, "entropy as a service: the final state could not be written");
        }
    }

    /// Writes the state file with the given reservation and head and the current usage (chain lock held by
    /// the caller: the lock order is chain, then meter).
    fn persist(&self, reserved_until: u64, previous: &str) -> Result<(), StateFileError> {
        let mut meter = self.lock_meter();
        let beacon = self.lock_beacon();
        let state = PersistedState {
            server: self.node.clone(),
            sequence_reserved_until: reserved_until,
            previous: previous.to_owned(),
            usage: meter.records.clone(),
            beacon_last: beacon.last.clone(),
            beacon_pending: hex::encode(&beacon.pending[..]),
            beacon_pending_quantum: beacon.pending_quantum,
        };
        drop(beacon);
        meter.dirty = false;
        drop(meter);
        self.state_file.store(&state)
    }

    fn lock_chain(&self) -> std::sync::MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_beacon(&self) -> std::sync::MutexGuard<'_, BeaconState> {
        self.beacon.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_meter(&self) -> std::sync::MutexGuard<'_, Meter> {
        self.meter.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The nonce: hex, at most [`MAX_NONCE_BYTES`] bytes (empty allowed).
fn check_nonce(nonce: &str) -> Result<(), Refusal> {
    let bad = |message: String| Refusal::BadRequest {
        field: "nonce".into(),
        message,
    };
    if nonce.len() > 2 * MAX_NONCE_BYTES {
        return Err(bad(format!(
            "the nonce is {} hex digits; at most {} ({MAX_NONCE_BYTES} bytes)",
            nonce.len(),
            2 * MAX_NONCE_BYTES
        )));
    }
    if !nonce.len().is_multiple_of(2) || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("the nonce must be hex digits, two per byte".into()));
    }
    Ok(())
}
