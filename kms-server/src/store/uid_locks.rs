//! Per-uid read/write exclusion for the sled store's object reads (see [`UidLocks`]).

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many locks the uids are spread over (see [`UidLocks`]).
const UID_LOCK_STRIPES: usize = 64;

/// Makes a read of one object's two records (attributes and sealed blob) see one write or the other, never a
/// mix, without a sled transaction: sled 0.34 logs every transaction, read-only ones included, so a Get inside
/// a transaction cost a log reservation and background log I/O. Writers hold their uid's stripe exclusively
/// around their transaction; readers hold it shared around their two reads. One process owns a sled database,
/// so in-process locks cover every writer.
pub(super) struct UidLocks([RwLock<()>; UID_LOCK_STRIPES]);

impl UidLocks {
    pub(super) fn new() -> Self {
        Self(std::array::from_fn(|_| RwLock::new(())))
    }

    fn stripe(&self, uid: &str) -> &RwLock<()> {
        // FNV-1a: cheap and spreads the server's uids (UUID text) evenly.
        let hash = uid.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        &self.0[(hash % UID_LOCK_STRIPES as u64) as usize]
    }

    // The locks guard no data (`()`): a panic while one was held leaves nothing inconsistent behind it.
    pub(super) fn read(&self, uid: &str) -> RwLockReadGuard<'_, ()> {
        self.stripe(uid)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn write(&self, uid: &str) -> RwLockWriteGuard<'_, ()> {
        self.stripe(uid)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_waits_for_the_writer_of_the_same_uid_but_not_for_others() {
        let locks = UidLocks::new();
        let writing = locks.write("a");
        assert!(locks.stripe("a").try_read().is_err());
        let other = (0..1000)
            .map(|n| format!("uid-{n}"))
            .find(|uid| !std::ptr::eq(locks.stripe(uid), locks.stripe("a")))
            .expect("1000 uids cannot all share one of 64 stripes");
        drop(locks.read(&other));
        drop(writing);
        drop(locks.read("a"));
    }
}
