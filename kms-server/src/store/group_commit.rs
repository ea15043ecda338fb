//! Group commit: many writers, few flushes.
//!
//! Every write bumps a sequence number once it is applied (in memory). `wait_durable` reads the current number as
//! its target and returns once a flush that *started* after that number was reached has completed. One caller at
//! a time runs the flush (the leader); callers arriving meanwhile wait on a condition variable and are covered
//! by the next flush, which one of them leads. So N concurrent writers share about two flushes, not N.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Leader/follower flush coordination for one durable resource.
#[derive(Debug, Default)]
pub struct GroupCommit {
    /// Writes applied so far.
    written: AtomicU64,
    state: Mutex<FlushState>,
    flushed: Condvar,
    flushes: AtomicU64,
}

#[derive(Debug, Default)]
struct FlushState {
    /// Every write numbered up to this is durable.
    durable: u64,
    /// A leader is flushing now.
    flushing: bool,
}

/// Counters for tests and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCommitStats {
    pub writes: u64,
    pub flushes: u64,
}

impl GroupCommit {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that a write has been applied; call after the write, not before.
    pub fn record_write(&self) {
        self.written.fetch_add(1, Ordering::SeqCst);
    }

    pub fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            writes: self.written.load(Ordering::SeqCst),
            flushes: self.flushes.load(Ordering::SeqCst),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FlushState> {
        // The state is two plain fields updated together under the lock; a panicking holder cannot leave them
        // inconsistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once every write recorded before this call is durable, running `flush` as the leader if no flush
    /// is under way. A failed flush is reported to its leader; waiting followers then lead a retry.
    pub fn wait_durable(&self, flush: impl Fn() -> io::Result<()>) -> io::Result<()> {
        let target = self.written.load(Ordering::SeqCst);
        let mut state = self.lock();
        loop {
            if state.durable >= target {
                return Ok(());
            }
            if state.flushing {
                state = self
                    .flushed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.flushing = true;
            drop(state);
            // Everything applied before this load is covered by the flush that follows it.
            let covered = self.written.load(Ordering::SeqCst);
            let outcome = flush();
            self.flushes.fetch_add(1, Ordering::SeqCst);
            state = self.lock();
            state.flushing = false;
            if outcome.is_ok() {
                state.durable = state.durable.max(covered);
            }
            self.flushed.notify_all();
            outcome?;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn no_writes_means_no_flush() {
        let commit = GroupCommit::new();
        commit.wait_durable(|| panic!("nothing to flush")).unwrap();
        assert_eq!(commit.stats().flushes, 0);
    }

    #[test]
    fn concurrent_waiters_share_flushes() {
        let commit = Arc::new(GroupCommit::new());
        let flushes = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let commit = commit.clone();
                let flushes = flushes.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        commit.record_write();
                        commit
                            .wait_durable(|| {
                                flushes.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(Duration::from_millis(2));
                                Ok(())
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let stats = commit.stats();
        assert_eq!(stats.writes, 800);
        assert!(stats.flushes < 400, "{stats:?}");
    }

    #[test]
    fn a_failed_flush_is_reported_and_retried_next_time() {
        let commit = GroupCommit::new();
        commit.record_write();
        let error = commit
            .wait_durable(|| Err(io::Error::other("disk full")))
            .unwrap_err();
        assert_eq!(error.to_string(), "disk full");
        commit.wait_durable(|| Ok(())).unwrap();
        assert_eq!(commit.stats().flushes, 2);
    }
}
