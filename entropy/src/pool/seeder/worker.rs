//! The seeding thread's side (see `seeder`): the health-tested sources it owns, each with its running figures, and
//! a seed gathered from them, conditioned, and recorded; a source's panic becomes an error.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::{lock_ignoring_poison, millis, Message, Published, SeedMaterial};
use crate::conditioning::{required_credit_bits, Conditioner, CONDITIONER_NAME};
use crate::error::{EntropyError, SourceReport};
use crate::health::HealthState;
use crate::pool::sources::TestedSource;
use crate::provenance::{unix_ms_now, SeedRecord, SourceUse};
use crate::source::{EntropySource, SourceError};
use crate::status::SourceStatus;

/// Largest single read from a source while gathering a seed.
const MAX_READ: usize = 64 * 1024;
/// Bytes taken from each uncredited source per seed.
const UNCREDITED_READ: usize = 64;

/// One source on the seeding thread, with its running figures.
struct Slot {
    source: TestedSource,
    status: SourceStatus,
    read_time: Duration,
    /// The health state last published (to notice a source entering a failure state).
    published_state: HealthState,
}

impl Slot {
    fn new(source: TestedSource) -> Self {
        let info = source.info().clone();
        let status = SourceStatus {
            id: info.id,
            kind: info.kind,
            quantum: info.quantum,
            credited: info.credited,
            min_entropy_per_sample: info.min_entropy_per_sample,
            health: source.status(),
            samples_read: 0,
            read_rate_samples_per_sec: 0.0,
            failures: 0,
            last_error: None,
            contributing: false,
        };
        Self {
            published_state: status.health.state,
            source,
            status,
            read_time: Duration::ZERO,
        }
    }

    fn read(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        let started = Instant::now();
        let result = self.source.read_samples(out);
        self.read_time += started.elapsed();
        match &result {
            Ok(n) => {
                self.status.samples_read += *n as u64;
                self.status.last_error = None;
            }
            Err(error) => {
                self.status.failures += 1;
                self.status.last_error = Some(error.to_string());
            }
        }
        let seconds = self.read_time.as_secs_f64();
        if seconds > 0.0 {
            self.status.read_rate_samples_per_sec = self.status.samples_read as f64 / seconds;
        }
        self.status.health = self.source.status();
        result
    }

    fn report(&self) -> SourceReport {
        SourceReport {
            id: self.status.id.clone(),
            kind: self.status.kind,
            quantum: self.status.quantum,
            health: Some(self.status.health.state),
            last_error: self.status.last_error.clone(),
        }
    }
}

/// The seeding thread's state.
pub(super) struct Worker {
    slots: Vec<Slot>,
    published: Arc<Published>,
    epoch: u64,
}

/// Logs when seeds start or stop having healthy quantum input, naming the sources that fed the new seed.
fn log_quantum_change(previous: Option<&SeedRecord>, seed: &SeedRecord) {
    let now = seed.quantum();
    if previous.map(SeedRecord::quantum) == Some(now) {
        return;
    }
    let sources: Vec<&str> = seed
        .sources
        .iter()
        .filter(|s| s.credited && s.credited_bits > 0)
        .map(|s| s.id.as_str())
        .collect();
    let sources = sources.join(", ");
    if now {
        tracing::info!(epoch = seed.epoch, %sources, "entropy: seeds are quantum (a healthy quantum source contributes)");
    } else {
        tracing::warn!(epoch = seed.epoch, %sources, "entropy: seeds are NOT quantum (no healthy quantum source contributes)");
    }
}

/// A panic's message, for the error that replaces it.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

impl Worker {
    /// A worker over `sources`, and what it publishes.
    pub(super) fn new(sources: Vec<TestedSource>) -> (Self, Arc<Published>) {
        let slots: Vec<Slot> = sources.into_iter().map(Slot::new).collect();
        let published = Arc::new(Published {
            status: Mutex::new(slots.iter().map(|s| s.status.clone()).collect()),
            ..Published::default()
        });
        let worker = Self {
            slots,
            published: Arc::clone(&published),
            epoch: 0,
        };
        (worker, published)
    }

    /// Answers requests until the pool (the only sender) is dropped.
    pub(super) fn run(mut self, inbox: mpsc::Receiver<Message>) {
        // Ends when the pool (the only sender) is dropped.
        for message in inbox {
            match message {
                Message::Seed {
                    seed_bytes,
                    additional,
                    deadline,
                    timeout,
                    reply,
                } => {
                    let result = if Instant::now() >= deadline {
                        // Its requester has given up (or is about to): answer, never drop.
                        Err(self.timeout_error(timeout))
                    } else {
                        panic::catch_unwind(AssertUnwindSafe(|| {
                            self.gather(seed_bytes, &additional, deadline, timeout)
                        }))
                        .unwrap_or_else(|payload| {
                            Err(EntropyError::SeederStopped(format!(
                                "a source driver panicked while seeding: {}",
                                panic_message(payload.as_ref())
                            )))
                        })
                    };
                    if let Ok(material) = &result {
                        let previous = lock_ignoring_poison(&self.published.last_seed)
                            .replace(Arc::clone(&material.record));
                        log_quantum_change(previous.as_deref(), &material.record);
                    }
                    self.publish(false);
                    // A requester that timed out meanwhile has dropped its receiver; the seed is zeroized on drop.
                    let _ = reply.send(result);
                }
                Message::Reset { id, reply } => {
                    let result = match self.slots.iter_mut().find(|s| s.status.id == id) {
                        Some(slot) => {
                            slot.source.reset();
                            slot.status.health = slot.source.status();
                            slot.status.last_error = None;
                            tracing::warn!(source = %id, "entropy source reset by an operator: start-up tests run again before it may contribute");
                            Ok(())
                        }
                        None => Err(EntropyError::UnknownSource(id)),
                    };
                    self.publish(result.is_ok());
                    let _ = reply.send(result);
                }
            }
        }
    }

