//! The bookkeeping of the database log's group commits, apart from the database so that it can be tested alone:
//! which chained records are free to be taken by a commit, which are committed (visible) and which durable, with
//! several commits in flight at once.
//!
//! Why several in flight: a node's commits would otherwise run one after another, each a round trip plus a WAL
//! flush, and a Create that finds a commit under way would wait for it and then for its own. Records are
//! independent rows, so commits of disjoint runs may complete in any order; what callers wait for are
//! prefixes: `written` (every record up to it committed) and `durable` (every record up to it committed with
//! the WAL flushed). A durable commit flushes the WAL up to itself, so it makes durable its own records and
//! every record committed before it started (`Round::prefix`). A failed commit frees its records to be taken
//! again, marked as attempted: the next commit of them first skips those that did reach the table.
//! (The database log now runs one commit at a time, `database::MAX_IN_FLIGHT`: PostgreSQL serialises a node's
//! commits on its claim row anyway. The books still allow several.)

use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Debug)]
struct Entry {
    /// Shared with the rounds that carry it (a commit of thousands of records clones pointers under the lock).
    text: Arc<str>,
    taken: bool,
    committed: bool,
    durable: bool,
    attempted: bool,
}

/// Records not yet durable, by sequence (the first is `durable + 1`).
#[derive(Debug)]
pub(super) struct CommitQueue {
    entries: VecDeque<Entry>,
    written: u64,
    durable: u64,
    /// No free record below this sequence.
    next_free: u64,
    in_flight: usize,
}

/// One commit's share: consecutive records, whether it flushes the WAL, and the written prefix when it started.
#[derive(Debug)]
pub(super) struct Round {
    pub records: Vec<(u64, Arc<str>)>,
    pub durable: bool,
    /// Some records were sent by a commit that failed: check which reached the table first.
    pub recheck: bool,
    prefix: u64,
}

impl CommitQueue {
    /// An empty queue whose chain is committed and durable up to `last`.
    pub(super) fn new(last: u64) -> Self {
        Self {
            entries: VecDeque::new(),
            written: last,
            durable: last,
            next_free: last + 1,
            in_flight: 0,
        }
    }

    fn index(&self, sequence: u64) -> usize {
        (sequence - self.durable - 1) as usize
    }

    fn is_free(&self, sequence: u64) -> bool {
        self.entries
            .get(self.index(sequence))
            .is_some_and(|e| !e.taken && !e.committed)
    }

    /// Queues the next record of the chain (sequence `durable + len + 1`).
    pub(super) fn push(&mut self, text: impl Into<Arc<str>>) {
        self.entries.push_back(Entry {
            text: text.into(),
            taken: false,
            committed: false,
            durable: false,
            attempted: false,
        });
    }

