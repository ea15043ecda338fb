//! The seeding thread: owns the health-tested sources and turns their samples into conditioned seeds.
//!
//! Sources are read on their own thread so that a draw waiting for a seed can give up after the configured
//! timeout (and fail closed) even when a device read blocks indefinitely: `read()` on a character device or an
//! HTTPS request cannot be interrupted, but the waiting draw can stop waiting.
//!
//! Every request gets an answer: one whose deadline passed while it waited in the queue is answered with a
//! timeout (it used to be dropped unanswered, and a requester whose own wait had not quite run out then saw
//! "the seeding thread dropped the request": the `--init`-under-load failure), and a panic in a source driver
//! is caught and answered as an error instead of ending the thread. So a closed reply channel means only that
//! the thread is gone.
//!
//! The thread also publishes what the status needs to tell the truth: the record of the last seed it took
//! (which sources fed it) and a health generation that moves whenever a source enters a failure state or is
//! reset, after which every DRBG instance reseeds at its next draw.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::sources::TestedSource;
use crate::conditioning::{required_credit_bits, Conditioner, CONDITIONER_NAME};
use crate::error::{EntropyError, SourceReport};
use crate::health::HealthState;
use crate::provenance::{unix_ms_now, SeedRecord, SourceUse};
use crate::source::{EntropySource, SourceError};
use crate::status::SourceStatus;

/// Largest single read from a source while gathering a seed.
const MAX_READ: usize = 64 * 1024;
/// Bytes taken from each uncredited source per seed.
const UNCREDITED_READ: usize = 64;

/// A conditioned seed and the record of where it came from. The seed is zeroized on drop.
pub(crate) struct SeedMaterial {
    pub seed: Zeroizing<Vec<u8>>,
    pub record: Arc<SeedRecord>,
}

enum Message {
    Seed {
        seed_bytes: usize,
        additional: [u8; 32],
        deadline: Instant,
        timeout: Duration,
        reply: mpsc::SyncSender<Result<SeedMaterial, EntropyError>>,
    },
    Reset {
        id: String,
        reply: mpsc::SyncSender<Result<(), EntropyError>>,
    },
}

/// The pool's side of the seeding thread.
#[derive(Debug)]
pub(crate) struct Seeder {
    requests: mpsc::Sender<Message>,
    published: Arc<Published>,
    /// Joined when the pool goes (see `Drop`).
    worker: Option<std::thread::JoinHandle<()>>,
}

/// What the seeding thread publishes for the pool's status and reseed policy.
#[derive(Debug, Default)]
struct Published {
    status: Mutex<Vec<SourceStatus>>,
    /// The last seed taken (instantiation or reseed), successful ones only.
    last_seed: Mutex<Option<Arc<SeedRecord>>>,
    /// Moves when a source enters a failure state or an operator resets one.
    health_generation: AtomicU64,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Seed { seed_bytes, .. } => write!(f, "Seed({seed_bytes} bytes)"),
            Message::Reset { id, .. } => write!(f, "Reset({id})"),
        }
    }
}

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

impl Seeder {
    /// Starts the seeding thread over `sources`.
    pub fn start(sources: Vec<TestedSource>) -> Result<Self, EntropyError> {
        let slots: Vec<Slot> = sources.into_iter().map(Slot::new).collect();
        let published = Arc::new(Published {
            status: Mutex::new(slots.iter().map(|s| s.status.clone()).collect()),
            ..Published::default()
        });
        let (requests, inbox) = mpsc::channel();
        let worker = Worker {
            slots,
            published: Arc::clone(&published),
            epoch: 0,
        };
        let worker = std::thread::Builder::new()
            .name("qkms-entropy-seeder".into())
            .spawn(move || worker.run(inbox))
            .map_err(|e| EntropyError::SeederStopped(format!("cannot start: {e}")))?;
        Ok(Self {
            requests,
            published,
            worker: Some(worker),
        })
    }

    /// A conditioned seed of `seed_bytes` full-entropy bytes, or an error once `timeout` has passed.
    /// `additional` is mixed in without credit.
    pub fn seed(
        &self,
        seed_bytes: usize,
        additional: [u8; 32],
        timeout: Duration,
    ) -> Result<SeedMaterial, EntropyError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let deadline = Instant::now() + timeout;
        self.requests
            .send(Message::Seed {
                seed_bytes,
                additional,
                deadline,
                timeout,
                reply,
            })
            .map_err(|_| EntropyError::SeederStopped("the seeding thread has exited".into()))?;
        // Wait until the same deadline the thread checks: it answers every request, so a timeout here means a
        // read is still blocked, and a closed channel means the thread is gone.
        match answer.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(EntropyError::SeedTimeout {
                timeout_ms: millis(timeout),
                sources: self.reports(),
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(EntropyError::SeederStopped(
                "the seeding thread has exited".into(),
            )),
        }
    }

    /// Operator reset of a latched source (persistent health-test failure): it starts over with a start-up test.
    pub fn reset_source(&self, id: &str, timeout: Duration) -> Result<(), EntropyError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.requests
            .send(Message::Reset {
                id: id.to_owned(),
                reply,
            })
            .map_err(|_| EntropyError::SeederStopped("the seeding thread has exited".into()))?;
        answer
            .recv_timeout(timeout)
            .map_err(|_| EntropyError::SeedTimeout {
                timeout_ms: millis(timeout),
                sources: self.reports(),
            })?
    }

    pub fn status(&self) -> Vec<SourceStatus> {
        lock_ignoring_poison(&self.published.status).clone()
    }

    /// The record of the last successful seed, if any.
    pub fn last_seed(&self) -> Option<Arc<SeedRecord>> {
        lock_ignoring_poison(&self.published.last_seed).clone()
    }

    /// Moves whenever a source enters a failure state or is reset: instances seeded before must reseed.
    pub fn health_generation(&self) -> u64 {
        self.published.health_generation.load(Ordering::Acquire)
    }

    fn reports(&self) -> Vec<SourceReport> {
        lock_ignoring_poison(&self.published.status)
            .iter()
            .filter(|s| s.credited)
            .map(|s| SourceReport {
                id: s.id.clone(),
                kind: s.kind,
                quantum: s.quantum,
                health: Some(s.health.state),
                last_error: s.last_error.clone(),
            })
            .collect()
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Status snapshots stay readable after a panic elsewhere: they are plain figures, never secrets or DRBG state.
fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Worker {
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

/// The seeding thread ends when its inbox closes; the pool waits for it, so the sources it owns (a device, an HSM
/// session and its PKCS#11 library) are closed before the pool's owner goes on. Left running, a thread finalizing
/// an HSM library while the process exits raced that library's own exit-time destructors (a crash at exit seen
/// with SoftHSM2).
impl Drop for Seeder {
    fn drop(&mut self) {
        let (closed, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.requests, closed));
        if let Some(worker) = self.worker.take() {
            // Never on the seeding thread itself (a source owning the last pool handle would join itself).
            if worker.thread().id() != std::thread::current().id() {
                let _ = worker.join();
            }
        }
    }
}

impl Worker {
    fn run(mut self, inbox: mpsc::Receiver<Message>) {
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
