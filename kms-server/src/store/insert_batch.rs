//! Write combining for inserts: concurrent inserts share one sled transaction.
//!
//! Why: sled 0.34 runs every transaction under one process-wide exclusive lock (its `concurrency_control`),
//! so N concurrent Creates ran N transactions one after another, each paying the lock hand-over (parking_lot
//! spins with `sched_yield`), the log reservation and the batch seal. Here the first inserter to find no batch
//! under way leads: it takes every insert queued so far, its own included, applies them in one transaction and
//! hands each its result; inserts arriving meanwhile queue for the next batch, which one of them leads. The
//! pattern is the one `group_commit` uses for flushes.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Coordinates the batches of one store. `T` is a prepared insert.
#[derive(Debug)]
pub(super) struct InsertBatcher<T> {
    state: Mutex<BatcherState<T>>,
    applied: Condvar,
}

#[derive(Debug)]
struct BatcherState<T> {
    next_ticket: u64,
    queued: Vec<(u64, T)>,
    /// Outcomes of applied batches, by ticket, until their inserter collects them.
    outcomes: HashMap<u64, Result<(), String>>,
    /// A leader is applying a batch now.
    applying: bool,
}

impl<T> Default for InsertBatcher<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(BatcherState {
                next_ticket: 0,
                queued: Vec::new(),
                outcomes: HashMap::new(),
                applying: false,
            }),
            applied: Condvar::new(),
        }
    }
}

impl<T> InsertBatcher<T> {
    fn lock(&self) -> MutexGuard<'_, BatcherState<T>> {
        // Every field is updated in one step under the lock, and a leader that panics is cleaned up by
        // `LeaderGuard`, so a poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `insert` and returns once the batch holding it has been applied by `apply` (here or by another
    /// thread). `apply` gets the whole batch; its error is every member's error.
    pub(super) fn submit(
        &self,
        insert: T,
        apply: impl Fn(&[T]) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queued.push((ticket, insert));
        loop {
            if let Some(outcome) = state.outcomes.remove(&ticket) {
                return outcome;
            }
            if state.applying {
                state = self
                    .applied
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.applying = true;
            let tickets = state.queued.iter().map(|(ticket, _)| *ticket).collect();
            let batch: Vec<T> = std::mem::take(&mut state.queued)
                .into_iter()
                .map(|(_, insert)| insert)
                .collect();
            drop(state);
            let mut leader = LeaderGuard {
                batcher: self,
                tickets,
                outcome: None,
            };
            leader.outcome = Some(apply(&batch));
            drop(leader);
            state = self.lock();
        }
    }
}

/// Publishes the batch's outcome to its members and ends the leadership when dropped, also when `apply`
/// panicked (the members then get an error instead of waiting for ever).
struct LeaderGuard<'a, T> {
    batcher: &'a InsertBatcher<T>,
    tickets: Vec<u64>,
    outcome: Option<Result<(), String>>,
}

impl<T> Drop for LeaderGuard<'_, T> {
    fn drop(&mut self) {
        let outcome = self.outcome.take().unwrap_or_else(|| {
            Err("the insert batch was abandoned (a panic while applying it)".into())
        });
        let mut state = self.batcher.lock();
        for ticket in self.tickets.drain(..) {
            state.outcomes.insert(ticket, outcome.clone());
        }
        state.applying = false;
        drop(state);
        self.batcher.applied.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_lone_insert_is_applied_by_its_own_thread() {
        let batcher = InsertBatcher::default();
        let mut seen = Vec::new();
        let seen_cell = Mutex::new(&mut seen);
        batcher
            .submit(7, |batch: &[i32]| {
                seen_cell.lock().unwrap().extend_from_slice(batch);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, vec![7]);
    }

    #[test]
    fn concurrent_inserts_share_batches_and_each_is_applied_once() {
        let batcher = Arc::new(InsertBatcher::default());
        let applied = Arc::new(Mutex::new(Vec::new()));
        let batches = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(16));
        let threads: Vec<_> = (0..16)
            .map(|thread| {
                let (batcher, applied, batches, start) = (
                    Arc::clone(&batcher),
                    Arc::clone(&applied),
                    Arc::clone(&batches),
                    Arc::clone(&start),
                );
                std::thread::spawn(move || {
                    start.wait();
                    for i in 0..50 {
                        batcher
                            .submit(thread * 1000 + i, |batch: &[usize]| {
                                batches.fetch_add(1, Ordering::SeqCst);
                                // Slow enough that others queue behind the batch under way.
                                std::thread::sleep(Duration::from_micros(200));
                                applied.lock().unwrap().extend_from_slice(batch);
                                Ok(())
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let mut applied = applied.lock().unwrap().clone();
        applied.sort_unstable();
        let mut expected: Vec<usize> = (0..16)
            .flat_map(|t| (0..50).map(move |i| t * 1000 + i))
            .collect();
        expected.sort_unstable();
        assert_eq!(applied, expected, "every insert applied exactly once");
        let batches = batches.load(Ordering::SeqCst);
        assert!(
            batches < 800,
            "inserts were combined: {batches} batches for 800"
        );
    }

    #[test]
    fn a_failed_batch_fails_every_member_and_the_next_batch_runs() {
        let batcher = InsertBatcher::default();
        let error = batcher.submit(1, |_: &[i32]| Err("disk full".into()));
        assert_eq!(error, Err("disk full".to_owned()));
        batcher.submit(2, |_: &[i32]| Ok(())).unwrap();
    }

    #[test]
    fn a_panicking_leader_releases_the_others() {
        let batcher = Arc::new(InsertBatcher::default());
        let leader = {
            let batcher = Arc::clone(&batcher);
            std::thread::spawn(move || batcher.submit(1, |_: &[i32]| panic!("bug while applying")))
        };
        assert!(leader.join().is_err(), "the panic reaches its own thread");
        // The batcher is usable afterwards: no leader is left marked as applying.
        batcher.submit(2, |_: &[i32]| Ok(())).unwrap();
    }
}