    /// Records not yet durable.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn written(&self) -> u64 {
        self.written
    }

    pub(super) fn durable(&self) -> u64 {
        self.durable
    }

    pub(super) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The first free record, if any (moving the hint past taken and committed ones).
    fn first_free(&mut self) -> Option<u64> {
        let mut sequence = self.next_free.max(self.durable + 1);
        while self.index(sequence) < self.entries.len() {
            if self.is_free(sequence) {
                self.next_free = sequence;
                return Some(sequence);
            }
            sequence += 1;
        }
        self.next_free = sequence;
        None
    }

    /// Whether a record waits to be taken by a commit.
    pub(super) fn has_free(&mut self) -> bool {
        self.first_free().is_some()
    }

    /// Takes the first run of free records (at most `max`) for a commit.
    pub(super) fn take(&mut self, max: usize, durable: bool) -> Round {
        let mut round = Round {
            records: Vec::new(),
            durable,
            recheck: false,
            prefix: self.written,
        };
        if let Some(first) = self.first_free() {
            let mut sequence = first;
            while round.records.len() < max && self.is_free(sequence) {
                let index = self.index(sequence);
                let entry = &mut self.entries[index];
                entry.taken = true;
                round.recheck |= entry.attempted;
                entry.attempted = true;
                round.records.push((sequence, entry.text.clone()));
                sequence += 1;
            }
            self.next_free = sequence;
        }
        self.in_flight += 1;
        round
    }

    /// The database's chain ends at `head`, not where the next commit's records follow (a crash of the database
    /// lost commits that were not flushed yet; `head` is never below `durable`): the records after it are free to
    /// be taken again, and every record not durable is rechecked first (which also skips any the database has
    /// beyond what was thought committed).
    pub(super) fn forget_after(&mut self, head: u64) {
        let first = head.min(self.written) + 1;
        for sequence in first..=self.durable + self.entries.len() as u64 {
            let index = self.index(sequence);
            let entry = &mut self.entries[index];
            entry.committed = false;
            entry.attempted = true;
        }
        self.written = self.written.min(head);
        self.next_free = self.next_free.min(head + 1);
    }

    /// Notes how `round` ended and moves `written` and `durable` on.
    pub(super) fn finish(&mut self, round: &Round, committed: bool) {
        self.in_flight -= 1;
        for (sequence, _) in &round.records {
            let index = self.index(*sequence);
            let entry = &mut self.entries[index];
            entry.taken = false;
            entry.committed |= committed;
            entry.durable |= committed && round.durable;
        }
        if !committed {
            if let Some((first, _)) = round.records.first() {
                self.next_free = self.next_free.min(*first);
            }
            return;
        }
        if round.durable {
            for sequence in self.durable + 1..=round.prefix {
                let index = self.index(sequence);
                self.entries[index].durable = true;
            }
        }
        while self
            .entries
            .get(self.index(self.written + 1))
            .is_some_and(|e| e.committed)
        {
            self.written += 1;
        }
        while self.entries.front().is_some_and(|e| e.durable) {
            self.entries.pop_front();
            self.durable += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue_of(count: usize) -> CommitQueue {
        let mut queue = CommitQueue::new(10);
        for n in 0..count {
            queue.push(format!("r{n}"));
        }
        queue
    }

    fn sequences(round: &Round) -> Vec<u64> {
        round.records.iter().map(|(s, _)| *s).collect()
    }

    #[test]
    fn commits_completing_out_of_order_move_the_prefixes_only_when_contiguous() {
        let mut queue = queue_of(4);
        let first = queue.take(2, true);
        let second = queue.take(10, false);
        assert_eq!(sequences(&first), [11, 12]);
        assert_eq!(sequences(&second), [13, 14]);
        assert!(!queue.has_free());
        queue.finish(&second, true);
        assert_eq!((queue.written(), queue.durable()), (10, 10));
        queue.finish(&first, true);
        assert_eq!((queue.written(), queue.durable()), (14, 12));
        // A durable commit (even without records) makes everything committed before it started durable.
        let flush = queue.take(10, true);
        assert!(flush.records.is_empty());
        queue.finish(&flush, true);
        assert_eq!((queue.written(), queue.durable(), queue.len()), (14, 14, 0));
    }

    #[test]
    fn a_failed_commit_frees_its_records_to_be_retaken_and_rechecked() {
        let mut queue = queue_of(3);
        let failed = queue.take(2, true);
        let later = queue.take(10, true);
        assert_eq!(sequences(&later), [13]);
        queue.finish(&failed, false);
        queue.finish(&later, true);
        assert_eq!((queue.written(), queue.durable()), (10, 10));
        let retry = queue.take(10, true);
        assert_eq!(sequences(&retry), [11, 12]);
        assert!(retry.recheck);
        queue.finish(&retry, true);
        assert_eq!((queue.written(), queue.durable(), queue.len()), (13, 13, 0));
    }

    #[test]
    fn records_a_crash_of_the_database_lost_are_taken_again_and_rechecked() {
        let mut queue = queue_of(4);
        let reads = queue.take(10, false);
        queue.finish(&reads, true);
        assert_eq!((queue.written(), queue.durable()), (14, 10));
        // The database kept only 11 and 12.
        queue.forget_after(12);
        assert_eq!(queue.written(), 12);
        let again = queue.take(10, true);
        assert_eq!(sequences(&again), [13, 14]);
        assert!(again.recheck);
        queue.finish(&again, true);
        assert_eq!((queue.written(), queue.durable(), queue.len()), (14, 14, 0));
    }

    #[test]
    fn an_asynchronous_commit_makes_records_written_not_durable() {
        let mut queue = queue_of(2);
        let reads = queue.take(10, false);
        assert!(!reads.recheck);
        queue.finish(&reads, true);
        assert_eq!((queue.written(), queue.durable(), queue.len()), (12, 10, 2));
        queue.push("r2");
        let next = queue.take(10, true);
        assert_eq!(sequences(&next), [13]);
        queue.finish(&next, true);
        assert_eq!((queue.written(), queue.durable(), queue.len()), (13, 13, 0));
    }
}