    fn timeout_error(&self, timeout: Duration) -> EntropyError {
        EntropyError::SeedTimeout {
            timeout_ms: millis(timeout),
            sources: self
                .slots
                .iter()
                .filter(|s| s.status.credited)
                .map(Slot::report)
                .collect(),
        }
    }

    /// Publishes the sources' status; moves the health generation when a source entered a failure state since
    /// the last publication, or when `reset`.
    fn publish(&mut self, reset: bool) {
        let mut moved = reset;
        for slot in &mut self.slots {
            let state = slot.status.health.state;
            let failing = matches!(
                state,
                HealthState::IntermittentFailure | HealthState::PersistentFailure
            );
            if failing && state != slot.published_state {
                tracing::warn!(source = %slot.status.id, ?state, "entropy source failed its health tests: every DRBG instance reseeds without it");
                moved = true;
            }
            slot.published_state = state;
        }
        if moved {
            self.published
                .health_generation
                .fetch_add(1, Ordering::AcqRel);
        }
        *lock_ignoring_poison(&self.published.status) =
            self.slots.iter().map(|s| s.status.clone()).collect();
    }

    /// Reads credited sources in configured order until the conditioner holds `8 * seed_bytes + 64` credited
    /// bits, mixes in uncredited sources and the additional input, and extracts the seed.
    fn gather(
        &mut self,
        seed_bytes: usize,
        additional: &[u8; 32],
        deadline: Instant,
        timeout: Duration,
    ) -> Result<SeedMaterial, EntropyError> {
        let mut conditioner = Conditioner::new();
        let mut uses = Vec::new();
        let mut buffer = Zeroizing::new(vec![0u8; MAX_READ]);
        for slot in self.slots.iter_mut().filter(|s| s.status.credited) {
            if conditioner.can_extract(seed_bytes) {
                break;
            }
            let h = slot.status.min_entropy_per_sample;
            let credit_before = conditioner.credited_bits();
            let mut samples = 0u64;
            while !conditioner.can_extract(seed_bytes) && Instant::now() < deadline {
                let missing = conditioner.missing_bits(seed_bytes) as f64;
                // One more sample than the bare minimum absorbs the ledger's rounding down.
                let wanted = ((missing / h).ceil() as usize + 1).clamp(1, MAX_READ);
                match slot.read(&mut buffer[..wanted]) {
                    Ok(n) => {
                        conditioner.absorb_credited(&buffer[..n], h)?;
                        samples += n as u64;
                    }
                    Err(error) => {
                        tracing::warn!(source = %slot.status.id, %error, "entropy source failed while seeding");
                        break;
                    }
                }
            }
            if samples > 0 {
                uses.push(SourceUse {
                    id: slot.status.id.clone(),
                    kind: slot.status.kind,
                    quantum: slot.status.quantum,
                    credited: true,
                    health: Some(slot.status.health.state),
                    samples,
                    credited_bits: conditioner.credited_bits() - credit_before,
                });
            }
        }
        if !conditioner.can_extract(seed_bytes) {
            let sources = self
                .slots
                .iter()
                .filter(|s| s.status.credited)
                .map(Slot::report)
                .collect();
            let needed_bits = required_credit_bits(seed_bytes as u64 * 8);
            return Err(if Instant::now() >= deadline {
                EntropyError::SeedTimeout {
                    timeout_ms: millis(timeout),
                    sources,
                }
            } else {
                EntropyError::NoHealthySource {
                    needed_bits,
                    sources,
                }
            });
        }
        let credited_bits = conditioner.credited_bits();
        for slot in self.slots.iter_mut().filter(|s| !s.status.credited) {
            // Uncredited input can only help; a failing uncredited source is recorded in its status and skipped.
            if let Ok(n) = slot.read(&mut buffer[..UNCREDITED_READ]) {
                conditioner.absorb_uncredited(&buffer[..n]);
                uses.push(SourceUse {
                    id: slot.status.id.clone(),
                    kind: slot.status.kind,
                    quantum: slot.status.quantum,
                    credited: false,
                    health: Some(slot.status.health.state),
                    samples: n as u64,
                    credited_bits: 0,
                });
            }
        }
        let has_additional = additional != &[0u8; 32];
        conditioner.absorb_uncredited(additional);
        self.epoch += 1;
        conditioner.absorb_uncredited(&self.epoch.to_be_bytes());
        let mut seed = Zeroizing::new(vec![0u8; seed_bytes]);
        conditioner.extract(&mut seed)?;
        let record = SeedRecord {
            epoch: self.epoch,
            sources: uses,
            credited_bits,
            seed_bits: seed_bytes as u64 * 8,
            additional_input: has_additional,
            conditioner: CONDITIONER_NAME.to_owned(),
            seeded_at_unix_ms: unix_ms_now(),
        };
        Ok(SeedMaterial {
            seed,
            record: Arc::new(record),
        })
    }
}
