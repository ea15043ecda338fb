//! Writes whose durability a store may defer to the end of their request message.
//!
//! Why: on PostgreSQL a message that creates an object committed twice in sequence, each waiting for its own WAL
//! flush: the object's row, then (audit log in the database) the row of its audit record. The dispatcher already
//! makes a message's audit records durable before the store (`audit.wait_durable()` then
//! `store.wait_durable_through(mark)`), and a durable commit flushes the WAL up to itself, so everything committed
//! before it too. A store may therefore commit the object without waiting for the flush, when its caller promises
//! to wait for durability before acknowledging: the audit record's flush then covers both (one flush per Create).
//!
//! The promise is made by [`deferring`], around one synchronous store call: only the dispatcher's per-message view
//! (`WriteTracking`) makes it. The scope is a thread-local because the call chain beneath it (the undo journal, the
//! revision check, the store, the store's statement polled on this very thread) is synchronous: nothing in it
//! moves to another thread, and a store called outside any scope (start-up, session leases, the issuing CA)
//! keeps committing durably. The store reports back a mark ([`note`]); the caller later passes the highest mark
//! to [`super::ObjectStore::wait_durable_through`].

use std::cell::Cell;

thread_local! {
    /// `Some(highest mark noted)` inside a [`deferring`] scope, `None` outside.
    static SCOPE: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Restores the enclosing scope even if the call panics.
struct Restore(Option<u64>);

impl Drop for Restore {
    fn drop(&mut self) {
        SCOPE.set(self.0);
    }
}

/// Runs `write` letting the store defer durability; returns its result and the highest mark the store noted
/// (0: everything it wrote was durable when it returned).
pub fn deferring<T>(write: impl FnOnce() -> T) -> (T, u64) {
    let restore = Restore(SCOPE.replace(Some(0)));
    let result = write();
    let mark = SCOPE.get().unwrap_or(0);
    drop(restore);
    (result, mark)
}

/// For a store: whether its caller promised to wait for durability (it is inside [`deferring`]).
pub fn allowed() -> bool {
    SCOPE.get().is_some()
}

/// For a store: a write made with durability deferred, identified by `mark`.
pub fn note(mark: u64) {
    if let Some(highest) = SCOPE.get() {
        SCOPE.set(Some(highest.max(mark)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_collects_the_highest_mark_and_ends_with_its_call() {
        assert!(!allowed());
        note(7); // outside any scope: ignored
        let ((), mark) = deferring(|| {
            assert!(allowed());
            note(3);
            note(9);
            note(5);
        });
        assert_eq!(mark, 9);
        assert!(!allowed());
    }

    #[test]
    fn nested_scopes_keep_their_own_marks() {
        let (inner, outer) = deferring(|| {
            note(2);
            let ((), inner) = deferring(|| note(4));
            inner
        });
        assert_eq!((inner, outer), (4, 2));
    }

    #[test]
    fn a_panic_inside_a_scope_ends_it() {
        let caught = std::panic::catch_unwind(|| deferring(|| panic!("boom")));
        assert!(caught.is_err());
        assert!(!allowed());
    }
}
