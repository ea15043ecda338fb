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
//!
//! This module is the pool's side (requests, answers, what is published); `worker` is the thread's side (the
//! sources, the gathering and conditioning of a seed).

mod worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use self::worker::Worker;
use super::sources::TestedSource;
use crate::error::{EntropyError, SourceReport};
use crate::provenance::SeedRecord;
use crate::status::SourceStatus;

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

impl Seeder {
    /// Starts the seeding thread over `sources`.
    pub fn start(sources: Vec<TestedSource>) -> Result<Self, EntropyError> {
        let (worker, published) = Worker::new(sources);
        let (requests, inbox) = mpsc::channel();
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
